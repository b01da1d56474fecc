// Generic pair-potential driver over a full neighbour list: one thread per local atom sums
// f_i = sum_j (r_i - r_j) * f_over_r(r_ij) with no atomics, half of each pair energy and
// virial to each atom. The physics is the Eval functor:
//   MD_HD bool operator()(int ti, int tj, double r2, double& f_over_r, double& e, bool eflag)
// returning false beyond the pair cutoff. Units: whatever Eval uses (energy, length).
#pragma once

#include "engine/potential.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"

namespace md {

template <class Eval>
struct PairForceKernel {
  Eval eval;
  SystemView sys;
  NeighborView nl;
  ForceOut out;
  bool eflag, vflag;

  MD_HD void operator()(Index i) const {
    const int ti = sys.type[i];
    PairSums sums;
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot p = env.neighbor(k);
      double f_over_r = 0.0, eij = 0.0;
      if (!eval(ti, sys.type[p.j], p.rsq, f_over_r, eij, eflag)) continue;
      sums.add(-p.dx, -p.dy, -p.dz, f_over_r, eij, eflag, vflag);  // r_i - r_j
    }
    sums.store(out, i, sys.n_local, eflag, vflag);
  }
};

template <class Eval>
void compute_pair(Context& ctx, const Eval& eval, const SystemView& sys, const NeighborView& nl,
                  const ForceOut& out, ForceRequest req) {
  parallel_for(ctx, sys.n_local,
               PairForceKernel<Eval>{eval, sys, nl, out, req.energy, req.virial});
}

}  // namespace md
