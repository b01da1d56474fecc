// SNAP against LAMMPS ML-SNAP fixtures (tests/data/snap, made by tools/snap_fixtures.py),
// finite-difference forces, total force, rotation and permutation invariance, the file
// readers' errors, and a short NVE run of W 2J=8 (+ZBL).
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
#include "support.hpp"

using namespace md;

namespace {

std::string src(const std::string& rel) { return std::string(MDGPU_SOURCE_DIR) + "/" + rel; }

struct Fixture {
  std::string name, coeff, param, include;
  std::vector<std::string> elements;
  Structure s;
  double energy = 0;
  std::array<double, 6> virial{};
  std::vector<double> pe, fx, fy, fz;
  std::vector<std::array<double, 6>> vatom;
};

Fixture read_fixture(const std::string& name) {
  Fixture f;
  std::ifstream in(src("tests/data/snap/" + name + ".txt"));
  REQUIRE_MESSAGE(in.good(), "missing fixture " << name);
  std::string line;
  f.s.box.lo[0] = f.s.box.lo[1] = f.s.box.lo[2] = 0.0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::istringstream ls(line);
    std::string key;
    ls >> key;
    if (key == "case") ls >> f.name;
    else if (key == "coeff") ls >> f.coeff;
    else if (key == "param") ls >> f.param;
    else if (key == "include") ls >> f.include;
    else if (key == "elements") {
      std::string e;
      while (ls >> e) f.elements.push_back(e);
    } else if (key == "box") {
      ls >> f.s.box.l[0] >> f.s.box.l[1] >> f.s.box.l[2] >> f.s.box.xy >> f.s.box.xz >> f.s.box.yz;
    } else if (key == "energy") {
      ls >> f.energy;
    } else if (key == "virial") {
      for (double& v : f.virial) ls >> v;
    } else if (key == "atoms") {
      long n;
      ls >> n;
      f.s.type_names = f.elements;
      f.s.type_masses.assign(f.elements.size(), 1.0);
      for (long k = 0; k < n; ++k) {
        REQUIRE(std::getline(in, line));
        std::istringstream as(line);
        long id;
        int type;
        double x, y, z, pe, fx, fy, fz;
        std::array<double, 6> v{};
        as >> id >> type >> x >> y >> z >> pe >> fx >> fy >> fz;
        for (double& c : v) as >> c;
        REQUIRE(!as.fail());
        f.s.add_atom(id, type - 1, x, y, z);
        f.pe.push_back(pe);
        f.fx.push_back(fx);
        f.fy.push_back(fy);
        f.fz.push_back(fz);
        f.vatom.push_back(v);
      }
    }
  }
  REQUIRE(f.s.size() > 0);
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
  Section sec(t, "potential", "test.toml");
  std::unique_ptr<Potential> pot = make_potential(sec, PotentialSetup{ctx, types, metal, ""});
  sec.finish();
  return pot;
}

void check_fixture(const std::string& name) {
  CAPTURE(name);
  const Fixture f = read_fixture(name);
  Context ctx(test::backend());
  std::unique_ptr<Potential> pot;
  if (f.include.empty())
    pot = make_pot(ctx, f.coeff, f.param, f.elements);
  else  // the LAMMPS .snap include file, ZBL overlay included
    pot = make_from_toml(ctx, "style = \"snap\"\ninclude = \"" + src(f.include) + "\"\n",
                         f.elements);
  const test::Forces r = test::engine_forces(ctx, f.s, *pot, Units::metal(), 1.0);
  CHECK(test::rel_err(r.energy, f.energy) < 1e-10);
  double ferr = 0, fmax = 0, eerr = 0, verr = 0, vscale = 0;
  for (std::size_t i = 0; i < f.s.size(); ++i) {
    ferr = std::max({ferr, std::abs(r.fx[i] - f.fx[i]), std::abs(r.fy[i] - f.fy[i]),
                     std::abs(r.fz[i] - f.fz[i])});
    fmax = std::max({fmax, std::abs(f.fx[i]), std::abs(f.fy[i]), std::abs(f.fz[i])});
    eerr = std::max(eerr, test::rel_err(r.e_atom[i], f.pe[i]));
  }
  // per-atom virial: compare with the engine's per-atom array via a second evaluation
  System sys(ctx, f.s, Units::metal());
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
    for (int c = 0; c < 6; ++c) verr = std::max(verr, std::abs(vh[c * n + i] - f.vatom[i][c]));
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

double energy_of(Context& ctx, const Structure& s, Potential& pot) {
  return test::engine_forces(ctx, s, pot, Units::metal(), 1.0).energy;
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

  EXEC_TEST_CASE("snap forces are -grad E by central differences and sum to zero") {
    struct Case {
      const char* fixture;
      std::vector<int> atoms;
    };
    // linear 2J=8, explicit multi-element, quadratic, inner switch
    for (const Case& c : {Case{"w_2940_bcc", {0, 17}}, Case{"inp_zincblende", {3, 40}},
                          Case{"ni_quadratic_fcc", {5}}, Case{"ta06a_inner", {11}}}) {
      const std::string fixture_name = c.fixture;
      CAPTURE(fixture_name);
      Fixture f = read_fixture(c.fixture);
      Context ctx(test::backend());
      auto pot = make_pot(ctx, f.coeff, f.param, f.elements);
      const test::Forces r = test::engine_forces(ctx, f.s, *pot, Units::metal(), 1.0);
      double sum[3] = {0, 0, 0};
      for (std::size_t i = 0; i < f.s.size(); ++i) {
        sum[0] += r.fx[i];
        sum[1] += r.fy[i];
        sum[2] += r.fz[i];
      }
      for (double s3 : sum) CHECK(std::abs(s3) < 1e-11);
      const double h = 1e-5;
      double worst = 0;
      for (int a : c.atoms)
        for (int d = 0; d < 3; ++d) {
          Structure p = f.s, m = f.s;
          double* pc = d == 0 ? &p.x[a] : (d == 1 ? &p.y[a] : &p.z[a]);
          double* mc = d == 0 ? &m.x[a] : (d == 1 ? &m.y[a] : &m.z[a]);
          *pc += h;
          *mc -= h;
          const double fd = -(energy_of(ctx, p, *pot) - energy_of(ctx, m, *pot)) / (2 * h);
          const double fa = d == 0 ? r.fx[a] : (d == 1 ? r.fy[a] : r.fz[a]);
          worst = std::max(worst, std::abs(fd - fa));
        }
      MESSAGE(std::string(c.fixture) << ": max |F_fd - F| = " << worst << " eV/A");
      CHECK(worst < 1e-6);
    }
  }

  EXEC_TEST_CASE("snap energy is invariant under rotation of a cluster and under permutation") {
    Fixture f = read_fixture("wbe_bcc");
    Context ctx(test::backend());
    auto pot = make_pot(ctx, f.coeff, f.param, f.elements);
    // cluster: the atoms within 5.5 A of the cell centre, in a large non-periodic box
    Structure c;
    c.type_names = f.s.type_names;
    c.type_masses = f.s.type_masses;
    c.box = test::cubic_box(40.0);
    for (int d = 0; d < 3; ++d) c.box.periodic[d] = 0;
    const double cx = 0.5 * f.s.box.l[0], cy = 0.5 * f.s.box.l[1], cz = 0.5 * f.s.box.l[2];
    const double ox = c.box.lo[0] + 20.0, oy = c.box.lo[1] + 20.0, oz = c.box.lo[2] + 20.0;
    for (std::size_t i = 0; i < f.s.size(); ++i) {
      const double dx = f.s.x[i] - cx, dy = f.s.y[i] - cy, dz = f.s.z[i] - cz;
      if (dx * dx + dy * dy + dz * dz < 5.5 * 5.5)
        c.add_atom(static_cast<std::int64_t>(c.size()) + 1, f.s.type[i], ox + dx, oy + dy, oz + dz);
    }
    REQUIRE(c.size() > 30);
    const double e0 = energy_of(ctx, c, *pot);
    // rotation by Euler angles about the cluster origin
    const double al = 0.7, be = -1.1, ga = 2.3;
    const double ca = std::cos(al), sa = std::sin(al), cb = std::cos(be), sb = std::sin(be),
                 cg = std::cos(ga), sg = std::sin(ga);
    const double R[3][3] = {{ca * cb, ca * sb * sg - sa * cg, ca * sb * cg + sa * sg},
                            {sa * cb, sa * sb * sg + ca * cg, sa * sb * cg - ca * sg},
                            {-sb, cb * sg, cb * cg}};
    Structure rot = c;
    for (std::size_t i = 0; i < c.size(); ++i) {
      const double d[3] = {c.x[i] - ox, c.y[i] - oy, c.z[i] - oz};
      rot.x[i] = ox + R[0][0] * d[0] + R[0][1] * d[1] + R[0][2] * d[2];
      rot.y[i] = oy + R[1][0] * d[0] + R[1][1] * d[1] + R[1][2] * d[2];
      rot.z[i] = oz + R[2][0] * d[0] + R[2][1] * d[1] + R[2][2] * d[2];
    }
    const double er = energy_of(ctx, rot, *pot);
    MESSAGE("cluster of " << c.size() << " atoms: E = " << e0 << ", rotated: rel. diff "
                          << test::rel_err(er, e0));
    CHECK(test::rel_err(er, e0) < 1e-12);
    // the rotation really moved the atoms
    CHECK(std::abs(rot.x[3] - c.x[3]) > 0.1);
    // permutation of the periodic crystal's atom order
    Structure perm;
    perm.box = f.s.box;
    perm.type_names = f.s.type_names;
    perm.type_masses = f.s.type_masses;
    const std::size_t n = f.s.size();
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (k * 17 + 5) % n;  // 17 is coprime with 54
      perm.add_atom(static_cast<std::int64_t>(k) + 1, f.s.type[i], f.s.x[i], f.s.y[i], f.s.z[i]);
    }
    const double ep = energy_of(ctx, perm, *pot);
    CHECK(test::rel_err(ep, f.energy) < 1e-12);
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

  EXEC_TEST_CASE("snap NVE of W 2J=8 with ZBL at 3000 K conserves energy over 300 steps") {
    Context ctx(test::backend());
    LatticeSpec spec;
    spec.kind = "bcc";
    spec.a = 3.1803;
    spec.repeat = {3, 3, 3};
    spec.elements = {"W"};
    Structure s = make_lattice(spec);
    s.type_masses = {183.84};
    create_velocities(s, Units::metal(), 6000.0, 8812);  // ~3000 K after equipartition
    System sys(ctx, s, Units::metal());
    auto sum = std::make_unique<PotentialSum>();
    ZBLParams zp;
    zp.n_types = 1;
    zp.z = {74.0};
    zp.inner = 4.0;
    zp.outer = 4.8;
    sum->add(ctx, std::make_unique<ZBLPotential>(ctx, zp), {});
    sum->add(ctx,
             make_pot(ctx, "inputs/snap/W_2940_2017_2.snapcoeff",
                      "inputs/snap/W_2940_2017_2.snapparam", {"W"}),
             {});
    NVE nve;
    Simulation sim(ctx, sys, *sum, nve, 0.0005, 1.0);
    sim.setup();
    std::vector<double> etot, temp;
    Observers obs;
    obs.thermo_every = 10;
    obs.on_thermo = [&](const ThermoSample& t) {
      etot.push_back(t.etotal);
      temp.push_back(t.temp);
    };
    sim.run(300, obs);
    double lo = etot[0], hi = etot[0];
    for (double v : etot) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
    const double tmean =
        std::accumulate(temp.begin() + temp.size() / 2, temp.end(), 0.0) / (temp.size() - temp.size() / 2);
    MESSAGE("W+ZBL NVE 54 atoms, dt 0.5 fs, 300 steps: <T> = " << tmean << " K, E range "
                                                               << hi - lo << " eV over |E| "
                                                               << std::abs(etot[0]));
    CHECK(tmean > 1500.0);
    // bound: 1e-4 eV/atom peak-to-peak at dt = 0.5 fs
    CHECK((hi - lo) / 54.0 < 1e-4);
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
