// Workspace size of the exact sums (engine/exact_sum.hpp): the reduction of FVec<16>.
#include "engine/exact_sum.hpp"

#include "kernels/launch.hpp"

namespace md {

std::size_t exact_sum_scratch_bytes(Context& ctx, Index n) {
  return detail::reduce_bytes<FVec<16>>(ctx, n);
}

}  // namespace md
