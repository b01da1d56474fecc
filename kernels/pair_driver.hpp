// Generic pair-potential driver over a full neighbour list: one thread per local atom sums
// f_i = sum_j (r_i - r_j) * f_over_r(r_ij) with no atomics, half of each pair energy and
// virial to each atom. The physics is the Eval functor:
//   MD_HD bool operator()(int ti, int tj, double r2, double& f_over_r, double& e, bool eflag)
// returning false beyond the pair cutoff. Units: whatever Eval uses (energy, length).
#pragma once

#include "engine/potential.hpp"
#include "kernels/launch.hpp"

namespace md {

template <class Eval>
struct PairForceKernel {
  Eval eval;
  SystemView sys;
  NeighborView nl;
  ForceOut out;
  bool eflag, vflag;

  MD_HD void operator()(Index i) const {
    const double xi = sys.x[i], yi = sys.y[i], zi = sys.z[i];
    const int ti = sys.type[i];
    double fx = 0, fy = 0, fz = 0, e = 0;
    double v0 = 0, v1 = 0, v2 = 0, v3 = 0, v4 = 0, v5 = 0;
    const int nn = nl.num_neigh[i];
    for (int k = 0; k < nn; ++k) {
      const int j = nl.neigh[static_cast<Index>(k) * nl.n_local + i];
      const double dx = xi - sys.x[j], dy = yi - sys.y[j], dz = zi - sys.z[j];
      const double r2 = dx * dx + dy * dy + dz * dz;
      double f_over_r = 0.0, eij = 0.0;
      if (!eval(ti, sys.type[j], r2, f_over_r, eij, eflag)) continue;
      fx += dx * f_over_r;
      fy += dy * f_over_r;
      fz += dz * f_over_r;
      if (eflag) e += 0.5 * eij;
      if (vflag) {
        const double h = 0.5 * f_over_r;
        v0 += h * dx * dx;
        v1 += h * dy * dy;
        v2 += h * dz * dz;
        v3 += h * dx * dy;
        v4 += h * dx * dz;
        v5 += h * dy * dz;
      }
    }
    store_force(out, i, fx, fy, fz);
    if (eflag) store_energy(out, i, e);
    if (vflag) {
      const double v[6] = {v0, v1, v2, v3, v4, v5};
      store_virial(out, i, sys.n_local, v);
    }
  }
};

template <class Eval>
void compute_pair(Context& ctx, const Eval& eval, const SystemView& sys, const NeighborView& nl,
                  const ForceOut& out, ForceRequest req) {
  parallel_for(ctx, sys.n_local,
               PairForceKernel<Eval>{eval, sys, nl, out, req.energy, req.virial});
}

}  // namespace md
