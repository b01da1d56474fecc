#include "io/app.hpp"

#include <omp.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>

#include <fmt/format.h>

#include "engine/comm.hpp"
#include "engine/error.hpp"
#include "engine/velocity.hpp"
#include "integrators/registry.hpp"
#include "io/checkpoint.hpp"
#include "io/extxyz.hpp"
#include "io/lammps_data.hpp"
#include "io/lattice.hpp"
#include "io/progress.hpp"
#include "io/report.hpp"
#include "io/signals.hpp"
#include "io/thermo_output.hpp"
#include "io/toml_section.hpp"
#include "io/uncertainty_output.hpp"
#include "models/potential_files.hpp"
#include "models/registry.hpp"

namespace md {

namespace fs = std::filesystem;

static std::string resolve_path(const std::string& input_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(input_dir) / p).lexically_normal().string();
}

// Finite geometry: a cell with finite, positive lengths and widths and finite tilts; atoms
// within a sane multiple of the cell (periodic directions: |fractional| <= 1000, so image
// flags never overflow) and image flags far from the int range. Fails naming the key/atom.
static void check_geometry(const Structure& s, Section& sys, const std::string& key) {
  const Box& b = s.box;
  for (int d = 0; d < 3; ++d)
    if (!std::isfinite(b.lo[d]) || !std::isfinite(b.l[d]) || !(b.l[d] > 0) ||
        !std::isfinite(b.lo[d] + b.l[d]))
      sys.fail(key, fmt::format("the cell length along {} is {} (lower bound {}): it must be "
                                "finite and positive", "xyz"[d], b.l[d], b.lo[d]));
  if (!std::isfinite(b.xy) || !std::isfinite(b.xz) || !std::isfinite(b.yz))
    sys.fail(key, "the cell tilts must be finite");
  double w[3];
  b.perpendicular_widths(w);
  const double v = b.volume();
  for (int d = 0; d < 3; ++d)
    if (!std::isfinite(w[d]) || !(w[d] > 0) || !std::isfinite(v))
      sys.fail(key, fmt::format("the cell is degenerate: width {} along {}, volume {}", w[d],
                                "xyz"[d], v));
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i]) || !std::isfinite(s.z[i]))
      sys.fail(key, fmt::format("atom {} has a non-finite position", s.id[i]));
    double f[3];
    b.to_fractional(s.x[i], s.y[i], s.z[i], f);
    for (int d = 0; d < 3; ++d) {
      const std::vector<int>& im = d == 0 ? s.ix : d == 1 ? s.iy : s.iz;
      const int img = i < im.size() ? im[i] : 0;
      if (std::fabs(f[d]) > 1000.0 || !std::isfinite(f[d]))
        sys.fail(key, fmt::format("atom {} is {:.6g} cell lengths away from the cell along {} "
                                  "(more than 1000: wrong units or a corrupt file?)",
                                  s.id[i], f[d], "xyz"[d]));
      if (img > 1000000000 || img < -1000000000)
        sys.fail(key, fmt::format("atom {} has image flag {} along {} (beyond +-10^9)",
                                  s.id[i], img, "xyz"[d]));
    }
  }
}

static Structure read_system(Section& sys, const std::string& input_dir, long long max_atoms,
                             std::string& structure_file) {
  const bool has_lattice = sys.has("lattice"), has_data = sys.has("data"),
             has_xyz = sys.has("extxyz");
  if (int(has_lattice) + int(has_data) + int(has_xyz) != 1)
    throw InputError(sys.file(), sys.line_of("lattice"),
                     "[system] needs exactly one of lattice, data, extxyz");
  Structure s;
  if (has_lattice) {
    Section lat = *sys.table("lattice");
    LatticeSpec spec;
    spec.kind = lat.get_string("kind");
    spec.a = lat.get_double("a");
    spec.c = lat.get_double("c", 0.0);
    const auto rep = lat.get_ints("repeat", 3);
    for (int d = 0; d < 3; ++d) {
      if (rep[d] < 1 || rep[d] > 100000) lat.fail("repeat", "entries must be between 1 and 100000");
      spec.repeat[d] = static_cast<int>(rep[d]);
    }
    spec.elements = lat.get_strings("elements");
    lat.finish();
    const double cells = double(spec.repeat[0]) * double(spec.repeat[1]) * double(spec.repeat[2]);
    if (cells > double(max_atoms))
      sys.fail("lattice", fmt::format("repeat gives more than {} atoms (at least {:.0f})",
                                      max_atoms, cells));
    try {
      s = make_lattice(spec);
    } catch (const InputError& e) {
      throw InputError(sys.file(), sys.line_of("lattice"), e.what());
    }
  } else if (has_data) {
    const std::string path = resolve_path(input_dir, sys.get_string("data"));
    structure_file = path;
    std::vector<std::string> names;
    if (sys.has("type_names")) names = sys.get_strings("type_names");
    s = read_lammps_data(path, names);
  } else {
    const std::string path = resolve_path(input_dir, sys.get_string("extxyz"));
    structure_file = path;
    const std::int64_t frame = sys.get_int("frame", -1);
    if (frame < -1 || frame > 2147483647)
      sys.fail("frame", "must be -1 (the last frame) or a frame index 0..2147483647");
    s = read_extxyz(path, static_cast<int>(frame));
  }
  if (static_cast<long long>(s.size()) > max_atoms)
    throw InputError(sys.file(), sys.line_of(has_lattice ? "lattice" : has_data ? "data" : "extxyz"),
                     fmt::format("[system] has {} atoms, more than the {} this build supports",
                                 s.size(), max_atoms));
  if (auto masses = sys.table("masses")) {
    for (std::size_t t = 0; t < s.type_names.size(); ++t) {
      if (!masses->has(s.type_names[t])) continue;
      const double m = masses->get_double(s.type_names[t]);
      if (!(m > 0.0) || !std::isfinite(m)) masses->fail(s.type_names[t], "mass must be positive and finite");
      s.type_masses[t] = m;
    }
    masses->finish();
  }
  if (sys.has("periodic")) {
    const auto p = sys.get_bools("periodic", 3);
    for (int d = 0; d < 3; ++d) s.box.periodic[d] = p[d] ? 1 : 0;
  }
  check_geometry(s, sys, has_lattice ? "lattice" : has_data ? "data" : "extxyz");
  for (std::size_t t = 0; t < s.type_masses.size(); ++t)
    if (!(s.type_masses[t] > 0.0))
      throw InputError(sys.file(), sys.line_of("masses"),
                       "[system] masses: no mass for type \"" + s.type_names[t] +
                           "\"; give it as masses = { " + s.type_names[t] + " = ... }");
  return s;
}

static TrajectorySpec read_trajectory(Section& tr, const std::string& input_dir) {
  TrajectorySpec t;
  t.every = static_cast<long>(tr.get_int("every"));
  if (t.every < 1) tr.fail("every", "must be at least 1");
  const std::string file = tr.get_string("file");
  if (file.empty()) tr.fail("file", "must not be empty");
  t.file = resolve_path(input_dir, file);
  std::vector<std::string> formats = {"extxyz", "lammps-dump"};
  if (h5md_available()) formats.push_back("h5md");
  const std::string guess = trajectory_format_for(file);
  if (tr.has("format")) {
    t.format = tr.get_choice("format", {"extxyz", "lammps-dump", "h5md"});
    if (t.format == "h5md" && !h5md_available())
      tr.fail("format", "this mdgpu was built without HDF5, so H5MD output is unavailable");
  } else if (guess.empty()) {
    tr.fail("file", "cannot tell the format from the extension; give format = \"extxyz\", "
                    "\"lammps-dump\" or \"h5md\"");
  } else {
    t.format = guess;
    if (t.format == "h5md" && !h5md_available())
      tr.fail("file", "this mdgpu was built without HDF5, so H5MD output is unavailable");
  }
  t.velocities = tr.get_bool("velocities", false);
  t.forces = tr.get_bool("forces", false);
  t.energies = tr.get_bool("energies", false);
  t.unwrapped = tr.get_bool("unwrapped", false);
  t.uncertainty = tr.get_bool("uncertainty", false);
  if (t.uncertainty && t.format == "h5md")
    tr.fail("uncertainty", "the per-atom std column is written to extxyz and lammps-dump only");
  tr.finish();
  return t;
}

// Identity of the system a checkpoint belongs to.
static std::uint64_t system_fingerprint(const Structure& s, const Units& units) {
  std::uint64_t h = fnv1a(units.name.data(), units.name.size());
  const std::uint64_t n = s.size();
  h = fnv1a(&n, sizeof n, h);
  h = fnv1a(s.id.data(), s.id.size() * sizeof(s.id[0]), h);
  h = fnv1a(s.type.data(), s.type.size() * sizeof(s.type[0]), h);
  for (const auto& t : s.type_names) h = fnv1a(t.data(), t.size() + 1, h);
  h = fnv1a(s.type_masses.data(), s.type_masses.size() * sizeof(double), h);
  h = fnv1a(s.box.periodic, sizeof s.box.periodic, h);
  return h;
}

// Hash of the settings that shape the dynamics ([potential], [neighbor], [run] minus steps).
static std::uint64_t input_fingerprint(const toml::table& root) {
  std::ostringstream os;
  for (const char* key : {"potential", "neighbor", "run"}) {
    const toml::table* t = root[key].as_table();
    if (!t) continue;
    toml::table copy = *t;
    if (std::string(key) == "run") {
      copy.erase("steps");
      copy.erase("cuda_graphs");  // bitwise the same dynamics: a restart may change it
    }
    os << "[" << key << "]\n" << copy << "\n";
  }
  const std::string text = os.str();
  return fnv1a(text.data(), text.size());
}

// Memory estimate before the first neighbour build: atoms, ghosts (from cutoff + skin and
// the cell widths), neighbours (from the density). An impossible request fails naming the
// keys and the bytes it would need (instead of std::bad_alloc later).
static void check_memory(const Job& job, double skin, const std::string& input_file) {
  const Box& b = job.initial.box;
  const double n = static_cast<double>(job.initial.size());
  const double rc = job.potential->cutoff();
  const double r = rc + skin;
  double w[3];
  b.perpendicular_widths(w);
  double shell = 1.0;
  for (int d = 0; d < 3; ++d)
    if (b.periodic[d]) shell *= 1.0 + 2.0 * r / w[d];  // as the neighbour list sizes them
  const double ghosts = n * (shell - 1.0);
  const double density = n / b.volume();
  const double neigh = 1.3 * density * 4.18879 * r * r * r + 16;
  const double bytes = (n + ghosts) * 160.0 + n * neigh * 4.0;
  double limit = 0;
  if (const char* env = std::getenv("MDGPU_MAX_MEMORY_GB")) limit = std::atof(env) * 1e9;
  if (!(limit > 0)) {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    limit = pages > 0 && page > 0 ? double(pages) * double(page) : 64e9;
  }
  if (!std::isfinite(bytes) || bytes > limit || neigh > 2e9 || ghosts > 4e18)
    throw InputError(input_file, 0, fmt::format(
        "[potential] cutoff {:g} + [neighbor] skin {:g} with this cell ({:.4g} x {:.4g} x {:.4g} "
        "wide) and {:.0f} atoms needs about {:.3g} bytes ({:.3g} ghost atoms, {:.3g} neighbours "
        "per atom), more than the {:.3g} bytes of memory here (set MDGPU_MAX_MEMORY_GB to "
        "change the limit)", rc, skin, w[0], w[1], w[2], n, bytes, ghosts, neigh, limit));
}

namespace deepmd {
struct SelCheck {  // models/deepmd/deepmd_config.cpp
  std::string file;
  double rcut = 0;
  std::vector<int> sel;
  std::vector<std::string> type_map;
  std::vector<int> type_of_system_type;
};
const SelCheck* sel_check_of(const Potential* p);
}  // namespace deepmd

// DeePMD keeps at most sel[t] neighbours of model type t within rcut (as deepmd-kit does);
// more make the energy non-smooth. Checked once on the neighbour list at the start (one
// counted transfer); warns with the counts.
static void warn_deepmd_sel(const Job& job, Simulation& sim) {
  if (job.potential->style() != "deepmd") return;
  const deepmd::SelCheck* c = deepmd::sel_check_of(job.potential.get());
  if (!c) return;
  Context& ctx = *job.ctx;
  System& sys = *job.system;
  const NeighborList& nl = sim.neighbors();
  const std::size_t n = static_cast<std::size_t>(sys.n_local());
  const std::size_t total = sys.x.size();
  const auto x = ctx.to_host(sys.x, total), y = ctx.to_host(sys.y, total),
             z = ctx.to_host(sys.z, total);
  const auto type = ctx.to_host(sys.type, total);
  const auto neigh = ctx.to_host(nl.neigh), count = ctx.to_host(nl.num_neigh);
  const std::size_t nt = c->sel.size();
  std::vector<int> worst(nt, 0), per(nt);
  long over = 0;
  const double rc2 = c->rcut * c->rcut;
  for (std::size_t i = 0; i < n; ++i) {
    std::fill(per.begin(), per.end(), 0);
    for (int k = 0; k < count[i]; ++k) {
      const std::size_t j = static_cast<std::size_t>(neigh[static_cast<std::size_t>(k) * n + i]);
      const double dx = x[j] - x[i], dy = y[j] - y[i], dz = z[j] - z[i];
      if (dx * dx + dy * dy + dz * dz >= rc2) continue;
      const int st = type[j];
      if (st < 0 || static_cast<std::size_t>(st) >= c->type_of_system_type.size()) continue;
      const int mt = c->type_of_system_type[static_cast<std::size_t>(st)];
      if (mt >= 0 && static_cast<std::size_t>(mt) < nt) ++per[static_cast<std::size_t>(mt)];
    }
    bool bad = false;
    for (std::size_t t = 0; t < nt; ++t) {
      worst[t] = std::max(worst[t], per[t]);
      bad = bad || per[t] > c->sel[t];
    }
    over += bad;
  }
  if (!over) return;
  std::string detail;
  for (std::size_t t = 0; t < nt; ++t)
    if (worst[t] > c->sel[t])
      detail += fmt::format("{}{} neighbours of type {} (sel {})", detail.empty() ? "" : ", ",
                            worst[t], c->type_map[t], c->sel[t]);
  run_warning(fmt::format(
      "deepmd model {}: {} atom(s) have more neighbours within rcut {:g} than sel allows (up "
      "to {}); the extra ones are dropped, as deepmd-kit does, so the energy is not smooth: "
      "use a model trained with a larger sel", c->file, over, c->rcut, detail));
}

// Every input and output of the job with its role (see io/output_files.hpp).
static RunFiles collect_run_files(const Job& job) {
  using K = RunFiles::Kind;
  RunFiles f;
  f.add(job.input_file, "input file", K::Input);
  f.add(job.structure_file, "[system] structure file", K::Input);
  for (const auto& p : job.potential_files) f.add(p, "[potential] file", K::Input);
  f.add_restart(job.restart_file, job.checkpoint_file);
  if (!job.restart_file.empty()) f.add_restart(job.restart_file + ".prev", job.checkpoint_file);
  f.add(job.thermo_file, "[output] thermo file", K::Stream);
  for (const auto& t : job.trajectories) f.add(t.file, "[output] trajectory file", K::Stream);
  if (job.uncertainty && job.uncertainty->action == UncertaintyAction::harvest)
    f.add(job.uncertainty->harvest_file, "[uncertainty] harvest_file", K::Stream);
  if (!job.data_file.empty()) {
    f.add(job.data_file, "[output] data file", K::Replaced);
    f.add(job.data_file + ".tmp", "[output] data file's temporary", K::Replaced);
  }
  if (!job.report_file.empty()) {
    f.add(job.report_file, "[output] report file", K::Replaced);
    f.add(job.report_file + ".tmp", "[output] report file's temporary", K::Replaced);
  }
  f.add(job.checkpoint_file, "[output] checkpoint file", K::Replaced);
  f.add(job.checkpoint_file + ".prev", "previous checkpoint (checkpoint file + .prev)", K::Replaced);
  f.add(job.checkpoint_file + ".tmp", "checkpoint temporary (checkpoint file + .tmp)", K::Replaced);
  f.add(job.checkpoint_file + ".lock", "lock file (checkpoint file + .lock)", K::Replaced);
  if (job.safety) {
    f.add(job.last_good_file, "[safety] last_good file", K::Replaced);
    f.add(job.last_good_file + ".tmp", "[safety] last_good temporary", K::Replaced);
  }
  return f;
}

// Refuses TOML nested deeper than 64 levels (brackets, braces or dotted-key parts) before the
// recursive parser sees it; a scan that skips strings and comments.
static void check_toml_nesting(const std::string& input_file) {
  std::ifstream in(input_file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  constexpr int kMaxDepth = 64;
  int depth = 0, dots = 0;
  long line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\n') {
      ++line;
      dots = 0;
    } else if (c == '#') {
      while (i + 1 < text.size() && text[i + 1] != '\n') ++i;
    } else if (c == '"' || c == '\'') {
      const bool multi = text.compare(i, 3, std::string(3, c)) == 0;
      const std::string close = multi ? std::string(3, c) : std::string(1, c);
      std::size_t j = i + close.size();
      while (j < text.size()) {
        if (c == '"' && text[j] == '\\') {
          j += 2;
          continue;
        }
        if (!multi && text[j] == '\n') break;
        if (text.compare(j, close.size(), close) == 0) break;
        if (text[j] == '\n') ++line;
        ++j;
      }
      i = j + close.size() - 1;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDepth)
        throw InputError(input_file, line, fmt::format("malformed TOML: nested more than {} "
                                                       "levels deep", kMaxDepth));
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    } else if (c == '.' && !(i > 0 && std::isdigit(static_cast<unsigned char>(text[i - 1])) &&
                             i + 1 < text.size() &&
                             std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      if (++dots > kMaxDepth)
        throw InputError(input_file, line, fmt::format("malformed TOML: a dotted key of more "
                                                       "than {} parts", kMaxDepth));
    }
  }
}

Job load_job(const std::string& input_file, const RunOverrides& ov) {
  if (!fs::exists(input_file)) throw InputError(input_file, 0, "input file not found");
  if (fs::is_directory(input_file)) throw InputError(input_file, 0, "is a folder, not an input file");
  check_toml_nesting(input_file);
  toml::table root_table;
  try {
    root_table = toml::parse_file(input_file);
  } catch (const toml::parse_error& e) {
    throw InputError(input_file, static_cast<long>(e.source().begin.line),
                     std::string("malformed TOML: ") + std::string(e.description()));
  }
  return load_job_from(root_table, input_file, ov, nullptr);
}

Job load_job_from(const toml::table& root_table, const std::string& input_file,
                  const RunOverrides& ov, const Structure* atoms) {
  Job job;
  job.input_file = input_file;
  potential_files_found().clear();
  run_warnings().clear();
  const std::string input_dir = fs::path(input_file).parent_path().string();
  const std::string stem = input_file.empty() ? "mdgpu" : fs::path(input_file).stem().string();
  TomlSection root(root_table, "", input_file);

  job.units = Units::by_name(root.get_choice("units", {"metal", "lj"}, std::string("metal")));
  std::string backend = root.get_choice("backend", {"auto", "cpu", "cuda"}, std::string("auto"));
  if (!ov.backend.empty()) backend = ov.backend;

  // [system]
  if (atoms) {  // the Python package (io/python): the structure comes from the caller
    if (root.has("system")) root.fail("system", "the structure is given as atoms, not as [system]");
    job.initial = *atoms;
  } else {
    auto sys_sec = root.table("system");
    if (!sys_sec) throw InputError(input_file, 0, "missing [system] section");
    job.initial = read_system(*sys_sec, input_dir, ov.max_atoms, job.structure_file);
    sys_sec->finish();
  }

  // [velocity]
  if (auto vel = root.table("velocity")) {
    const double t = vel->get_double("temperature");
    if (!(t >= 0.0) || !std::isfinite(t)) vel->fail("temperature", "must be non-negative and finite");
    const std::int64_t seed = vel->get_int("seed", 12345);
    if (seed <= 0) vel->fail("seed", "must be a positive integer");
    vel->finish();
    create_velocities(job.initial, job.units, t, static_cast<std::uint64_t>(seed));
  }

  // [neighbor]
  double skin = job.units.skin;
  if (auto nb = root.table("neighbor")) {
    skin = nb->get_double("skin", skin);
    if (!(skin >= 0.0) || !std::isfinite(skin)) nb->fail("skin", "must be non-negative and finite");
    job.check_every = static_cast<long>(nb->get_int("check_every", job.check_every));
    if (job.check_every < 1) nb->fail("check_every", "must be at least 1");
    job.sort_every = static_cast<long>(nb->get_int("sort_every", job.sort_every));
    if (job.sort_every < 0) nb->fail("sort_every", "must be non-negative (0: never)");
    nb->finish();
  }

  // [run] (ensemble-specific keys are read by the integrator factory below)
  auto run = root.table("run");
  if (!run) throw InputError(input_file, 0, "missing [run] section");
  job.dt = run->get_double("timestep", job.units.dt);
  if (!(job.dt > 0.0) || !std::isfinite(job.dt)) run->fail("timestep", "must be positive and finite");
  job.steps = static_cast<long>(run->get_int("steps"));
  if (job.steps < 0) run->fail("steps", "must be non-negative");
  if (job.steps > 1000000000000000L) run->fail("steps", "must be at most 10^15");
  if (ov.steps) job.steps = *ov.steps;
  job.cuda_graphs = run->get_bool("cuda_graphs", false);
  if (ov.cuda_graphs) job.cuda_graphs = *ov.cuda_graphs;

  // [output]
  job.thermo_every = 100;
  job.thermo_norm = job.units.name == "lj";
  if (auto out = root.table("output")) {
    if (auto th = out->table("thermo")) {
      job.thermo_every = static_cast<long>(th->get_int("every", job.thermo_every));
      if (job.thermo_every < 0) th->fail("every", "must be non-negative");
      if (th->has("file")) job.thermo_file = resolve_path(input_dir, th->get_string("file"));
      job.thermo_norm = th->get_bool("norm", job.thermo_norm);
      th->finish();
    }
    // trajectory = { ... } or an array of such tables ([[output.trajectory]])
    std::vector<Section> trajs;
    const toml::node* tr_node = root_table["output"]["trajectory"].node();
    if (tr_node && tr_node->is_array())
      trajs = out->tables("trajectory");
    else if (auto tr = out->table("trajectory"))
      trajs.push_back(*tr);
    for (Section& tr : trajs) job.trajectories.push_back(read_trajectory(tr, input_dir));
    if (auto wd = out->table("data")) {
      job.data_file = resolve_path(input_dir, wd->get_string("file"));
      wd->finish();
    }
    if (out->has("report")) {
      const std::string rep = out->get_string("report");
      if (rep.empty()) out->fail("report", "must not be empty (a file name such as \"run.html\")");
      job.report_file = resolve_path(input_dir, rep);
      const fs::path dir = fs::path(job.report_file).parent_path();
      if (!dir.empty() && !fs::is_directory(dir))
        out->fail("report", "the folder \"" + dir.string() + "\" does not exist");
    }
    if (auto ck = out->table("checkpoint")) {
      job.checkpoint_every = static_cast<long>(ck->get_int("every", 0));
      if (job.checkpoint_every < 0) ck->fail("every", "must be non-negative");
      job.checkpoint_file = resolve_path(input_dir, ck->get_string("file"));
      job.checkpoint_at_end = true;
      ck->finish();
    }
    out->finish();
  }
  for (std::size_t a = 0; a < job.trajectories.size(); ++a)
    for (std::size_t b = 0; b < a; ++b)
      if (job.trajectories[a].file == job.trajectories[b].file)
        throw InputError(input_file, 0,
                         "[output] trajectory: two trajectories write \"" +
                             job.trajectories[a].file + "\"");
  if (!ov.report.empty()) {
    job.report_file = ov.report;
    const fs::path dir = fs::path(ov.report).parent_path();
    if (!dir.empty() && !fs::is_directory(dir))
      throw InputError(input_file, 0, "--report \"" + ov.report + "\": the folder \"" +
                                          dir.string() + "\" does not exist");
  }
  if (job.checkpoint_file.empty())
    job.checkpoint_file = resolve_path(input_dir, stem + ".ckpt");
  job.last_good_file =
      resolve_path(input_dir, stem + ".last_good.data");

  // [safety]
  if (auto sf = root.table("safety")) {
    job.safety = sf->get_bool("enabled", true);
    job.safety_limits.min_distance = sf->get_double("min_distance", 0.5);
    if (!(job.safety_limits.min_distance >= 0) || !std::isfinite(job.safety_limits.min_distance))
      sf->fail("min_distance", "must be non-negative (0 disables the overlap check)");
    job.safety_limits.max_displacement = sf->get_double("max_displacement", 0.0);
    if (!(job.safety_limits.max_displacement >= 0) || !std::isfinite(job.safety_limits.max_displacement))
      sf->fail("max_displacement", "must be non-negative (0: the neighbour skin)");
    if (sf->has("last_good"))
      job.last_good_file = resolve_path(input_dir, sf->get_string("last_good"));
    sf->finish();
  }
  job.system_hash = system_fingerprint(job.initial, job.units);
  job.input_hash = input_fingerprint(root_table);
  if (!ov.restart.empty()) {
    job.restart_file = ov.restart;
    if (!fs::exists(job.restart_file) && !fs::exists(job.restart_file + ".prev"))
      throw InputError(job.restart_file, 0, "checkpoint file not found");
  }

  // [minimize] (FIRE before the dynamics; keys as LAMMPS minimize / min_modify)
  if (auto mn = root.table("minimize")) {
    FireOptions& o = job.minimize_options;
    job.minimize = true;
    mn->get_choice("style", {"fire"}, std::string("fire"));
    o.etol = mn->get_double("etol", 0.0);
    o.ftol = mn->get_double("ftol", 1e-6);
    if (!(o.etol >= 0.0)) mn->fail("etol", "must be non-negative");
    if (!(o.ftol >= 0.0)) mn->fail("ftol", "must be non-negative");
    if (o.etol == 0.0 && o.ftol == 0.0) mn->fail("ftol", "etol and ftol cannot both be 0");
    o.max_iterations = static_cast<long>(mn->get_int("max_iterations", 10000));
    if (o.max_iterations < 1) mn->fail("max_iterations", "must be at least 1");
    o.max_evaluations = static_cast<long>(mn->get_int("max_evaluations", 100000));
    if (o.max_evaluations < 1) mn->fail("max_evaluations", "must be at least 1");
    o.dt = mn->get_double("timestep", job.dt);
    if (!(o.dt > 0.0)) mn->fail("timestep", "must be positive");
    o.dmax = mn->get_double("dmax", 0.1);
    if (!(o.dmax > 0.0)) mn->fail("dmax", "must be positive");
    if (auto cell = mn->table("cell")) {
      o.relax_cell = cell->get_choice("coupling", {"iso", "aniso"}, std::string("iso")) == "iso" ? 1 : 2;
      o.pressure = cell->get_double("pressure", 0.0);
      for (int d = 0; d < 3; ++d)
        if (!job.initial.box.periodic[d]) cell->fail("coupling", "the cell must be periodic in x, y and z");
      cell->finish();
    }
    mn->finish();
  }

  // Device side: executor, state, potential, integrator.
  job.ctx = std::make_unique<Context>(resolve_backend(backend));
  job.system = std::make_unique<System>(*job.ctx, job.initial, job.units);
  auto pot = root.table("potential");
  if (!pot) throw InputError(input_file, 0, "missing [potential] section");
  job.potential = make_potential(
      *pot, PotentialSetup{*job.ctx, job.system->type_names(), job.units, input_dir});
  pot->finish();
  job.uncertainty = read_uncertainty_input(root, *job.potential, input_dir);
  for (const auto& t : job.trajectories)
    if (t.uncertainty && !job.uncertainty)
      throw InputError(input_file, 0, "[output] trajectory \"" + t.file + "\": uncertainty = "
                                      "true needs an [uncertainty] table");
  job.potential_files = potential_files_found();
  job.integrator =
      make_integrator(*run, IntegratorSetup{*job.ctx, *job.system, job.units, job.dt, job.steps});
  run->finish();
  job.parallel = read_parallel_section(root);
  root.finish();
  check_memory(job, skin, input_file);
  job.sim = std::make_unique<Simulation>(*job.ctx, *job.system, *job.potential, *job.integrator,
                                         job.dt, skin);
  job.sim->set_cuda_graphs(job.cuda_graphs);
  job.sim->set_sort_every(job.sort_every);
  job.files = collect_run_files(job);
  job.files.verify(input_file);
  for (const auto& t : job.trajectories)
    if (t.format == "h5md" && job.files.is_sink(t.file))
      throw InputError(input_file, 0, "[output] trajectory \"" + t.file +
                                          "\" is a device: H5MD output needs a regular file");
  return job;
}

static void print_summary(const Job& job, const RunStats& st) {
  const double atom_steps =
      static_cast<double>(job.system->n_local()) * static_cast<double>(st.steps);
  const double rate = st.wall_seconds > 0 ? atom_steps / st.wall_seconds : 0.0;
  const double sim_time = static_cast<double>(st.steps) * job.dt;
  const double per_day = st.wall_seconds > 0 ? sim_time / st.wall_seconds * 86400.0 : 0.0;
  fmt::print("Loop time {:.4g} s for {} steps of {} atoms: {:.4g} atom-steps/s, ", st.wall_seconds,
             st.steps, job.system->n_local(), rate);
  if (job.units.name == "metal")
    fmt::print("{:.4g} ns/day", per_day / 1000.0);
  else
    fmt::print("{:.4g} tau/day", per_day);
  fmt::print(", {} neighbour rebuilds", st.rebuilds);
  if (st.rollbacks) fmt::print(", {} capacity roll-backs", st.rollbacks);
  fmt::print("\n");
  // Parsed by benchmarks/: keep these two lines' format.
  const double peak = static_cast<double>(job.ctx->peak_device_bytes());
  fmt::print("peak device memory: {:.1f} MiB ({} bytes/atom)\n", peak / (1024.0 * 1024.0),
             static_cast<long long>(peak / static_cast<double>(std::max<Index>(1, job.system->n_local()))));
  fmt::print("kernel launches per step: {:.1f}\n",
             st.steps > 0 ? static_cast<double>(st.launches) / static_cast<double>(st.steps) : 0.0);
  if (job.cuda_graphs)
    fmt::print("step graphs: {} replays of {:.1f} launches, {} captures\n", st.graph_replays,
               st.graph_replays > 0
                   ? static_cast<double>(st.graph_nodes) / static_cast<double>(st.graph_replays)
                   : 0.0,
               st.graph_captures);
}

int run_job(Job& job, const RunOverrides& ov) {
  if (world().size() > 1) return run_parallel_job(job, ov);  // io/parallel_config.cpp
  const bool terminal = !ov.quiet;
  // One run per output set: a second run on the same outputs stops here.
  std::vector<std::string> locked;
  if (!job.thermo_file.empty() && !job.files.is_sink(job.thermo_file))
    locked.push_back(job.thermo_file);
  for (const auto& t : job.trajectories)
    if (t.format != "h5md" && !job.files.is_sink(t.file)) locked.push_back(t.file);
  if (job.uncertainty && job.uncertainty->action == UncertaintyAction::harvest &&
      !job.files.is_sink(job.uncertainty->harvest_file))
    locked.push_back(job.uncertainty->harvest_file);
  OutputLock lock(job.checkpoint_file + ".lock", job.input_file, locked);
  const std::string run_id = new_run_id();
  Context& ctx = *job.ctx;
  System& sys = *job.system;
  Simulation& sim = *job.sim;
  // [output] report / --report (io/report.hpp): written when the run ends, however it ends.
  std::unique_ptr<RunReport> report;
  if (!job.report_file.empty()) report = std::make_unique<RunReport>(begin_run_report(job));
  auto finish_report = [&](long first, double wall, const RunStats* stats,
                           const std::string& outcome, bool ok) {
    if (!report) return true;
    try {
      end_run_report(*report, job, first, sim.step(), wall, stats, outcome, ok);
      write_report(job.report_file, *report);
      return true;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mdgpu: error: the run report was not written: %s\n", e.what());
      return false;
    }
  };
  if (terminal) {
    fmt::print("mdgpu: {} atoms, {} types, units {}, potential {}, {} executor", sys.n_local(),
               sys.n_types(), job.units.name, job.potential->style(), backend_name(ctx.backend()));
    if (!ctx.on_cuda()) fmt::print(" ({} OpenMP threads)", omp_get_max_threads());
    fmt::print("\n");
  }

  // Start: from the input, or continue from a checkpoint.
  std::unique_ptr<Checkpoint> restart;
  std::unique_ptr<SafetyMonitor> safety;
  if (job.safety)
    safety = std::make_unique<SafetyMonitor>(ctx, job.safety_limits, sim.neighbors().skin());
  if (!job.restart_file.empty()) {
    std::string used;
    restart = std::make_unique<Checkpoint>(load_restart(job.restart_file, used, run_warning));
    const std::string warn =
        check_compatible(*restart, used, sim, job.system_hash, job.input_hash);
    if (!warn.empty()) run_warning(warn);
    check_outputs_continue(*restart, used);
    if (restart->step > job.steps)
      throw InputError(used, 0,
                       fmt::format("checkpoint is at step {}, beyond [run] steps = {} (steps "
                                   "counts from the start of the first run)",
                                   restart->step, job.steps));
    restore_checkpoint(*restart, sim);
    if (terminal) fmt::print("continuing from {} at step {}\n", used, restart->step);
  } else {
    sim.setup();
    if (safety) safety->check_overlaps(sys, sim.neighbors(), sim.step());
    if (job.minimize) {
      // A signal stops the minimisation at its next host check; the partly minimised state
      // is then written as a step-0 checkpoint.
      FireOptions fo = job.minimize_options;
      if (ov.handle_signals) {
        install_stop_handlers();
        fo.stop_flag = stop_flag();
      }
      const MinimizeResult m = fire_minimize(sim, fo);
      if (ov.handle_signals && *stop_flag()) {
        Checkpoint c = capture_checkpoint(sim);
        c.system_hash = job.system_hash;
        c.input_hash = job.input_hash;
        c.outputs.push_back({kCheckpointRunTag + run_id, 0});
        write_checkpoint(job.checkpoint_file, c);
        std::fprintf(stderr,
                     "mdgpu: stopped by signal %d during the FIRE minimisation after %ld "
                     "iterations (%s); the partly minimised state is in the checkpoint %s\n"
                     "mdgpu: --restart continues with the dynamics from it without finishing "
                     "the minimisation: mdgpu run %s --restart %s (run the input again to "
                     "minimise fully)\n",
                     stop_signal(), m.iterations, m.stop.c_str(), job.checkpoint_file.c_str(),
                     job.input_file.c_str(), job.checkpoint_file.c_str());
        finish_report(sim.step(), 0.0, nullptr,
                      fmt::format("stopped by signal {} during the FIRE minimisation ({} "
                                  "iterations); checkpoint written to {}", stop_signal(),
                                  m.iterations, job.checkpoint_file), false);
        return kExitStopped;
      }
      if (terminal)
        fmt::print("minimize (fire): {} iterations, {} force evaluations, stop: {}; energy {:.10g} "
                   "-> {:.10g}, force norm {:.4g}{}\n",
                   m.iterations, m.evaluations, m.stop, m.energy_start, m.energy, m.fnorm,
                   job.minimize_options.relax_cell
                       ? fmt::format(", pressure {:.6g}, volume {:.8g}", m.pressure, sys.box().volume())
                       : std::string());
    }
  }
  warn_deepmd_sel(job, sim);
  if (terminal) {
    const NeighborList& nl = sim.neighbors();
    fmt::print("neighbour list: cutoff {:g} + skin {:g}, {} ghosts, up to {} neighbours/atom\n",
               nl.cutoff(), nl.skin(), sim.neighbors().read_status().n_ghost, nl.max_neigh());
  }

  // Outputs (a continued run truncates each file to the offset its checkpoint recorded).
  const long long thermo_at = resume_offset(restart.get(), job.thermo_file);
  if (thermo_at >= 0) {
    std::error_code ec;
    if (!fs::exists(job.thermo_file) || fs::file_size(job.thermo_file) < static_cast<std::uintmax_t>(thermo_at))
      throw Error("thermo file \"" + job.thermo_file +
                  "\" is missing or shorter than when the checkpoint was written");
    fs::resize_file(job.thermo_file, static_cast<std::uintmax_t>(thermo_at), ec);
    if (ec) throw Error("cannot truncate \"" + job.thermo_file + "\": " + ec.message());
  }
  std::unique_ptr<UncertaintyRun> unc;
  if (job.uncertainty) {
    unc = std::make_unique<UncertaintyRun>(ctx, sim, *job.potential, *job.uncertainty,
                                           restart != nullptr);
    unc->start();
  }
  ThermoOutput thermo(job.thermo_file, job.thermo_norm, terminal, thermo_at >= 0,
                      unc ? UncertaintyRun::thermo_columns() : std::vector<std::string>{});
  std::vector<std::unique_ptr<TrajectoryWriter>> trajs;
  long frame_every = 0;
  bool want_forces = false, want_energies = false, want_std = false;
  for (const auto& spec : job.trajectories) {
    trajs.push_back(open_trajectory(spec, job.units, resume_offset(restart.get(), spec.file)));
    frame_every = std::gcd(frame_every, spec.every);
    want_forces = want_forces || spec.forces;
    want_energies = want_energies || spec.energies;
    want_std = want_std || spec.uncertainty;
  }

  const bool metal = job.units.name == "metal";
  Progress progress(sim.step(), job.steps, static_cast<long>(sys.n_local()), job.dt,
                    metal ? "ns" : "tau", metal ? 1e-3 : 1.0, terminal,
                    Progress::stderr_is_terminal(), ov.progress_interval);

  long last_checkpoint = -1;
  auto write_ckpt = [&]() {
    thermo.flush();
    Checkpoint c = capture_checkpoint(sim);
    c.system_hash = job.system_hash;
    c.input_hash = job.input_hash;
    c.outputs.push_back({kCheckpointRunTag + run_id, 0});
    auto record = [&](const std::string& path, long long at, bool bytes) {
      record_output(c, path, at, bytes);
    };
    if (!job.thermo_file.empty() && !job.files.is_sink(job.thermo_file))
      record(job.thermo_file, static_cast<long long>(fs::file_size(job.thermo_file)), true);
    for (auto& t : trajs) {
      t->sync();
      if (job.files.is_sink(t->spec().file)) continue;
      record(t->spec().file, t->position(), t->spec().format != "h5md");
    }
    write_checkpoint(job.checkpoint_file, c);
    last_checkpoint = sim.step();
  };

  Observers obs;
  obs.thermo_every = job.thermo_every;
  obs.on_thermo = [&](const ThermoSample& t) {
    progress.clear();
    thermo.write(t, unc ? unc->thermo_values() : std::vector<double>{});
    if (report) report->thermo.add(t, job.thermo_norm);
  };
  obs.max_check_interval = job.check_every;
  obs.emit_at_start = !restart;
  if (!trajs.empty()) {
    obs.frame_every = frame_every;
    obs.on_frame = [&](const ThermoSample& t, const Structure& s) {
      const std::size_t n = s.size();
      std::vector<double> fx, fy, fz, e;
      std::vector<HostCopy> batch;  // one transfer (Context::copy_d2h_batch)
      if (want_forces) {
        add_host_copy(batch, fx, sys.fx, n);
        add_host_copy(batch, fy, sys.fy, n);
        add_host_copy(batch, fz, sys.fz, n);
      }
      if (want_energies) add_host_copy(batch, e, sim.per_atom_energy(), n);
      std::vector<double> ustd;
      if (want_std && unc) ustd = unc->atom_std_now();
      std::vector<std::int64_t> ids;
      if (sim.atoms_permuted() && (!batch.empty() || !ustd.empty()))
        add_host_copy(batch, ids, sys.id, n);
      ctx.copy_d2h_batch(batch);
      if (!ids.empty()) {  // device order -> the input order of the frame's structure
        const std::vector<std::size_t> order = sim.input_order(ids);
        for (std::vector<double>* v : {&fx, &fy, &fz, &e, &ustd}) {
          if (v->empty()) continue;
          const std::vector<double> copy = *v;
          for (std::size_t j = 0; j < n; ++j) (*v)[j] = copy[order[j]];
        }
      }
      for (auto& w : trajs) {
        const TrajectorySpec& spec = w->spec();
        if (t.step % spec.every != 0 && t.step != job.steps) continue;
        Frame f{&s, t.step, t.time, t.pe};
        if (spec.forces) f.fx = &fx, f.fy = &fy, f.fz = &fz;
        if (spec.energies) f.energy = &e;
        if (spec.uncertainty && unc) f.uncertainty = &ustd;
        w->write(f);
      }
    };
  }
  obs.checkpoint_every = job.checkpoint_every;
  obs.on_checkpoint = write_ckpt;
  // The displacement of a sync step is recorded before that step's check, so the snapshot
  // taken after the check (the "last good" state) has passed all of them.
  // (The starting state has no displacement check of its own.)
  const long first_step = sim.step();
  long synced = -1;  // the sync step whose displacement on_sync recorded
  if (safety)
    obs.on_sync = [&]() {
      if (sim.step() > first_step) safety->track_step(sim.neighbors(), sim.step());
      synced = sim.step();
      safety->check(sys, sim.step());
    };
  obs.after_step = [&](long step) {
    if (safety && step > first_step && step != synced) safety->track_step(sim.neighbors(), step);
    synced = -1;
    progress.update(step);
  };
  if (unc) unc->attach(obs);  // after on_sync: its reading comes after the safety check
  if (ov.handle_signals) {
    if (!job.minimize || restart) install_stop_handlers();
    obs.stop = stop_flag();
  }

  RunStats st;
  const auto loop_start = std::chrono::steady_clock::now();
  auto loop_seconds = [&]() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - loop_start).count();
  };
  try {
    st = sim.run(job.steps - sim.step(), obs);
  } catch (const SafetyError& e) {
    progress.finish();
    thermo.flush();
    for (auto& t : trajs) t->sync();
    sim.rollback_to_last_sync();
    sys.pull_box();
    write_lammps_data(job.last_good_file, sim.download(), "units " + job.units.name);
    std::fprintf(stderr, "mdgpu: error: %s\nmdgpu: the state at step %ld (the last good one) was "
                 "written to %s\n", e.what(), sim.step(), job.last_good_file.c_str());
    finish_report(first_step, loop_seconds(), nullptr,
                  fmt::format("a safety check failed: {}; the last good state (step {}) was "
                              "written to {}", e.what(), sim.step(), job.last_good_file), false);
    return kExitSafety;
  } catch (const UncertaintyStop& e) {  // at a sync point: the state of e.step is consistent
    progress.finish();
    if (obs.on_thermo) obs.on_thermo(sim.thermo_now());
    if (obs.on_frame) obs.on_frame(sim.thermo_now(), sys.download());
    for (auto& t : trajs) t->sync();
    write_ckpt();
    std::fprintf(stderr, "mdgpu: stopped by [uncertainty]: %s; checkpoint written to %s\n"
                 "mdgpu: continue with: mdgpu run %s --restart %s\n", e.what(),
                 job.checkpoint_file.c_str(), job.input_file.c_str(), job.checkpoint_file.c_str());
    finish_report(first_step, loop_seconds(), nullptr,
                  fmt::format("stopped by [uncertainty] at step {}: {}; checkpoint written to {}",
                              sim.step(), e.what(), job.checkpoint_file), false);
    return kExitUncertain;
  } catch (const std::exception& e) {
    finish_report(first_step, loop_seconds(), nullptr,
                  fmt::format("failed at step {}: {}", sim.step(), e.what()), false);
    throw;
  }
  progress.finish();
  thermo.flush();
  if (st.stopped) {
    for (auto& t : trajs) t->sync();
    std::fprintf(stderr,
                   "mdgpu: stopped by signal %d at step %ld; checkpoint written to %s\n"
                   "mdgpu: continue with: mdgpu run %s --restart %s\n",
                   stop_signal(), sim.step(), job.checkpoint_file.c_str(), job.input_file.c_str(),
                   job.checkpoint_file.c_str());
    finish_report(first_step, st.wall_seconds, &st,
                  fmt::format("stopped by signal {} at step {}; checkpoint written to {}",
                              stop_signal(), sim.step(), job.checkpoint_file), false);
    return kExitStopped;
  }
  if (ov.handle_signals) restore_default_handlers();
  for (auto& t : trajs) t->sync();
  if (job.checkpoint_at_end && last_checkpoint != sim.step()) write_ckpt();
  if (!job.data_file.empty()) {
    sys.pull_box();
    write_lammps_data(job.data_file, sim.download(), "units " + job.units.name);
  }
  if (terminal) print_summary(job, st);
  if (!finish_report(first_step, st.wall_seconds, &st,
                     fmt::format("completed: {} steps", sim.step() - first_step), true))
    return 1;
  if (terminal && report) fmt::print("run report: {}\n", job.report_file);
  return 0;
}

int check_job(Job& job, const RunOverrides& ov) {
  (void)ov;
  int warnings = 0;
  auto warn = [&](const std::string& w) {
    fmt::print("warning: {}\n", w);
    ++warnings;
  };
  System& sys = *job.system;
  Simulation& sim = *job.sim;
  sim.setup();
  SafetyMonitor safety(*job.ctx, job.safety_limits, sim.neighbors().skin());
  if (job.safety) safety.check_overlaps(sys, sim.neighbors(), 0);
  warn_deepmd_sel(job, sim);
  const ThermoSample t = sim.thermo_now();  // throws for non-finite energy or pressure
  const Box& box = sys.box();
  double w[3];
  box.perpendicular_widths(w);
  const double rc = sim.neighbors().cutoff();
  for (int d = 0; d < 3; ++d) {
    if (box.periodic[d] && w[d] < 2.0 * rc)
      warn(fmt::format("the cell is {:g} wide along {} (perpendicular), less than twice the "
                       "cutoff {:g}: atoms interact with their own periodic images",
                       w[d], "xyz"[d], rc));
  }
  std::vector<std::string> files = {job.thermo_file, job.data_file, job.checkpoint_file,
                                    job.report_file};
  for (const auto& tr : job.trajectories) files.push_back(tr.file);
  for (const auto& f : files) {
    if (f.empty()) continue;
    fs::path dir = fs::path(f).parent_path();
    if (dir.empty()) dir = ".";
    if (!fs::is_directory(dir))
      throw InputError(job.input_file, 0, "output folder \"" + dir.string() + "\" of \"" + f +
                                              "\" does not exist");
  }
  if (!job.restart_file.empty()) {
    std::string used;
    const Checkpoint c = load_restart(job.restart_file, used, run_warning);
    const std::string w2 = check_compatible(c, used, sim, job.system_hash, job.input_hash);
    check_outputs_continue(c, used);
    if (!w2.empty()) warn(w2);
    fmt::print("restart: {} at step {} is compatible\n", used, c.step);
  }
  fmt::print("{}: {} atoms, {} types, cell {:g} x {:g} x {:g} (tilt {:g} {:g} {:g}), potential "
             "{} with cutoff {:g}, skin {:g}, {} steps of {:g}\n",
             job.input_file, sys.n_local(), sys.n_types(), box.l[0], box.l[1], box.l[2], box.xy,
             box.xz, box.yz, job.potential->style(), rc, sim.neighbors().skin(), job.steps,
             job.dt);
  fmt::print("initial state: PotEng {:.10g}, Temp {:.6g}, Press {:.6g}\n", t.pe, t.temp, t.press);
  fmt::print("input OK ({} warning{})\n", warnings, warnings == 1 ? "" : "s");
  return warnings;
}

}  // namespace md
