// Team kernels (hierarchical parallelism, as Kokkos' TeamPolicy/TeamThreadRange in LAMMPS
// KOKKOS): one team per work item (an atom, a tile of atoms, an atom x neighbour chunk), lane
// loops over the team, team scratch memory, barriers and lane reductions. Used by the
// many-body and ML kernels whose per-item work is too wide for one thread (Wigner-U layers,
// embedding and fitting networks, descriptor channels).
//
// CUDA: a team is a block of `team_size` threads (a power of two, <= 1024); scratch lives in
// dynamic shared memory; lanes of a loop are the block's threads; barriers are __syncthreads.
// CPU: one OpenMP thread runs a whole team with team size 1, its lane loops in order, scratch
// in a per-thread buffer — so the CPU tests execute the same maths the GPU runs. In strict
// mode (Context::lane_shuffle(), on in the test suite) the CPU runs each lane loop in a
// permuted order, so a lane that reads another lane's result inside the same loop (a race on
// a GPU) changes the answer and fails a test.
//
// Rules for a team functor f(const Team& t):
//   * every lane executes the same sequence of team_barrier / team_sum / team_single calls
//     (never call them inside a team_for body or a lane-dependent branch);
//   * inside one team_for, iteration k may write scratch slots owned by k only and read
//     slots written before the last barrier;
//   * team_sum returns the same value on every lane.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/launch.hpp"

namespace md {

// Bytes of team scratch reserved per lane for team_sum (up to 8 doubles per lane).
constexpr std::size_t kTeamReduceBytesPerLane = 8 * sizeof(double);

struct Team {
  Index item;              // the work item this team computes
  int rank;                // lane id in [0, size)
  int size;                // lanes in the team (1 on the CPU executor)
  unsigned char* scratch;  // team scratch (user part), 8-byte aligned
  unsigned char* reduce;   // reduction area: size * kTeamReduceBytesPerLane bytes
  std::uint32_t shuffle;   // CPU strict mode: nonzero seeds a permuted lane order

  // Typed view of team scratch at a byte offset (the caller keeps offsets aligned).
  template <class T>
  MD_HD T* scratch_as(std::size_t byte_offset = 0) const {
    return reinterpret_cast<T*>(scratch + byte_offset);
  }
};

namespace detail {
MD_INLINE int gcd_int(int a, int b) {
  while (b != 0) {
    const int t = a % b;
    a = b;
    b = t;
  }
  return a;
}
}  // namespace detail

// body(k) for k in [0, n), spread over the team's lanes.
template <class Body>
MD_INLINE void team_for(const Team& t, int n, Body&& body) {
#if defined(__CUDA_ARCH__)
  for (int k = t.rank; k < n; k += t.size) body(k);
#else
  // In order: k = i. Strict mode: the affine permutation k = (offset + stride * i) mod n with
  // gcd(stride, n) = 1; the stride is never 1, and n - 1 (reverse order) when nothing else is
  // coprime. One call site of body, so the compiler inlines it (a second loop for the
  // permuted order kept large bodies out of line: ~1.3x slower SNAP dE/dr on the CPU).
  // The permutation depends on n only, never on the item: a team's lane sums (team_sum) then
  // add in an order that does not depend on where the atom is stored (issue 16: runs are
  // bitwise independent of the storage order and the decomposition, strict mode included).
  int stride = 1, offset = 0;
  if (t.shuffle != 0 && n > 1) {
    const std::uint32_t h = (t.shuffle * 40503u) ^ static_cast<std::uint32_t>(n) * 97u;
    stride = n - 1;
    for (int c = static_cast<int>(h % static_cast<std::uint32_t>(n)), tries = 0; tries < 8;
         ++tries, c = (c + 7) % n) {
      if (c > 1 && detail::gcd_int(c, n) == 1) {
        stride = c;
        break;
      }
    }
    offset = static_cast<int>((h >> 8) % static_cast<std::uint32_t>(n));
    if (stride == 1) offset = 1;  // n = 2: the reverse order
  }
  for (int i = 0, k = offset; i < n; ++i) {
    body(k);
    k += stride;
    if (k >= n) k -= n;
  }
#endif
}

// All lanes wait until every lane has reached this point (scratch writes visible).
MD_INLINE void team_barrier(const Team&) {
#if defined(__CUDA_ARCH__)
  __syncthreads();
#endif
}

// body() on one lane, then a barrier.
template <class Body>
MD_INLINE void team_single(const Team& t, Body&& body) {
  if (t.rank == 0) body();
  team_barrier(t);
}

// Sum of f(k) over k in [0, n), returned on every lane. T is double or DVec<K> with
// sizeof(T) <= kTeamReduceBytesPerLane. Deterministic for a given team size.
template <class T, class F>
MD_INLINE T team_sum(const Team& t, int n, F&& f) {
  static_assert(sizeof(T) <= kTeamReduceBytesPerLane, "team_sum: value type too large");
#if defined(__CUDA_ARCH__)
  T acc{};
  for (int k = t.rank; k < n; k += t.size) acc += f(k);
  T* red = reinterpret_cast<T*>(t.reduce);
  red[t.rank] = acc;
  __syncthreads();
  for (int half = t.size / 2; half > 0; half /= 2) {
    if (t.rank < half) red[t.rank] += red[t.rank + half];
    __syncthreads();
  }
  const T total = red[0];
  __syncthreads();
  return total;
#else
  T acc{};
  team_for(t, n, [&](int k) { acc += f(k); });
  return acc;
#endif
}

#if defined(__CUDACC__)
template <class F>
__global__ void team_kernel(Index n_items, std::size_t scratch_bytes, F f) {
  extern __shared__ __align__(16) unsigned char team_shared[];
  Team t;
  t.rank = static_cast<int>(threadIdx.x);
  t.size = static_cast<int>(blockDim.x);
  t.scratch = team_shared;
  t.reduce = team_shared + (scratch_bytes + 15) / 16 * 16;
  t.shuffle = 0;
  for (Index item = blockIdx.x; item < n_items; item += gridDim.x) {
    t.item = item;
    f(t);
    __syncthreads();  // the next item reuses the scratch
  }
}
#endif

inline namespace MDGPU_LAUNCH_ABI {  // see kernels/launch.hpp: host and nvcc bodies differ

// Scratch bytes a launch needs besides the user part (the lane reduction area).
inline std::size_t team_reduce_bytes(int team_size) {
  return static_cast<std::size_t>(team_size) * kTeamReduceBytesPerLane;
}

namespace detail {
template <class F>
void cpu_team(Index n_items, std::size_t user, std::uint32_t shuffle, const F& f);
}  // namespace detail

// f(team) for every work item in [0, n_items). team_size: lanes per team on CUDA (power of
// two, 32..1024; the CPU executor always uses 1). scratch_bytes: user scratch per team.
template <class F>
void parallel_for_team(Context& ctx, Index n_items, int team_size, std::size_t scratch_bytes,
                       const F& f) {
  if (n_items <= 0) return;
  ++ctx.counters().launches;
  KernelScope scope(ctx, kernel_name<F>());
  const std::size_t user = (scratch_bytes + 15) / 16 * 16;
  if (ctx.on_cuda()) {
#if defined(__CUDACC__)
    if (team_size < 1 || team_size > 1024 || (team_size & (team_size - 1)) != 0)
      throw Error("internal: team size must be a power of two in [1, 1024]");
    const std::size_t shared = user + team_reduce_bytes(team_size);
    if (shared > 48 * 1024) {
      const cudaError_t err = cudaFuncSetAttribute(
          team_kernel<F>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(shared));
      if (err != cudaSuccess)
        throw Error("team kernel needs " + std::to_string(shared) +
                    " bytes of shared memory per block: " + cudaGetErrorString(err));
    }
    const unsigned blocks = static_cast<unsigned>(std::min<Index>(n_items, 1 << 20));
    team_kernel<<<blocks, team_size, shared, static_cast<cudaStream_t>(ctx.stream())>>>(
        n_items, scratch_bytes, f);
    check_launch("parallel_for_team");
    if (ctx.capturing()) ctx.count_node();
    return;
#else
    (void)team_size;
    throw_not_cuda_compiled();
#endif
  }
  const std::uint32_t shuffle = ctx.lane_shuffle() ? 0x9e3779b9u : 0u;
  if (ctx.capturing())
    ctx.record([n_items, user, shuffle, f] { detail::cpu_team(n_items, user, shuffle, f); });
  detail::cpu_team(n_items, user, shuffle, f);
}

namespace detail {
// CPU executor body of parallel_for_team (also the closure a step-graph capture records).
template <class F>
void cpu_team(Index n_items, std::size_t user, std::uint32_t shuffle, const F& f) {
  const std::size_t per_thread = user + team_reduce_bytes(1);
#pragma omp parallel
  {
    std::vector<double> buffer((per_thread + sizeof(double) - 1) / sizeof(double) + 2);
    unsigned char* base = reinterpret_cast<unsigned char*>(buffer.data());
    Team t;
    t.rank = 0;
    t.size = 1;
    t.scratch = base;
    t.reduce = base + user;
    t.shuffle = shuffle;
#pragma omp for schedule(static)
    for (Index item = 0; item < n_items; ++item) {
      t.item = item;
      f(t);
    }
  }
}
}  // namespace detail

// ---------------------------------------------------------------- flag-gated exclusive scan
// out[i] = sum_{k<i} in[i], *total = sum of all, computed only when *gate != 0 (gate may be
// null: always). Three phases over fixed chunks so it runs on either executor and can sit in
// the step loop without the host ever reading the gate: chunk sums (one thread per chunk),
// chunk offsets (one team: a block scan of tiles of chunk sums in team scratch, carried
// across tiles) and the scan within chunks. Integer sums: the same result on every executor
// and team size. Rebuild-time only.

namespace detail {
constexpr Index kScanChunk = 256;

struct ScanChunkSums {
  const int* gate;
  const int* in;
  int* chunk_sum;
  Index n;
  MD_HD void operator()(Index c) const {
    if (gate && *gate == 0) return;
    int s = 0;
    const Index end = (c + 1) * kScanChunk < n ? (c + 1) * kScanChunk : n;
    for (Index i = c * kScanChunk; i < end; ++i) s += in[i];
    chunk_sum[c] = s;
  }
};

// Exclusive scan of the chunk sums in place, by one team: tiles of kScanTile sums are loaded
// into team scratch and scanned with log2(kScanTile) double-buffered passes (Hillis-Steele),
// the running carry is added as each tile is written back.
constexpr int kScanTile = 256;
struct ScanChunkOffsets {
  const int* gate;
  int* chunk_sum;  // in: sums, out: exclusive offsets
  Index nchunks;
  int* total;
  MD_HD void operator()(const Team& t) const {
    if (gate && *gate == 0) return;  // the same for every lane: no barrier is skipped by some
    int* a = t.scratch_as<int>(0);
    int* b = a + kScanTile;
    int carry = 0;  // identical on every lane
    for (Index base = 0; base < nchunks; base += kScanTile) {
      const int m = nchunks - base < kScanTile ? static_cast<int>(nchunks - base) : kScanTile;
      team_for(t, m, [&](int k) { a[k] = chunk_sum[base + k]; });
      team_barrier(t);
      int* src = a;
      int* dst = b;
      for (int off = 1; off < m; off *= 2) {
        team_for(t, m, [&](int k) { dst[k] = k >= off ? src[k] + src[k - off] : src[k]; });
        team_barrier(t);
        int* tmp = src;
        src = dst;
        dst = tmp;
      }
      team_for(t, m, [&](int k) { chunk_sum[base + k] = carry + (k > 0 ? src[k - 1] : 0); });
      carry += src[m - 1];
      team_barrier(t);  // the next tile overwrites the scratch
    }
    team_single(t, [&]() { *total = carry; });
  }
};

struct ScanWithinChunks {
  const int* gate;
  const int* in;
  int* out;
  const int* chunk_offset;
  Index n;
  MD_HD void operator()(Index c) const {
    if (gate && *gate == 0) return;
    int run = chunk_offset[c];
    const Index end = (c + 1) * kScanChunk < n ? (c + 1) * kScanChunk : n;
    for (Index i = c * kScanChunk; i < end; ++i) {
      const int v = in[i];
      out[i] = run;
      run += v;
    }
  }
};
}  // namespace detail

// `work` must hold at least scan_work_size(n) ints of device memory.
inline Index scan_work_size(Index n) { return (n + detail::kScanChunk - 1) / detail::kScanChunk + 1; }

inline void exclusive_scan_gated(Context& ctx, const int* gate, Index n, const int* in, int* out,
                                 int* total, int* work) {
  const Index nchunks = (n + detail::kScanChunk - 1) / detail::kScanChunk;
  parallel_for(ctx, nchunks, detail::ScanChunkSums{gate, in, work, n});
  parallel_for_team(ctx, 1, detail::kScanTile, 2 * detail::kScanTile * sizeof(int),
                    detail::ScanChunkOffsets{gate, work, nchunks, total});
  parallel_for(ctx, nchunks, detail::ScanWithinChunks{gate, in, out, work, n});
}

}  // inline namespace MDGPU_LAUNCH_ABI

}  // namespace md
