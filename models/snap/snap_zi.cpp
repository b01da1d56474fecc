// SNAP pass 2 launcher: Z per (channel pair, Z element, atom), stored for the B and Y passes
// on steps that need B. One thread per chunk of Z elements of one atom, atom index fastest.
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_zi(Context& ctx, const SnapView& s, const SystemView& sys, const SnapWork& w) {
  const Index rows = static_cast<Index>(s.nchem) * s.nchem * snap::z_chunks(s);
  parallel_for(ctx, atom_blocks(sys.n_local, w.blk) * w.blk * rows, snap::ZiKernel{s, sys, w});
}

}  // namespace md
