// SNAP kernel pieces (models/snap/): CPU force-call timing harness (skipped unless asked for).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <string>

#include "engine/neighbor.hpp"
#include "engine/system.hpp"
#include "io/lattice.hpp"
#include "models/snap/snap.hpp"

using namespace md;

namespace {
std::string src_path(const std::string& rel) { return std::string(MDGPU_SOURCE_DIR) + "/" + rel; }
}  // namespace

// Force-call timing on the two benchmark structures (bcc 10^3 cells = 2000 atoms, as
// benchmarks/run_benchmarks.py snap-ta06a-2k and snap-w2940-2k), best of 5 calls:
//   OMP_NUM_THREADS=1 build/tests/mdgpu_tests -ts=snap_timing --no-skip
TEST_SUITE("snap_timing" * doctest::skip()) {
  TEST_CASE("force call") {
    struct Case {
      const char* name;
      const char* pot;
      const char* element;
      double a;
    };
    for (const Case& c : {Case{"snap-ta06a-2k", "Ta06A", "Ta", 3.316},
                          Case{"snap-w2940-2k", "W_2940_2017_2", "W", 3.1803}}) {
      Context ctx(Backend::cpu);
      LatticeSpec spec;
      spec.kind = "bcc";
      spec.a = c.a;
      spec.repeat = {10, 10, 10};
      spec.elements = {c.element};
      Structure s = make_lattice(spec);
      s.type_masses = {1.0};
      // 0.05 A displacements so that neighbour distances differ as in a run
      for (std::size_t i = 0; i < s.size(); ++i) {
        s.x[i] += 0.05 * std::sin(1.7 * static_cast<double>(i));
        s.y[i] += 0.05 * std::cos(2.3 * static_cast<double>(i));
        s.z[i] += 0.05 * std::sin(0.9 * static_cast<double>(i) + 1.0);
      }
      SnapPotential pot(ctx, read_snap_model(src_path(std::string("inputs/snap/") + c.pot + ".snapcoeff"),
                                             src_path(std::string("inputs/snap/") + c.pot + ".snapparam"),
                                             {c.element}));
      System sys(ctx, s, Units::metal());
      NeighborList nl(sys, pot.cutoff(), 1.0);
      nl.build_now(sys);
      const Index n = sys.n_local();
      DeviceArray<double> e(ctx, n), v(ctx, 6 * n);
      const ForceOut out{sys.fx.data(), sys.fy.data(), sys.fz.data(), e.data(), v.data(), false};
      for (bool energy : {false, true}) {
        const ForceRequest req{energy, energy};
        pot.compute(ctx, sys.view(), nl.view(), out, req);  // warm-up
        double best = 1e30;
        for (int r = 0; r < 5; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          pot.compute(ctx, sys.view(), nl.view(), out, req);
          ctx.synchronize();
          best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        MESSAGE(std::string(c.name) << " (" << n << " atoms), " << std::string(energy ? "force+energy+virial" : "force only")
                       << ": best of 5 = " << best * 1e3 << " ms per call, "
                       << static_cast<double>(n) / best << " atom-steps/s");
      }
    }
  }
}
