// SNAP pass 6 launcher: dE_i/dr_ij for every neighbour slot into the pair partials (one team
// per local atom over its neighbours, lanes over the entries of each U / dU layer in scratch).
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_deidrj(Context& ctx, const SnapView& s, const SystemView& sys,
                        const NeighborView& nl, const SnapWork& w, const PairPartialsView& g) {
  parallel_for_team(ctx, sys.n_local, snap::snap_team_size(s),
                    sizeof(double) * snap::deidrj_scratch_doubles(s),
                    snap::DeidrjKernel{s, sys, nl, w, g});
}

}  // namespace md
