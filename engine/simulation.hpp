// The time loop (GPUMD's perform_a_run shape): step_one -> neighbour update -> forces ->
// step_two, all enqueued on the device. The host synchronises only at sync steps (output
// steps, the end, and at least every `max_check_interval` steps), where it reads the
// neighbour status and thermo sums. If a capacity overflowed since the last sync, the run
// rolls back to the snapshot taken then, grows the capacities and replays: forces computed
// from a truncated list never reach the output.
#pragma once

#include <csignal>
#include <functional>
#include <memory>

#include "engine/integrator.hpp"
#include "engine/neighbor.hpp"
#include "engine/potential.hpp"
#include "engine/structure.hpp"
#include "engine/system.hpp"
#include "engine/thermo.hpp"

namespace md {

struct Observers {
  long thermo_every = 0;  // 0: only at start and end
  std::function<void(const ThermoSample&)> on_thermo;
  long frame_every = 0;  // 0: none
  std::function<void(const ThermoSample&, const Structure&)> on_frame;
  // Called after every step with the step number, after that step's sync/output work
  // (tests inspect counters here). Steps replayed after a roll-back are reported again.
  std::function<void(long)> after_step;
  // Called right after each step's force evaluation (before any sync/output work of that
  // step) with the new step number: enqueue-only device work on the forces' state, e.g. the
  // per-atom uncertainty (engine/uncertainty.hpp). Replayed steps call it again.
  std::function<void(long)> after_forces;
  long max_check_interval = 1000;
  // Output at the first step of the run (off when continuing from a checkpoint, whose step
  // was already written by the run that wrote it).
  bool emit_at_start = true;
  // Called at every sync point after the overflow check, before thermo/frame output
  // (safety checks; may throw, the snapshot of the previous sync point is still intact).
  std::function<void()> on_sync;
  // Called at sync points every `checkpoint_every` steps (0: never) and when stopped.
  long checkpoint_every = 0;
  std::function<void()> on_checkpoint;
  // Set asynchronously (signal handler): the run finishes the current step, synchronises,
  // calls on_checkpoint and returns with RunStats::stopped.
  const volatile std::sig_atomic_t* stop = nullptr;
};

struct RunStats {
  long steps = 0;
  double wall_seconds = 0;
  long rollbacks = 0;
  long rebuilds = 0;
  long launches = 0;     // kernel launches during the run (Counters::launches difference)
  long allocations = 0;  // device allocations during the run
  bool stopped = false;  // returned early because *Observers::stop was set
};

class Simulation {
 public:
  Simulation(Context& ctx, System& sys, Potential& pot, Integrator& integ, double dt, double skin);

  // Builds the neighbour list and computes forces, energy and virial at the current state.
  void setup();
  // Runs n steps; thermo output at step 0 of the first run and at every thermo step.
  RunStats run(long nsteps, const Observers& obs);
  // Current thermodynamic state (synchronises; recomputes energy and virial).
  ThermoSample thermo_now();

  // Exact restarts: continues from a state restored into the system (x, v, f, image flags,
  // box) and into the neighbour list's build reference (x0/y0/z0, box_at_build, capacities):
  // rebuilds the list as the original run had it, recomputes energy and virial, sets the step.
  void resume(long step);
  // Returns to the state of the last sync point (e.g. after a failed safety check).
  void rollback_to_last_sync() { restore_snapshot(); }

  // One force evaluation at the current positions after a neighbour-list update, without
  // advancing time (minimisers). Energy/virial land in per_atom_energy()/per_atom_virial().
  void evaluate(bool energy, bool virial);
  const DeviceArray<double>& per_atom_virial() const { return virial_; }

  long step() const { return step_; }
  double timestep() const { return dt_; }
  Integrator& integrator() { return *integ_; }
  double time() const { return static_cast<double>(step_) * dt_; }
  System& system() { return *sys_; }
  NeighborList& neighbors() { return *nlist_; }
  const DeviceArray<double>& per_atom_energy() const { return energy_; }

 private:
  void compute_forces(ForceRequest req);
  void reserve_workspace();
  void one_step(bool need_energy);
  void take_snapshot();
  void restore_snapshot();
  ThermoSample sample();

  Context* ctx_;
  System* sys_;
  Potential* pot_;
  Integrator* integ_;
  double dt_;
  std::unique_ptr<NeighborList> nlist_;
  ThermoCompute thermo_;
  DeviceArray<double> energy_, virial_;
  long step_ = 0;
  bool setup_done_ = false;
  bool energy_current_ = false;  // energy_/virial_ describe the current state
  // roll-back snapshot
  long snap_step_ = 0;
  DeviceArray<double> sx_, sy_, sz_, svx_, svy_, svz_, sfx_, sfy_, sfz_;
  DeviceArray<int> six_, siy_, siz_;
  DeviceArray<Box> sbox_;
};

}  // namespace md
