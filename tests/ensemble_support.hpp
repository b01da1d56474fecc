// Helpers for the thermostat/barostat/minimiser tests: a small LJ system (fcc start, lj
// units, on the executor of the running test) whose integrator is built from a TOML [run]
// snippet through the integrator registry (so the input keys are exercised too), and block
// statistics.
#pragma once

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <omp.h>
#include <toml++/toml.h>

#include "engine/simulation.hpp"
#include "engine/velocity.hpp"
#include "integrators/registry.hpp"
#include "io/lattice.hpp"
#include "io/toml_section.hpp"
#include "models/lj/lj.hpp"
#include "support.hpp"

namespace md::test {

// Small systems are launch-bound: they run on one OpenMP thread (restored afterwards), which
// also keeps them fast when ctest shares the cores with other tests.
struct OneThread {
  int saved = omp_get_max_threads();
  OneThread() { omp_set_num_threads(1); }
  ~OneThread() { omp_set_num_threads(saved); }
};

struct LJEnsemble {
  OneThread one_thread;
  Context ctx{test::backend()};
  Units units = Units::lj();
  std::unique_ptr<System> sys;
  std::unique_ptr<LJPotential> pot;
  std::unique_ptr<Integrator> integ;
  std::unique_ptr<Simulation> sim;
  double dt = 0.005;

  // fcc LJ at number density rho with cells^3 unit cells, velocities at T0, shifted LJ.
  LJEnsemble(int cells, double rho, double t0, std::uint64_t seed, double rc = 2.5,
             double shear_xy = 0.0) {
    LatticeSpec spec;
    spec.kind = "fcc";
    spec.a = std::cbrt(4.0 / rho);
    spec.repeat = {cells, cells, cells};
    spec.elements = {"A"};
    Structure s = make_lattice(spec);
    s.type_masses = {1.0};
    if (shear_xy != 0.0) {  // affine shear of crystal and cell
      const double xy = shear_xy * s.box.l[0];
      for (std::size_t i = 0; i < s.size(); ++i) s.x[i] += xy * (s.y[i] - s.box.lo[1]) / s.box.l[1];
      s.box.xy = xy;
    }
    if (t0 > 0) create_velocities(s, units, t0, seed);
    sys = std::make_unique<System>(ctx, s, units);
    LJParams p;
    p.n_types = 1;
    p.shift = true;
    p.pair = {LJPairParams{1.0, 1.0, rc, true}};
    pot = std::make_unique<LJPotential>(ctx, p);
  }

  // run_toml: the body of a [run] table, e.g. ensemble = "nvt" + thermostat = {...}.
  void use(const std::string& run_toml, double timestep, long steps = 0, double skin = 0.3) {
    dt = timestep;
    toml::table root = toml::parse("[run]\n" + run_toml + "\n");
    TomlSection run(*root["run"].as_table(), "run", "test.toml");
    integ = make_integrator(run, IntegratorSetup{ctx, *sys, units, dt, steps});
    run.finish();
    sim = std::make_unique<Simulation>(ctx, *sys, *pot, *integ, dt, skin);
    sim->setup();
  }

  // Runs n steps and returns thermo samples every `every` steps (excluding the start).
  std::vector<ThermoSample> sample(long n, long every) {
    std::vector<ThermoSample> out;
    Observers obs;
    obs.thermo_every = every;
    const long first = sim->step();
    obs.on_thermo = [&](const ThermoSample& t) {
      if (t.step != first) out.push_back(t);
    };
    sim->run(n, obs);
    return out;
  }
};

struct Stats {
  double mean = 0, var = 0, mean_err = 0, var_err = 0;
};

// Mean and variance with standard errors from `blocks` block averages (block length must
// exceed the correlation time for the errors to be honest).
inline Stats block_stats(const std::vector<double>& x, int blocks = 20) {
  Stats s;
  const std::size_t n = x.size(), len = n / blocks;
  for (double v : x) s.mean += v;
  s.mean /= n;
  for (double v : x) s.var += (v - s.mean) * (v - s.mean);
  s.var /= (n - 1);
  std::vector<double> bm(blocks, 0.0), bv(blocks, 0.0);
  for (int b = 0; b < blocks; ++b) {
    double m = 0;
    for (std::size_t k = b * len; k < (b + 1) * len; ++k) m += x[k];
    m /= len;
    double v = 0;
    for (std::size_t k = b * len; k < (b + 1) * len; ++k) v += (x[k] - m) * (x[k] - m);
    bm[b] = m;
    bv[b] = v / (len - 1);
  }
  auto sem = [&](const std::vector<double>& y) {
    double m = 0, v = 0;
    for (double q : y) m += q;
    m /= y.size();
    for (double q : y) v += (q - m) * (q - m);
    return std::sqrt(v / (y.size() - 1) / y.size());
  };
  s.mean_err = sem(bm);
  s.var_err = sem(bv);
  return s;
}

inline double slope(const std::vector<double>& x, const std::vector<double>& y) {
  double mx = 0, my = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    mx += x[k];
    my += y[k];
  }
  mx /= x.size();
  my /= y.size();
  double sxy = 0, sxx = 0;
  for (std::size_t k = 0; k < x.size(); ++k) {
    sxy += (x[k] - mx) * (y[k] - my);
    sxx += (x[k] - mx) * (x[k] - mx);
  }
  return sxy / sxx;
}

}  // namespace md::test
