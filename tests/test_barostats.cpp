// NPT barostats (integrators/nose_hoover MTK, integrators/scr) on small LJ systems: mean
// pressure at the target, MTK conserved-quantity drift over 20,000 steps, aniso and tri
// coupling relaxing a strained / sheared crystal back to its cubic shape, cell flips under
// a sustained shear stress with continuous unwrapped trajectories, and pressure ramps.
#include <doctest/doctest.h>

#include "ensemble_support.hpp"
#include "integrators/nose_hoover.hpp"

using namespace md;
using namespace md::test;

namespace {

const char* kNH = "thermostat = { kind = \"nose-hoover\", temperature = 1.5, tdamp = 0.1 }\n";

struct NptResult {
  Stats press, volume;
  double drift_rel = 0, spread_rel = 0;
};

NptResult npt_run(LJEnsemble& e, long equil, long steps, long every, double p0) {
  e.sample(equil, 0);
  const auto samples = e.sample(steps, every);
  std::vector<double> p, v, step, ec;
  for (const auto& t : samples) {
    p.push_back(t.press);
    v.push_back(t.volume);
    step.push_back(static_cast<double>(t.step));
    ec.push_back(t.econserve);
  }
  NptResult r;
  r.press = block_stats(p, 20);
  r.volume = block_stats(v, 20);
  const double scale = std::abs(ec.front());
  r.drift_rel = std::abs(slope(step, ec)) * static_cast<double>(steps) / scale;
  double spread = 0;
  for (double x : ec) spread = std::max(spread, std::abs(x - ec.front()));
  r.spread_rel = spread / scale;
  MESSAGE("<P> = " << r.press.mean << " +- " << r.press.mean_err << " (target " << p0
                   << "), <V> = " << r.volume.mean << " +- " << r.volume.mean_err
                   << ", Econserve drift over " << steps << " steps = " << r.drift_rel
                   << " relative, max |dEcons| = " << r.spread_rel);
  return r;
}

}  // namespace

TEST_SUITE("barostats") {
  EXEC_TEST_CASE("MTK iso: mean pressure at the target, Econserve drift bounded over 20000 steps") {
    LJEnsemble e(3, 0.8442, 1.5, 31);
    e.use(std::string("ensemble = \"npt\"\n") + kNH +
              "barostat = { kind = \"mtk\", coupling = \"iso\", pressure = 2.0, pdamp = 0.5 }",
          0.004);
    const NptResult r = npt_run(e, 2000, 20000, 10, 2.0);
    CHECK(std::abs(r.press.mean - 2.0) < 5.0 * r.press.mean_err + 0.02);
    CHECK(r.press.mean_err < 0.1);
    CHECK(r.drift_rel < 5e-4);
    CHECK(r.spread_rel < 5e-3);
  }

  EXEC_TEST_CASE("MTK aniso: a crystal stretched along x relaxes to a cubic cell at P = 0") {
    LJEnsemble e(3, 1.05, 0.2, 5);
    Box b = e.sys->box();
    b.l[0] *= 1.06;  // strain the cell (atoms follow at the first remap only through forces)
    auto s = e.sys->download();
    for (auto& x : s.x) x = b.lo[0] + (x - b.lo[0]) * 1.06;
    e.ctx.to_device(s.x, e.sys->x);
    e.sys->set_box(b);
    e.use("ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 0.2, "
          "tdamp = 0.1 }\nbarostat = { kind = \"mtk\", coupling = \"aniso\", pressure = 0.0, "
          "pdamp = 0.5 }",
          0.004);
    const auto samples = e.sample(6000, 100);
    double pxx = 0, pyy = 0, lx = 0, ly = 0, lz = 0;
    int n = 0;
    for (std::size_t k = samples.size() / 2; k < samples.size(); ++k, ++n) {
      pxx += samples[k].ptensor[0];
      pyy += samples[k].ptensor[1];
      lx += samples[k].box.l[0];
      ly += samples[k].box.l[1];
      lz += samples[k].box.l[2];
    }
    pxx /= n, pyy /= n, lx /= n, ly /= n, lz /= n;
    MESSAGE("aniso: start lx/ly = 1.06, end lx/ly = " << lx / ly << ", lz/ly = " << lz / ly
                                                     << ", <Pxx> = " << pxx << ", <Pyy> = " << pyy);
    CHECK(std::abs(lx / ly - 1.0) < 0.01);
    CHECK(std::abs(lz / ly - 1.0) < 0.01);
    CHECK(std::abs(pxx) < 0.3);
  }

  EXEC_TEST_CASE("MTK tri: a sheared crystal relaxes its tilt back to zero") {
    LJEnsemble e(3, 1.05, 0.2, 9, 2.5, 0.08);  // xy = 0.08 lx, atoms sheared affinely
    e.use("ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 0.2, "
          "tdamp = 0.1 }\nbarostat = { kind = \"mtk\", coupling = \"tri\", pressure = 0.0, "
          "pdamp = 0.5 }",
          0.004);
    const double xy0 = e.sys->box().xy / e.sys->box().l[0];
    const auto samples = e.sample(6000, 100);
    double xy = 0, pxy = 0;
    int n = 0;
    for (std::size_t k = samples.size() / 2; k < samples.size(); ++k, ++n) {
      xy += samples[k].box.xy / samples[k].box.l[0];
      pxy += samples[k].ptensor[3];
    }
    xy /= n, pxy /= n;
    MESSAGE("tri: start xy/lx = " << xy0 << ", mean over the second half " << xy
                                  << ", <Pxy> = " << pxy);
    CHECK(std::abs(xy) < 0.01);
    CHECK(std::abs(pxy) < 0.1);
  }

  EXEC_TEST_CASE("MTK xy under a sustained shear stress: the liquid flows, the cell flips, trajectories stay continuous") {
    // Only the xy tilt is barostatted (LAMMPS fix npt xy ...): a liquid under a constant
    // shear stress creeps, so the tilt passes 0.6 lx and is flipped by a lattice vector.
    LJEnsemble e(3, 0.8442, 1.5, 13);
    e.use(std::string("ensemble = \"npt\"\n") + kNH +
              "barostat = { kind = \"mtk\", coupling = \"tri\", dims = [\"xy\"], pressure = 0.0, "
              "pdamp = 0.3, pxy = 1.0 }",
          0.004);
    Observers obs;
    obs.thermo_every = 10;
    double worst_jump = 0, worst_tilt = 0;
    Structure prev;
    bool have_prev = false;
    obs.on_thermo = [&](const ThermoSample& t) {
      worst_tilt = std::max(worst_tilt, std::abs(t.box.xy) / t.box.l[0]);
      Structure s = e.sys->download();
      s.box = t.box;
      if (have_prev) {
        for (std::size_t i = 0; i < s.size(); ++i) {
          double a[3], b[3];
          s.box.image_shift(s.ix[i], s.iy[i], s.iz[i], a);
          prev.box.image_shift(prev.ix[i], prev.iy[i], prev.iz[i], b);
          const double dx = s.x[i] + a[0] - prev.x[i] - b[0], dy = s.y[i] + a[1] - prev.y[i] - b[1],
                       dz = s.z[i] + a[2] - prev.z[i] - b[2];
          worst_jump = std::max(worst_jump, std::sqrt(dx * dx + dy * dy + dz * dz));
        }
      }
      prev = s;
      have_prev = true;
    };
    e.sim->run(6000, obs);
    const NHState st = dynamic_cast<NoseHoover&>(*e.integ).state(e.ctx);
    MESSAGE("shear stress: " << st.n_flips << " flips, largest |xy|/lx seen " << worst_tilt
                             << ", largest unwrapped move in 10 steps " << worst_jump);
    CHECK(st.n_flips >= 1);
    CHECK(worst_tilt <= 0.6 + 1e-9);
    CHECK(worst_jump < 0.5);  // a flip without image-flag update would jump by a cell length
  }

  EXEC_TEST_CASE("SCR iso: mean pressure at the target") {
    LJEnsemble e(3, 0.8442, 1.5, 17);
    e.use("ensemble = \"npt\"\nthermostat = { kind = \"csvr\", temperature = 1.5, tdamp = 0.1, "
          "seed = 3 }\nbarostat = { kind = \"scr\", coupling = \"iso\", pressure = 2.0, "
          "pdamp = 0.2, compressibility = 0.05 }",
          0.004);
    const NptResult r = npt_run(e, 2000, 20000, 10, 2.0);
    CHECK(std::abs(r.press.mean - 2.0) < 5.0 * r.press.mean_err + 0.02);
    CHECK(r.press.mean_err < 0.1);
  }

  EXEC_TEST_CASE("SCR aniso: a stretched crystal relaxes to a cubic cell") {
    LJEnsemble e(3, 1.05, 0.2, 5);
    Box b = e.sys->box();
    b.l[0] *= 1.06;
    auto s = e.sys->download();
    for (auto& x : s.x) x = b.lo[0] + (x - b.lo[0]) * 1.06;
    e.ctx.to_device(s.x, e.sys->x);
    e.sys->set_box(b);
    e.use("ensemble = \"npt\"\nthermostat = { kind = \"csvr\", temperature = 0.2, tdamp = 0.1, "
          "seed = 8 }\nbarostat = { kind = \"scr\", coupling = \"aniso\", pressure = 0.0, "
          "pdamp = 0.2, compressibility = 0.02 }",
          0.004);
    const auto samples = e.sample(4000, 100);
    double lx = 0, ly = 0;
    int n = 0;
    for (std::size_t k = samples.size() / 2; k < samples.size(); ++k, ++n) {
      lx += samples[k].box.l[0];
      ly += samples[k].box.l[1];
    }
    MESSAGE("scr aniso: end lx/ly = " << lx / ly);
    CHECK(std::abs(lx / ly - 1.0) < 0.01);
  }

  EXEC_TEST_CASE("pressure ramp: the MTK target follows [start, stop]") {
    LJEnsemble e(3, 0.8442, 1.5, 21);
    e.use(std::string("ensemble = \"npt\"\n") + kNH +
              "barostat = { kind = \"mtk\", coupling = \"iso\", pressure = [1.0, 3.0], pdamp = 0.5 }",
          0.004, 3000);
    const auto samples = e.sample(3000, 10);
    const NHState st = dynamic_cast<NoseHoover&>(*e.integ).state(e.ctx);
    CHECK(st.p_target[0] == doctest::Approx(3.0).epsilon(1e-12));
    // over the last 600 steps the target rises from 2.6 to 3.0 (mean 2.8)
    double late = 0;
    for (std::size_t k = samples.size() - 60; k < samples.size(); ++k) late += samples[k].press / 60;
    MESSAGE("pressure ramp 1 -> 3: <P> over the last 600 steps = " << late << " (target mean 2.8)");
    CHECK(std::abs(late - 2.8) < 0.4);
  }
}
