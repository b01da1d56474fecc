// SNAP against LAMMPS ML-SNAP fixtures (tests/data/snap, made by tools/snap_fixtures.py),
// the verification ladder (tests/model_ladder.hpp: finite-difference forces and virial,
// total force, rotation/translation/permutation invariance, and a short NVE run of
// W 2J=8 + ZBL), and the file readers' errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <memory>
#include <numeric>
#include <sstream>

#include "engine/error.hpp"
#include "engine/simulation.hpp"
#include "engine/velocity.hpp"
#include "integrators/nve.hpp"
#include "io/lattice.hpp"
#include "io/toml_section.hpp"
#include "models/overlay/overlay.hpp"
#include "models/registry.hpp"
#include "models/snap/snap.hpp"
#include "models/zbl/zbl.hpp"
#include "fixtures.hpp"
#include "model_ladder.hpp"
#include "support.hpp"

using namespace md;

namespace {

std::string src(const std::string& rel) { return std::string(MDGPU_SOURCE_DIR) + "/" + rel; }

test::FixtureFrame read_fixture(const std::string& name, test::Fixture* whole = nullptr) {
  test::Fixture fx = test::load_fixture("tests/data/snap/" + name + ".json");
  REQUIRE(fx.frames.size() == 1);
  test::FixtureFrame f = fx.frames[0];
  if (whole) *whole = std::move(fx);
  return f;
}

std::unique_ptr<SnapPotential> make_pot(Context& ctx, const std::string& coeff,
                                        const std::string& param,
                                        const std::vector<std::string>& elements) {
  return std::make_unique<SnapPotential>(ctx, read_snap_model(src(coeff), src(param), elements));
}

// Through the input layer, as [potential] style = "snap" with the given extra TOML lines.
std::unique_ptr<Potential> make_from_toml(Context& ctx, const std::string& toml_text,
                                          const std::vector<std::string>& types) {
  static const Units metal = Units::metal();
  const toml::table t = toml::parse(toml_text);
  TomlSection sec(t, "potential", "test.toml");
  std::unique_ptr<Potential> pot = make_potential(sec, PotentialSetup{ctx, types, metal, ""});
  sec.finish();
  return pot;
}

// The potential of a fixture: from the coefficient and parameter files, or through the
// input layer from the LAMMPS .snap include file (ZBL overlay included).
std::unique_ptr<Potential> fixture_potential(Context& ctx, const test::Fixture& fx,
                                             const std::vector<std::string>& types) {
  const nlohmann::json& files = fx.model.at("files");
  if (!files.contains("include"))
    return make_pot(ctx, files.at("coeff").get<std::string>(), files.at("param").get<std::string>(),
                    types);
  return make_from_toml(
      ctx, "style = \"snap\"\ninclude = \"" + src(files.at("include").get<std::string>()) + "\"\n",
      types);
}

void check_fixture(const std::string& name) {
  CAPTURE(name);
  test::Fixture fx;
  const test::FixtureFrame f = read_fixture(name, &fx);
  Context ctx(test::backend());
  std::unique_ptr<Potential> pot = fixture_potential(ctx, fx, fx.type_map);
  const Structure& st = f.structure;
  const test::Forces r = test::engine_forces(ctx, st, *pot, Units::metal(), 1.0);
  CHECK(test::rel_err(r.energy, f.energy) < 1e-10);
  double ferr = 0, fmax = 0, eerr = 0, verr = 0, vscale = 0;
  for (std::size_t i = 0; i < st.size(); ++i) {
    ferr = std::max({ferr, std::abs(r.fx[i] - f.forces[i][0]), std::abs(r.fy[i] - f.forces[i][1]),
                     std::abs(r.fz[i] - f.forces[i][2])});
    fmax = std::max({fmax, std::abs(f.forces[i][0]), std::abs(f.forces[i][1]),
                     std::abs(f.forces[i][2])});
    eerr = std::max(eerr, test::rel_err(r.e_atom[i], f.atom_energies[i]));
  }
  // per-atom virial: compare with the engine's per-atom array via a second evaluation
  REQUIRE(f.atom_virials.size() == st.size());
  System sys(ctx, st, Units::metal());
  NeighborList nl(sys, pot->cutoff(), 1.0);
  nl.build_now(sys);
  const Index n = sys.n_local();
  DeviceArray<double> e(ctx, n), v(ctx, 6 * n);
  pot->compute(ctx, sys.view(), nl.view(),
               ForceOut{sys.fx.data(), sys.fy.data(), sys.fz.data(), e.data(), v.data(), false},
               ForceRequest{true, true});
  const std::vector<double> vh = ctx.to_host(v);
  for (int c = 0; c < 6; ++c) vscale = std::max(vscale, std::abs(f.virial[c]));
  for (Index i = 0; i < n; ++i)
    for (int c = 0; c < 6; ++c) verr = std::max(verr, std::abs(vh[c * n + i] - f.atom_virials[i][c]));
  double vglob = 0;
  for (int c = 0; c < 6; ++c) vglob = std::max(vglob, std::abs(r.virial[c] - f.virial[c]));
  MESSAGE(name << ": |dE|/|E| = " << test::rel_err(r.energy, f.energy) << ", max |dF| = " << ferr
               << " eV/A (max |F| " << fmax << "), max rel dE_i = " << eerr
               << ", max |dW|/|W| = " << vglob / vscale << ", per-atom max |dW_i|/|W| = "
               << verr / vscale);
  CHECK(fmax > 0.5);  // the configuration really has forces
  CHECK(ferr < 1e-9);
  CHECK(eerr < 1e-10);
  CHECK(vglob / vscale < 1e-10);
  CHECK(verr / vscale < 1e-10);
}

// A verification-ladder case on a fixture's structure (tolerances in eV/A absolute).
test::LadderCase ladder_case(const std::string& name, std::vector<std::size_t> atoms) {
  test::Fixture fx;
  const test::FixtureFrame f = read_fixture(name, &fx);
  test::LadderCase c;
  c.name = name;
  c.structure = f.structure;
  c.make = [fx](Context& ctx, const std::vector<std::string>& types) {
    return fixture_potential(ctx, fx, types);
  };
  c.skin = 1.0;
  c.sum_force_abs = 1e-11;
  c.sum_force_rel = 0.0;
  c.fd_atoms = std::move(atoms);
  c.fd_force_abs = 1e-6;
  c.fd_force_rel = 0.0;
  c.min_force = 0.5;
  c.cluster_radius = 5.5;
  c.min_cluster_atoms = 20;
  return c;
}

}  // namespace

TEST_SUITE("snap") {
  EXEC_TEST_CASE("Ta06A bcc matches LAMMPS ML-SNAP") { check_fixture("ta06a_bcc"); }
  EXEC_TEST_CASE("Ta06A triclinic cell matches LAMMPS ML-SNAP") { check_fixture("ta06a_triclinic"); }
  EXEC_TEST_CASE("W_2940_2017_2 (2J=8) matches LAMMPS ML-SNAP") { check_fixture("w_2940_bcc"); }
  EXEC_TEST_CASE("Mo_Chen_PRM2017 (LAMMPS defaults with bzeroflag) matches LAMMPS ML-SNAP") {
    check_fixture("mo_chen_bcc");
  }
  EXEC_TEST_CASE("WBe_Wood_PRB2019 (two elements) matches LAMMPS ML-SNAP") { check_fixture("wbe_bcc"); }
  EXEC_TEST_CASE("InP_JCPA2020 (chemflag bnormflag wselfallflag) matches LAMMPS ML-SNAP") {
    check_fixture("inp_zincblende");
  }
  EXEC_TEST_CASE("Ni_Zuo_JPCA2020 quadratic matches LAMMPS ML-SNAP") {
    check_fixture("ni_quadratic_fcc");
  }
  EXEC_TEST_CASE("Cu_Zuo_JPCA2020 quadratic in a triclinic cell matches LAMMPS ML-SNAP") {
    check_fixture("cu_quadratic_fcc");
  }
  EXEC_TEST_CASE("W_2940_2017_2.snap include (hybrid/overlay zbl + snap) matches LAMMPS") {
    check_fixture("w_2940_zbl");
  }
  EXEC_TEST_CASE("WBe_Wood_PRB2019.snap include (two-element zbl + snap) matches LAMMPS") {
    check_fixture("wbe_zbl");
  }
  EXEC_TEST_CASE("inner switching function (switchinnerflag) matches LAMMPS ML-SNAP") {
    check_fixture("ta06a_inner");
  }

  EXEC_TEST_CASE("snap verification ladder: linear 2J=8, multi-element, quadratic, inner switch") {
    // forces -grad E (central differences, 1e-6 eV/A), sum of forces, virial vs strain,
    // invariances (a 5.5 A cluster rotated and translated; atom order and type order permuted)
    test::check_model(ladder_case("w_2940_bcc", {0, 17}));
    // chemflag: the element order is the order of first appearance in the type list (as
    // LAMMPS' pair_coeff), which orders the chemical bispectrum components: keep the types
    test::LadderCase inp = ladder_case("inp_zincblende", {3, 40});
    inp.permute_type_order = false;
    test::check_model(inp);
    test::check_model(ladder_case("ni_quadratic_fcc", {5}));
    test::check_model(ladder_case("ta06a_inner", {11}));
    test::check_model(ladder_case("wbe_bcc", {}));
  }

  TEST_CASE("snap file readers give LAMMPS defaults and errors naming file and line") {
    const std::string dir = test::temp_dir();
    auto write = [&](const std::string& name, const std::string& text) {
      std::ofstream(dir + "/" + name) << text;
      return dir + "/" + name;
    };
    const SnapModel mo = read_snap_model(src("inputs/snap/Mo_Chen_PRM2017.snapcoeff"),
                                         src("inputs/snap/Mo_Chen_PRM2017.snapparam"), {"Mo"});
    CHECK(mo.bzeroflag == 1);
    CHECK(mo.switchflag == 1);
    CHECK(mo.rfac0 == doctest::Approx(0.99363));
    CHECK(mo.rmin0 == 0.0);
    CHECK(mo.quadraticflag == 0);
    CHECK(mo.twojmax == 6);
    CHECK(snap_ncomponents(6) == 30);
    CHECK(snap_ncomponents(8) == 55);
    const std::string coeff = src("inputs/snap/Ta06A.snapcoeff");
    auto error_of = [&](const std::string& c, const std::string& p,
                        std::vector<std::string> el) -> std::string {
      try {
        read_snap_model(c, p, el);
      } catch (const InputError& e) {
        return e.what();
      }
      return "";
    };
    const std::string good = "rcutfac 4.67637\ntwojmax 6\nbzeroflag 0\n";
    CHECK(error_of(coeff, write("a.snapparam", good), {"Ta"}).empty());
    CHECK(error_of(coeff, write("a.snapparam", good + "chunksize 4096\nparallelthresh 10\n"),
                   {"Ta"})
              .empty());
    std::string e = error_of(coeff, write("b.snapparam", good + "\nfoo 3\n"), {"Ta"});
    CHECK(e.find("b.snapparam:5") != std::string::npos);
    CHECK(e.find("foo") != std::string::npos);
    e = error_of(coeff, write("c.snapparam", "rcutfac 4.6\n"), {"Ta"});
    CHECK(e.find("twojmax") != std::string::npos);
    e = error_of(coeff, write("d.snapparam", "rcutfac 4.6\ntwojmax 8\n"), {"Ta"});
    CHECK(e.find("Ta06A.snapcoeff") != std::string::npos);
    CHECK(e.find("needs 56") != std::string::npos);
    e = error_of(coeff, write("e.snapparam", good + "switchflag 2\n"), {"Ta"});
    CHECK(e.find("e.snapparam:4") != std::string::npos);
    e = error_of(coeff, write("f.snapparam", good + "switchinnerflag 1\nsinner 1.0\n"), {"Ta"});
    CHECK(e.find("dinner") != std::string::npos);
    e = error_of(coeff, write("g.snapparam", good), {"W"});
    CHECK(e.find("element W not found") != std::string::npos);
    e = error_of(write("h.snapcoeff", "1 31\nTa 0.5 1\n1.0\n2.0 3.0\n"),
                 write("h.snapparam", good), {"Ta"});
    CHECK(e.find("h.snapcoeff:4") != std::string::npos);
    e = error_of(write("i.snapcoeff", "1 31\nTa 0.5 1\n1.0\n"), write("i.snapparam", good),
                 {"Ta"});
    CHECK(e.find("end of file") != std::string::npos);
    e = error_of(write("j.snapcoeff", "# c\n1 31 7\n"), write("j.snapparam", good), {"Ta"});
    CHECK(e.find("j.snapcoeff:2") != std::string::npos);
    // NULL types are left out; element order is first appearance
    const SnapModel wbe = read_snap_model(src("inputs/snap/WBe_Wood_PRB2019.snapcoeff"),
                                          src("inputs/snap/WBe_Wood_PRB2019.snapparam"),
                                          {"Be", "NULL", "W", "Be"});
    CHECK(wbe.elements == std::vector<std::string>{"Be", "W"});
    CHECK(wbe.type_element == std::vector<int>{0, -1, 1, 0});
    // the .snap include file
    const SnapInclude inc = read_snap_include(src("inputs/snap/W_2940_2017_2.snap"));
    CHECK(inc.coeff_file == "W_2940_2017_2.snapcoeff");
    CHECK(inc.elements == std::vector<std::string>{"W"});
    CHECK(inc.zbl.present);
    CHECK(inc.zbl.inner == 4.0);
    CHECK(inc.zbl.outer == 4.8);
    REQUIRE(inc.zbl.pairs.size() == 1);
    CHECK(inc.zbl.pairs[0].z1 == 74.0);
  }

  EXEC_TEST_CASE("snap ladder of the W 2J=8 + ZBL include file, NVE at 3000 K over 300 steps") {
    test::LadderCase c = ladder_case("w_2940_zbl", {});
    LatticeSpec spec;
    spec.kind = "bcc";
    spec.a = 3.1803;
    spec.repeat = {3, 3, 3};
    spec.elements = {"W"};
    c.nve_structure = make_lattice(spec);
    c.nve_structure.type_masses = {183.84};
    c.nve_temperature = 6000.0;  // ~3000 K after equipartition
    c.nve_seed = 8812;
    c.nve_dt = 0.0005;
    c.nve_steps = 300;
    c.nve_thermo_every = 10;
    c.nve_min_temperature = 1500.0;
    c.nve_bound_per_atom = 1e-4;  // peak-to-peak bound at dt = 0.5 fs
    test::check_model(c);
  }
}

// Timing harness (not a test; skipped unless asked for):
//   OMP_NUM_THREADS=2 tests/mdgpu_tests -ts=snap_profile --no-skip
// Times each SNAP pass (synchronising after each) for W_2940_2017_2 and Ta06A in bcc.
TEST_SUITE("snap_profile" * doctest::skip()) {
  EXEC_TEST_CASE("time per pass") {
    struct Case {
      const char* name;
      const char* coeff;
      const char* param;
      const char* element;
      double a;
      int cells;
    };
    for (const Case& c :
         {Case{"W_2940_2017_2", "inputs/snap/W_2940_2017_2.snapcoeff",
               "inputs/snap/W_2940_2017_2.snapparam", "W", 3.1803, 10},
          Case{"Ta06A", "inputs/snap/Ta06A.snapcoeff", "inputs/snap/Ta06A.snapparam", "Ta", 3.316,
               10}}) {
      Context ctx(test::backend());
      LatticeSpec spec;
      spec.kind = "bcc";
      spec.a = c.a;
      spec.repeat = {c.cells, c.cells, c.cells};
      spec.elements = {c.element};
      Structure s = make_lattice(spec);
      s.type_masses = {1.0};
      auto pot = make_pot(ctx, c.coeff, c.param, {c.element});
      System sys(ctx, s, Units::metal());
      NeighborList nl(sys, pot->cutoff(), 1.0);
      nl.build_now(sys);
      const Index n = sys.n_local();
      DeviceArray<double> e(ctx, n), v(ctx, 6 * n);
      const ForceOut out{sys.fx.data(), sys.fy.data(), sys.fz.data(), e.data(), v.data(), false};
      pot->compute(ctx, sys.view(), nl.view(), out, ForceRequest{false, false});  // warm-up
      pot->set_profiling(true);
      const int reps = 3;
      for (int r = 0; r < reps; ++r)
        pot->compute(ctx, sys.view(), nl.view(), out, ForceRequest{false, false});
      const SnapProfile p = pot->profile();
      const double total = p.ui + p.bi + p.energy_beta + p.yi + p.deidrj + p.force;
      MESSAGE(std::string(c.name) << ", " << n << " atoms, force-only step (no energy/virial), per call: total "
                     << total / reps << " s = " << n * reps / total << " atom-steps/s; U "
                     << p.ui / reps << " s, Y " << p.yi / reps << " s, dE/dr "
                     << p.deidrj / reps << " s, force gather " << p.force / reps
                     << " s (B + energy only on energy steps)");
    }
  }
}

// The 10,000-step NVE validation through the Simulation API (not a test; skipped unless asked
// for). Same set-up as benchmarks/validation/snap_nve.py (W_2940_2017_2 + ZBL, bcc W 4^3 cells,
// velocities at 2 T on the perfect lattice, dt 0.5 fs, skin 1.0 A, E_tot every 100 steps):
//   OMP_NUM_THREADS=1 tests/mdgpu_tests -ts=snap_validation --no-skip -tc="*300 K*"
namespace {
void nve_validation(double target) {
  Context ctx(test::backend());
  LatticeSpec spec;
  spec.kind = "bcc";
  spec.a = 3.1803;
  spec.repeat = {4, 4, 4};
  spec.elements = {"W"};
  Structure s = make_lattice(spec);
  s.type_masses = {183.84};
  create_velocities(s, Units::metal(), 2.0 * target, 4928459);
  System sys(ctx, s, Units::metal());
  auto pot = make_from_toml(ctx,
                            "style = \"snap\"\ninclude = \"" +
                                src("inputs/snap/W_2940_2017_2.snap") + "\"\n",
                            {"W"});
  NVE nve;
  Simulation sim(ctx, sys, *pot, nve, 0.0005, 1.0);
  sim.setup();
  std::vector<double> t, e, temp;
  Observers obs;
  obs.thermo_every = 100;
  obs.on_thermo = [&](const ThermoSample& th) {
    t.push_back(th.time);
    e.push_back(th.etotal / 128.0);
    temp.push_back(th.temp);
  };
  const RunStats st = sim.run(10000, obs);
  double mx = 0, my = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    mx += t[k];
    my += e[k];
  }
  mx /= t.size();
  my /= t.size();
  double sxy = 0, sxx = 0;
  for (std::size_t k = 0; k < t.size(); ++k) {
    sxy += (t[k] - mx) * (e[k] - my);
    sxx += (t[k] - mx) * (t[k] - mx);
  }
  const auto [lo, hi] = std::minmax_element(e.begin(), e.end());
  double tm = 0;
  for (std::size_t k = temp.size() / 2; k < temp.size(); ++k) tm += temp[k];
  tm /= static_cast<double>(temp.size() - temp.size() / 2);
  MESSAGE("T = " << target << " K: 128 atoms, 10000 steps of 0.5 fs, <T> = " << tm
                 << " K, E0 = " << e[0] << " eV/atom, peak-to-peak " << *hi - *lo
                 << " eV/atom, drift " << sxy / sxx << " eV/atom/ps, wall " << st.wall_seconds
                 << " s");
  CHECK(*hi - *lo <= 2e-4);
  CHECK(std::abs(sxy / sxx) <= 1e-5);
}
}  // namespace

TEST_SUITE("snap_validation" * doctest::skip()) {
  EXEC_TEST_CASE("NVE 300 K") { nve_validation(300.0); }
  EXEC_TEST_CASE("NVE 3000 K") { nve_validation(3000.0); }
}
