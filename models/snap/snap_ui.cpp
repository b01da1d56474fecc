// SNAP pass 1 launcher: U totals per atom (one team per local atom, lanes over the entries of
// each Wigner-U layer, layers in team scratch sized from the model's twojmax).
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_ui(Context& ctx, const SnapView& s, const SystemView& sys, const NeighborView& nl,
                    const SnapWork& w) {
  parallel_for_team(ctx, sys.n_local, snap::snap_team_size(s),
                    sizeof(double) * snap::ui_scratch_doubles(s), snap::UiKernel{s, sys, nl, w});
}

}  // namespace md
