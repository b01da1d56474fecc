// Device-resident atomic state in structure-of-arrays form: positions, velocities, forces,
// types, ids, image flags for the n_local owned atoms, followed in x/y/z/type by ghost
// slots (periodic images, filled by the neighbour module). Units are the run's units.
// SystemView is the POD of raw device pointers that kernels receive.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/box.hpp"
#include "engine/cross_rank.hpp"
#include "engine/units.hpp"
#include "engine/views.hpp"

namespace md {

struct Structure;

class System {
 public:
  System(Context& ctx, const Structure& s, const Units& units);

  Context& ctx() { return *ctx_; }
  Index n_local() const { return n_local_; }
  // Atoms this rank owns: the first n_owned() local atoms (== n_local() except in a
  // decomposed run, whose local atoms [n_owned, n_local) are copies imported from other
  // ranks or periodic images). Global sums and integration cover the owned atoms only.
  Index n_owned() const { return n_owned_ < 0 ? n_local_ : n_owned_; }
  void set_n_owned(Index n) { n_owned_ = n; }
  // Exact cross-rank sums (nullptr: one rank). Not owned by the System.
  CrossRankReducer* cross_rank() const { return cross_rank_; }
  void set_cross_rank(CrossRankReducer* r) { cross_rank_ = r; }
  Index ghost_capacity() const { return ghost_capacity_; }
  int n_types() const { return static_cast<int>(type_names_.size()); }
  const std::vector<std::string>& type_names() const { return type_names_; }
  const std::vector<double>& type_masses() const { return type_masses_; }
  const Units& units() const { return units_; }
  // Host mirror of the cell: exact after set_box() and pull_box(); a barostat changes the
  // device copy every step and the host mirror is refreshed only at sync points.
  const Box& box() const { return box_; }
  // Sets the cell on host and device (one counted transfer; setup or sync points only).
  void set_box(const Box& b);
  // Refreshes the host mirror from the device (one counted transfer; sync points only).
  const Box& pull_box();
  Box* box_device() { return box_dev_.data(); }
  const Box* box_device() const { return box_dev_.data(); }

  // Grows the ghost part of x/y/z/type, keeping the local atoms.
  void reserve_ghosts(Index capacity);

  SystemView view() const;

  // Copies of the local state to the host (counted transfers; output steps only).
  Structure download() const;

  // Positions, velocities, forces: [n_local + ghost_capacity] for x/y/z and type,
  // [n_local] for the rest.
  DeviceArray<double> x, y, z, vx, vy, vz, fx, fy, fz;
  DeviceArray<int> type;
  DeviceArray<std::int64_t> id;
  DeviceArray<int> ix, iy, iz;  // image flags
  // [n_local] packed periodic image (pack_image, engine/views.hpp) of each local atom relative
  // to its owner's stored position: 0 for owned atoms and on one rank; the domain layer sets
  // it for the copies it imports (positions = owner position + that lattice shift). With the
  // id it forms the canonical key (SlotKey) that orders every neighbour list; permuted with the
  // atoms by Simulation::sort_atoms.
  DeviceArray<int> image_key;
  DeviceArray<double> mass_of_type;

 private:
  Context* ctx_;
  Index n_local_ = 0;
  Index n_owned_ = -1;
  CrossRankReducer* cross_rank_ = nullptr;
  Index ghost_capacity_ = 0;
  std::vector<std::string> type_names_;
  std::vector<double> type_masses_;
  Units units_;
  Box box_;
  DeviceArray<Box> box_dev_;
};

}  // namespace md
