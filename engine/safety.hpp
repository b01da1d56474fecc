// Run-time safety checks, cheap and on the device: non-finite positions/velocities/forces
// and atoms outside a non-periodic box (a reduction at each sync point), an atom moving
// more than the skin between two neighbour checks (a one-thread kernel per step recording
// the displacement the neighbour check already computed), and overlapping atoms at the
// start (closest pair in the neighbour list). Called by the run pipeline (io/app.cpp).
#pragma once

#include <string>

#include "engine/backend.hpp"
#include "engine/error.hpp"
#include "engine/neighbor.hpp"
#include "engine/system.hpp"
#include "engine/views.hpp"

namespace md {

struct SafetyStatus;

// A failed safety check: the run stops after writing the last good state.
struct SafetyError : Error {
  using Error::Error;
};

struct SafetyLimits {
  double min_distance = 0.5;   // closest allowed pair at the start (length unit)
  double max_displacement = 0;  // per neighbour check; 0: the skin
};

class SafetyMonitor {
 public:
  SafetyMonitor(Context& ctx, const SafetyLimits& limits, double skin);
  ~SafetyMonitor();
  // Per step, after the neighbour update: records the displacement of this step's check.
  void track_step(NeighborList& nl, long step);
  // Forgets the recorded displacement (several ranks: the steps since the last sync point are
  // replayed after a collective roll-back).
  void reset_tracking();
  // At sync points (one counted transfer each): throws SafetyError naming step, atom ids
  // and cause when positions/velocities/forces are not finite, an atom left a non-periodic
  // box, or an atom moved more than the limit between two neighbour checks.
  void check(System& sys, long step);
  // At the start, after the neighbour build: throws SafetyError for a pair closer than
  // min_distance (naming both atom ids and the distance).
  void check_overlaps(System& sys, const NeighborList& nl, long step);

 private:
  Context* ctx_;
  SafetyLimits limits_;
  double limit2_;
  DeviceArray<SafetyStatus> status_;
  DeviceArray<DVec<2>> counts_;
  DeviceArray<double> closest2_;
};

}  // namespace md
