// Exact global sums of per-atom terms: every term (a DVec<K> per owned atom, in the quantity's
// own units) is converted to 128-bit fixed point (engine/fixed_point.hpp), the owned atoms
// [0, sys.n_owned()) are reduced on the device, the ranks' sums are combined by
// sys.cross_rank() when set, and the result is converted back to DVec<K> on the device. The
// bits of the result do not depend on the order of the atoms, the threads or the ranks. No
// host transfer and no host work between the launches (CUDA-graph capture safe). Used by
// ThermoCompute (engine/thermo) and the thermostat/barostat reductions (integrators/).
// Layering: a public engine header never includes kernels/, so exact_sum() finds reduce_sum
// and parallel_for by argument-dependent lookup where it is instantiated: a translation unit
// that calls it includes kernels/launch.hpp (it launches kernels, so it does anyway).
#pragma once

#include <cstddef>

#include "engine/backend.hpp"
#include "engine/fixed_point.hpp"
#include "engine/system.hpp"
#include "engine/views.hpp"

namespace md {

namespace exact_detail {
template <int K, class F>
struct FixedTerms {
  F terms;
  MD_HD FVec<K> operator()(Index i) const { return to_fixed(terms(i)); }
};

template <int K>
struct FixedToDouble {
  const FVec<K>* in;
  DVec<K>* out;
  MD_HD void operator()(Index) const { *out = to_double(*in); }
};
}  // namespace exact_detail

// *out = exact sum over the owned atoms (all ranks) of terms(i), a DVec<K> functor.
// work: a device FVec<K> (the fixed-point sum before conversion; left holding it).
template <int K, class F>
void exact_sum(Context& ctx, const System& sys, const F& terms, FVec<K>* work, DVec<K>* out) {
  reduce_sum(ctx, sys.n_owned(), exact_detail::FixedTerms<K, F>{terms}, work);
  if (CrossRankReducer* cr = sys.cross_rank())
    cr->sum(ctx, reinterpret_cast<Fixed128*>(work), FVec<K>::words());  // v[K], rejected
  parallel_for(ctx, 1, exact_detail::FixedToDouble<K>{work, out});
}

// The same with its own device workspace.
template <int K>
class ExactSum {
 public:
  explicit ExactSum(Context& ctx) : work_(ctx, 1) {}
  template <class F>
  void operator()(Context& ctx, const System& sys, const F& terms, DVec<K>* out) {
    exact_sum<K>(ctx, sys, terms, work_.data(), out);
  }

 private:
  DeviceArray<FVec<K>> work_;
};

// Reduction workspace (Context::reserve_scratch) for exact sums of up to 16 values over n
// atoms; reserve it at setup so the step loop never reallocates (engine/exact_sum.cpp).
std::size_t exact_sum_scratch_bytes(Context& ctx, Index n);

}  // namespace md
