// NVT thermostats (integrators/nose_hoover, csvr, langevin) on a 108-atom LJ liquid:
// canonical mean and variance of the kinetic energy, conserved-quantity drift, ramps,
// reproducibility independent of the OpenMP thread count, and the device contract (no host
// transfers on steps without output) for every ensemble including the barostats.
#include <doctest/doctest.h>
#include <omp.h>

#include "ensemble_support.hpp"
#include "integrators/common.hpp"
#include "integrators/nose_hoover.hpp"

using namespace md;
using namespace md::test;

namespace {

struct CanonicalResult {
  Stats ke;
  double ke_expected, var_expected;
  double econs_drift_rel, econs_spread_rel;
};

// 108-atom LJ liquid at rho* = 0.8442, T* = 1.2 (dt = 0.004 tau): 2000 steps to equilibrate,
// then 20,000 steps sampled every 5.
CanonicalResult canonical_run(const std::string& thermostat, double dof) {
  const double T = 1.2;
  LJEnsemble e(3, 0.8442, T, 2024);
  e.use("ensemble = \"nvt\"\nthermostat = " + thermostat, 0.004);
  e.sample(2000, 0);
  const auto samples = e.sample(20000, 5);
  std::vector<double> ke, step, econs;
  for (const auto& t : samples) {
    ke.push_back(t.ke);
    step.push_back(static_cast<double>(t.step));
    econs.push_back(t.econserve);
  }
  CanonicalResult r;
  r.ke = block_stats(ke, 20);
  r.ke_expected = 0.5 * dof * T;
  r.var_expected = 0.5 * dof * T * T;
  const double scale = std::abs(econs.front());
  r.econs_drift_rel = std::abs(slope(step, econs)) * 20000.0 / scale;
  double spread = 0;
  for (double v : econs) spread = std::max(spread, std::abs(v - econs.front()));
  r.econs_spread_rel = spread / scale;
  MESSAGE(thermostat << ": <KE> = " << r.ke.mean << " +- " << r.ke.mean_err << " (canonical "
                     << r.ke_expected << "), Var(KE) = " << r.ke.var << " +- " << r.ke.var_err
                     << " (canonical " << r.var_expected << "), Econserve drift over 20000 "
                     << "steps = " << r.econs_drift_rel << " relative, max |dEcons| = "
                     << r.econs_spread_rel << " relative");
  return r;
}

// Mean within 5 standard errors plus 0.5% for the O(dt^2) bias of a finite timestep;
// variance within 5 standard errors plus 8% (the block error estimate is itself uncertain by
// ~16% with 20 blocks). An NVE or Berendsen-like ensemble fails the variance check by far.
void check_canonical(const CanonicalResult& r) {
  CHECK(std::abs(r.ke.mean - r.ke_expected) < 5.0 * r.ke.mean_err + 0.005 * r.ke_expected);
  CHECK(std::abs(r.ke.var - r.var_expected) < 5.0 * r.ke.var_err + 0.08 * r.var_expected);
  // the test must be able to fail: a microcanonical-size variance would be far off
  CHECK(r.ke.var_err < 0.25 * r.var_expected);
}

}  // namespace

TEST_SUITE("thermostats") {
  EXEC_TEST_CASE("Nose-Hoover chain: canonical kinetic energy, Econserve drift bounded over 20000 steps") {
    const auto r = canonical_run(
        "{ kind = \"nose-hoover\", temperature = 1.2, tdamp = 0.2, chain = 3 }", 3 * 108 - 3);
    check_canonical(r);
    // The fitted Econserve slope of this cut LJ liquid is a random walk's (cutoff crossings):
    // across rounding realizations of the same run (storage order, neighbour order) it was
    // 4e-6, 4.5e-5 and 2.2e-4 (Nose-Hoover) and 2e-6, 1.3e-4, 2.5e-4 (CSVR), max |dEcons|
    // 3-6e-4 each time. A broken reservoir account drifts by 1e-2 and more.
    CHECK(r.econs_drift_rel < 6e-4);
    CHECK(r.econs_spread_rel < 2e-3);
  }

  EXEC_TEST_CASE("CSVR: canonical kinetic energy, Econserve drift bounded") {
    const auto r = canonical_run(
        "{ kind = \"csvr\", temperature = 1.2, tdamp = 0.1, seed = 4711 }", 3 * 108 - 3);
    check_canonical(r);
    // The fitted Econserve slope of this cut LJ liquid is a random walk's (cutoff crossings):
    // across rounding realizations of the same run (storage order, neighbour order) it was
    // 4e-6, 4.5e-5 and 2.2e-4 (Nose-Hoover) and 2e-6, 1.3e-4, 2.5e-4 (CSVR), max |dEcons|
    // 3-6e-4 each time. A broken reservoir account drifts by 1e-2 and more.
    CHECK(r.econs_drift_rel < 6e-4);
    CHECK(r.econs_spread_rel < 2e-3);
  }

  EXEC_TEST_CASE("Langevin BAOAB: canonical kinetic energy (3N degrees of freedom)") {
    const auto r = canonical_run(
        "{ kind = \"langevin\", temperature = 1.2, tdamp = 0.1, seed = 100 }", 3 * 108);
    check_canonical(r);
    CHECK(r.econs_drift_rel < 5e-3);
  }

  TEST_CASE("chi-square sampler of CSVR has the right mean and variance") {
    // sum of n squared normals: mean n, variance 2n
    for (double n : {1.0, 7.0, 321.0}) {
      double m = 0, m2 = 0;
      const int draws = 20000;
      for (int k = 0; k < draws; ++k) {
        RandomStream r{123u, static_cast<std::uint64_t>(k), kRandCsvr, 0u};
        const double x = sum_of_squared_gaussians(r, n);
        m += x;
        m2 += x * x;
      }
      m /= draws;
      const double var = m2 / draws - m * m;
      CHECK(std::abs(m - n) < 5.0 * std::sqrt(2.0 * n / draws));
      CHECK(std::abs(var / (2.0 * n) - 1.0) < 0.06);
    }
  }

  EXEC_TEST_CASE("temperature ramp: the target moves linearly from start to stop over the run") {
    LJEnsemble e(3, 0.8442, 1.0, 7);
    e.use("ensemble = \"nvt\"\nthermostat = { kind = \"nose-hoover\", temperature = [1.0, 2.0], "
          "tdamp = 0.05 }",
          0.004, 4000);
    const auto samples = e.sample(4000, 500);
    auto& nh = dynamic_cast<NoseHoover&>(*e.integ);
    const NHState s = nh.state(e.ctx);
    CHECK(s.t_target == doctest::Approx(2.0).epsilon(1e-12));
    double late = 0;
    for (std::size_t k = samples.size() - 3; k < samples.size(); ++k) late += samples[k].temp / 3;
    MESSAGE("ramp 1.0 -> 2.0: T over the last 1500 steps = " << late);
    CHECK(late > 1.6);
    CHECK(late < 2.2);
  }

  EXEC_TEST_CASE("same seed gives a bitwise identical trajectory with 1 and 2 OpenMP threads") {
    const char* runs[] = {
        "ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = 1.1, tdamp = 0.3, seed = 5 }",
        "ensemble = \"nvt\"\nthermostat = { kind = \"csvr\", temperature = 1.1, tdamp = 0.1, seed = 5 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"csvr\", temperature = 1.1, tdamp = 0.1, seed = 5 }\n"
        "barostat = { kind = \"scr\", pressure = 1.0, pdamp = 0.5, compressibility = 0.1 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.1, tdamp = 0.1 }\n"
        "barostat = { kind = \"mtk\", coupling = \"aniso\", pressure = 1.0, pdamp = 0.5 }",
    };
    for (const char* run : runs) {
      Structure out[3];
      for (int k = 0; k < 3; ++k) {
        LJEnsemble e(7, 0.8442, 1.1, 11);  // 1372 atoms: several reduction chunks
        omp_set_num_threads(k == 1 ? 2 : 1);  // restored by e's destructor
        std::string r = run;
        if (k == 2) {  // a different seed must change the trajectory (stochastic ones)
          const auto pos = r.find("seed = 5");
          if (pos != std::string::npos) r.replace(pos, 8, "seed = 6");
        }
        e.use(r, 0.004);
        e.sim->run(40, Observers{});
        out[k] = e.sys->download();
        out[k].box = e.sys->pull_box();
      }
      bool same = true, differs = false;
      for (std::size_t i = 0; i < out[0].size(); ++i) {
        same = same && out[0].x[i] == out[1].x[i] && out[0].vy[i] == out[1].vy[i] &&
               out[0].z[i] == out[1].z[i];
        differs = differs || out[0].x[i] != out[2].x[i];
      }
      same = same && out[0].box.l[0] == out[1].box.l[0];
      CHECK_MESSAGE(same, run);
      if (std::string(run).find("seed") != std::string::npos) CHECK_MESSAGE(differs, run);
    }
  }

  EXEC_TEST_CASE("every ensemble: no host transfers or synchronisations on steps without output") {
    const char* runs[] = {
        "ensemble = \"nvt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.2, tdamp = 0.1 }",
        "ensemble = \"nvt\"\nthermostat = { kind = \"csvr\", temperature = 1.2, tdamp = 0.1, seed = 1 }",
        "ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = 1.2, tdamp = 0.1, seed = 1 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.2, tdamp = 0.1 }\n"
        "barostat = { kind = \"mtk\", coupling = \"iso\", pressure = 1.0, pdamp = 0.5 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.2, tdamp = 0.1 }\n"
        "barostat = { kind = \"mtk\", coupling = \"aniso\", pressure = 1.0, pdamp = 0.5 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.2, tdamp = 0.1 }\n"
        "barostat = { kind = \"mtk\", coupling = \"tri\", pressure = 1.0, pdamp = 0.5, pxy = 2.0 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"langevin\", temperature = 1.2, tdamp = 0.1, seed = 3 }\n"
        "barostat = { kind = \"scr\", coupling = \"aniso\", pressure = 1.0, pdamp = 0.5, "
        "compressibility = 0.1 }",
    };
    for (const char* run : runs) {
      LJEnsemble e(3, 0.8442, 1.2, 3);
      e.use(run, 0.004);
      Observers obs;
      obs.thermo_every = 50;
      obs.on_thermo = [](const ThermoSample&) {};
      const int builds0 = e.sim->neighbors().read_status().n_builds;
      test::QuietStepWatch watch(e.ctx, 50);
      obs.after_step = watch.observer();
      e.sim->run(300, obs);
      const int builds = e.sim->neighbors().read_status().n_builds - builds0;
      CHECK_MESSAGE(watch.quiet == 294, run);
      CHECK_MESSAGE(watch.bad == 0, run << ": " << watch.first_failure);
      CHECK_MESSAGE(builds > 2, run);  // rebuilds happened inside quiet steps
    }
  }
}
