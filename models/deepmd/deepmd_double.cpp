// The fused DeePMD kernel in double precision (one heavy instantiation per translation unit).
#include "kernels/launch.hpp"
#include "models/deepmd/deepmd_kernel.hpp"

namespace md::deepmd {

template <>
void launch_descriptor<double>(Context& ctx, const DescriptorKernel<double>& k, Index count) {
  parallel_for(ctx, count, k);
}

}  // namespace md::deepmd
