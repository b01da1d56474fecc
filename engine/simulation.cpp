#include "engine/simulation.hpp"

#include <chrono>
#include <cmath>

#include "engine/error.hpp"
#include "kernels/launch.hpp"

namespace md {

Simulation::Simulation(Context& ctx, System& sys, Potential& pot, Integrator& integ, double dt,
                       double skin)
    : ctx_(&ctx), sys_(&sys), pot_(&pot), integ_(&integ), dt_(dt), thermo_(ctx),
      energy_(ctx, sys.n_local()), virial_(ctx, 6 * sys.n_local()), sx_(ctx, 0), sy_(ctx, 0),
      sz_(ctx, 0), svx_(ctx, 0), svy_(ctx, 0), svz_(ctx, 0), sfx_(ctx, 0), sfy_(ctx, 0),
      sfz_(ctx, 0), six_(ctx, 0), siy_(ctx, 0), siz_(ctx, 0), sbox_(ctx, 1) {
  if (!(dt > 0.0) || !std::isfinite(dt)) throw Error("[run] timestep must be positive");
  nlist_ = std::make_unique<NeighborList>(sys, pot.cutoff(), skin);
}

void Simulation::compute_forces(ForceRequest req) {
  ForceOut out{sys_->fx.data(), sys_->fy.data(), sys_->fz.data(),
               req.energy ? energy_.data() : nullptr, req.virial ? virial_.data() : nullptr,
               false};
  pot_->compute(*ctx_, sys_->view(), nlist_->view(), out, req);
  energy_current_ = req.energy && req.virial;
}

void Simulation::reserve_workspace() {
  // Reductions over atoms (thermo, integrators, safety, minimiser) reuse one workspace:
  // sized here so that no step reallocates it (counted in Counters::allocations).
  ctx_->reserve_scratch(reduction_scratch_bytes(*ctx_, std::max<Index>(sys_->n_local(), 1)));
}

void Simulation::setup() {
  reserve_workspace();
  nlist_->build_now(*sys_);
  compute_forces({true, true});
  setup_done_ = true;
}

void Simulation::resume(long step) {
  reserve_workspace();
  take_snapshot();                        // the restored state
  nlist_->rebuild_from_reference(*sys_);  // sets positions and cell to the build reference
  restore_snapshot();                     // back to the restored state
  sys_->pull_box();
  nlist_->refresh_ghosts(*sys_);
  compute_forces({true, true});
  step_ = step;
  setup_done_ = true;
}

void Simulation::evaluate(bool energy, bool virial) {
  if (!setup_done_) setup();
  nlist_->update(*sys_);
  compute_forces({energy, virial});
}

void Simulation::one_step(bool need_energy) {
  const StepData d{dt_, step_, energy_.data(), virial_.data()};
  integ_->step_one(*ctx_, *sys_, d);
  nlist_->update(*sys_);
  compute_forces({need_energy, need_energy || integ_->needs_virial()});
  integ_->step_two(*ctx_, *sys_, d);
  ++step_;
}

ThermoSample Simulation::sample() {
  if (integ_->changes_box()) sys_->pull_box();
  thermo_.enqueue(*ctx_, *sys_, energy_.data(), virial_.data());
  ThermoSample t = thermo_.fetch(*ctx_, *sys_, step_, time());
  t.econserve = t.etotal + integ_->reservoir_energy(*ctx_, *sys_);
  if (!std::isfinite(t.pe) || !std::isfinite(t.ke) || !std::isfinite(t.press))
    throw Error("step " + std::to_string(step_) +
                ": non-finite energy or pressure (atoms overlapping, timestep too large?)");
  return t;
}

ThermoSample Simulation::thermo_now() {
  if (!setup_done_) setup();
  if (!energy_current_) {
    nlist_->refresh_ghosts(*sys_);
    compute_forces({true, true});
  }
  return sample();
}

template <class T>
static void snap_copy(Context& ctx, const DeviceArray<T>& src, DeviceArray<T>& dst, Index n) {
  copy_device(ctx, src, dst, static_cast<std::size_t>(n));
}

void Simulation::take_snapshot() {
  const Index n = sys_->n_local();
  snap_step_ = step_;
  snap_copy(*ctx_, sys_->x, sx_, n);
  snap_copy(*ctx_, sys_->y, sy_, n);
  snap_copy(*ctx_, sys_->z, sz_, n);
  snap_copy(*ctx_, sys_->vx, svx_, n);
  snap_copy(*ctx_, sys_->vy, svy_, n);
  snap_copy(*ctx_, sys_->vz, svz_, n);
  snap_copy(*ctx_, sys_->fx, sfx_, n);
  snap_copy(*ctx_, sys_->fy, sfy_, n);
  snap_copy(*ctx_, sys_->fz, sfz_, n);
  snap_copy(*ctx_, sys_->ix, six_, n);
  snap_copy(*ctx_, sys_->iy, siy_, n);
  snap_copy(*ctx_, sys_->iz, siz_, n);
  ctx_->copy_d2d(sbox_.data(), sys_->box_device(), sizeof(Box));
  integ_->save_state(*ctx_);
}

void Simulation::restore_snapshot() {
  const Index n = sys_->n_local();
  step_ = snap_step_;
  snap_copy(*ctx_, sx_, sys_->x, n);
  snap_copy(*ctx_, sy_, sys_->y, n);
  snap_copy(*ctx_, sz_, sys_->z, n);
  snap_copy(*ctx_, svx_, sys_->vx, n);
  snap_copy(*ctx_, svy_, sys_->vy, n);
  snap_copy(*ctx_, svz_, sys_->vz, n);
  snap_copy(*ctx_, sfx_, sys_->fx, n);
  snap_copy(*ctx_, sfy_, sys_->fy, n);
  snap_copy(*ctx_, sfz_, sys_->fz, n);
  snap_copy(*ctx_, six_, sys_->ix, n);
  snap_copy(*ctx_, siy_, sys_->iy, n);
  snap_copy(*ctx_, siz_, sys_->iz, n);
  ctx_->copy_d2d(sys_->box_device(), sbox_.data(), sizeof(Box));
  if (integ_->changes_box()) sys_->pull_box();
  integ_->restore_state(*ctx_);
}

static bool due(long step, long every) { return every > 0 && step % every == 0; }

RunStats Simulation::run(long nsteps, const Observers& obs) {
  if (nsteps < 0) throw Error("[run] steps must be non-negative");
  if (!setup_done_) setup();
  RunStats stats;
  const auto t0 = std::chrono::steady_clock::now();
  const long first = step_, end = step_ + nsteps;
  const int builds0 = nlist_->read_status().n_builds;
  const Counters c0 = ctx_->counters();

  auto emit = [&](bool final_step) {
    const bool thermo = obs.on_thermo && (due(step_, obs.thermo_every) || final_step ||
                                          step_ == first);
    const bool frame = obs.on_frame && (due(step_, obs.frame_every) || (final_step && obs.frame_every > 0));
    if (!thermo && !frame) return;
    const ThermoSample t = sample();
    if (thermo) obs.on_thermo(t);
    if (frame) obs.on_frame(t, sys_->download());
  };

  if (obs.emit_at_start) emit(nsteps == 0);
  take_snapshot();
  if (obs.after_step) obs.after_step(step_);  // the starting state (a sync point)
  while (step_ < end) {
    // next synchronisation point
    long next = std::min(end, step_ + std::max(1L, obs.max_check_interval));
    if (obs.thermo_every > 0) next = std::min(next, (step_ / obs.thermo_every + 1) * obs.thermo_every);
    if (obs.frame_every > 0) next = std::min(next, (step_ / obs.frame_every + 1) * obs.frame_every);
    if (obs.checkpoint_every > 0)
      next = std::min(next, (step_ / obs.checkpoint_every + 1) * obs.checkpoint_every);
    while (step_ < next) {
      one_step(step_ + 1 == next);
      if (obs.after_forces) obs.after_forces(step_);
      if (obs.stop && *obs.stop) {  // unscheduled sync point: energy/virial are needed
        stats.stopped = true;
        if (!energy_current_) compute_forces({true, true});
        break;
      }
      if (step_ < next && obs.after_step) obs.after_step(step_);
    }
    const NeighborStatus st = nlist_->read_status();
    if (nlist_->overflowed(st, *sys_)) {
      nlist_->grow(*sys_, st);
      restore_snapshot();
      nlist_->build_now(*sys_);
      ++stats.rollbacks;
      stats.stopped = false;
      continue;
    }
    if (obs.on_sync) obs.on_sync();
    emit(step_ == end);
    take_snapshot();
    if (obs.on_checkpoint && (stats.stopped || due(step_, obs.checkpoint_every)))
      obs.on_checkpoint();
    if (obs.after_step) obs.after_step(step_);  // after the sync work of this step
    if (stats.stopped) break;
  }
  stats.steps = step_ - first;
  stats.rebuilds = nlist_->read_status().n_builds - builds0;
  stats.launches = ctx_->counters().launches - c0.launches;
  stats.allocations = ctx_->counters().allocations - c0.allocations;
  stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace md
