// Kernel launches per steady-state step, counted (benchmarks/perf_model.py, PERF_MODEL.md):
// loads an input as `mdgpu run` does, runs STEPS steps with no output on the CPU executor
// (the launch sequence is the executor's, not the device's) and prints Context::counters()
// per step, plus the safety monitor's per-step launch that `mdgpu run` adds (track_step).
// Build: cmake --build build --target mdgpu_count_launches; run: mdgpu_count_launches IN [STEPS]
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>

#include "engine/safety.hpp"
#include "engine/simulation.hpp"
#include "io/app.hpp"

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s INPUT.toml [STEPS]\n", argv[0]);
    return 2;
  }
  try {
    const long steps = argc > 2 ? std::atol(argv[2]) : 200;
    md::RunOverrides ov;
    ov.backend = "cpu";
    ov.quiet = true;
    md::Job job = md::load_job(argv[1], ov);
    md::Simulation& sim = *job.sim;
    md::SafetyMonitor safety(*job.ctx, job.safety_limits, sim.neighbors().skin());
    md::Observers obs;
    obs.emit_at_start = false;
    obs.max_check_interval = steps;  // one sync point at the end
    long safety_launches = 0;
    obs.after_step = [&](long step) {
      if (step == 0 || !job.safety) return;
      const long before = job.ctx->counters().launches;
      safety.track_step(sim.neighbors(), step);
      safety_launches += job.ctx->counters().launches - before;
    };
    sim.run(0, obs);  // setup: first neighbour build and forces
    const md::Counters c0 = job.ctx->counters();
    const md::RunStats st = sim.run(steps, obs);
    const md::Counters c1 = job.ctx->counters();
    const double per = static_cast<double>(c1.launches - c0.launches - safety_launches) / steps;
    std::printf("%s: %ld steps, %ld neighbour rebuilds: %.2f launches/step in the step loop "
                "+ %.2f (safety track_step) = %.2f kernel launches per step; "
                "%.3f syncs/step, %.3f d2h/step\n",
                argv[1], st.steps, static_cast<long>(st.rebuilds), per,
                static_cast<double>(safety_launches) / steps,
                per + static_cast<double>(safety_launches) / steps,
                static_cast<double>(c1.syncs - c0.syncs) / steps,
                static_cast<double>(c1.d2h - c0.d2h) / steps);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
