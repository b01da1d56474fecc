// Message passing for ML potentials (SchNet, HIP-NN): per-atom feature fields on local + ghost
// atoms, the team kernel that aggregates pair messages per atom over the full neighbour list
// without atomics, and its backward transpose (pair partials dE/dr_ij for the many-body gather,
// adjoints to neighbours summed per owner through the reverse-slot map). Units: lengths and
// energies of the run; features dimensionless. Called by models/schnet and models/hipnn.
//
// ---------------------------------------------------------------- API (stable: add, don't rename)
// Storage
//   FieldView<T>{v, stride, width}      field(a, f) = v[f * stride + a]: the halo layout of
//                                       engine/halo.hpp (component-major over n_local + ghosts)
//   FeatureField<T>(ctx, width)         owns one; resize(nl) sizes it for n_local + ghost slots;
//                                       view(); ghosts are refreshed by the MODEL with
//                                       halo_forward(ctx, nl, field.data.data(), width) after
//                                       it wrote the local atoms (kernels/ may not call engine/).
//   SlotView<T>{v, width}               per list slot (slot = k * n_local + i) rows:
//                                       row(slot)[f] = v[slot * width + f]
//   SlotField<T>(ctx, width)            owns one, resize(nl) for max_neigh * n_local slots.
// Pair rows (what the model's pair functor sees): PairRow{slot, j, k, dx, dy, dz, r} with
//   d = r_j - r_i and r = |d| < rc; a tile of up to `rows` of them per team step.
// The model's pair functor P (coefficients c[q], q < n_coeff, per pair: a filter, a
// sensitivity vector, ...), T = float or double:
//   MD_HD void forward(const Team& t, const PairRow* rows, int n, T* c, int ldc,
//                      unsigned char* scratch) const;   // c[r * ldc + q]; may keep what its
//                                                        // backward needs in scratch; ends
//                                                        // with a team_barrier
//   MD_HD void backward(const Team& t, const PairRow* rows, int n, const T* dc, int ldc,
//                       unsigned char* scratch, double* dr) const;  // called after forward on
//                       // the same tile: dc = dE/dc; writes dr[r * 3 + xyz] = dE/d(r_j - r_i)
//                       // of the coefficients' dependence on the pair vector; ends with a barrier
//   plus host-side: int n_coeff; std::size_t scratch_bytes(int rows) (bytes for one tile).
// Contractions (how coefficients meet the neighbour's field x_j of width F):
//   ContractDiagonal   out[f]       = sum_pairs c[f] x_j[f]        (SchNet cfconv; n_coeff = F)
//   ContractOuter      out[s*F + f] = sum_pairs c[s] x_j[f]        (HIP-NN; n_coeff = S)
// Launches (templates; call from a translation unit nvcc compiles in CUDA builds):
//   aggregate<Contract>(ctx, sys, nl, rc, pair, x, out, opt)
//       out(i, o) (+)= sum_{k: r_ik < rc} Contract(c_ik, x(j_k)), i local; x must be valid on
//       ghosts (halo_forward first). Fixed order per atom (list order), no atomics.
//   aggregate_backward<Contract>(ctx, sys, nl, rc, pair, x, g_out, g, adj, opt)
//       g_out(i, o) = dE/dout(i, o) (local atoms). Recomputes c per pair, then
//       g.store/add(slot, dE/dr_ij)  for every list slot (zero beyond rc when !opt.accumulate),
//       adj.row(slot)[f] = dE/dx_j[f] of that pair (only slots with r < rc are written).
//   gather_slot_adjoints(ctx, sys, nl, rev, rc, adj, out, accumulate)
//       out(a, f) (+)= sum over rev(a) (kernels/many_body.hpp ReverseSlots) of adj rows of
//       pairs with r < rc: the transpose of "read x_j" onto owners, ghosts included, so no
//       halo_reverse and no atomics. Then ManyBodyForces::gather turns the partials into forces
//       and virial (sign convention at the top of kernels/many_body.hpp).
// MpOptions{team_size (CUDA lanes, power of two), rows (pairs per tile), accumulate}.
#pragma once

#include <cstddef>
#include <cstdint>

#include "engine/views.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"
#include "kernels/nn.hpp"
#include "kernels/team.hpp"

namespace md::mp {

// ---------------------------------------------------------------- storage

template <class T>
struct FieldView {
  T* v;
  Index stride;  // n_local + ghost_capacity (engine/halo.hpp halo_stride)
  int width;
  MD_HD T& operator()(Index a, int f) const { return v[static_cast<Index>(f) * stride + a]; }
};

template <class T>
class FeatureField {
 public:
  FeatureField(Context& ctx, int width) : data(ctx, 0), width_(width) {}
  // Storage for n_local + ghost_capacity atoms (contents undefined after a change).
  void resize(const NeighborView& nl) {
    stride_ = nl.n_local + nl.ghost_capacity;
    const std::size_t need = static_cast<std::size_t>(stride_) * static_cast<std::size_t>(width_);
    if (data.size() != need) data.resize(need > 0 ? need : 1);
  }
  FieldView<T> view() { return FieldView<T>{data.data(), stride_, width_}; }
  int width() const { return width_; }
  DeviceArray<T> data;

 private:
  int width_;
  Index stride_ = 0;
};

template <class T>
struct SlotView {
  T* v;
  int width;
  MD_HD T* row(Index slot) const { return v + slot * width; }
};

template <class T>
class SlotField {
 public:
  SlotField(Context& ctx, int width) : data(ctx, 0), width_(width) {}
  void resize(const NeighborView& nl) {
    const std::size_t need = static_cast<std::size_t>(nl.max_neigh) *
                             static_cast<std::size_t>(nl.n_local) *
                             static_cast<std::size_t>(width_);
    if (data.size() != need) data.resize(need > 0 ? need : 1);
  }
  SlotView<T> view() { return SlotView<T>{data.data(), width_}; }
  DeviceArray<T> data;

 private:
  int width_;
};

// ---------------------------------------------------------------- pair rows and contractions

struct PairRow {
  Index slot;  // k * n_local + i
  int j;       // neighbour atom (local or ghost)
  int k;       // list position
  double dx, dy, dz, r;
};

// out[f] = sum_pairs c[f] x_j[f].
struct ContractDiagonal {
  static int n_out(int /*n_coeff*/, int width) { return width; }
  template <class T>
  MD_HD static double term(const T* c, const FieldView<T>& x, int j, int o) {
    return static_cast<double>(c[o]) * static_cast<double>(x(j, o));
  }
  // dE/dc[q] from dE/dout of atom i (g_out) and x_j.
  template <class T>
  MD_HD static double dcoeff(const FieldView<T>& g_out, Index i, const FieldView<T>& x, int j,
                             int q) {
    return static_cast<double>(g_out(i, q)) * static_cast<double>(x(j, q));
  }
  // dE/dx_j[f] of this pair.
  template <class T>
  MD_HD static double adjoint(const FieldView<T>& g_out, Index i, const T* c, int /*n_coeff*/,
                              int f) {
    return static_cast<double>(g_out(i, f)) * static_cast<double>(c[f]);
  }
};

// out[s * F + f] = sum_pairs c[s] x_j[f], F = x.width.
struct ContractOuter {
  static int n_out(int n_coeff, int width) { return n_coeff * width; }
  template <class T>
  MD_HD static double term(const T* c, const FieldView<T>& x, int j, int o) {
    return static_cast<double>(c[o / x.width]) * static_cast<double>(x(j, o % x.width));
  }
  template <class T>
  MD_HD static double dcoeff(const FieldView<T>& g_out, Index i, const FieldView<T>& x, int j,
                             int q) {
    double s = 0.0;
    for (int f = 0; f < x.width; ++f)
      s += static_cast<double>(g_out(i, q * x.width + f)) * static_cast<double>(x(j, f));
    return s;
  }
  template <class T>
  MD_HD static double adjoint(const FieldView<T>& g_out, Index i, const T* c, int n_coeff, int f) {
    const int width = g_out.width / n_coeff;
    double s = 0.0;
    for (int q = 0; q < n_coeff; ++q)
      s += static_cast<double>(g_out(i, q * width + f)) * static_cast<double>(c[q]);
    return s;
  }
};

// ---------------------------------------------------------------- team scratch layout

struct MpOptions {
  int team_size = 64;       // CUDA lanes per team (power of two); the CPU executor uses 1
  int rows = 16;            // pairs per tile
  bool accumulate = false;  // add to out / partials instead of overwriting
};

// Byte offsets of one team's scratch: header (n rows, next list position), rows, coefficients,
// their gradients, the per-atom accumulator, per-row dE/dr and the model's part.
struct TileLayout {
  int rows, ldc, n_acc;
  std::size_t rows_at, c_at, dc_at, acc_at, dr_at, model_at, total;

  static std::size_t align8(std::size_t b) { return (b + 7) / 8 * 8; }
  static TileLayout make(int rows, int n_coeff, int n_acc, std::size_t elem,
                         std::size_t model_bytes) {
    TileLayout l;
    l.rows = rows;
    l.ldc = n_coeff;
    l.n_acc = n_acc;
    l.rows_at = 16;
    l.c_at = l.rows_at + align8(sizeof(PairRow) * static_cast<std::size_t>(rows));
    l.dc_at = l.c_at + align8(elem * static_cast<std::size_t>(rows) * n_coeff);
    l.acc_at = l.dc_at + align8(elem * static_cast<std::size_t>(rows) * n_coeff);
    l.dr_at = l.acc_at + align8(sizeof(double) * static_cast<std::size_t>(n_acc));
    l.model_at = l.dr_at + align8(sizeof(double) * 3 * static_cast<std::size_t>(rows));
    l.total = l.model_at + align8(model_bytes);
    return l;
  }
};

// r_ij of list slot `slot` within rc (the same arithmetic as AtomEnv::neighbor, so the same
// decision as the tile walk).
MD_INLINE bool slot_in_range(const SystemView& sys, const NeighborView& nl, Index slot,
                             double rc2) {
  const Index i = slot % nl.n_local;
  const int j = nl.neigh[slot];
  const double dx = sys.x[j] - sys.x[i];
  const double dy = sys.y[j] - sys.y[i];
  const double dz = sys.z[j] - sys.z[i];
  return dx * dx + dy * dy + dz * dz < rc2;
}

namespace detail {

// Lane 0 fills the next tile with up to l.rows neighbours within rc starting at list position
// hdr[1]; hdr[0] = rows found. When zero_g.g is set, skipped slots get zero partials.
MD_INLINE void walk_tile(const Team& t, const AtomEnv& env, const TileLayout& l, double rc2,
                         const PairPartialsView& zero_g) {
  int* hdr = t.scratch_as<int>(0);
  PairRow* rows = t.scratch_as<PairRow>(l.rows_at);
  team_single(t, [&]() {
    int k = hdr[1];
    int n = 0;
    while (k < env.count && n < l.rows) {
      const NeighborSlot p = env.neighbor(k);
      if (p.rsq < rc2) {
        PairRow& q = rows[n++];
        q.slot = p.slot;
        q.j = p.j;
        q.k = k;
        q.dx = p.dx;
        q.dy = p.dy;
        q.dz = p.dz;
        q.r = sqrt(p.rsq);
      } else if (zero_g.g) {
        zero_g.store(p.slot, 0.0, 0.0, 0.0);
      }
      ++k;
    }
    hdr[0] = n;
    hdr[1] = k;
  });
}

}  // namespace detail

// ---------------------------------------------------------------- forward aggregation

template <class Contract, class T, class Pair>
struct AggregateKernel {
  SystemView sys;
  NeighborView nl;
  double rc2;
  Pair pair;
  FieldView<T> x;    // neighbour features (local + ghosts)
  FieldView<T> out;  // per local atom, width n_out
  TileLayout l;
  bool accumulate;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const AtomEnv env(sys, nl, i);
    int* hdr = t.scratch_as<int>(0);
    const PairRow* rows = t.scratch_as<PairRow>(l.rows_at);
    T* c = t.scratch_as<T>(l.c_at);
    double* acc = t.scratch_as<double>(l.acc_at);
    unsigned char* ms = t.scratch + l.model_at;
    team_for(t, l.n_acc, [&](int o) { acc[o] = 0.0; });
    team_single(t, [&]() { hdr[1] = 0; });
    for (;;) {
      detail::walk_tile(t, env, l, rc2, PairPartialsView{nullptr, 0});
      const int n = hdr[0];
      if (n == 0) break;
      pair.forward(t, rows, n, c, l.ldc, ms);
      team_for(t, l.n_acc, [&](int o) {
        double s = acc[o];
        for (int r = 0; r < n; ++r) s += Contract::term(c + r * l.ldc, x, rows[r].j, o);
        acc[o] = s;
      });
      team_barrier(t);
    }
    team_for(t, l.n_acc, [&](int o) {
      const T v = static_cast<T>(acc[o]);
      out(i, o) = accumulate ? static_cast<T>(out(i, o) + v) : v;
    });
  }
};

// ---------------------------------------------------------------- backward

template <class Contract, class T, class Pair>
struct AggregateBackwardKernel {
  SystemView sys;
  NeighborView nl;
  double rc2;
  Pair pair;
  FieldView<T> x;
  FieldView<T> g_out;  // dE/dout per local atom
  PairPartialsView g;
  SlotView<T> adj;
  TileLayout l;
  bool accumulate;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const AtomEnv env(sys, nl, i);
    int* hdr = t.scratch_as<int>(0);
    const PairRow* rows = t.scratch_as<PairRow>(l.rows_at);
    T* c = t.scratch_as<T>(l.c_at);
    T* dc = t.scratch_as<T>(l.dc_at);
    double* dr = t.scratch_as<double>(l.dr_at);
    unsigned char* ms = t.scratch + l.model_at;
    const int nc = l.ldc;
    const int width = x.width;
    team_single(t, [&]() { hdr[1] = 0; });
    for (;;) {
      detail::walk_tile(t, env, l, rc2, accumulate ? PairPartialsView{nullptr, 0} : g);
      const int n = hdr[0];
      if (n == 0) break;
      pair.forward(t, rows, n, c, nc, ms);
      nn_rows_for(t, n, nc, [&](int r, int q) {
        dc[r * nc + q] = static_cast<T>(Contract::dcoeff(g_out, i, x, rows[r].j, q));
      });
      nn_rows_for(t, n, width, [&](int r, int f) {
        adj.row(rows[r].slot)[f] = static_cast<T>(Contract::adjoint(g_out, i, c + r * nc, nc, f));
      });
      team_barrier(t);
      pair.backward(t, rows, n, dc, nc, ms, dr);
      team_for(t, n, [&](int r) {
        double v[3] = {dr[3 * r], dr[3 * r + 1], dr[3 * r + 2]};
        if (accumulate) {
          double o[3];
          g.load(rows[r].slot, o);
          v[0] += o[0];
          v[1] += o[1];
          v[2] += o[2];
        }
        g.store(rows[r].slot, v[0], v[1], v[2]);
      });
      team_barrier(t);
    }
  }

  // body(r, c) over rows x cols, c fastest (plain nested loops on the CPU executor unless
  // lanes are shuffled; kernels/nn.hpp team_for_rows).
  template <class Body>
  MD_HD static void nn_rows_for(const Team& t, int rows_n, int cols, Body&& body) {
    nn::team_for_rows(t, rows_n, cols, body);
  }
};

// ---------------------------------------------------------------- owner gather of adjoints

template <class T>
struct GatherSlotAdjointsKernel {
  SystemView sys;
  NeighborView nl;
  ReverseSlotsView rev;
  double rc2;
  SlotView<T> adj;
  FieldView<T> out;
  bool accumulate;

  MD_HD void operator()(const Team& t) const {
    const Index a = t.item;
    double* acc = t.scratch_as<double>(0);
    const int width = out.width;
    team_for(t, width, [&](int f) { acc[f] = 0.0; });
    const int end = rev.first[a + 1];
    for (int e = rev.first[a]; e < end; ++e) {
      const Index slot = rev.slot[e];
      if (!slot_in_range(sys, nl, slot, rc2)) continue;  // the same on every lane
      const T* row = adj.row(slot);
      team_for(t, width, [&](int f) { acc[f] += static_cast<double>(row[f]); });  // lane owns f
    }
    team_for(t, width, [&](int f) {
      out(a, f) = accumulate ? static_cast<T>(static_cast<double>(out(a, f)) + acc[f])
                             : static_cast<T>(acc[f]);
    });
  }
};

// ---------------------------------------------------------------- launches

inline namespace MDGPU_LAUNCH_ABI {

// Team scratch bytes of aggregate / aggregate_backward for a pair functor with the given
// model scratch (host; also what a model reports as its per-team shared memory).
template <class Contract, class T>
TileLayout aggregate_layout(int n_coeff, int width, int rows, std::size_t model_bytes) {
  return TileLayout::make(rows, n_coeff, Contract::n_out(n_coeff, width), sizeof(T), model_bytes);
}

template <class Contract, class T, class Pair>
void aggregate(Context& ctx, const SystemView& sys, const NeighborView& nl, double rc,
               const Pair& pair, const FieldView<T>& x, const FieldView<T>& out,
               const MpOptions& opt) {
  const TileLayout l =
      aggregate_layout<Contract, T>(pair.n_coeff, x.width, opt.rows, pair.scratch_bytes(opt.rows));
  parallel_for_team(
      ctx, nl.n_local, opt.team_size, l.total,
      AggregateKernel<Contract, T, Pair>{sys, nl, rc * rc, pair, x, out, l, opt.accumulate});
}

template <class Contract, class T, class Pair>
void aggregate_backward(Context& ctx, const SystemView& sys, const NeighborView& nl, double rc,
                        const Pair& pair, const FieldView<T>& x, const FieldView<T>& g_out,
                        const PairPartialsView& g, const SlotView<T>& adj, const MpOptions& opt) {
  const TileLayout l =
      aggregate_layout<Contract, T>(pair.n_coeff, x.width, opt.rows, pair.scratch_bytes(opt.rows));
  parallel_for_team(ctx, nl.n_local, opt.team_size, l.total,
                    AggregateBackwardKernel<Contract, T, Pair>{sys, nl, rc * rc, pair, x, g_out, g,
                                                               adj, l, opt.accumulate});
}

template <class T>
void gather_slot_adjoints(Context& ctx, const SystemView& sys, const NeighborView& nl,
                          const ReverseSlotsView& rev, double rc, const SlotView<T>& adj,
                          const FieldView<T>& out, bool accumulate, int team_size = 64) {
  parallel_for_team(ctx, nl.n_local, team_size,
                    sizeof(double) * static_cast<std::size_t>(out.width),
                    GatherSlotAdjointsKernel<T>{sys, nl, rev, rc * rc, adj, out, accumulate});
}

}  // namespace MDGPU_LAUNCH_ABI

}  // namespace md::mp
