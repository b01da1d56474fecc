// SNAP pass 7 launcher: forces and per-atom virial gathered per local atom (no atomics).
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_force(Context& ctx, const SnapView& s, const SystemView& sys,
                       const NeighborView& nl, const SnapWork& w, const ForceOut& out,
                       bool vflag) {
  const Index npairs = static_cast<Index>(nl.max_neigh) * nl.n_local;
  parallel_for(ctx, sys.n_local, snap::ForceKernel{s, sys, nl, w, npairs, out, vflag});
}

}  // namespace md
