// SNAP pass 5 launcher: dE_i/dr_ij for every neighbour slot (one thread per atom-neighbour pair).
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_deidrj(Context& ctx, const SnapView& s, const SystemView& sys,
                        const NeighborView& nl, const SnapWork& w) {
  const Index npairs = static_cast<Index>(nl.max_neigh) * nl.n_local;
  parallel_for(ctx, npairs, snap::DeidrjKernel{s, sys, nl, w, npairs});
}

}  // namespace md
