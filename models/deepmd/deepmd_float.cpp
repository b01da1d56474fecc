// The fused DeePMD kernel with float networks and double accumulation (mixed precision):
// environment matrix, gr, D and partial forces in double, network weights and activations in
// float. One heavy instantiation per translation unit.
#include "kernels/team.hpp"
#include "models/deepmd/deepmd_kernel.hpp"

namespace md::deepmd {

template <>
void launch_descriptor<float>(Context& ctx, const DescriptorKernel<float>& k, Index count) {
  parallel_for_team(ctx, count, kDescriptorTeam, k.lay.bytes, k);
}

}  // namespace md::deepmd
