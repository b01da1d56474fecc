// The time loop (GPUMD's perform_a_run shape): step_one -> neighbour update -> forces ->
// step_two, all enqueued on the device. The host synchronises only at sync steps (output
// steps, the end, and at least every `max_check_interval` steps), where it reads the
// neighbour status and thermo sums. If a capacity overflowed since the last sync, the run
// rolls back to the snapshot taken then, grows the capacities and replays: forces computed
// from a truncated list never reach the output.
#pragma once

#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

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
  long launches = 0;     // kernel launches during the run (Counters::launches difference;
                         // a step-graph replay counts as one launch)
  long allocations = 0;  // device allocations during the run
  long graph_captures = 0, graph_replays = 0;  // step graphs (Simulation::set_cuda_graphs)
  long graph_nodes = 0;  // launches and copies the replays ran
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

  // Step graphs ([run] cuda_graphs, --cuda-graphs; off by default): the steady steps between
  // sync points (no energy needed) are captured once (Context::begin_capture) and replayed,
  // on CUDA as one cudaGraphLaunch per step, on the CPU executor by replaying the recorded
  // launches (so the tests execute the replay). A graph is dropped when device memory is
  // (re)allocated (neighbour capacity growth, lazily sized work arrays), at a roll-back, a
  // resume and the start of each run(), and captured again at the next steady step after a
  // step that allocated nothing. Results are bitwise those of direct launches.
  void set_cuda_graphs(bool on);
  bool cuda_graphs() const { return cuda_graphs_; }

  // Spatial sorting ([neighbor] sort_every, in steps as LAMMPS' atom_modify sort; 0: never):
  // at every sync point whose step is a multiple of sort_every (such steps are made sync
  // points) the local atoms are permuted on the device into the cell order of the last
  // neighbour build: every per-atom array (positions, velocities, forces, images, types, ids,
  // the neighbour build reference, per-atom energy and virial), then the list is rebuilt and
  // forces recomputed, before output, snapshot and checkpoint (so a restart from that
  // checkpoint continues bitwise). Potentials and integrators keep no per-atom state across
  // steps (a new one that does must be permuted here too).
  void set_sort_every(long steps);
  long sort_every() const { return sort_every_; }
  long sorts() const { return n_sorts_; }
  void sort_atoms();  // at a sync point (run() calls it; public for tests)
  // Device order differs from the input order (after a sort or a sorted checkpoint).
  bool atoms_permuted() const { return permuted_; }
  void note_atoms_permuted() { permuted_ = true; }
  // Records the current device ids as the input order (before a first sort or before a
  // checkpoint in another order is restored; one counted transfer, once).
  void remember_input_order();
  // The local state in the order of the input structure (outputs), whatever the device order.
  Structure download() const;
  // For arrays fetched in device order with ids `device_ids`: order[j] is the device index of
  // the j-th atom of the input structure.
  std::vector<std::size_t> input_order(const std::vector<std::int64_t>& device_ids) const;

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
  void enqueue_step(bool need_energy);
  void set_device_step();
  void release_graph();
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
  DeviceArray<long> step_dev_;  // device step counter: the step being taken (StepData)
  bool setup_done_ = false;
  bool cuda_graphs_ = false;
  std::uint64_t graph_serial_ = 0;  // Context::graph_serial of our graph (0: none)
  std::uint64_t graph_epoch_ = 0;   // Context::memory_epoch when it was captured
  std::uint64_t quiet_epoch_ = ~std::uint64_t{0};  // epoch after a step that allocated nothing
  // spatial sorting
  long sort_every_ = 0, n_sorts_ = 0;
  bool permuted_ = false;
  std::vector<std::int64_t> input_ids_;  // ids in the input structure's order
  DeviceArray<int> sort_flag_, sort_pos_, sort_work_, sort_perm_, sort_total_, sort_int_;
  DeviceArray<double> sort_real_;
  DeviceArray<std::int64_t> sort_id_;
  bool energy_current_ = false;  // energy_/virial_ describe the current state
  // roll-back snapshot
  long snap_step_ = 0;
  DeviceArray<double> sx_, sy_, sz_, svx_, svy_, svz_, sfx_, sfy_, sfz_;
  DeviceArray<int> six_, siy_, siz_;
  DeviceArray<Box> sbox_;
};

}  // namespace md
