// SNAP pass 2 launcher: Z per (channel pair, Z element, atom), stored for the B and Y passes
// on steps that need B. One thread each, atom index fastest.
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_zi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w) {
  parallel_for(ctx, sys.n_local * s.nchem * s.nchem * static_cast<Index>(s.idxz_max),
               snap::ZiKernel{s, sys, w});
}

}  // namespace md
