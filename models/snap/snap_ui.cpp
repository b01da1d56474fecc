// SNAP pass 1 launcher: U totals per atom (one thread per local atom over its neighbours).
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_ui(Context& ctx, const SnapView& s, const SystemView& sys,
                    const NeighborView& nl, const SnapWork& w) {
  parallel_for(ctx, sys.n_local, snap::UiKernel{s, sys, nl, w});
}

}  // namespace md
