// The fused DeePMD kernel in double precision (one heavy instantiation per translation unit).
#include "kernels/team.hpp"
#include "models/deepmd/deepmd_kernel.hpp"

namespace md::deepmd {

template <>
void launch_descriptor<double>(Context& ctx, const DescriptorKernel<double>& k, Index count) {
  parallel_for_team(ctx, count, kDescriptorTeam, k.lay.bytes, k);
}

}  // namespace md::deepmd
