// FIRE minimisation (integrators/minimize.*): an LJ fcc crystal relaxed together with its cell at
// P = 0 reaches the lattice constant and cohesive energy of the analytic lattice sums
// (truncated at the cutoff, summed independently here); a perturbed crystal at fixed cell
// relaxes back to the lattice energy; the stop criteria; the device contract.
#include <doctest/doctest.h>

#include <random>

#include "ensemble_support.hpp"
#include "integrators/minimize.hpp"
#include "support.hpp"

using namespace md;
using namespace md::test;

namespace {

// E/N of an fcc LJ crystal (epsilon = sigma = 1, unshifted, cutoff rc) with cubic lattice
// constant a, by direct summation over lattice vectors: 1/2 sum_j 4 (r^-12 - r^-6).
double fcc_energy(double a, double rc) {
  const double basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  const int m = static_cast<int>(std::ceil(rc / a)) + 1;
  double e = 0;
  for (int i = -m; i <= m; ++i)
    for (int j = -m; j <= m; ++j)
      for (int k = -m; k <= m; ++k)
        for (const auto& b : basis) {
          const double x = (i + b[0]) * a, y = (j + b[1]) * a, z = (k + b[2]) * a;
          const double r2 = x * x + y * y + z * z;
          if (r2 == 0.0 || r2 >= rc * rc) continue;
          const double ir6 = 1.0 / (r2 * r2 * r2);
          e += 2.0 * (ir6 * ir6 - ir6);
        }
  return e;
}

// Minimum of fcc_energy by golden-section search on [lo, hi].
double fcc_a0(double rc, double lo, double hi) {
  const double g = 0.5 * (std::sqrt(5.0) - 1.0);
  double a = lo, b = hi;
  for (int it = 0; it < 200; ++it) {
    const double c = b - g * (b - a), d = a + g * (b - a);
    if (fcc_energy(c, rc) < fcc_energy(d, rc)) b = d; else a = c;
  }
  return 0.5 * (a + b);
}

}  // namespace

TEST_SUITE("minimize") {
  EXEC_TEST_CASE("FIRE with the cell reaches the LJ fcc lattice constant and cohesive energy") {
    const double rc = 3.0;  // between the 7th (1.87 a) and 8th (2 a) neighbour shells
    const double a0 = fcc_a0(rc, 1.50, 1.60), e0 = fcc_energy(a0, rc);
    // a perturbed, expanded crystal: 256 atoms at a = 1.60
    LJEnsemble e(4, 4.0 / (1.60 * 1.60 * 1.60), 0.0, 1, rc);
    {
      auto s = e.sys->download();
      std::mt19937 gen(7);
      std::uniform_real_distribution<double> d(-0.03, 0.03);
      for (std::size_t i = 0; i < s.size(); ++i) {
        s.x[i] += d(gen);
        s.y[i] += d(gen);
        s.z[i] += d(gen);
      }
      e.ctx.to_device(s.x, e.sys->x);
      e.ctx.to_device(s.y, e.sys->y);
      e.ctx.to_device(s.z, e.sys->z);
    }
    LJParams p;
    p.n_types = 1;
    p.shift = false;
    p.pair = {LJPairParams{1.0, 1.0, rc, true}};
    e.pot = std::make_unique<LJPotential>(e.ctx, p);
    e.use("ensemble = \"nve\"", 0.005);
    FireOptions o;
    o.ftol = 1e-9;
    o.etol = 0.0;
    o.relax_cell = 1;
    o.pressure = 0.0;
    o.max_iterations = 20000;
    const MinimizeResult r = fire_minimize(*e.sim, o);
    const ThermoSample t = e.sim->thermo_now();
    const double a = t.box.l[0] / 4.0, epa = t.pe / 256.0;
    MESSAGE("FIRE+cell: " << r.iterations << " iterations, " << r.evaluations
                          << " evaluations, stop: " << r.stop << "; a = " << a
                          << " (lattice sum " << a0 << "), E/N = " << epa << " (lattice sum "
                          << e0 << "), P = " << t.press << ", |F| = " << r.fnorm
                          << "; untruncated sums: a = 1.5424, E/N = -8.6102");
    CHECK(r.stop == "force tolerance");
    CHECK(std::abs(a / a0 - 1.0) < 1e-6);
    CHECK(std::abs(epa / e0 - 1.0) < 1e-9);
    CHECK(std::abs(t.press) < 1e-5);
    CHECK(std::abs(t.box.l[1] / t.box.l[0] - 1.0) < 1e-12);
  }

  EXEC_TEST_CASE("FIRE aniso cell relaxation of a strained crystal, and the energy tolerance stop") {
    const double rc = 3.0;
    const double a0 = fcc_a0(rc, 1.50, 1.60), e0 = fcc_energy(a0, rc);
    LJEnsemble e(3, 4.0 / (a0 * a0 * a0), 0.0, 1, rc);
    Box b = e.sys->box();
    auto s = e.sys->download();
    const double f[3] = {1.04, 0.98, 1.01};
    for (std::size_t i = 0; i < s.size(); ++i) {
      s.x[i] = b.lo[0] + (s.x[i] - b.lo[0]) * f[0];
      s.y[i] = b.lo[1] + (s.y[i] - b.lo[1]) * f[1];
      s.z[i] = b.lo[2] + (s.z[i] - b.lo[2]) * f[2];
    }
    for (int d = 0; d < 3; ++d) b.l[d] *= f[d];
    e.ctx.to_device(s.x, e.sys->x);
    e.ctx.to_device(s.y, e.sys->y);
    e.ctx.to_device(s.z, e.sys->z);
    e.sys->set_box(b);
    LJParams p;
    p.n_types = 1;
    p.pair = {LJPairParams{1.0, 1.0, rc, true}};
    e.pot = std::make_unique<LJPotential>(e.ctx, p);
    e.use("ensemble = \"nve\"", 0.005);
    FireOptions o;
    o.ftol = 1e-8;
    o.relax_cell = 2;
    const MinimizeResult r = fire_minimize(*e.sim, o);
    const ThermoSample t = e.sim->thermo_now();
    MESSAGE("aniso: " << r.iterations << " iterations, stop " << r.stop << ", L/3 = "
                      << t.box.l[0] / 3 << " " << t.box.l[1] / 3 << " " << t.box.l[2] / 3
                      << " (a0 " << a0 << ")");
    for (int d = 0; d < 3; ++d) CHECK(std::abs(t.box.l[d] / 3.0 / a0 - 1.0) < 1e-6);
    CHECK(std::abs(t.pe / 108.0 / e0 - 1.0) < 1e-9);

    // energy tolerance: stops earlier, at a looser minimum
    LJEnsemble e2(3, 4.0 / (1.58 * 1.58 * 1.58), 0.0, 1, rc);
    e2.pot = std::make_unique<LJPotential>(e2.ctx, p);
    e2.use("ensemble = \"nve\"", 0.005);
    FireOptions o2;
    o2.etol = 1e-6;
    o2.ftol = 0.0;
    o2.relax_cell = 1;
    const MinimizeResult r2 = fire_minimize(*e2.sim, o2);
    CHECK(r2.stop == "energy tolerance");
    CHECK(r2.energy < r2.energy_start);
    // max iterations
    LJEnsemble e3(3, 4.0 / (1.58 * 1.58 * 1.58), 0.0, 1, rc);
    e3.pot = std::make_unique<LJPotential>(e3.ctx, p);
    e3.use("ensemble = \"nve\"", 0.005);
    FireOptions o3;
    o3.ftol = 1e-12;
    o3.relax_cell = 1;
    o3.max_iterations = 30;
    const MinimizeResult r3 = fire_minimize(*e3.sim, o3);
    CHECK(r3.stop == "max iterations");
    CHECK(r3.iterations == 30);
  }

  EXEC_TEST_CASE("FIRE iterations make no host transfers between checks") {
    LJEnsemble e(3, 0.9, 0.0, 1);
    e.use("ensemble = \"nve\"", 0.005);
    FireOptions o;
    o.ftol = 1e-30;
    o.max_iterations = 100;
    o.check_every = 100;
    const Counters before = e.ctx.counters();
    const MinimizeResult r = fire_minimize(*e.sim, o);
    const Counters after = e.ctx.counters();
    MESSAGE("100 FIRE iterations: " << after.d2h - before.d2h << " device->host transfers, "
                                    << after.launches - before.launches << " launches");
    CHECK(r.iterations == 100);
    CHECK(after.d2h - before.d2h < 10);  // the checks only, not per iteration
  }
}
