// FLARE mapped B2 model against mir-flare fixtures (tests/data/flare, made by
// tools/flare_fixtures.py: the mapped lmp.flare model on the package's own B2 descriptors,
// and the GP's own predictions), the verification ladder (tests/model_ladder.hpp), and the
// reader's errors for malformed or mismatched files.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <memory>
#include <sstream>

#include "engine/error.hpp"
#include "engine/neighbor.hpp"
#include "engine/simulation.hpp"
#include "engine/system.hpp"
#include "engine/velocity.hpp"
#include "integrators/nve.hpp"
#include "engine/uncertainty.hpp"
#include "io/lattice.hpp"
#include "io/toml_section.hpp"
#include "kernels/density_expansion.hpp"
#include "kernels/team.hpp"
#include "models/flare/flare.hpp"
#include "models/registry.hpp"
#include "fixtures.hpp"
#include "model_ladder.hpp"
#include "support.hpp"

using namespace md;

namespace {

std::string src(const std::string& rel) { return std::string(MDGPU_SOURCE_DIR) + "/" + rel; }

const char* const kCases[] = {"p2_quadratic", "p1_cosine", "dot_p2_quadratic", "dot_p1_cosine"};

std::unique_ptr<Potential> make_from_toml(Context& ctx, const std::string& toml_text,
                                          const std::vector<std::string>& types) {
  static const Units metal = Units::metal();
  const toml::table t = toml::parse(toml_text);
  TomlSection sec(t, "potential", "test.toml");
  std::unique_ptr<Potential> pot = make_potential(sec, PotentialSetup{ctx, types, metal, ""});
  sec.finish();
  return pot;
}

// [potential] of a fixture: the coefficient file, FLARE's species order and the e0 table.
std::string fixture_toml(const test::Fixture& fx) {
  std::ostringstream o;
  o << "style = \"flare\"\nfile = \"" << src(fx.model.at("files").at("coeff").get<std::string>())
    << "\"\nspecies = [";
  for (std::size_t k = 0; k < fx.type_map.size(); ++k)
    o << (k ? ", " : "") << '"' << fx.type_map[k] << '"';
  o << "]\n[single_atom_energies]\n";
  for (const auto& [name, e0] : fx.model.at("params").at("single_atom_energies").items())
    o << name << " = " << e0.get<double>() << "\n";
  return o.str();
}

void check_case(const std::string& name) {
  CAPTURE(name);
  const test::Fixture fx = test::load_fixture("tests/data/flare/" + name + ".json");
  REQUIRE(fx.frames.size() == 2);
  Context ctx(test::backend());
  for (const test::FixtureFrame& f : fx.frames) {
    CAPTURE(f.name);
    std::unique_ptr<Potential> pot = make_from_toml(ctx, fixture_toml(fx), fx.type_map);
    const Structure& st = f.structure;
    const test::Forces r = test::engine_forces(ctx, st, *pot, Units::metal(), 1.0);
    double ferr = 0, fmax = 0, eerr = 0, gp_ferr = 0;
    const auto& gpf = f.extra.at("gp_forces");
    for (std::size_t i = 0; i < st.size(); ++i) {
      const double fi[3] = {r.fx[i], r.fy[i], r.fz[i]};
      for (int c = 0; c < 3; ++c) {
        ferr = std::max(ferr, std::abs(fi[c] - f.forces[i][c]));
        fmax = std::max(fmax, std::abs(f.forces[i][c]));
        gp_ferr = std::max(gp_ferr, std::abs(fi[c] - gpf[i][c].get<double>()));
      }
      eerr = std::max(eerr, std::abs(r.e_atom[i] - f.atom_energies[i]));
    }
    double vscale = 0, verr = 0;
    for (int c = 0; c < 6; ++c) {
      vscale = std::max(vscale, std::abs(f.virial[c]));
      verr = std::max(verr, std::abs(r.virial[c] - f.virial[c]));
    }
    const double gp_e = f.extra.at("gp_energy").get<double>();
    MESSAGE(f.name << ": |dE| = " << std::abs(r.energy - f.energy) << " eV (E " << f.energy
                   << "), max |dE_i| = " << eerr << ", max |dF| = " << ferr << " eV/A (max |F| "
                   << fmax << "), max |dW|/|W| = " << verr / vscale << "; vs the GP itself: |dE| = "
                   << std::abs(r.energy - gp_e) << " eV, max |dF| = " << gp_ferr << " eV/A");
    CHECK(fmax > 0.05);  // the configuration really has forces
    CHECK(std::abs(r.energy - f.energy) < 1e-9);
    CHECK(eerr < 1e-9);
    CHECK(ferr < 1e-9);
    CHECK(verr / vscale < 1e-9);
    // the GP's own prediction (sums over sparse points: its own rounding, ~1e-11 here)
    CHECK(std::abs(r.energy - gp_e) < 1e-9);
    CHECK(gp_ferr < 1e-9);
  }
}

test::LadderCase ladder_case(const std::string& name, int frame) {
  const test::Fixture fx = test::load_fixture("tests/data/flare/" + name + ".json");
  test::LadderCase c;
  c.name = name + " " + fx.frames[frame].name;
  c.structure = fx.frames[frame].structure;
  const std::string text = fixture_toml(fx);
  c.make = [text](Context& ctx, const std::vector<std::string>& types) {
    return make_from_toml(ctx, text, types);
  };
  c.skin = 1.0;
  c.sum_force_abs = 1e-12;
  c.sum_force_rel = 0.0;
  c.fd_force_abs = 1e-7;
  c.fd_force_rel = 0.0;
  c.fd_virial = 1e-7;
  c.min_force = 0.05;
  c.min_cluster_atoms = 8;
  return c;
}

// Per-atom std against the package's own (SGP_Calculator, variance_type "local"), and the
// monitor's max and mean on the device.
void check_uncertainty(const std::string& name) {
  CAPTURE(name);
  const test::Fixture fx = test::load_fixture("tests/data/flare/" + name + ".json");
  Context ctx(test::backend());
  const nlohmann::json& files = fx.model.at("files");
  const std::string text = fixture_toml(fx) + "";
  for (const test::FixtureFrame& f : fx.frames) {
    CAPTURE(f.name);
    // keys of [potential] before the [single_atom_energies] sub-table
    std::string t = text;
    t.insert(t.find("[single_atom_energies]"),
             "l_inv = \"" + src(files.at("l_inv").get<std::string>()) + "\"\nsparse_desc = \"" +
                 src(files.at("sparse_desc").get<std::string>()) + "\"\n");
    std::unique_ptr<Potential> pot = make_from_toml(ctx, t, fx.type_map);
    auto* flare = dynamic_cast<FlarePotential*>(pot.get());
    REQUIRE(flare != nullptr);
    REQUIRE(flare->has_uncertainty());
    System sys(ctx, f.structure, Units::metal());
    NeighborList nl(sys, pot->cutoff(), 1.0);
    nl.build_now(sys);
    const Index n = sys.n_local();
    DeviceArray<double> e(ctx, n), v(ctx, 6 * n);
    pot->compute(ctx, sys.view(), nl.view(),
                 ForceOut{sys.fx.data(), sys.fy.data(), sys.fz.data(), e.data(), v.data(), false},
                 ForceRequest{true, false});
    UncertaintySettings us;
    us.every = 1;
    us.threshold = 0.05;
    us.action = UncertaintyAction::harvest;
    UncertaintyMonitor mon(ctx, us);
    mon.evaluate(ctx, *flare, sys.view(), nl.view());
    const std::vector<double> got = ctx.to_host(mon.atom_std(), static_cast<std::size_t>(n));
    const auto& ref = f.extra.at("std");
    double err = 0, mx = -1e300, sum = 0;
    for (Index i = 0; i < n; ++i) {
      const double r = ref[i].get<double>();
      err = std::max(err, std::abs(got[i] - r) / std::abs(r));
      mx = std::max(mx, r);
      sum += r;
    }
    const UncertaintyMonitor::Reading rd = mon.read(ctx);
    MESSAGE(f.name << ": per-atom std max rel. error " << err << " (std " << rd.mean << " mean, "
                   << rd.max << " max)");
    CHECK(err < 1e-7);
    CHECK(std::abs(rd.max - mx) <= 1e-7 * std::abs(mx));
    CHECK(std::abs(rd.mean - sum / n) <= 1e-7 * std::abs(sum / n));
    CHECK(rd.action == (mx > 0.05 ? UncertaintyAction::harvest : UncertaintyAction::none));
  }
}

// A toy model on the density expansion with an l-dependent radial functor (the SOAP path,
// which FLARE does not use) and non-default power-spectrum weights: E_i = sum_k w_k B_k(i).
// CPU only (the launch is compiled by the host compiler in the test binary).
struct ToyRadialL {
  static constexpr bool kLDependent = true;
  int n_max, l_max;
  double rc;
  MD_HD double cutoff(int, int) const { return rc; }
  MD_HD void operator()(int si, int sj, double r, double* g, double* dg) const {
    double dfc = 0.0;
    const double fc = basis::cutoff_cosine(r, rc, dfc);
    for (int l = 0; l <= l_max; ++l)
      for (int n = 0; n < n_max; ++n) {
        const double a = 0.3 * (n + 1 + si + 2 * sj) / (l + 1.0);
        const double e = std::exp(-a * r);
        g[l * n_max + n] = e * fc;
        dg[l * n_max + n] = -a * e * fc + e * dfc;
      }
  }
};

struct ToyDensityKernel {
  density::Shape sh;
  ToyRadialL R;
  density::PowerSpectrumWeights w;
  SystemView sys;
  NeighborView nl;
  const int* species;  // system type -> species
  const double* weights;  // [n_b2]
  ForceOut out;
  bool eflag;
  PairPartialsView g;
  static constexpr int kChunk = 5;

  void operator()(const Team& t) const {
    const Index i = t.item;
    double* c = t.scratch_as<double>();
    double* u = c + sh.n_coeff();
    double* b = u + sh.n_coeff();
    double* work = b + sh.n_b2();
    const AtomEnv env(sys, nl, i);
    const int si = species[sys.type[i]];
    density::expand_density(t, sh, R, env, sys.type, species, si, c, work, kChunk);
    density::power_spectrum(t, sh, w, c, b);
    const double e = team_sum<double>(t, sh.n_b2(), [&](int k) { return weights[k] * b[k]; });
    if (eflag) team_single(t, [&] { store_energy(out, i, e); });
    density::power_spectrum_adjoint(t, sh, w, c, weights, u);
    density::density_pair_partials(t, sh, R, env, sys.type, species, si, u, work, kChunk, g);
  }
};

class ToyDensityPotential : public Potential {
 public:
  ToyDensityPotential(Context& ctx, const std::vector<std::string>& types)
      : sh_{2, 3, 3}, forces_(ctx) {
    std::vector<int> sp;
    for (const auto& name : types) sp.push_back(name == "Cu" ? 0 : 1);
    upload(ctx, sp, species_);
    std::vector<double> wts(sh_.n_b2());
    for (int k = 0; k < sh_.n_b2(); ++k) wts[k] = 0.05 * std::sin(1.7 * k + 0.3);
    upload(ctx, wts, weights_);
  }
  std::string style() const override { return "toy_density"; }
  double cutoff() const override { return 4.6; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override {
    forces_.prepare(ctx, nl);
    const std::size_t scratch =
        sizeof(double) * (2 * sh_.n_coeff() + sh_.n_b2() +
                          ToyDensityKernel::kChunk * density::slot_doubles(sh_, true));
    density::PowerSpectrumWeights w;
    w.scale = 1.3;
    w.offdiag = std::sqrt(2.0);
    w.inv_sqrt_2l1 = true;
    parallel_for_team(ctx, sys.n_local, 64, scratch,
                      ToyDensityKernel{sh_, ToyRadialL{3, 3, 4.6}, w, sys, nl, species_.data(),
                                       weights_.data(), out, req.energy, forces_.partials()});
    forces_.gather(ctx, sys, nl, out, req.virial);
  }

 private:
  density::Shape sh_;
  DeviceArray<int> species_;
  DeviceArray<double> weights_;
  ManyBodyForces forces_;
};

std::string error_of(const std::string& path) {
  try {
    read_flare_model(path);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("flare") {
  EXEC_TEST_CASE("flare NormalizedDotProduct power 2, quadratic cutoff, matches mir-flare") {
    check_case("p2_quadratic");
  }
  EXEC_TEST_CASE("flare NormalizedDotProduct power 1, cosine cutoff, matches mir-flare") {
    check_case("p1_cosine");
  }
  EXEC_TEST_CASE("flare DotProduct power 2, quadratic cutoff, matches mir-flare") {
    check_case("dot_p2_quadratic");
  }
  EXEC_TEST_CASE("flare DotProduct power 1, cosine cutoff, matches mir-flare") {
    check_case("dot_p1_cosine");
  }

  EXEC_TEST_CASE("flare verification ladder: both kernels, both powers, both cutoffs") {
    for (int k = 0; k < 4; ++k) {
      test::LadderCase c = ladder_case(kCases[k], k % 2);
      if (k == 0) {  // NVE of L1_0 CuAg (2x2x2 fcc cells) at ~300 K, 1000 steps of 1 fs
        LatticeSpec spec;
        spec.kind = "fcc";
        spec.a = 3.85;
        spec.repeat = {2, 2, 2};
        spec.elements = {"Cu", "Cu", "Ag", "Ag"};
        c.nve_structure = make_lattice(spec);
        c.nve_steps = 1000;
        c.nve_dt = 0.001;
        c.nve_temperature = 600.0;
        c.nve_thermo_every = 10;
        c.nve_bound_per_atom = 1e-4;
      }
      test::check_model(c);
    }
  }

  TEST_CASE("density expansion with an l-dependent radial basis and weighted power spectrum: ladder") {
    const test::Fixture fx = test::load_fixture("tests/data/flare/p2_quadratic.json");
    test::LadderCase c;
    c.name = "toy density model (l-dependent radial, sqrt2 off-diagonal, 1/sqrt(2l+1))";
    c.structure = fx.frames[0].structure;
    c.make = [](Context& ctx, const std::vector<std::string>& types) {
      return std::unique_ptr<Potential>(new ToyDensityPotential(ctx, types));
    };
    c.skin = 1.0;
    c.sum_force_abs = 1e-12;
    c.sum_force_rel = 0.0;
    c.fd_force_abs = 1e-8;
    c.fd_force_rel = 0.0;
    c.fd_virial = 1e-7;
    c.min_force = 1e-3;
    test::check_model(c);
  }

  EXEC_TEST_CASE("flare per-atom uncertainty matches mir-flare's stds, all four models") {
    for (const char* c : kCases) check_uncertainty(c);
  }

  EXEC_TEST_CASE("flare uncertainty in a run: every 5 steps on the device, no host transfers") {
    const test::Fixture fx = test::load_fixture("tests/data/flare/p2_quadratic.json");
    const nlohmann::json& files = fx.model.at("files");
    std::string text = fixture_toml(fx);
    text.insert(text.find("[single_atom_energies]"),
                "l_inv = \"" + src(files.at("l_inv").get<std::string>()) + "\"\nsparse_desc = \"" +
                    src(files.at("sparse_desc").get<std::string>()) + "\"\n");
    Context ctx(test::backend());
    LatticeSpec spec;
    spec.kind = "fcc";
    spec.a = 3.85;
    spec.repeat = {2, 2, 2};
    spec.elements = {"Cu", "Cu", "Ag", "Ag"};
    Structure st = make_lattice(spec);
    create_velocities(st, Units::metal(), 600.0, 99);
    std::unique_ptr<Potential> pot = make_from_toml(ctx, text, st.type_names);
    auto& flare = dynamic_cast<FlarePotential&>(*pot);
    System sys(ctx, st, Units::metal());
    NVE nve;
    Simulation sim(ctx, sys, *pot, nve, 0.001, 1.0);
    sim.setup();
    UncertaintySettings us;
    us.every = 5;
    us.threshold = 1.0;
    UncertaintyMonitor mon(ctx, us);
    Observers obs;
    obs.thermo_every = 20;
    obs.on_thermo = [](const ThermoSample&) {};
    long evaluations = 0;
    std::vector<long> read_steps;
    std::vector<UncertaintyMonitor::Reading> readings;
    test::QuietStepWatch watch(ctx, 20);
    obs.after_forces = [&](long step) {
      if (mon.due(step)) ++evaluations;
    };
    attach_uncertainty(obs, mon, ctx, sim, flare,
                       [&](long step, const UncertaintyMonitor::Reading& r) {
                         read_steps.push_back(step);
                         readings.push_back(r);
                       });
    obs.after_step = watch.observer();
    sim.run(60, obs);
    CHECK(evaluations == 12);
    CHECK_MESSAGE(watch.bad == 0, watch.first_failure);
    CHECK(watch.quiet == 57);
    CHECK(read_steps == std::vector<long>{20, 40, 60});
    for (const auto& r : readings) {
      CHECK(r.evaluations_since_read == 4);
      CHECK(r.max_since_read >= r.max);
    }
    // the last evaluation (step 60) equals a fresh one at the final state
    REQUIRE(!readings.empty());
    const UncertaintyMonitor::Reading rd = readings.back();
    UncertaintyMonitor fresh(ctx, us);
    sim.evaluate(true, false);
    fresh.evaluate(ctx, flare, sim.system().view(), sim.neighbors().view());
    const UncertaintyMonitor::Reading rf = fresh.read(ctx);
    MESSAGE("std after 60 steps at 600 K: mean " << rd.mean << ", max " << rd.max);
    CHECK(rd.max > 0.0);
    CHECK(std::abs(rd.max - rf.max) <= 1e-12 * rf.max);
    CHECK(std::abs(rd.mean - rf.mean) <= 1e-12 * rf.mean);
    CHECK(rd.action == UncertaintyAction::none);
  }

  TEST_CASE("flare uncertainty files that do not match the coefficient file are refused") {
    const FlareModel p2 = read_flare_model(src("tests/data/flare/p2_quadratic/lmp.flare"));
    auto error_u = [&](const std::string& dir) {
      try {
        read_flare_uncertainty(src("tests/data/flare/" + dir + "/L_inv_lmp.flare"),
                               src("tests/data/flare/" + dir + "/sparse_desc_lmp.flare"), p2);
      } catch (const InputError& e) {
        return std::string(e.what());
      }
      return std::string();
    };
    CHECK(error_u("p2_quadratic").empty());
    std::string e = error_u("p1_cosine");  // power 1
    CHECK(e.find("L_inv_lmp.flare:2: kernel does not match") != std::string::npos);
    e = error_u("dot_p2_quadratic");  // DotProduct
    CHECK(e.find("kernel does not match") != std::string::npos);
    // same kernel, other descriptor sizes: l_max 2 vs 3 (file of the l_max 2 DotProduct
    // model with its kernel line changed)
    const std::string dir = test::temp_dir();
    std::ifstream in(src("tests/data/flare/dot_p2_quadratic/L_inv_lmp.flare"));
    std::ofstream out(dir + "/L_inv_other");
    int ln = 0;
    for (std::string l; std::getline(in, l); ++ln) out << (ln == 1 ? "2 NormalizedDotProduct" : l) << "\n";
    out.close();
    try {
      read_flare_uncertainty(dir + "/L_inv_other",
                             src("tests/data/flare/p2_quadratic/sparse_desc_lmp.flare"), p2);
      CHECK(false);
    } catch (const InputError& err) {
      CHECK(std::string(err.what()).find("do not match the coefficient file") != std::string::npos);
    }
    // a truncated sparse descriptor file
    std::ifstream in2(src("tests/data/flare/p2_quadratic/sparse_desc_lmp.flare"));
    std::ofstream out2(dir + "/sparse_trunc");
    ln = 0;
    for (std::string l; std::getline(in2, l) && ln < 40; ++ln) out2 << l << "\n";
    out2.close();
    try {
      read_flare_uncertainty(src("tests/data/flare/p2_quadratic/L_inv_lmp.flare"),
                             dir + "/sparse_trunc", p2);
      CHECK(false);
    } catch (const InputError& err) {
      CHECK(std::string(err.what()).find("sparse_trunc:40: unexpected end of file") !=
            std::string::npos);
    }
  }

  TEST_CASE("flare reader: settings, and errors naming file and line") {
    const FlareModel m = read_flare_model(src("tests/data/flare/p2_quadratic/lmp.flare"));
    CHECK(m.power == 2);
    CHECK(m.normalized);
    CHECK(m.n_species == 2);
    CHECK(m.cutoff_kind == FlareCutoff::quadratic);
    CHECK(m.beta_size == static_cast<long>(m.n_descriptors()) * (m.n_descriptors() + 1) / 2);
    CHECK(m.cutoffs.size() == 4);
    const std::string dir = test::temp_dir();
    std::ifstream in(src("tests/data/flare/p2_quadratic/lmp.flare"));
    std::vector<std::string> lines;
    for (std::string l; std::getline(in, l);) lines.push_back(l);
    auto write = [&](const std::string& name, std::vector<std::string> ls) {
      std::ofstream o(dir + "/" + name);
      for (const auto& l : ls) o << l << "\n";
      return dir + "/" + name;
    };
    // truncated coefficients
    std::vector<std::string> t(lines.begin(), lines.begin() + static_cast<long>(lines.size()) / 2);
    std::string e = error_of(write("trunc.flare", t));
    CHECK(e.find("trunc.flare:") != std::string::npos);
    CHECK(e.find("unexpected end of file") != std::string::npos);
    // beta_size inconsistent with n_species n_max l_max
    t = lines;
    t[3] = "2 3 2 3570";
    e = error_of(write("size.flare", t));
    CHECK(e.find("size.flare:4") != std::string::npos);
    CHECK(e.find("beta_size 3570 does not match") != std::string::npos);
    // unsupported names
    t = lines;
    t[1] = "3 NormalizedDotProduct";
    CHECK(error_of(write("pow.flare", t)).find("pow.flare:2: kernel power 3") != std::string::npos);
    t = lines;
    t[1] = "2 SquaredExponential";
    CHECK(error_of(write("kern.flare", t)).find("SquaredExponential") != std::string::npos);
    t = lines;
    t[2] = "bessel";
    CHECK(error_of(write("rad.flare", t)).find("rad.flare:3: radial basis \"bessel\"") !=
          std::string::npos);
    t = lines;
    t[4] = "hard";
    CHECK(error_of(write("cut.flare", t)).find("cut.flare:5") != std::string::npos);
    t = lines;
    t[5] = "4.5 4.7 4.9";
    CHECK(error_of(write("pc.flare", t)).find("expected 4 pair cutoffs") != std::string::npos);
    t = lines;
    t.push_back("1.0");
    CHECK(error_of(write("extra.flare", t)).find("unexpected \"1.0\"") != std::string::npos);
    t = lines;
    t[7] = "  1.0 x 2.0";
    CHECK(error_of(write("nan.flare", t)).find("nan.flare:8") != std::string::npos);
    // species missing from the model, and a species count that does not match
    Context ctx(Backend::cpu);
    auto config_error = [&](const std::string& text, const std::vector<std::string>& types) {
      try {
        make_from_toml(ctx, text, types);
      } catch (const InputError& err) {
        return std::string(err.what());
      }
      return std::string();
    };
    const std::string file =
        "style = \"flare\"\nfile = \"" + src("tests/data/flare/p2_quadratic/lmp.flare") + "\"\n";
    e = config_error(file + "species = [\"Cu\", \"Ag\"]\n", {"Cu", "Au"});
    CHECK(e.find("\"Au\" is not a species of the model") != std::string::npos);
    e = config_error(file, {"Cu"});
    CHECK(e.find("the model has 2 species") != std::string::npos);
    e = config_error(file + "species = [\"Cu\", \"Ag\"]\n[single_atom_energies]\nAu = 1.0\n",
                     {"Cu", "Ag"});
    CHECK(e.find("Au") != std::string::npos);
    CHECK(config_error(file + "species = [\"Cu\", \"Ag\"]\n", {"Ag", "Cu"}).empty());
  }
}

// Long validation (not in the default run):
//   OMP_NUM_THREADS=1 tests/mdgpu_tests -ts=flare_validation --no-skip
// NVE of L1_0 CuAg (2x2x2 fcc cells, 32 atoms) over 10,000 steps of 1 fs at ~300 K with the
// p2_quadratic model: energy drift bound per atom.
TEST_SUITE("flare_validation" * doctest::skip()) {
  EXEC_TEST_CASE("flare NVE over 10000 steps") {
    test::LadderCase c = ladder_case("p2_quadratic", 0);
    LatticeSpec spec;
    spec.kind = "fcc";
    spec.a = 3.85;
    spec.repeat = {2, 2, 2};
    spec.elements = {"Cu", "Cu", "Ag", "Ag"};
    c.nve_structure = make_lattice(spec);
    c.nve_steps = 10000;
    c.nve_dt = 0.001;
    c.nve_temperature = 600.0;
    c.nve_thermo_every = 100;
    c.nve_bound_per_atom = 1e-4;
    test::check_model(c);
  }
}
