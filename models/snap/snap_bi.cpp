// SNAP pass 3 launcher: bispectrum components, one thread per (component, atom), from stored Z.
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_bi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w) {
  parallel_for(ctx, atom_blocks(sys.n_local, w.blk) * w.blk * s.ncoeff, snap::BiKernel{s, sys, w});
}

}  // namespace md
