// Extended XYZ and LAMMPS dump writers, format dispatch and wrapping (see trajectory.hpp).
// The H5MD writer is in io/h5md.cpp.
#include "io/trajectory.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <sstream>

#include "engine/error.hpp"
#include "io/extxyz.hpp"
#include "io/record_file.hpp"

namespace md {

std::unique_ptr<TrajectoryWriter> open_h5md(const TrajectorySpec& spec, const Units& units,
                                            long long resume_frames);

std::string trajectory_format_for(const std::string& file) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return file.size() >= e.size() && file.compare(file.size() - e.size(), e.size(), e) == 0;
  };
  if (ends(".xyz") || ends(".extxyz")) return "extxyz";
  if (ends(".lammpstrj") || ends(".dump")) return "lammps-dump";
  if (ends(".h5") || ends(".h5md")) return "h5md";
  return {};
}

Structure wrapped_positions(const Structure& in) {
  Structure s = in;
  const Box& b = s.box;
  for (std::size_t i = 0; i < s.size(); ++i) {
    double f[3];
    b.to_fractional(s.x[i], s.y[i], s.z[i], f);
    int n[3] = {0, 0, 0};
    for (int d = 0; d < 3; ++d)
      if (b.periodic[d]) n[d] = static_cast<int>(std::floor(f[d]));
    if (!n[0] && !n[1] && !n[2]) continue;
    for (int d = 0; d < 3; ++d) f[d] -= n[d];
    double r[3];
    b.to_cartesian(f, r);
    s.x[i] = r[0];
    s.y[i] = r[1];
    s.z[i] = r[2];
    s.ix[i] += n[0];
    s.iy[i] += n[1];
    s.iz[i] += n[2];
  }
  return s;
}

Structure unwrapped_positions(const Structure& in) {
  Structure s = in;
  for (std::size_t i = 0; i < s.size(); ++i) {
    double t[3];
    s.box.image_shift(s.ix[i], s.iy[i], s.iz[i], t);
    s.x[i] += t[0];
    s.y[i] += t[1];
    s.z[i] += t[2];
    s.ix[i] = s.iy[i] = s.iz[i] = 0;
  }
  return s;
}

std::string lammps_dump_frame(const Frame& f, const TrajectorySpec& spec) {
  const Structure& s = *f.s;
  const Box& b = s.box;
  fmt::memory_buffer buf;
  auto out = std::back_inserter(buf);
  fmt::format_to(out, "ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{}\n", f.step, s.size());
  const char* bc[2] = {"ff", "pp"};
  if (b.triclinic()) {
    // LAMMPS dump bounding box of the tilted cell (Howto triclinic).
    const double xlo = b.lo[0] + std::min({0.0, b.xy, b.xz, b.xy + b.xz});
    const double xhi = b.hi(0) + std::max({0.0, b.xy, b.xz, b.xy + b.xz});
    const double ylo = b.lo[1] + std::min(0.0, b.yz), yhi = b.hi(1) + std::max(0.0, b.yz);
    fmt::format_to(out, "ITEM: BOX BOUNDS xy xz yz {} {} {}\n{} {} {}\n{} {} {}\n{} {} {}\n",
                   bc[b.periodic[0] != 0], bc[b.periodic[1] != 0], bc[b.periodic[2] != 0], xlo,
                   xhi, b.xy, ylo, yhi, b.xz, b.lo[2], b.hi(2), b.yz);
  } else {
    fmt::format_to(out, "ITEM: BOX BOUNDS {} {} {}\n{} {}\n{} {}\n{} {}\n",
                   bc[b.periodic[0] != 0], bc[b.periodic[1] != 0], bc[b.periodic[2] != 0],
                   b.lo[0], b.hi(0), b.lo[1], b.hi(1), b.lo[2], b.hi(2));
  }
  fmt::format_to(out, "ITEM: ATOMS id type {}", spec.unwrapped ? "xu yu zu" : "x y z");
  if (spec.velocities) fmt::format_to(out, " vx vy vz");
  if (f.fx) fmt::format_to(out, " fx fy fz");
  if (f.energy) fmt::format_to(out, " c_pe");
  if (f.uncertainty) fmt::format_to(out, " c_std");
  fmt::format_to(out, "\n");
  const bool vel = spec.velocities && s.has_velocities;
  for (std::size_t i = 0; i < s.size(); ++i) {
    fmt::format_to(out, "{} {} {} {} {}", s.id[i], s.type[i] + 1, s.x[i], s.y[i], s.z[i]);
    if (spec.velocities) {
      if (vel)
        fmt::format_to(out, " {} {} {}", s.vx[i], s.vy[i], s.vz[i]);
      else
        fmt::format_to(out, " 0 0 0");
    }
    if (f.fx) fmt::format_to(out, " {} {} {}", (*f.fx)[i], (*f.fy)[i], (*f.fz)[i]);
    if (f.energy) fmt::format_to(out, " {}", (*f.energy)[i]);
    if (f.uncertainty) fmt::format_to(out, " {}", (*f.uncertainty)[i]);
    fmt::format_to(out, "\n");
  }
  return fmt::to_string(buf);
}

namespace {

Structure positions_for(const Frame& f, const TrajectorySpec& spec) {
  return spec.unwrapped ? unwrapped_positions(*f.s) : wrapped_positions(*f.s);
}

class TextTrajectory : public TrajectoryWriter {
 public:
  TextTrajectory(const TrajectorySpec& spec, long long resume_at)
      : TrajectoryWriter(spec), file_(spec.file, resume_at) {}
  void write(const Frame& f) override {
    const Structure s = positions_for(f, spec_);
    Frame g = f;
    g.s = &s;
    if (spec_.format == "lammps-dump") {
      file_.write(lammps_dump_frame(g, spec_));
      return;
    }
    std::ostringstream os;
    os.precision(17);
    std::vector<double> forces;
    if (f.fx) {
      forces.resize(3 * s.size());
      for (std::size_t i = 0; i < s.size(); ++i) {
        forces[3 * i] = (*f.fx)[i];
        forces[3 * i + 1] = (*f.fy)[i];
        forces[3 * i + 2] = (*f.fz)[i];
      }
    }
    append_extxyz_frame(os, s, f.step, f.time, f.potential_energy, spec_.velocities,
                        f.fx ? &forces : nullptr, f.energy, f.uncertainty);
    file_.write(os.str());
  }
  long long position() override { return file_.size(); }
  void sync() override { file_.sync(); }

 private:
  RecordFile file_;
};

}  // namespace

std::unique_ptr<TrajectoryWriter> open_trajectory(const TrajectorySpec& spec, const Units& units,
                                                  long long resume_at) {
  if (spec.format == "extxyz" || spec.format == "lammps-dump")
    return std::make_unique<TextTrajectory>(spec, resume_at);
  if (spec.format == "h5md") return open_h5md(spec, units, resume_at);
  throw Error("unknown trajectory format \"" + spec.format + "\"");
}

}  // namespace md
