// Device neighbour search: periodic images as ghost atoms (owner + image, refreshed from
// the owners every step), a cell list over local+ghost atoms (counting sort in fractional
// coordinates, so triclinic cells work), and a full Verlet list with skin in neighbour-major
// layout neigh[k*n_local + i]. Rebuilds are decided on the device (max displacement since
// the last build > skin/2); every rebuild kernel reads that flag and returns early, so the
// host never looks during a step. Capacity overflow (ghosts, neighbours) is recorded on the
// device; the host reads it at synchronisation points (Simulation rolls back and regrows).
#pragma once

#include <cstdint>

#include "engine/backend.hpp"
#include "engine/box.hpp"
#include "engine/system.hpp"
#include "engine/views.hpp"

namespace md {

class NeighborList {
 public:
  // cutoff: the largest interaction cutoff; skin: Verlet skin (list radius = cutoff + skin).
  NeighborList(System& sys, double cutoff, double skin);

  double cutoff() const { return cutoff_; }
  double skin() const { return skin_; }
  double list_radius() const { return cutoff_ + skin_; }
  int max_neigh() const { return max_neigh_; }
  // Lists only for local atoms [0, n) and, beyond, for atoms n + k with mask[k] != 0 (device
  // array; null: none) from the next build on; the others get empty lists (several ranks:
  // imported atoms whose lists no owned force reads). Negative n: every local atom.
  void set_list_atoms(Index n, const unsigned char* mask = nullptr) {
    n_list_ = n;
    list_mask_ = mask;
  }
  // The grid used by the last build (one counted transfer; tests and diagnostics).
  CellGrid grid();

  // The per-step device sequence: displacement check, then (gated) wrap into the box,
  // ghost map, binning and list build; then ghost positions refreshed from their owners.
  void update(System& sys) { update(sys, true); }
  // Ghost positions from their owners' current positions (part of update()).
  void refresh_ghosts(System& sys);
  // Exact restarts: rebuilds the list from the stored build reference (x0/y0/z0 and
  // box_at_build, e.g. restored from a checkpoint) without wrapping, so ghosts, cells and
  // neighbour order equal those of the build that recorded it. Leaves sys positions and device
  // box set to the reference; the caller restores the current ones and refreshes ghosts.
  void rebuild_from_reference(System& sys);
  // After the local atoms were permuted in storage (x0/y0/z0 with them; Simulation::sort_atoms):
  // ghosts, cells and list for the new order, built from the build reference without wrapping,
  // so the list holds the same pairs in the same canonical order and the rebuild schedule is
  // unchanged (sorting leaves the trajectory bitwise as it was). Keeps the current positions
  // and cell; synchronises (sync points only).
  void rebuild_for_new_order(System& sys);
  // Capacities to restore (checkpoints): at least these ghost slots and neighbours per atom.
  void reserve(System& sys, Index ghost_capacity, int max_neigh);
  // Makes the next update() rebuild regardless of displacements (no host transfer).
  void request_rebuild();
  // Builds until capacities suffice (setup and after a restore; synchronises).
  void build_now(System& sys);
  // Reads the device status (one counted transfer). True when a capacity was exceeded.
  NeighborStatus read_status();
  bool overflowed(const NeighborStatus& st, const System& sys) const;
  // Grows capacities to fit what the last rebuild needed (with margin).
  void grow(System& sys, const NeighborStatus& st);
  // Sets the per-atom neighbour capacity (contents invalid until the next rebuild). The run
  // grows it on demand; tests shrink it to exercise overflow handling.
  void set_max_neigh(System& sys, int max_neigh);
  // Resets the recorded maxima (after the host has checked them).
  void reset_needed();
  // After the host changed the cell (System::set_box): makes sure the cell arrays suffice
  // and requests a rebuild. (Box changes on the device need no call: each rebuild
  // recomputes the grid from the device cell within the allocated cell capacity.)
  void set_box(const System& sys);

  NeighborView view() const;

  // Device arrays (public for tests and diagnostics).
  DeviceArray<NeighborStatus> status;
  DeviceArray<int> neigh, num_neigh;
  DeviceArray<int> ghost_owner, ghost_image;  // ghost_image packs 3 ints per ghost
  DeviceArray<SlotKey> key;  // [n_local + ghost capacity] canonical slot keys of the last build
  DeviceArray<int> ghost_count, ghost_offset, scan_work;
  DeviceArray<int> atom_cell, cell_count, cell_start, cell_fill, cell_atoms;
  DeviceArray<double> x0, y0, z0;  // positions at the last build
  DeviceArray<CellGrid> grid_dev;   // grid of the last build
  DeviceArray<Box> box_at_build;

 private:
  void ensure_cell_arrays(const System& sys);
  void update(System& sys, bool wrap);
  DeviceArray<double> keep_x_, keep_y_, keep_z_;  // rebuild_for_new_order's saved positions
  DeviceArray<Box> keep_box_;
  Context* ctx_;
  std::uint64_t id_;
  double cutoff_, skin_;
  int max_neigh_ = 0;
  Index n_list_ = -1;  // set_list_atoms
  const unsigned char* list_mask_ = nullptr;
  CellGrid grid_{};        // host estimate for the host's cell (sizes the arrays)
  Index cell_capacity_ = 0;
};

}  // namespace md
