// Checkpoint encoding, atomic writing, validation and restore (see checkpoint.hpp).
// Layout (little-endian host order, checked by a marker): "MDGPUCKP" magic, u32 version,
// u32 endian marker, then fields in a fixed order (strings and arrays length-prefixed with
// u64), then u64 FNV-1a of everything before it and the "CKPTEND!" trailer.
#include "io/checkpoint.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <utility>

#include "engine/error.hpp"
#include "io/output_files.hpp"
#include "io/record_file.hpp"

namespace md {

namespace {

constexpr char kMagic[8] = {'M', 'D', 'G', 'P', 'U', 'C', 'K', 'P'};
constexpr char kTrailer[8] = {'C', 'K', 'P', 'T', 'E', 'N', 'D', '!'};
constexpr std::uint32_t kEndian = 0x01020304u;
constexpr std::uint64_t kMaxAtoms = 1ull << 40;
constexpr std::uint64_t kMaxString = 1ull << 20;

class Writer {
 public:
  template <class T>
  void pod(const T& v) {
    const char* p = reinterpret_cast<const char*>(&v);
    buf_.append(p, sizeof(T));
  }
  void str(const std::string& s) {
    pod<std::uint64_t>(s.size());
    buf_.append(s);
  }
  template <class T>
  void vec(const std::vector<T>& v) {
    pod<std::uint64_t>(v.size());
    if (!v.empty()) buf_.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
  }
  void box(const Box& b) {
    for (int d = 0; d < 3; ++d) pod(b.lo[d]);
    for (int d = 0; d < 3; ++d) pod(b.l[d]);
    pod(b.xy);
    pod(b.xz);
    pod(b.yz);
    for (int d = 0; d < 3; ++d) pod<std::int32_t>(b.periodic[d]);
  }
  std::string& bytes() { return buf_; }

 private:
  std::string buf_;
};

class Reader {
 public:
  Reader(const std::string& b, std::size_t end, const std::string& src)
      : b_(b), end_(end), src_(src) {}
  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(src_, 0, "corrupt checkpoint: " + what);
  }
  template <class T>
  T pod(const char* what) {
    if (end_ - pos_ < sizeof(T)) fail(std::string("truncated in ") + what);
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  double real(const char* what) {
    const double v = pod<double>(what);
    if (!std::isfinite(v)) fail(std::string("non-finite ") + what);
    return v;
  }
  std::string str(const char* what) {
    const auto n = pod<std::uint64_t>(what);
    if (n > kMaxString || n > end_ - pos_) fail(std::string("bad length of ") + what);
    std::string s = b_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  template <class T>
  std::vector<T> vec(const char* what, std::uint64_t expect) {
    const auto n = pod<std::uint64_t>(what);
    if (n != expect) fail(fmt::format("{} has {} entries, expected {}", what, n, expect));
    if (n > (end_ - pos_) / sizeof(T)) fail(std::string("truncated in ") + what);
    std::vector<T> v(n);
    if (n) std::memcpy(v.data(), b_.data() + pos_, n * sizeof(T));
    pos_ += n * sizeof(T);
    return v;
  }
  Box box(const char* what) {
    Box b;
    for (int d = 0; d < 3; ++d) b.lo[d] = real(what);
    for (int d = 0; d < 3; ++d) {
      b.l[d] = real(what);
      if (!(b.l[d] > 0)) fail(std::string("non-positive cell length in ") + what);
    }
    b.xy = real(what);
    b.xz = real(what);
    b.yz = real(what);
    for (int d = 0; d < 3; ++d) {
      const auto p = pod<std::int32_t>(what);
      if (p != 0 && p != 1) fail(std::string("bad periodic flag in ") + what);
      b.periodic[d] = p;
    }
    return b;
  }
  std::size_t pos() const { return pos_; }

 private:
  const std::string& b_;
  std::size_t end_;
  std::size_t pos_ = 0;
  const std::string& src_;
};

}  // namespace

std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}

Checkpoint capture_checkpoint(Simulation& sim) {
  System& sys = sim.system();
  Context& ctx = sys.ctx();
  NeighborList& nl = sim.neighbors();
  const std::size_t n = static_cast<std::size_t>(sys.n_local());
  Checkpoint c;
  c.units = sys.units().name;
  c.type_names = sys.type_names();
  c.type_masses = sys.type_masses();
  c.step = sim.step();
  c.dt = sim.timestep();
  c.box = sys.pull_box();
  c.id = ctx.to_host(sys.id, n);
  c.x = ctx.to_host(sys.x, n);
  c.y = ctx.to_host(sys.y, n);
  c.z = ctx.to_host(sys.z, n);
  c.vx = ctx.to_host(sys.vx, n);
  c.vy = ctx.to_host(sys.vy, n);
  c.vz = ctx.to_host(sys.vz, n);
  c.fx = ctx.to_host(sys.fx, n);
  c.fy = ctx.to_host(sys.fy, n);
  c.fz = ctx.to_host(sys.fz, n);
  c.ix = ctx.to_host(sys.ix, n);
  c.iy = ctx.to_host(sys.iy, n);
  c.iz = ctx.to_host(sys.iz, n);
  c.cutoff = nl.cutoff();
  c.skin = nl.skin();
  c.box_at_build = ctx.to_host(nl.box_at_build, 1)[0];
  c.x0 = ctx.to_host(nl.x0, n);
  c.y0 = ctx.to_host(nl.y0, n);
  c.z0 = ctx.to_host(nl.z0, n);
  c.ghost_capacity = sys.ghost_capacity();
  c.max_neigh = nl.max_neigh();
  c.integrator = sim.integrator().name();
  c.integrator_state = sim.integrator().serialize(ctx);
  c.executor = backend_name(ctx.backend());
  c.device = ctx.device_description();
  return c;
}

std::string encode_checkpoint(const Checkpoint& c) {
  Writer w;
  w.bytes().append(kMagic, 8);
  w.pod<std::uint32_t>(c.version);
  w.pod<std::uint32_t>(kEndian);
  w.str(c.units);
  w.pod<std::uint64_t>(c.natoms());
  w.pod<std::uint64_t>(c.type_names.size());
  for (const auto& t : c.type_names) w.str(t);
  w.vec(c.type_masses);
  w.pod(c.system_hash);
  w.pod(c.input_hash);
  w.pod<std::int64_t>(c.step);
  w.pod(c.dt);
  w.box(c.box);
  w.vec(c.id);
  for (const auto* a : {&c.x, &c.y, &c.z, &c.vx, &c.vy, &c.vz, &c.fx, &c.fy, &c.fz}) w.vec(*a);
  for (const auto* a : {&c.ix, &c.iy, &c.iz}) w.vec(*a);
  w.pod(c.cutoff);
  w.pod(c.skin);
  w.box(c.box_at_build);
  for (const auto* a : {&c.x0, &c.y0, &c.z0}) w.vec(*a);
  w.pod<std::int64_t>(c.ghost_capacity);
  w.pod<std::int32_t>(c.max_neigh);
  w.str(c.integrator);
  w.vec(c.integrator_state);
  w.pod<std::uint64_t>(c.outputs.size());
  for (const auto& o : c.outputs) {
    w.str(o.path);
    w.pod<std::int64_t>(o.position);
  }
  if (c.version >= 2) {
    w.str(c.executor);
    w.str(c.device);
  }
  const std::uint64_t h = fnv1a(w.bytes().data(), w.bytes().size());
  w.pod(h);
  w.bytes().append(kTrailer, 8);
  return std::move(w.bytes());
}

Checkpoint decode_checkpoint(const std::string& b, const std::string& src) {
  if (b.size() < 8 || std::memcmp(b.data(), kMagic, 8) != 0)
    throw InputError(src, 0, "not an mdgpu checkpoint (no MDGPUCKP magic)");
  if (b.size() < 8 + 8 + 16) throw InputError(src, 0, "corrupt checkpoint: truncated header");
  std::uint32_t version, endian;
  std::memcpy(&version, b.data() + 8, 4);
  std::memcpy(&endian, b.data() + 12, 4);
  if (endian != kEndian)
    throw InputError(src, 0, "checkpoint written on a machine of other byte order");
  if (version < kCheckpointOldestVersion || version > kCheckpointVersion)
    throw InputError(src, 0,
                     fmt::format("checkpoint format version {} is not supported by this mdgpu "
                                 "(it reads version {}); continue it with the mdgpu that wrote it",
                                 version, kCheckpointVersion));
  if (std::memcmp(b.data() + b.size() - 8, kTrailer, 8) != 0)
    throw InputError(src, 0, "corrupt checkpoint: truncated (no end marker)");
  const std::size_t end = b.size() - 16;
  std::uint64_t stored;
  std::memcpy(&stored, b.data() + end, 8);
  if (fnv1a(b.data(), end) != stored)
    throw InputError(src, 0, "corrupt checkpoint: checksum mismatch");

  Reader r(b, end, src);
  r.pod<std::uint64_t>("magic");
  r.pod<std::uint64_t>("version");
  Checkpoint c;
  c.version = version;
  c.units = r.str("units");
  const auto n = r.pod<std::uint64_t>("atom count");
  if (n == 0 || n > kMaxAtoms) r.fail("bad atom count");
  const auto ntypes = r.pod<std::uint64_t>("type count");
  if (ntypes == 0 || ntypes > 100000) r.fail("bad type count");
  for (std::uint64_t t = 0; t < ntypes; ++t) c.type_names.push_back(r.str("type name"));
  c.type_masses = r.vec<double>("masses", ntypes);
  c.system_hash = r.pod<std::uint64_t>("system hash");
  c.input_hash = r.pod<std::uint64_t>("input hash");
  c.step = r.pod<std::int64_t>("step");
  if (c.step < 0) r.fail("negative step");
  c.dt = r.real("timestep");
  c.box = r.box("box");
  c.id = r.vec<std::int64_t>("ids", n);
  for (auto* a : {&c.x, &c.y, &c.z, &c.vx, &c.vy, &c.vz, &c.fx, &c.fy, &c.fz})
    *a = r.vec<double>("per-atom array", n);
  for (auto* a : {&c.ix, &c.iy, &c.iz}) *a = r.vec<int>("image flags", n);
  c.cutoff = r.real("cutoff");
  c.skin = r.real("skin");
  c.box_at_build = r.box("box at build");
  for (auto* a : {&c.x0, &c.y0, &c.z0}) *a = r.vec<double>("build positions", n);
  c.ghost_capacity = r.pod<std::int64_t>("ghost capacity");
  c.max_neigh = r.pod<std::int32_t>("neighbour capacity");
  if (c.ghost_capacity < 0 || c.ghost_capacity > static_cast<long long>(kMaxAtoms) ||
      c.max_neigh < 0 || c.max_neigh > 1000000)
    r.fail("bad neighbour capacities");
  c.integrator = r.str("integrator name");
  {
    const auto len = r.pod<std::uint64_t>("integrator state");
    if (len > end - r.pos()) r.fail("truncated integrator state");
    c.integrator_state.resize(len);
    if (len) std::memcpy(c.integrator_state.data(), b.data() + r.pos(), len);
    for (std::uint64_t k = 0; k < len; ++k) r.pod<std::uint8_t>("integrator state");
  }
  const auto nout = r.pod<std::uint64_t>("output count");
  if (nout > 1000) r.fail("bad output count");
  for (std::uint64_t k = 0; k < nout; ++k) {
    OutputOffset o;
    o.path = r.str("output path");
    o.position = r.pod<std::int64_t>("output offset");
    if (o.position < 0) r.fail("negative output offset");
    c.outputs.push_back(o);
  }
  if (version >= 2) {
    c.executor = r.str("executor");
    c.device = r.str("device");
  }
  if (r.pos() != end) r.fail("unexpected bytes after the last field");
  for (std::size_t i = 0; i < n; ++i)
    for (const auto* a : {&c.x, &c.y, &c.z, &c.vx, &c.vy, &c.vz, &c.x0, &c.y0, &c.z0})
      if (!std::isfinite((*a)[i])) r.fail("non-finite position or velocity");
  return c;
}

void write_checkpoint(const std::string& path, const Checkpoint& c) {
  write_file_atomically(path, encode_checkpoint(c), true);
}

Checkpoint read_checkpoint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path, 0, "checkpoint file not found or not readable");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw InputError(path, 0, "read error");
  return decode_checkpoint(bytes, path);
}

std::string check_compatible(const Checkpoint& c, const std::string& path, Simulation& sim,
                             std::uint64_t system_hash, std::uint64_t input_hash) {
  System& sys = sim.system();
  auto refuse = [&](const std::string& why) {
    throw InputError(path, 0, "checkpoint does not belong to this input: " + why);
  };
  if (c.units != sys.units().name)
    refuse("it was written in " + c.units + " units, the input uses " + sys.units().name);
  if (c.natoms() != static_cast<std::size_t>(sys.n_local()))
    refuse(fmt::format("it holds {} atoms, the input's system has {}", c.natoms(), sys.n_local()));
  if (c.type_names != sys.type_names())
    refuse("its atom types differ from the input's (" + fmt::format("{}", c.type_names.size()) +
           " vs " + fmt::format("{}", sys.type_names().size()) + " types or other names)");
  if (c.system_hash != system_hash)
    refuse("atom ids, types, masses or periodicity differ from the input's system");
  if (c.cutoff != sim.neighbors().cutoff())
    refuse(fmt::format("it used an interaction cutoff of {}, the input's potential has {}",
                       c.cutoff, sim.neighbors().cutoff()));
  {  // finite geometry: a crafted checkpoint with a valid checksum may still be degenerate
    double w[3];
    c.box.perpendicular_widths(w);
    const double r = c.cutoff + c.skin;
    for (int d = 0; d < 3; ++d)
      if (!std::isfinite(w[d]) || !(w[d] > 0) || !std::isfinite(c.box.volume()) ||
          (c.box.periodic[d] && r / w[d] > 1000.0))
        refuse(fmt::format("its cell is degenerate (width {:g} along {} for a neighbour radius "
                           "{:g})", w[d], "xyz"[d], r));
    for (std::size_t i = 0; i < c.natoms(); ++i) {
      double f[3];
      c.box.to_fractional(c.x[i], c.y[i], c.z[i], f);
      for (int d = 0; d < 3; ++d) {
        const int img = d == 0 ? c.ix[i] : d == 1 ? c.iy[i] : c.iz[i];
        if (!(std::fabs(f[d]) <= 1000.0) || img > 1000000000 || img < -1000000000)
          refuse(fmt::format("atom {} is {:.6g} cells away along {} (image flag {})", c.id[i],
                             f[d], "xyz"[d], img));
      }
    }
  }
  if (c.integrator != sim.integrator().name())
    refuse("it was written by the " + c.integrator + " integrator, the input uses " +
           sim.integrator().name());
  std::string warn;
  if (c.input_hash != input_hash || c.dt != sim.timestep() || c.skin != sim.neighbors().skin())
    warn = "the input's [potential], [neighbor] or [run] settings differ from those of the run "
           "that wrote the checkpoint: the continuation is valid but not bitwise identical to "
           "an uninterrupted run";
  const Context& ctx = sys.ctx();
  const std::string executor = backend_name(ctx.backend()), device = ctx.device_description();
  if (!c.executor.empty() && (c.executor != executor || c.device != device))
    warn += std::string(warn.empty() ? "" : "; ") + "the checkpoint was written by the " +
            c.executor + " executor on " + c.device + ", this run uses the " + executor +
            " executor on " + device +
            ": the continuation is valid but not bitwise identical to an uninterrupted run";
  return warn;
}

void restore_checkpoint(const Checkpoint& c, Simulation& sim) {
  System& sys = sim.system();
  Context& ctx = sys.ctx();
  NeighborList& nl = sim.neighbors();
  nl.reserve(sys, c.ghost_capacity, c.max_neigh);
  // A spatially sorted run writes its atoms in device order: restore ids and types in that
  // order (types from the input's id -> type map).
  const std::size_t n = static_cast<std::size_t>(sys.n_local());
  const std::vector<std::int64_t> ids = ctx.to_host(sys.id, n);
  if (c.id.size() == n && c.id != ids) {
    const std::vector<int> types = ctx.to_host(sys.type, n);
    std::vector<std::pair<std::int64_t, int>> type_of(n);
    for (std::size_t i = 0; i < n; ++i) type_of[i] = {ids[i], types[i]};
    std::sort(type_of.begin(), type_of.end());
    std::vector<int> t(n);
    for (std::size_t i = 0; i < n; ++i) {
      const auto it = std::lower_bound(type_of.begin(), type_of.end(), std::make_pair(c.id[i], -1));
      if (it == type_of.end() || it->first != c.id[i])
        throw Error("checkpoint: atom id " + std::to_string(c.id[i]) + " is not in the input");
      t[i] = it->second;
    }
    sim.remember_input_order();
    ctx.to_device(c.id, sys.id);
    ctx.to_device(t, sys.type);
    sim.note_atoms_permuted();
  }
  ctx.to_device(c.x, sys.x);
  ctx.to_device(c.y, sys.y);
  ctx.to_device(c.z, sys.z);
  ctx.to_device(c.vx, sys.vx);
  ctx.to_device(c.vy, sys.vy);
  ctx.to_device(c.vz, sys.vz);
  ctx.to_device(c.fx, sys.fx);
  ctx.to_device(c.fy, sys.fy);
  ctx.to_device(c.fz, sys.fz);
  ctx.to_device(c.ix, sys.ix);
  ctx.to_device(c.iy, sys.iy);
  ctx.to_device(c.iz, sys.iz);
  sys.set_box(c.box);
  ctx.to_device(c.x0, nl.x0);
  ctx.to_device(c.y0, nl.y0);
  ctx.to_device(c.z0, nl.z0);
  ctx.to_device(std::vector<Box>{c.box_at_build}, nl.box_at_build);
  sim.integrator().deserialize(ctx, c.integrator_state);
  sim.resume(c.step);
}

Checkpoint load_restart(const std::string& path, std::string& used,
                        const std::function<void(const std::string&)>& warn) {
  try {
    used = path;
    return read_checkpoint(path);
  } catch (const InputError& e) {
    const std::string prev = path + ".prev";
    if (!std::filesystem::exists(prev)) throw;
    if (warn) warn(std::string(e.what()) + "; using the previous checkpoint " + prev);
    used = prev;
    return read_checkpoint(prev);
  }
}

const char* const kCheckpointRunTag = "#run ";
const char* const kCheckpointSigTag = "#sig ";

long long resume_offset(const Checkpoint* c, const std::string& path) {
  if (!c) return -1;
  for (const auto& o : c->outputs)
    if (o.path == path) return o.position;
  return -1;
}

void record_output(Checkpoint& c, const std::string& path, long long at, bool bytes) {
  c.outputs.push_back({path, at});
  if (bytes)
    c.outputs.push_back(
        {kCheckpointSigTag + path, static_cast<long long>(prefix_signature(path, at) >> 1)});
}

static std::string checkpoint_run_id(const Checkpoint& c) {
  for (const auto& o : c.outputs)
    if (o.path.rfind(kCheckpointRunTag, 0) == 0) return o.path.substr(5);
  return {};
}

void check_outputs_continue(const Checkpoint& c, const std::string& used) {
  namespace fs = std::filesystem;
  for (const auto& o : c.outputs) {
    if (o.path.rfind(kCheckpointSigTag, 0) != 0) continue;
    const std::string path = o.path.substr(5);
    const long long at = resume_offset(&c, path);
    if (at < 0) continue;
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const std::string fresh = " To start fresh instead, run without --restart (the outputs "
                              "are then overwritten) or move \"" + path + "\" away first.";
    if (ec || size < static_cast<std::uintmax_t>(at))
      throw InputError(used, 0, fmt::format("output \"{}\" is missing or shorter ({} bytes) than "
                                            "when this checkpoint (step {}) was written ({} bytes)."
                                            "{}", path, ec ? 0 : size, c.step, at, fresh));
    if ((prefix_signature(path, at) >> 1) != static_cast<std::uint64_t>(o.position))
      throw InputError(used, 0, fmt::format(
          "output \"{}\" does not continue the run that wrote this checkpoint (run {}, step {}): "
          "its first {} bytes changed since, so another run rewrote it; continuing would splice "
          "two runs into one file.{}", path, checkpoint_run_id(c), c.step, at, fresh));
  }
}

}  // namespace md
