// SNAP pass 3 launcher: per-atom energy (linear + quadratic) and, for quadratic models, the
// per-atom beta = dE_i/dB_i. One thread per atom.
#include "models/snap/snap_kernels.hpp"

namespace md {

void snap_launch_energy_beta(Context& ctx, const SnapView& s, const SystemView& sys,
                             const SnapWork& w, const ForceOut& out, bool eflag) {
  parallel_for(ctx, sys.n_local, snap::EnergyBetaKernel{s, sys, w, out, eflag});
}

}  // namespace md
