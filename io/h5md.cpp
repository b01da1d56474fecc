// H5MD 1.1 trajectory writer (https://nongnu.org/h5md/h5md.html) on the HDF5 C library:
// /h5md (version, author, creator), /particles/all/{box,position,image,velocity,force,
// potential_energy} as time-dependent elements (step, time, value[frame][atom][...], chunked
// per frame, extendible), /particles/all/{id,species} fixed, /observables/potential_energy,
// /parameters/type_names. Positions are absolute (as LAMMPS' dump h5md); box edges are the
// 3x3 matrix of cell vectors (rows a, b, c). Resuming shrinks every element to the frame
// count the checkpoint recorded. Compiled with HDF5 when MDGPU_WITH_HDF5 is defined.
#include <string>

#include "engine/error.hpp"
#include "io/trajectory.hpp"

#if defined(MDGPU_WITH_HDF5)
#include <hdf5.h>

#include <filesystem>
#include <vector>

namespace md {

namespace {

void check(herr_t r, const char* what) {
  if (r < 0) throw Error(std::string("HDF5 error: ") + what);
}
hid_t checked(hid_t id, const char* what) {
  if (id < 0) throw Error(std::string("HDF5 error: ") + what);
  return id;
}

void attr_string(hid_t obj, const char* name, const std::string& value) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, value.size() + 1);
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = checked(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name);
  check(H5Awrite(a, type, value.c_str()), name);
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

void attr_strings(hid_t obj, const char* name, const std::vector<std::string>& values) {
  std::size_t len = 1;
  for (const auto& v : values) len = std::max(len, v.size() + 1);
  std::vector<char> buf(len * values.size(), '\0');
  for (std::size_t k = 0; k < values.size(); ++k) values[k].copy(&buf[k * len], len - 1);
  hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, len);
  const hsize_t n = values.size();
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t a = checked(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), name);
  check(H5Awrite(a, type, buf.data()), name);
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

void attr_ints(hid_t obj, const char* name, const std::vector<int>& v) {
  const hsize_t n = v.size();
  hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  hid_t a = checked(H5Acreate2(obj, name, H5T_NATIVE_INT, space, H5P_DEFAULT, H5P_DEFAULT), name);
  check(H5Awrite(a, H5T_NATIVE_INT, v.data()), name);
  H5Aclose(a);
  H5Sclose(space);
}

hid_t group(hid_t parent, const char* name, bool create) {
  if (!create) return checked(H5Gopen2(parent, name, H5P_DEFAULT), name);
  hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
  H5Pset_obj_track_times(gcpl, false);
  const hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, gcpl, H5P_DEFAULT);
  H5Pclose(gcpl);
  return checked(g, name);
}

// A time-dependent H5MD element: group with step, time and value datasets extendible in the
// frame dimension. `inner` are the per-frame dimensions of value.
class Element {
 public:
  Element() = default;
  Element(hid_t parent, const char* name, std::vector<hsize_t> inner, hid_t type,
          const std::string& unit, bool create)
      : inner_(std::move(inner)), type_(type) {
    g_ = group(parent, name, create);
    if (create) {
      step_ = make(g_, "step", {}, H5T_NATIVE_LLONG);
      time_ = make(g_, "time", {}, H5T_NATIVE_DOUBLE);
      value_ = make(g_, "value", inner_, type_);
      if (!unit.empty()) attr_string(value_, "unit", unit);
    } else {
      step_ = checked(H5Dopen2(g_, "step", H5P_DEFAULT), "open step");
      time_ = checked(H5Dopen2(g_, "time", H5P_DEFAULT), "open time");
      value_ = checked(H5Dopen2(g_, "value", H5P_DEFAULT), "open value");
      hid_t space = H5Dget_space(value_);
      hsize_t dims[8] = {0};
      const int rank = H5Sget_simple_extent_dims(space, dims, nullptr);
      H5Sclose(space);
      if (rank < 1 || rank > 8) throw Error("H5MD file: unexpected dataset rank");
      inner_.assign(dims + 1, dims + rank);
    }
  }
  ~Element() { close(); }
  Element(Element&& o) noexcept { *this = std::move(o); }
  Element& operator=(Element&& o) noexcept {
    close();
    g_ = o.g_;
    step_ = o.step_;
    time_ = o.time_;
    value_ = o.value_;
    inner_ = o.inner_;
    type_ = o.type_;
    frames_ = o.frames_;
    o.g_ = o.step_ = o.time_ = o.value_ = -1;
    return *this;
  }
  bool valid() const { return g_ >= 0; }

  void truncate(hsize_t frames) {
    frames_ = frames;
    extend(step_, {});
    extend(time_, {});
    extend(value_, inner_);
  }
  void append(long long step, double time, const void* data) {
    const hsize_t k = frames_++;
    write_row(step_, {}, H5T_NATIVE_LLONG, &step, k);
    write_row(time_, {}, H5T_NATIVE_DOUBLE, &time, k);
    write_row(value_, inner_, type_, data, k);
  }

 private:
  static hid_t make(hid_t g, const char* name, const std::vector<hsize_t>& inner, hid_t type) {
    std::vector<hsize_t> dims{0}, maxdims{H5S_UNLIMITED}, chunk{1};
    for (hsize_t d : inner) {
      dims.push_back(d);
      maxdims.push_back(d);
      chunk.push_back(d);
    }
    if (inner.empty()) chunk[0] = 1024;
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), maxdims.data());
    hid_t plist = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(plist, static_cast<int>(chunk.size()), chunk.data());
    H5Pset_obj_track_times(plist, false);  // identical files for identical trajectories
    hid_t ds = checked(H5Dcreate2(g, name, type, space, H5P_DEFAULT, plist, H5P_DEFAULT), name);
    H5Pclose(plist);
    H5Sclose(space);
    return ds;
  }
  void extend(hid_t ds, const std::vector<hsize_t>& inner) {
    std::vector<hsize_t> dims{frames_};
    dims.insert(dims.end(), inner.begin(), inner.end());
    check(H5Dset_extent(ds, dims.data()), "set_extent");
  }
  void write_row(hid_t ds, const std::vector<hsize_t>& inner, hid_t type, const void* data,
                 hsize_t k) {
    extend(ds, inner);
    std::vector<hsize_t> start{k}, count{1};
    for (hsize_t d : inner) {
      start.push_back(0);
      count.push_back(d);
    }
    hid_t fspace = H5Dget_space(ds);
    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr);
    hid_t mspace = H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr);
    check(H5Dwrite(ds, type, mspace, fspace, H5P_DEFAULT, data), "write");
    H5Sclose(mspace);
    H5Sclose(fspace);
  }
  void close() {
    for (hid_t* h : {&step_, &time_, &value_})
      if (*h >= 0) H5Dclose(*h), *h = -1;
    if (g_ >= 0) H5Gclose(g_), g_ = -1;
  }
  hid_t g_ = -1, step_ = -1, time_ = -1, value_ = -1;
  std::vector<hsize_t> inner_;
  hid_t type_ = -1;
  hsize_t frames_ = 0;
};

class H5mdTrajectory : public TrajectoryWriter {
 public:
  H5mdTrajectory(const TrajectorySpec& spec, const Units& units, long long resume_frames)
      : TrajectoryWriter(spec), units_(units), resume_(resume_frames) {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors become exceptions, not stderr
    if (resume_ >= 0) {
      if (!std::filesystem::exists(spec.file))
        throw Error("H5MD file \"" + spec.file + "\" to continue is missing");
      file_ = H5Fopen(spec.file.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
      if (file_ < 0) throw Error("cannot open H5MD file \"" + spec.file + "\" to continue it");
      open_elements(Structure{});
    }
  }
  ~H5mdTrajectory() override {
    elements_.clear();
    if (file_ >= 0) H5Fclose(file_);
  }

  void write(const Frame& f) override {
    const Structure s = spec_.unwrapped ? unwrapped_positions(*f.s) : wrapped_positions(*f.s);
    const std::size_t n = s.size();
    if (elements_.empty()) open_elements(s);
    const long long step = f.step;
    const Box& b = s.box;
    const double edges[9] = {b.l[0], 0, 0, b.xy, b.l[1], 0, b.xz, b.yz, b.l[2]};
    elements_[0].append(step, f.time, edges);
    std::vector<double> v(3 * n);
    auto put3 = [&](const std::vector<double>& a, const std::vector<double>& bb,
                    const std::vector<double>& c) {
      for (std::size_t i = 0; i < n; ++i) {
        v[3 * i] = a[i];
        v[3 * i + 1] = bb[i];
        v[3 * i + 2] = c[i];
      }
    };
    put3(s.x, s.y, s.z);
    elements_[1].append(step, f.time, v.data());
    std::vector<int> img(3 * n);
    for (std::size_t i = 0; i < n; ++i) {
      img[3 * i] = s.ix[i];
      img[3 * i + 1] = s.iy[i];
      img[3 * i + 2] = s.iz[i];
    }
    elements_[2].append(step, f.time, img.data());
    elements_[3].append(step, f.time, &f.potential_energy);
    if (elements_[4].valid()) {
      if (s.has_velocities)
        put3(s.vx, s.vy, s.vz);
      else
        std::fill(v.begin(), v.end(), 0.0);
      elements_[4].append(step, f.time, v.data());
    }
    if (elements_[5].valid() && f.fx) {
      put3(*f.fx, *f.fy, *f.fz);
      elements_[5].append(step, f.time, v.data());
    }
    if (elements_[6].valid() && f.energy) elements_[6].append(step, f.time, f.energy->data());
    ++frames_;
    check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "flush");
  }
  long long position() override { return frames_ < 0 ? 0 : frames_; }
  void sync() override {
    if (file_ >= 0) check(H5Fflush(file_, H5F_SCOPE_GLOBAL), "flush");
  }

 private:
  void open_elements(const Structure& s) {
    const hsize_t n = s.size();
    const bool create = resume_ < 0;
    const bool metal = units_.name == "metal";
    const std::string len = metal ? "angstrom" : "", vel = metal ? "angstrom ps-1" : "",
                      force = metal ? "eV angstrom-1" : "", energy = metal ? "eV" : "";
    if (create) {
      file_ = H5Fcreate(spec_.file.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
      if (file_ < 0) throw Error("cannot create H5MD file \"" + spec_.file + "\"");
      hid_t h5md = group(file_, "h5md", true);
      attr_ints(h5md, "version", {1, 1});
      hid_t author = group(h5md, "author", true);
      attr_string(author, "name", "mdgpu");
      H5Gclose(author);
      hid_t creator = group(h5md, "creator", true);
      attr_string(creator, "name", "mdgpu");
      attr_string(creator, "version", MDGPU_VERSION);
      H5Gclose(creator);
      H5Gclose(h5md);
      hid_t particles = group(file_, "particles", true);
      hid_t all = group(particles, "all", true);
      hid_t box = group(all, "box", true);
      attr_ints(box, "dimension", {3});
      std::vector<std::string> boundary;
      for (int d = 0; d < 3; ++d) boundary.push_back(s.box.periodic[d] ? "periodic" : "none");
      attr_strings(box, "boundary", boundary);
      H5Gclose(box);
      write_fixed(all, "id", H5T_NATIVE_LLONG, s.id.data(), n);
      write_fixed(all, "species", H5T_NATIVE_INT, s.type.data(), n);
      H5Gclose(all);
      H5Gclose(particles);
      hid_t obs = group(file_, "observables", true);
      H5Gclose(obs);
      hid_t params = group(file_, "parameters", true);
      attr_strings(params, "type_names", s.type_names);
      attr_string(params, "units", units_.name);
      H5Gclose(params);
    }
    hid_t all = checked(H5Gopen2(file_, "/particles/all", H5P_DEFAULT), "/particles/all");
    hid_t box = group(all, "box", false);
    hid_t obs = group(file_, "observables", false);
    elements_.clear();
    elements_.emplace_back(box, "edges", std::vector<hsize_t>{3, 3}, H5T_NATIVE_DOUBLE, len, create);
    elements_.emplace_back(all, "position", std::vector<hsize_t>{n, 3}, H5T_NATIVE_DOUBLE, len, create);
    elements_.emplace_back(all, "image", std::vector<hsize_t>{n, 3}, H5T_NATIVE_INT, "", create);
    elements_.emplace_back(obs, "potential_energy", std::vector<hsize_t>{}, H5T_NATIVE_DOUBLE, energy, create);
    elements_.emplace_back();
    elements_.emplace_back();
    elements_.emplace_back();
    if (spec_.velocities)
      elements_[4] = Element(all, "velocity", {n, 3}, H5T_NATIVE_DOUBLE, vel, create);
    if (spec_.forces)
      elements_[5] = Element(all, "force", {n, 3}, H5T_NATIVE_DOUBLE, force, create);
    if (spec_.energies)
      elements_[6] = Element(all, "potential_energy", {n}, H5T_NATIVE_DOUBLE, energy, create);
    if (!create) {
      for (auto& e : elements_)
        if (e.valid()) e.truncate(static_cast<hsize_t>(resume_));
      frames_ = resume_;
    } else {
      frames_ = 0;
    }
    H5Gclose(obs);
    H5Gclose(box);
    H5Gclose(all);
  }
  static void write_fixed(hid_t parent, const char* name, hid_t type, const void* data, hsize_t n) {
    hid_t space = H5Screate_simple(1, &n, nullptr);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_obj_track_times(dcpl, false);
    hid_t ds = checked(H5Dcreate2(parent, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT), name);
    H5Pclose(dcpl);
    check(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data), name);
    H5Dclose(ds);
    H5Sclose(space);
  }

  Units units_;
  long long resume_;
  hid_t file_ = -1;
  std::vector<Element> elements_;
  long long frames_ = 0;
};

}  // namespace

bool h5md_available() { return true; }

std::unique_ptr<TrajectoryWriter> open_h5md(const TrajectorySpec& spec, const Units& units,
                                            long long resume_frames) {
  return std::make_unique<H5mdTrajectory>(spec, units, resume_frames);
}

}  // namespace md

#else

namespace md {

bool h5md_available() { return false; }

std::unique_ptr<TrajectoryWriter> open_h5md(const TrajectorySpec&, const Units&, long long) {
  throw Error("this mdgpu was built without HDF5: H5MD output is unavailable (install "
              "libhdf5-dev and rebuild)");
}

}  // namespace md

#endif
