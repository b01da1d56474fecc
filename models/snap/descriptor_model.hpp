// Linear or quadratic model over per-atom descriptors (the model half of a LAMMPS ML-IAP
// style descriptor/model split): E_i = c0 + c.B_i + 1/2 B_i.A.B_i and beta_i = dE_i/dB_i =
// c + A B_i, A dense symmetric per element. Energies in the model's units (eV for SNAP).
// Used by SNAP (snap_energy.cpp); any descriptor with a [ndesc][n] array can reuse it.
#pragma once

#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "kernels/team.hpp"

namespace md {

// Layout of per-atom arrays: atoms in blocks of `blk`; within a block, component c of its
// atoms is contiguous. Element (i, c) of an array with ncomp components per atom is at
// atom_minor(i, ncomp, blk) + c * blk. On CUDA blk = kAtomBlockGpu (one warp): atom-minor,
// a warp's 32 threads on one component of 32 neighbouring atoms read one contiguous 256-byte
// segment. On the CPU blk = 1: atom-major, one thread's atom keeps its components in one
// cache-resident run (the layout follows the executor, as Kokkos' LayoutLeft/LayoutRight).
// Arrays hold atom_blocks(n, blk) * ncomp * blk elements.
constexpr int kAtomBlockGpu = 32;
inline int atom_block_for(const Context& ctx) { return ctx.on_cuda() ? kAtomBlockGpu : 1; }
MD_INLINE Index atom_minor(Index i, Index ncomp, int blk) {
#if !defined(__CUDA_ARCH__)
  if (blk == 1) return i * ncomp;  // the CPU layout: no 64-bit divisions per item
#endif
  return (i / blk) * ncomp * blk + i % blk;
}
MD_INLINE Index atom_blocks(Index n, int blk) { return (n + blk - 1) / blk; }
// Flat item t of a pass with `rows` items per atom, atom fastest within a block:
// t = (block * rows + row) * blk + lane; returns the atom (may be >= n) and the row.
MD_INLINE Index atom_item(Index t, Index rows, int blk, Index& row) {
  if (blk == 1) {  // the CPU layout: one division
    const Index i = t / rows;
    row = t - i * rows;
    return i;
  }
  const Index per = rows * blk;
  const Index b = t / per;
  const Index rem = t - b * per;
  row = rem / blk;
  return b * blk + (rem - row * blk);
}

// Device view. Per element e: c0[e], lin[e * ndesc + k], quad[(e * ndesc + l) * ndesc + k]
// (symmetric; null for a linear model).
struct DescriptorModelView {
  int ndesc;
  int nelem;
  const int* type_element;  // [n_types] system type -> model element, -1 = not handled
  const double* c0;
  const double* lin;
  const double* quad;
};

// Host side: coefficients per element, the quadratic part unpacked once (at load) from the
// packed upper triangle a_kk, a_k(k+1), ..., a_(k)(ndesc-1), a_(k+1)(k+1), ... (LAMMPS
// .snapcoeff order, energy 1/2 a_kk B_k^2 + a_kl B_k B_l for k < l) into a dense matrix.
class DescriptorModel {
 public:
  // coeff: per element [1 + ndesc (+ ndesc (ndesc + 1) / 2 when quadratic)], stride
  // `stride` between elements.
  DescriptorModel(Context& ctx, int ndesc, bool quadratic, const std::vector<double>& coeff,
                  int stride, int nelem, const std::vector<int>& type_element);
  bool quadratic() const { return quadratic_; }
  int ndesc() const { return ndesc_; }
  DescriptorModelView view() const;
  // Atoms per team of the model kernel (the descriptor tile) and its scratch bytes.
  int tile() const { return tile_; }
  std::size_t device_bytes() const;

 private:
  int ndesc_, nelem_, tile_;
  bool quadratic_;
  DeviceArray<int> type_element_;
  DeviceArray<double> c0_, lin_, quad_;
};

// E_i (when eflag) and, for quadratic models, beta_i = c + A B_i, for a tile of atoms per
// team: lanes over rows k of A (A[l][k] read across lanes: coalesced, A symmetric), the
// tile's B in scratch. b, beta: atom-minor with ndesc components (atom_minor).
struct DescriptorModelKernel {
  DescriptorModelView m;
  const int* type;  // [n] system types
  Index n;
  int tile;
  int blk;  // atom block of b and beta (atom_minor)
  const double* b;
  double* beta;  // null for linear models
  ForceOut out;
  bool eflag;

  MD_HD void operator()(const Team& t) const {
    const int nd = m.ndesc;
    const Index i0 = t.item * tile;
    const int na = static_cast<int>(n - i0 < tile ? n - i0 : tile);
    double* bs = t.scratch_as<double>();             // [tile][nd]
    double* g = bs + static_cast<Index>(tile) * nd;  // [tile][nd]: (A B)_k
    team_for(t, na * nd, [&](int e) {
      const int k = e / na, a = e - k * na;
      bs[a * nd + k] = b[atom_minor(i0 + a, nd, blk) + static_cast<Index>(k) * blk];
    });
    team_barrier(t);
    if (m.quad) {
      team_for(t, nd, [&](int k) {
        for (int a = 0; a < na; ++a) {
          const int el = m.type_element[type[i0 + a]];
          double acc = 0.0;
          if (el >= 0) {
            const double* ae = m.quad + static_cast<Index>(el) * nd * nd;
            const double* ba = bs + a * nd;
            for (int l = 0; l < nd; ++l) acc += ae[static_cast<Index>(l) * nd + k] * ba[l];
          }
          g[a * nd + k] = acc;
          beta[atom_minor(i0 + a, nd, blk) + static_cast<Index>(k) * blk] =
              el >= 0 ? m.lin[el * nd + k] + acc : 0.0;
        }
      });
      team_barrier(t);
    }
    if (!eflag) return;
    for (int a = 0; a < na; ++a) {
      const int el = m.type_element[type[i0 + a]];
      const double* ba = bs + a * nd;
      const double* ga = g + a * nd;
      const bool quad = m.quad != nullptr;
      double mine = 0.0;
      if (el >= 0) {
        const double* c = m.lin + el * nd;
        team_for(t, nd, [&](int k) { mine += ba[k] * (quad ? c[k] + 0.5 * ga[k] : c[k]); });
      }
      const double e = lane_sum(t, mine);
      team_single(t, [&] { store_energy(out, i0 + a, el >= 0 ? m.c0[el] + e : 0.0); });
    }
  }

  // Sum of each lane's private value over the team.
  MD_HD static double lane_sum(const Team& t, double mine) {
    return team_sum<double>(t, t.size, [&](int) { return mine; });
  }
};

// Launch the model over n atoms (b, beta: atom_minor with ndesc components, block blk).
void descriptor_model_launch(Context& ctx, const DescriptorModel& model, const int* type, Index n,
                             int blk, const double* b, double* beta, const ForceOut& out,
                             bool eflag);

}  // namespace md
