// The time loop of a decomposed run (several ranks): each rank owns the atoms whose wrapped
// fractional position lies in its sub-domain (engine/domain.hpp) and runs a sub-system in the
// global periodic cell: its owned atoms (sorted by global id), then every atom of which some
// periodic image lies within the import distance of the sub-domain (imported once, at its
// owner's position); its own neighbour list wraps them and makes their periodic images as
// ghosts exactly as the one-rank list does, so every local atom (owned or imported) sits at
// the one-rank position and sees the one-rank neighbours and ghost images. At each rebuild
// (decided for all ranks: max displacement of owned atoms > skin/2 on any rank) atoms migrate
// to their owners and the import lists are rebuilt; every step the owners send the imported
// atoms' positions (bit copies). Integrators act on all local atoms (imported ones are
// overwritten each step); thermo and thermostat sums are exact fixed-point sums over owned
// atoms combined through System::cross_rank (engine/exact_sum.hpp).
// Host-staged: Comm (engine/comm.hpp) moves host buffers. Called by io/parallel_config.cpp.
#pragma once

#include <array>
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
  long steps = 0, rebuilds = 0;
  double wall_seconds = 0;
  long owned_min = 0, owned_max = 0, imported_max = 0;  // at the last rebuild, over ranks
  long rebuild_bytes = 0;  // this rank's bytes sent at the last rebuild (migration + lists)
  long step_bytes = 0;     // this rank's bytes sent per step without rebuild (positions)
  double comm_seconds = 0;  // this rank's time in exchanges (host staging included)
};

class DistributedRun {
 public:
  // global: the whole structure (every rank reads the same input); grid: sub-domains per
  // axis (product = comm.size()); import_distance: see engine/domain.hpp.
  DistributedRun(Comm& comm, Context& ctx, const Structure& global, const Units& units,
                 Potential& pot, Integrator& integ, double dt, double skin,
                 std::array<int, 3> grid, double import_distance);
  ~DistributedRun();

  // Distributes the atoms, builds the lists, computes forces (collective).
  void setup();
  // Runs n steps; on_thermo (every rank calls it; the sample is global) at step 0 of the
  // first run, every thermo_every steps and at the end; on_frame (every rank; the structure,
  // gathered in input order, is complete on rank 0 and empty elsewhere) likewise every
  // frame_every steps (0: never).
  DistributedStats run(long nsteps, long thermo_every,
                       const std::function<void(const ThermoSample&)>& on_thermo,
                       long frame_every = 0,
                       const std::function<void(const ThermoSample&, const Structure&)>& on_frame = {});
  // Global thermodynamic state now (collective; recomputes energy and virial).
  ThermoSample thermo();
  // The owned atoms of every rank, in the order of the input structure's ids, on rank 0
  // (other ranks: an empty Structure). Collective.
  Structure gather();
  long step() const { return step_; }
  const Decomposition& decomposition() const { return dec_; }
  System& system() { return *sys_; }
  Index n_owned() const { return n_owned_; }
  NeighborList& neighbors() { return *nlist_; }

  // One atom in flight (migration, gather, restarts); x0/y0/z0: the neighbour list's build
  // reference (the wrapped position at the last list build).
  struct Atom {
    std::int64_t id;
    int type, ix, iy, iz;
    double x, y, z, vx, vy, vz;
    double x0, y0, z0;
  };
  // Instead of setup(): continues from a restored global state (every atom of the system, on
  // every rank, in any order; the cell given to the constructor is the current one). Each
  // rank's list is built from the build reference (x0/y0/z0 in box_at_build) without
  // wrapping, as the uninterrupted run built it, then the current positions are set and the
  // forces computed; `step` continues. Collective. The integrator state is the caller's.
  void restore(const std::vector<Atom>& atoms, const Box& box_at_build, long step);

 private:
  void rebuild(std::vector<Atom> candidates);
  std::vector<Atom> download_owned();
  void refresh_imports();
  void compute_forces(bool energy);
  bool rebuild_due();

  Comm* comm_;
  Context* ctx_;
  Units units_;
  Potential* pot_;
  Integrator* integ_;
  double dt_, skin_;
  Decomposition dec_;
  Structure proto_;  // type names and masses, the global cell, the input id order
  CommReducer reducer_;
  std::unique_ptr<System> sys_;
  std::unique_ptr<NeighborList> nlist_;
  Index n_owned_ = 0;
  DeviceArray<double> energy_, virial_, disp2_, pack_, unpack_;
  DeviceArray<long> step_dev_;
  DeviceArray<int> send_idx_;
  ThermoCompute thermo_;
  std::vector<long> send_count_, recv_count_;  // per rank, entries (positions) per step
  long step_ = 0;
  long rebuilds_ = 0;
  bool setup_done_ = false, energy_current_ = false, started_ = false;
  bool from_reference_ = false;  // rebuild(): build the lists from x0 without wrapping
  Box restore_box_at_build_{};
  std::vector<Atom> initial_;  // this rank's share of the input until setup()
  DistributedStats stats_;
};

}  // namespace md
