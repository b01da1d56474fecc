// MD_HD functors of the run-time safety checks (engine/safety.cpp): non-finite positions,
// velocities or forces, atoms outside a non-periodic box, the largest displacement seen at a
// neighbour check, and the closest pair in the neighbour list at the start. Lengths in the
// run's length unit. Results stay on the device until the host reads them at sync points.
#pragma once

#include <cmath>

#include "engine/box.hpp"
#include "engine/views.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"

namespace md {

// Device-side record of the per-step displacement check (see SafetyMonitor::track_step).
struct SafetyStatus {
  double worst_disp2;    // squared displacement since the last build at that check
  long long worst_step;  // first step whose neighbour check exceeded the limit (-1: none)
};

MD_INLINE bool finite_value(double v) { return v - v == 0.0; }  // false for NaN and +-Inf

// Per atom: (non-finite x/v/f ? 1 : 0, outside a non-periodic box ? 1 : 0).
struct CountBadAtoms {
  const Box* box;
  const double *x, *y, *z, *vx, *vy, *vz, *fx, *fy, *fz;
  MD_HD DVec<2> operator()(Index i) const {
    DVec<2> r = DVec<2>::zero();
    const bool ok = finite_value(x[i]) && finite_value(y[i]) && finite_value(z[i]) &&
                    finite_value(vx[i]) && finite_value(vy[i]) && finite_value(vz[i]) &&
                    finite_value(fx[i]) && finite_value(fy[i]) && finite_value(fz[i]);
    if (!ok) {
      r.v[0] = 1.0;
      return r;
    }
    double s[3];
    box->to_fractional(x[i], y[i], z[i], s);
    for (int d = 0; d < 3; ++d)
      if (!box->periodic[d] && (s[d] < 0.0 || s[d] > 1.0)) r.v[1] = 1.0;
    return r;
  }
};

// Records the first step whose neighbour check saw a displacement above the limit.
struct TrackDisplacement {
  const NeighborStatus* st;
  SafetyStatus* out;
  long long step;
  double limit2;
  MD_HD void operator()(Index) const {
    if (out->worst_step < 0 && st->max_disp2 > limit2) {
      out->worst_disp2 = st->max_disp2;
      out->worst_step = step;
    }
  }
};

struct ResetSafety {
  SafetyStatus* out;
  MD_HD void operator()(Index) const {
    out->worst_disp2 = 0.0;
    out->worst_step = -1;
  }
};

struct MinOp {
  MD_HD double operator()(double a, double b) const { return a < b ? a : b; }
};

// Smallest squared distance from local atom i to any atom in its neighbour list (the shared
// neighbour preamble AtomEnv of kernels/many_body.hpp).
struct ClosestNeighbor2 {
  SystemView sys;
  NeighborView nl;
  MD_HD double operator()(Index i) const {
    double best = 1e300;
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const double r2 = env.neighbor(k).rsq;
      if (r2 < best) best = r2;
    }
    return best;
  }
};

}  // namespace md
