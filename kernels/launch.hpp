// Launch glue: apply an MD_HD functor over an index range on the Context's executor, and
// the few data-parallel primitives built on it (deterministic reductions — CUB on CUDA —,
// a flag-gated exclusive scan, atomics). The scan and the cell sort are functors rather than
// CUB calls because they sit in the step loop gated by a device flag that the host never
// reads: a CUB call cannot be skipped by a device-side condition. The CPU executor runs the same functor in an OpenMP loop; the
// CUDA executor launches a grid-stride kernel. Only this header contains CUDA syntax.
//
// A translation unit that launches kernels must be compiled by nvcc in CUDA builds (see
// CMakeLists.txt: sources in engine/, kernels/, models/, integrators/ except *_config.cpp
// and *_io.cpp). Compiled by a host compiler, a launch on a CUDA Context throws.
#pragma once

#include <algorithm>
#include <cstdint>
#include <typeinfo>

#include "engine/backend.hpp"
#include "engine/error.hpp"
#include "engine/views.hpp"

#if defined(__CUDACC__)
#include <cuda_runtime.h>

#include <cub/device/device_reduce.cuh>
#include <thrust/iterator/counting_iterator.h>
#endif

namespace md {

// ---------------------------------------------------------------- device-side helpers

MD_INLINE int atomic_add(int* p, int v) {
#if defined(__CUDA_ARCH__)
  return atomicAdd(p, v);
#else
  return __atomic_fetch_add(p, v, __ATOMIC_RELAXED);
#endif
}

MD_INLINE void atomic_max(int* p, int v) {
#if defined(__CUDA_ARCH__)
  atomicMax(p, v);
#else
  int cur = __atomic_load_n(p, __ATOMIC_RELAXED);
  while (v > cur && !__atomic_compare_exchange_n(p, &cur, v, true, __ATOMIC_RELAXED,
                                                 __ATOMIC_RELAXED)) {
  }
#endif
}

struct SumOp {
  template <class T>
  MD_HD T operator()(T a, const T& b) const {
    a += b;
    return a;
  }
};

struct MaxOp {
  MD_HD double operator()(double a, double b) const { return a > b ? a : b; }
};

// ---------------------------------------------------------------- CUDA kernels (glue only)

#if defined(__CUDACC__)
constexpr int kBlock = 256;

template <class F>
__global__ void grid_stride_kernel(Index n, F f) {
  const Index stride = static_cast<Index>(blockDim.x) * gridDim.x;
  for (Index i = static_cast<Index>(blockIdx.x) * blockDim.x + threadIdx.x; i < n; i += stride)
    f(i);
}

inline void check_launch(const char* what) {
  cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw Error(std::string("CUDA launch failed (") + what + "): " + cudaGetErrorString(err));
}
#endif

// ODR guard: the launch templates compile to different bodies in nvcc and host translation
// units (a CUDA launch there, a throw here). Each kind lives in its own inline namespace, so
// the two never share a symbol and the linker cannot pick a host body for an nvcc caller.
#if defined(__CUDACC__)
#define MDGPU_LAUNCH_ABI nvcc_tu
#else
#define MDGPU_LAUNCH_ABI host_tu
#endif
inline namespace MDGPU_LAUNCH_ABI {

// Name of a kernel for debug-sync messages (mangled; Context demangles it when needed).
template <class F>
inline const char* kernel_name() {
  return typeid(F).name();
}

[[noreturn]] inline void throw_not_cuda_compiled() {
  throw Error(
      "internal: kernel launched on the CUDA executor from a translation unit not compiled "
      "by nvcc");
}

// ---------------------------------------------------------------- launches

namespace detail {
// CPU executor bodies (also the closures a step-graph capture records).
template <class F>
void cpu_for(Index n, const F& f) {
#pragma omp parallel for schedule(static)
  for (Index i = 0; i < n; ++i) f(i);
}

template <class T, class F, class Op>
void cpu_reduce(Context& ctx, Index n, const F& f, Op op, T identity, T* out) {
  constexpr Index chunk = 1024;
  const Index nchunks = (n + chunk - 1) / chunk;
  T* partials = static_cast<T*>(ctx.scratch(sizeof(T) * static_cast<std::size_t>(nchunks + 1)));
#pragma omp parallel for schedule(static)
  for (Index c = 0; c < nchunks; ++c) {
    T acc = identity;
    const Index end = std::min(n, (c + 1) * chunk);
    for (Index i = c * chunk; i < end; ++i) acc = op(acc, f(i));
    partials[c] = acc;
  }
  T acc = identity;
  for (Index c = 0; c < nchunks; ++c) acc = op(acc, partials[c]);
  *out = acc;
}
}  // namespace detail

// f(i) for i in [0, n).
template <class F>
void parallel_for(Context& ctx, Index n, const F& f) {
  if (n <= 0) return;
  ++ctx.counters().launches;
  KernelScope scope(ctx, kernel_name<F>());
  if (ctx.on_cuda()) {
#if defined(__CUDACC__)
    const Index want = (n + kBlock - 1) / kBlock;
    const unsigned blocks = static_cast<unsigned>(std::min<Index>(want, 1 << 20));
    grid_stride_kernel<<<blocks, kBlock, 0, static_cast<cudaStream_t>(ctx.stream())>>>(n, f);
    check_launch("parallel_for");
    if (ctx.capturing()) ctx.count_node();
    return;
#else
    throw_not_cuda_compiled();
#endif
  }
  if (ctx.capturing()) ctx.record([n, f] { detail::cpu_for(n, f); });  // a copy, as CUDA's
  detail::cpu_for(n, f);
}

// *out = op-fold of f(i) over [0, n), with out a device pointer. Deterministic: on the CPU
// the combination order depends only on n (fixed chunks, never on threads); on CUDA it is
// CUB's DeviceReduce (run-to-run deterministic on a given device).
template <class T, class F, class Op>
void reduce(Context& ctx, Index n, const F& f, Op op, T identity, T* out) {
  ++ctx.counters().launches;
  KernelScope scope(ctx, kernel_name<F>());
  if (ctx.on_cuda()) {
#if defined(__CUDACC__)
    auto s = static_cast<cudaStream_t>(ctx.stream());
    thrust::counting_iterator<Index> first(0);
    std::size_t bytes = 0;
    cub::DeviceReduce::TransformReduce(nullptr, bytes, first, out, n, op, f, identity, s);
    void* temp = ctx.scratch(bytes);
    const cudaError_t err =
        cub::DeviceReduce::TransformReduce(temp, bytes, first, out, n, op, f, identity, s);
    if (err != cudaSuccess)
      throw Error(std::string("CUB reduction failed: ") + cudaGetErrorString(err));
    if (ctx.capturing()) ctx.count_node();
    return;
#else
    throw_not_cuda_compiled();
#endif
  }
  if (ctx.capturing()) {
    Context* c = &ctx;
    ctx.record([c, n, f, op, identity, out] { detail::cpu_reduce(*c, n, f, op, identity, out); });
  }
  detail::cpu_reduce(ctx, n, f, op, identity, out);
}

template <class T, class F>
void reduce_sum(Context& ctx, Index n, const F& f, T* out) {
  reduce(ctx, n, f, SumOp{}, T::zero(), out);
}

namespace detail {
template <class T>
struct ZeroOf {
  MD_HD T operator()(Index) const { return T::zero(); }
};
template <class T>
std::size_t reduce_bytes(Context& ctx, Index n) {
  if (ctx.on_cuda()) {
#if defined(__CUDACC__)
    std::size_t bytes = 0;
    thrust::counting_iterator<Index> first(0);
    cub::DeviceReduce::TransformReduce(nullptr, bytes, first, static_cast<T*>(nullptr), n,
                                       SumOp{}, ZeroOf<T>{}, T::zero(),
                                       static_cast<cudaStream_t>(ctx.stream()));
    return bytes;
#else
    throw_not_cuda_compiled();
#endif
  }
  return sizeof(T) * static_cast<std::size_t>((n + 1023) / 1024 + 1);
}
}  // namespace detail

// Workspace a reduction over up to n items needs (value types up to DVec<16>); reserve it
// at setup (Context::reserve_scratch) so the step loop never reallocates.
inline std::size_t reduction_scratch_bytes(Context& ctx, Index n) {
  return std::max({detail::reduce_bytes<DVec<1>>(ctx, n), detail::reduce_bytes<DVec<3>>(ctx, n),
                   detail::reduce_bytes<DVec<8>>(ctx, n), detail::reduce_bytes<DVec<16>>(ctx, n)});
}


// ---------------------------------------------------------------- small functors

template <class T>
struct FillFunctor {
  T* a;
  T value;
  MD_HD void operator()(Index i) const { a[i] = value; }
};

template <class T>
void fill(Context& ctx, T* a, Index n, T value) {
  parallel_for(ctx, n, FillFunctor<T>{a, value});
}

}  // inline namespace MDGPU_LAUNCH_ABI

}  // namespace md

// The flag-gated exclusive scan (exclusive_scan_gated) uses a team kernel: it lives in
// kernels/team.hpp, included here so that users of this header keep seeing it.
#include "kernels/team.hpp"
