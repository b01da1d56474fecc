// SNAP pass 3 launcher: bispectrum components, one thread per (component, atom), from stored Z.
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_bi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w) {
  parallel_for(ctx, sys.n_local * s.ncoeff, snap::BiKernel{s, sys, w});
}

}  // namespace md
