// Reproducible by construction (issue 16, part A): the same atoms stored in another order
// (same ids) must give, per id, bitwise identical positions, velocities, forces and image
// flags, and bitwise identical thermo, after a run with rebuilds — for LJ, EAM, SNAP,
// DeePMD, SchNet and HIP-NN, NVE, Langevin, CSVR and MTK NPT, cubic, triclinic and
// thinner-than-2-cutoff cells.
// This needs every per-atom neighbour sum in canonical (id, image) order and every global sum
// exact (engine/exact_sum.hpp). Also: sorting atoms during a run changes nothing, nor does the
// OpenMP thread count.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <omp.h>
#include <toml++/toml.h>

#include "engine/simulation.hpp"
#include "engine/velocity.hpp"
#include "integrators/registry.hpp"
#include "io/lattice.hpp"
#include "io/toml_section.hpp"
#include "models/registry.hpp"
#include "support.hpp"

namespace md {

namespace {

std::string src(const std::string& rel) { return std::string(MDGPU_SOURCE_DIR) + "/" + rel; }

struct Case {
  std::string name;
  Structure s;
  Units units;
  std::string potential;  // body of [potential]
  double dt = 0, skin = 0;
  long steps = 0;
};

struct RunOut {
  std::vector<std::int64_t> id;  // sorted
  std::vector<double> state;     // per id: x y z vx vy vz fx fy fz (bits compared)
  std::vector<int> image;        // per id: ix iy iz
  std::vector<ThermoSample> thermo;
  long sorts = 0;
  long rollbacks = 0;  // capacity overflows replayed (their truncated lists must leave no trace)
};

// Everything per atom, in the order of the permutation `order` (structure index order[k]).
Structure permuted(const Structure& s, const std::vector<std::size_t>& order) {
  Structure t = s;
  auto apply = [&](auto& dst, const auto& from) {
    if (from.size() != s.size()) return;
    for (std::size_t k = 0; k < order.size(); ++k) dst[k] = from[order[k]];
  };
  apply(t.x, s.x);
  apply(t.y, s.y);
  apply(t.z, s.z);
  apply(t.vx, s.vx);
  apply(t.vy, s.vy);
  apply(t.vz, s.vz);
  apply(t.type, s.type);
  apply(t.id, s.id);
  apply(t.ix, s.ix);
  apply(t.iy, s.iy);
  apply(t.iz, s.iz);
  return t;
}

Structure shuffled(const Structure& s, std::uint64_t seed) {
  std::vector<std::size_t> order(s.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  return permuted(s, order);
}

struct RunOptions {
  long sort_every = 0;
  int threads = 1;
};

RunOut run_case(const Case& c, const Structure& s, const std::string& run_toml,
                const RunOptions& o = {}) {
  const int saved_threads = omp_get_max_threads();
  omp_set_num_threads(o.threads);
  Context ctx(test::backend());
  System sys(ctx, s, c.units);
  const toml::table pt = toml::parse(c.potential);
  TomlSection psec(pt, "potential", "test.toml");
  std::unique_ptr<Potential> pot =
      make_potential(psec, PotentialSetup{ctx, s.type_names, c.units, ""});
  psec.finish();
  toml::table root = toml::parse("[run]\n" + run_toml + "\n");
  TomlSection run(*root["run"].as_table(), "run", "test.toml");
  std::unique_ptr<Integrator> integ =
      make_integrator(run, IntegratorSetup{ctx, sys, c.units, c.dt, c.steps});
  run.finish();
  Simulation sim(ctx, sys, *pot, *integ, c.dt, c.skin);
  sim.set_sort_every(o.sort_every);
  sim.setup();
  RunOut r;
  Observers obs;
  obs.thermo_every = 10;
  obs.on_thermo = [&](const ThermoSample& t) { r.thermo.push_back(t); };
  const RunStats st = sim.run(c.steps, obs);
  const Structure d = sys.download();
  const std::size_t n = d.size();
  const auto fx = ctx.to_host(sys.fx, n), fy = ctx.to_host(sys.fy, n), fz = ctx.to_host(sys.fz, n);
  std::vector<std::size_t> by_id(n);
  std::iota(by_id.begin(), by_id.end(), std::size_t{0});
  std::sort(by_id.begin(), by_id.end(), [&](std::size_t a, std::size_t b) { return d.id[a] < d.id[b]; });
  for (std::size_t i : by_id) {
    r.id.push_back(d.id[i]);
    for (double v : {d.x[i], d.y[i], d.z[i], d.vx[i], d.vy[i], d.vz[i], fx[i], fy[i], fz[i]})
      r.state.push_back(v);
    for (int v : {d.ix[i], d.iy[i], d.iz[i]}) r.image.push_back(v);
  }
  r.sorts = sim.sorts();
  r.rollbacks = st.rollbacks;
  omp_set_num_threads(saved_threads);
  return r;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

// "" when bitwise equal, else the first difference.
std::string difference(const RunOut& a, const RunOut& b) {
  if (a.id != b.id) return "atom ids";
  static const char* what[9] = {"x", "y", "z", "vx", "vy", "vz", "fx", "fy", "fz"};
  for (std::size_t k = 0; k < a.state.size(); ++k)
    if (!same_bits(a.state[k], b.state[k]))
      return std::string(what[k % 9]) + " of atom id " + std::to_string(a.id[k / 9]) + ": " +
             std::to_string(a.state[k]) + " vs " + std::to_string(b.state[k]) + " (diff " +
             std::to_string(a.state[k] - b.state[k]) + ")";
  if (a.image != b.image) return "image flags";
  if (a.thermo.size() != b.thermo.size()) return "thermo sample count";
  for (std::size_t k = 0; k < a.thermo.size(); ++k) {
    const ThermoSample &p = a.thermo[k], &q = b.thermo[k];
    bool same = same_bits(p.pe, q.pe) && same_bits(p.ke, q.ke) && same_bits(p.press, q.press) &&
                same_bits(p.econserve, q.econserve) && same_bits(p.volume, q.volume) &&
                p.natoms == q.natoms;
    for (int c = 0; c < 6; ++c)
      same = same && same_bits(p.ptensor[c], q.ptensor[c]) && same_bits(p.virial[c], q.virial[c]);
    if (!same) return "thermo at step " + std::to_string(p.step);
  }
  return "";
}

void with_velocities(Structure& s, const Units& u, double t, std::uint64_t seed) {
  create_velocities(s, u, t, seed);
}

Structure lattice(const std::string& kind, double a, std::array<int, 3> rep,
                  const std::string& element, double mass, double noise, std::uint64_t seed,
                  double tilt_xy = 0.0, double tilt_xz = 0.0, double tilt_yz = 0.0) {
  LatticeSpec spec;
  spec.kind = kind;
  spec.a = a;
  spec.repeat = {rep[0], rep[1], rep[2]};
  spec.elements = {element};
  Structure s = make_lattice(spec);
  s.type_masses = {mass};
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(-noise, noise);
  const double lx = s.box.l[0], ly = s.box.l[1], lz = s.box.l[2];
  s.box.xy = tilt_xy * lx;
  s.box.xz = tilt_xz * lx;
  s.box.yz = tilt_yz * ly;
  for (std::size_t i = 0; i < s.size(); ++i) {  // affine tilt, then noise
    const double fy = (s.y[i] - s.box.lo[1]) / ly, fz = (s.z[i] - s.box.lo[2]) / lz;
    s.x[i] += s.box.xy * fy + s.box.xz * fz + u(rng);
    s.y[i] += s.box.yz * fz + u(rng);
    s.z[i] += u(rng);
  }
  return s;
}

const char* kNVE = "ensemble = \"nve\"";
const char* kLangevin =
    "ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = %T, tdamp = %D, seed = 7 }";
const char* kCsvr =
    "ensemble = \"nvt\"\nthermostat = { kind = \"csvr\", temperature = %T, tdamp = %D, seed = 5 }";
const char* kMtk =
    "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = %T, tdamp = %D }\n"
    "barostat = { kind = \"mtk\", coupling = \"%C\", pressure = %P, pdamp = %B }";

std::string fill(std::string t, const std::vector<std::pair<std::string, std::string>>& kv) {
  for (const auto& [k, v] : kv)
    for (std::size_t p; (p = t.find(k)) != std::string::npos;) t.replace(p, k.size(), v);
  return t;
}

// The four ensembles with a temperature T, damping times (in the case's time unit) and an
// MTK coupling ("iso" or "tri").
std::vector<std::pair<std::string, std::string>> ensembles(const std::string& T, const std::string& tdamp,
                                                           const std::string& P, const std::string& pdamp,
                                                           const std::string& coupling) {
  const std::vector<std::pair<std::string, std::string>> kv = {
      {"%T", T}, {"%D", tdamp}, {"%P", P}, {"%B", pdamp}, {"%C", coupling}};
  return {{"nve", kNVE},
          {"langevin", fill(kLangevin, kv)},
          {"csvr", fill(kCsvr, kv)},
          {"mtk " + coupling, fill(kMtk, kv)}};
}

// Runs the case in input order and in two shuffled orders; all must agree bitwise.
void check_order_independence(const Case& c, const std::string& ensemble, const std::string& run) {
  CAPTURE(c.name);
  CAPTURE(ensemble);
  const RunOut a = run_case(c, c.s, run);
  REQUIRE(a.thermo.size() >= 2);
  for (std::uint64_t seed : {1u, 2u}) {
    const RunOut b = run_case(c, shuffled(c.s, seed), run);
    const std::string d = difference(a, b);
    CHECK_MESSAGE(d.empty(), "shuffled storage order (seed " << seed << "): " << d);
  }
}

// ---------------------------------------------------------------- cases

Case lj_case(const std::string& name, std::array<int, 3> rep, double xy, double xz, double yz) {
  Case c;
  c.name = "lj " + name;
  c.units = Units::lj();
  c.s = lattice("fcc", std::cbrt(4.0 / 0.8442), rep, "A", 1.0, 0.02, 3, xy, xz, yz);
  with_velocities(c.s, c.units, 1.2, 17);
  c.potential = "style = \"lj\"\ncutoff = 2.5\nshift = true\npairs = [{ types = [\"A\", \"A\"], epsilon = 1.0, sigma = 1.0 }]\n";
  c.dt = 0.005;
  c.skin = 0.1;  // rebuilds every few steps
  c.steps = 60;
  return c;
}

Case eam_case(const std::string& name, std::array<int, 3> rep, double xy) {
  Case c;
  c.name = "eam " + name;
  c.units = Units::metal();
  c.s = lattice("fcc", 3.615, rep, "Cu", 63.55, 0.05, 4, xy);
  with_velocities(c.s, c.units, 900.0, 19);
  c.potential = "style = \"eam\"\nfile = \"" + src("inputs/potentials/Cu_u3.eam") + "\"\n";
  c.dt = 0.002;
  c.skin = 0.2;
  c.steps = 40;
  return c;
}

Case snap_case(const std::string& name, std::array<int, 3> rep, double xy) {
  Case c;
  c.name = "snap " + name;
  c.units = Units::metal();
  c.s = lattice("bcc", 3.3, rep, "Ta", 180.88, 0.05, 5, xy);
  with_velocities(c.s, c.units, 900.0, 23);
  c.potential = "style = \"snap\"\ncoeff = \"" + src("inputs/snap/Ta06A.snapcoeff") +
                "\"\nparam = \"" + src("inputs/snap/Ta06A.snapparam") + "\"\n";
  c.dt = 0.002;
  c.skin = 0.2;
  c.steps = 20;
  return c;
}

Case deepmd_case(const std::string& name, std::array<int, 3> rep, double xy) {
  Case c;
  c.name = "deepmd " + name;
  c.units = Units::metal();
  c.s = lattice("fcc", 3.615, rep, "Cu", 63.55, 0.05, 6, xy);
  with_velocities(c.s, c.units, 600.0, 29);
  c.potential = "style = \"deepmd\"\nfile = \"" + src("tests/data/deepmd/cu_nve.dp") + "\"\n";
  c.dt = 0.002;
  c.skin = 0.2;
  c.steps = 20;
  return c;
}

// Message-passing models (issue 16, helper mp): per-atom sums over list slots in slot order and
// adjoints onto owners through the reverse-slot map (kernels/message_passing.hpp).
Case schnet_case(const std::string& name, std::array<int, 3> rep, double xy) {
  Case c;
  c.name = "schnet " + name;
  c.units = Units::metal();
  c.s = lattice("fcc", 3.72, rep, "Cu", 63.55, 0.05, 7, xy);
  with_velocities(c.s, c.units, 900.0, 31);
  c.potential = "style = \"schnet\"\nmodel = \"" + src("inputs/schnet/cuau_emt.schnet.h5") + "\"\n";
  c.dt = 0.002;
  c.skin = 0.2;
  c.steps = 20;
  return c;
}

Case hipnn_case(const std::string& name, std::array<int, 3> rep, double xy) {
  Case c;
  c.name = "hipnn " + name;
  c.units = Units::metal();
  c.s = lattice("fcc", 3.9, rep, "Cu", 63.55, 0.05, 8, xy);
  with_velocities(c.s, c.units, 900.0, 37);
  c.potential = "style = \"hipnn\"\nmodel = \"" + src("tests/data/hipnn/resnet.hipnn.h5") + "\"\n";
  c.dt = 0.002;
  c.skin = 0.2;
  c.steps = 20;
  return c;
}

}  // namespace

TEST_SUITE("determinism") {
  EXEC_TEST_CASE("lj: shuffled storage order gives bitwise the same run (NVE, Langevin, CSVR, MTK; cubic, triclinic, thin)") {
    const Case cubic = lj_case("cubic", {4, 4, 4}, 0, 0, 0);
    for (const auto& [name, run] : ensembles("1.2", "0.5", "1.0", "2.0", "iso"))
      check_order_independence(cubic, name, run);
    const Case tri = lj_case("triclinic", {4, 4, 4}, 0.15, -0.1, 0.05);
    for (const auto& [name, run] : ensembles("1.2", "0.5", "1.0", "2.0", "tri"))
      check_order_independence(tri, name, run);
    // x side 1.68 sigma < 2 (cutoff + skin): an atom meets several images of itself
    const Case thin = lj_case("thin", {1, 4, 4}, 0.1, 0, 0);
    for (const auto& [name, run] : ensembles("1.2", "0.5", "1.0", "2.0", "iso"))
      check_order_independence(thin, name, run);
  }

  EXEC_TEST_CASE("eam: shuffled storage order gives bitwise the same run (all ensembles; triclinic and thin)") {
    const Case tri = eam_case("triclinic", {3, 3, 3}, 0.1);
    for (const auto& [name, run] : ensembles("900.0", "0.1", "0.0", "1.0", "tri"))
      check_order_independence(tri, name, run);
    const Case thin = eam_case("thin", {1, 3, 3}, 0.0);  // 3.6 A < 2 cutoffs
    for (const auto& [name, run] : ensembles("900.0", "0.1", "0.0", "1.0", "iso"))
      check_order_independence(thin, name, run);
  }

  EXEC_TEST_CASE("snap: shuffled storage order gives bitwise the same run (NVE, Langevin, MTK; triclinic and thin)") {
    const Case tri = snap_case("triclinic", {3, 3, 3}, 0.1);
    const auto e = ensembles("900.0", "0.1", "0.0", "1.0", "tri");
    for (int k : {0, 1, 3}) check_order_independence(tri, e[k].first, e[k].second);
    const Case thin = snap_case("thin", {1, 3, 3}, 0.0);  // 3.3 A < 2 cutoffs
    const auto f = ensembles("900.0", "0.1", "0.0", "1.0", "iso");
    for (int k : {0, 2}) check_order_independence(thin, f[k].first, f[k].second);
  }

  EXEC_TEST_CASE("deepmd: shuffled storage order gives bitwise the same run (NVE, CSVR, MTK; triclinic and thin)") {
    const Case tri = deepmd_case("triclinic", {2, 2, 2}, 0.1);
    const auto e = ensembles("600.0", "0.1", "0.0", "1.0", "tri");
    for (int k : {0, 2, 3}) check_order_independence(tri, e[k].first, e[k].second);
    const Case thin = deepmd_case("thin", {1, 2, 2}, 0.0);  // 3.6 A < 2 cutoffs
    const auto f = ensembles("600.0", "0.1", "0.0", "1.0", "iso");
    for (int k : {0, 1}) check_order_independence(thin, f[k].first, f[k].second);
  }

  EXEC_TEST_CASE("schnet: shuffled storage order gives bitwise the same run (NVE, Langevin; triclinic and thin)") {
    const Case tri = schnet_case("triclinic", {2, 2, 2}, 0.1);
    const auto e = ensembles("900.0", "0.1", "0.0", "1.0", "tri");
    for (int k : {0, 1}) check_order_independence(tri, e[k].first, e[k].second);
    const Case thin = schnet_case("thin", {1, 2, 2}, 0.0);  // 3.7 A < 2 cutoffs
    check_order_independence(thin, e[0].first, e[0].second);
  }

  EXEC_TEST_CASE("hipnn: shuffled storage order gives bitwise the same run (NVE, Langevin; triclinic and thin)") {
    const Case tri = hipnn_case("triclinic", {2, 2, 2}, 0.1);
    const auto e = ensembles("900.0", "0.1", "0.0", "1.0", "tri");
    for (int k : {0, 1}) check_order_independence(tri, e[k].first, e[k].second);
    const Case thin = hipnn_case("thin", {1, 2, 2}, 0.0);  // 3.9 A < 2 cutoffs
    check_order_independence(thin, e[0].first, e[0].second);
  }

  EXEC_TEST_CASE("[neighbor] sort_every on and off give bitwise the same run (lj, eam)") {
    Case lj = lj_case("cubic", {4, 4, 4}, 0, 0, 0);
    lj.steps = 100;
    for (const auto& [name, run] : ensembles("1.2", "0.5", "1.0", "2.0", "iso")) {
      CAPTURE(name);
      const RunOut a = run_case(lj, lj.s, run), b = run_case(lj, lj.s, run, RunOptions{15, 1});
      CHECK(a.sorts == 0);
      CHECK(b.sorts == 6);
      const std::string d = difference(a, b);
      CHECK_MESSAGE(d.empty(), d);
    }
    const Case eam = eam_case("triclinic", {3, 3, 3}, 0.1);
    const auto e = ensembles("900.0", "0.1", "0.0", "1.0", "tri");
    const RunOut a = run_case(eam, eam.s, e[3].second), b = run_case(eam, eam.s, e[3].second, RunOptions{7, 1});
    CHECK(b.sorts > 0);
    const std::string d = difference(a, b);
    CHECK_MESSAGE(d.empty(), d);
  }

  EXEC_TEST_CASE("one and two OpenMP threads give bitwise the same run (lj, eam)") {
    const Case lj = lj_case("triclinic", {4, 4, 4}, 0.15, -0.1, 0.05);
    const auto e = ensembles("1.2", "0.5", "1.0", "2.0", "tri");
    for (int k : {1, 3}) {
      CAPTURE(e[k].first);
      const RunOut a = run_case(lj, lj.s, e[k].second, RunOptions{0, 1});
      const RunOut b = run_case(lj, shuffled(lj.s, 3), e[k].second, RunOptions{0, 2});
      const std::string d = difference(a, b);
      CHECK_MESSAGE(d.empty(), d);
    }
    const Case eam = eam_case("thin", {1, 3, 3}, 0.0);
    const auto f = ensembles("900.0", "0.1", "0.0", "1.0", "iso");
    const RunOut a = run_case(eam, eam.s, f[2].second, RunOptions{0, 1});
    const RunOut b = run_case(eam, eam.s, f[2].second, RunOptions{0, 2});
    const std::string d = difference(a, b);
    CHECK_MESSAGE(d.empty(), d);
  }
}

}  // namespace md
