// SNAP pass 5 launcher: adjoint Y, one thread per (density channel, half-U index, atom).
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_yi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w) {
  parallel_for(ctx, atom_blocks(sys.n_local, w.blk) * w.blk * s.nchem * s.idxu_half_max,
               snap::YiKernel{s, sys, w});
}

}  // namespace md
