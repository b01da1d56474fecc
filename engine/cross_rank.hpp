// The one seam between a rank's device state and the other ranks for global reductions: an
// exact (fixed-point, engine/fixed_point.hpp) all-reduce of small device arrays, and a device
// max of doubles (the neighbour list's global rebuild decision, engine/neighbor.cpp). A System carries a
// CrossRankReducer* (nullptr: one rank, nothing to do); every global sum the dynamics feeds
// back (thermo, thermostat and barostat reductions) reduces its owned atoms to FVec<K> on the
// device, calls sum() and converts, so results are independent of the decomposition.
#pragma once

#include "engine/backend.hpp"
#include "engine/fixed_point.hpp"

namespace md {

class CrossRankReducer {
 public:
  virtual ~CrossRankReducer() = default;
  virtual int ranks() const = 0;
  // values: device array of `count` Fixed128 (e.g. the words of one FVec<K>); replaced by
  // their sums over all ranks. Collective: every rank calls it with the same count.
  virtual void sum(Context& ctx, Fixed128* values, int count) = 0;
  // values: device array of `count` doubles; replaced by their maxima over all ranks.
  // Collective. Implementations: host-staged (engine/comm.hpp CommReducer: counted
  // transfers) or direct (device pointers handed to the transport: no host transfer).
  virtual void max(Context& ctx, double* values, int count) = 0;
};

// Exact combination of every rank's fixed-point words after an all-gather (the NCCL transport,
// engine/nccl_transport.cpp): values[k] = sum over ranks r, in rank order, of
// gathered[r * count + k]. Integer adds, so the bits do not depend on the order; the tests run it
// on the CPU executor (tests/test_fixed_point.cpp).
struct SumRankWords {
  const Fixed128* gathered;
  Fixed128* values;
  int ranks, count;
  MD_HD void operator()(Index k) const {
    Fixed128 s = gathered[k];
    for (int r = 1; r < ranks; ++r) s += gathered[static_cast<Index>(r) * count + k];
    values[k] = s;
  }
};

}  // namespace md
