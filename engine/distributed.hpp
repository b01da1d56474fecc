// The time loop of a decomposed run (several ranks): each rank owns the atoms whose wrapped
// fractional position lay in its sub-domain (engine/domain.hpp) at the last migration and
// runs a sub-system in the global periodic cell: its owned atoms (sorted by global id), then
// every atom of which some periodic image lay within the import distance + margin of the
// sub-domain (imported once, at its owner's position); its own neighbour list wraps them and
// makes their periodic images as ghosts exactly as the one-rank list does, so every local atom
// sits at the one-rank position and sees the one-rank neighbours and ghost images.
// Steady steps run on the device only: the owners send the imported atoms' positions (pack
// kernel, transport, unpack kernel; fixed counts per rank), each rank's list decides its
// rebuild from the global maximum displacement (a device max through System::cross_rank,
// engine/neighbor.cpp), so lists rebuild at the one-rank steps; thermostat sums are exact
// fixed-point sums over owned atoms (engine/exact_sum.hpp). A device flag records when some
// owned atom moved more than margin/2 since the last migration (imports may be incomplete),
// a device scalar the largest fraction of that allowance used. At sync points (output,
// checkpoint, the end, at least every max_check_interval steps, and where the measured use per
// step predicts 1/1.5 of the allowance used) the ranks combine them (capacity overflow, margin
// violation, stop signal, use): a flag set anywhere rolls every rank back to the previous sync
// point to replay (capacities grown, or a shorter interval); otherwise atoms migrate to their
// owners when less than half a fresh allowance is left. A migration keeps every bit:
// each Atom carries the list build reference (x0,y0,z0), the new sub-system's list is built
// from it without wrapping, and the current positions are restored.
// Transports ([parallel] transport): "host" stages through counted host copies, "direct"
// hands device buffers to the Comm (CPU executor). Called by io/parallel_config.cpp.
#pragma once

#include <array>
#include <csignal>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/comm.hpp"
#include "engine/domain.hpp"
#include "engine/integrator.hpp"
#include "engine/neighbor.hpp"
#include "engine/potential.hpp"
#include "engine/structure.hpp"
#include "engine/system.hpp"
#include "engine/thermo.hpp"

namespace md {

struct DistributedStats {
  long steps = 0, rebuilds = 0, migrations = 0, rollbacks = 0, margin_rollbacks = 0;
  double wall_seconds = 0;
  long owned_min = 0, owned_max = 0, imported_max = 0;  // at the last migration, over ranks
  long rebuild_bytes = 0;  // this rank's bytes sent at the last migration (atoms + lists)
  long step_bytes = 0;     // this rank's bytes sent per steady step (positions)
  double comm_seconds = 0;  // this rank's time in exchanges (host staging included)
  long check_interval = 0;  // the last planned interval between sync points (steps)
  bool stopped = false;     // returned early because *stop was set on some rank
};

// What DistributedRun::run reports and when (mirrors engine/simulation.hpp Observers). Every
// callback is called on every rank at the same step (collective work is allowed in them).
struct DistributedObservers {
  long thermo_every = 0;  // 0: only at start and end
  std::function<void(const ThermoSample&)> on_thermo;
  long frame_every = 0;  // 0: none
  // The structure is gathered in input order on rank 0 (empty elsewhere).
  std::function<void(const ThermoSample&, const Structure&)> on_frame;
  long max_check_interval = 1000;
  // Output at the first step of the run (off when continuing from a checkpoint).
  bool emit_at_start = true;
  // At every sync point after the flags were checked and atoms migrated, before output.
  std::function<void()> on_sync;
  // At sync points every `checkpoint_every` steps (0: never) and when stopped.
  long checkpoint_every = 0;
  std::function<void()> on_checkpoint;
  // Set asynchronously on any rank (signal handler): all ranks stop together at the next sync
  // point after that step, call on_checkpoint and return with stopped.
  const volatile std::sig_atomic_t* stop = nullptr;
  // After every step (tests read counters): the step number and whether the step ended at a
  // sync point (flags, migration, output). Replayed steps are reported again.
  std::function<void(long, bool)> after_step;
};

class DistributedRun {
 public:
  // One atom in flight (migration, gather, checkpoints): current position, velocity, image
  // flags, and the neighbour list's build reference (x0,y0,z0: the wrapped position at the
  // last list build).
  struct Atom {
    std::int64_t id;
    int type, ix, iy, iz;
    double x, y, z, vx, vy, vz, x0, y0, z0;
  };

  // global: the whole structure (every rank reads the same input); grid: sub-domains per
  // axis (product = comm.size()); import_distance: see engine/domain.hpp; margin: extra
  // import distance (atoms may move margin/2 between migrations; 0: the larger of the skin
  // and the cutoff for pair styles, of the skin and half the cutoff otherwise);
  // transport: see Transport.
  DistributedRun(Comm& comm, Context& ctx, const Structure& global, const Units& units,
                 Potential& pot, Integrator& integ, double dt, double skin,
                 std::array<int, 3> grid, double import_distance, double margin = 0,
                 Transport transport = Transport::host);
  ~DistributedRun();

  // Distributes the atoms, builds the lists (wrapping as the one-rank setup), computes
  // forces (collective).
  void setup();
  // Exact restart instead of setup() (collective): `share` is any part of the global state
  // (each atom on exactly one rank; e.g. rank r reads every size()-th atom of a checkpoint),
  // with current positions and the list build reference x0; box: the current cell,
  // box_at_build: the cell of the last list build; step: the step reached. The lists are
  // built from the reference without wrapping (the one-rank ghosts and neighbour order), so
  // the run continues bitwise as the run that wrote the state. Integrator state is the
  // caller's (Integrator::deserialize).
  void restore(std::vector<Atom> share, const Box& box, const Box& box_at_build, long step);
  // The same from every atom of the system on every rank (any order; io/parallel_checkpoint):
  // the current cell is the one given to the constructor.
  void restore(const std::vector<Atom>& atoms, const Box& box_at_build, long step);
  // Runs n steps (collective).
  DistributedStats run(long nsteps, const DistributedObservers& obs);
  // Compatibility form of run(): thermo and frames only.
  DistributedStats run(long nsteps, long thermo_every,
                       const std::function<void(const ThermoSample&)>& on_thermo,
                       long frame_every = 0,
                       const std::function<void(const ThermoSample&, const Structure&)>& on_frame = {});
  // Global thermodynamic state now (collective; recomputes energy and virial).
  ThermoSample thermo();
  // The owned atoms of every rank, in the order of the input structure's ids, on rank 0
  // (other ranks: an empty Structure). Collective.
  Structure gather();
  // This rank's owned atoms with their build reference (counted transfers; not collective).
  std::vector<Atom> owned_atoms();
  // Every atom in input id order on rank 0, empty elsewhere (collective; checkpoints).
  std::vector<Atom> gather_atoms();
  // The current cell and the cell of the last list build (same on every rank; transfers).
  Box box();
  Box box_at_build();
  long step() const { return step_; }
  const Decomposition& decomposition() const { return dec_; }
  System& system() { return *sys_; }
  NeighborList& neighbors() { return *nlist_; }
  Index n_owned() const { return n_owned_; }
  Transport transport() const { return transport_; }
  double margin() const { return margin_; }
  // Called in every step right after the neighbour-list update with the step being made
  // (io/parallel_config.cpp records the [safety] displacement of that step's check, as one
  // rank does); empty: nothing. Device work only (no host read).
  std::function<void(long)> after_list_update;
  // Back to the state of the last sync point (collective: the roll-back snapshot; the [safety]
  // last good state after a failed check).
  void rollback_to_last_sync() { restore_snapshot(); }

 private:
  void rebuild(std::vector<Atom> candidates, bool from_reference, const Box& box,
               const Box& box_at_build);
  void migrate();
  void refresh_imports();
  void compute_forces(bool energy);
  void one_step(bool need_energy);
  void take_snapshot();
  void restore_snapshot();
  void reset_margin_reference();

  Comm* comm_;
  Context* ctx_;
  Units units_;
  Potential* pot_;
  Integrator* integ_;
  double dt_, skin_, margin_;
  Transport transport_;
  Decomposition dec_;
  Structure proto_;  // type names and masses, the global cell, the input id order
  std::unique_ptr<CrossRankReducer> reducer_;  // host staging
  std::unique_ptr<DeviceTransport> device_;    // direct
  CrossRankReducer* cross_ = nullptr;          // the one in use
  std::unique_ptr<System> sys_;
  std::unique_ptr<NeighborList> nlist_;
  Index n_owned_ = 0;
  DeviceArray<double> energy_, virial_, pack_, unpack_, margin_disp2_, margin_use_;
  DeviceArray<double> xm_, ym_, zm_;  // owned positions at the last migration
  DeviceArray<int> ixm_, iym_, izm_, margin_flag_;
  DeviceArray<Box> box_mig_;
  DeviceArray<long> step_dev_;
  DeviceArray<int> send_idx_;
  DeviceArray<unsigned char> list_mask_;  // imported atoms that get a list
  ThermoCompute thermo_;
  std::vector<long> send_count_, recv_count_;  // per rank, atoms per step
  std::vector<long> send_bytes_, recv_bytes_;  // per rank, bytes per step
  long total_send_ = 0, total_recv_ = 0;
  std::vector<double> stage_send_, stage_recv_;  // host staging (transport "host")
  int base_builds_ = 0;  // list builds of the current sub-system at its creation
  long step_ = 0;
  long rebuilds_ = 0;  // list builds of earlier sub-systems
  // Sync-point schedule: the step of the last migration (or restore) and the estimated
  // fraction of the margin allowance used per step (0: not measured yet).
  long mig_step_ = 0;
  double use_rate_ = 0;
  Index ghost_reserve_ = 0;
  int neigh_reserve_ = 0;
  bool setup_done_ = false, energy_current_ = false, started_ = false;
  std::vector<Atom> initial_;  // this rank's share of the input until setup()
  // roll-back snapshot (host: this rank's owned atoms at the last sync point)
  std::vector<Atom> snap_atoms_;
  Box snap_box_{}, snap_box_at_build_{};
  long snap_step_ = 0;
  DistributedStats stats_;
};

}  // namespace md
