// The shared many-body layer: per-atom neighbour environments (the neighbour-loop preamble and
// per-type distance-sorted slots), per-pair partials g_ik = dE_i/dr_ij (r_ij = r_j - r_i, j the
// atom in slot k of local atom i) stored per (slot, atom), the reverse-slot map (the list
// transposed by owner) and the one gather of partials into forces and per-atom virial.
// Units: the run's (lengths, energies; partials energy/length, virial energy). Used by EAM,
// SNAP, DeePMD and the pair driver; host-side launches in kernels/many_body.cpp.
//
// Sign convention (one, for every model): E_i depends on r_ij = r_j - r_i, so
//   F_a = sum_k g_ak - sum_{(i,k) in rev(a)} g_ik,
//   W_a = -1/2 sum_k r_ak (x) g_ak - 1/2 sum_{(i,k) in rev(a)} r_ik (x) g_ik,
// rev(a) = the slots (i, k) whose neighbour j has owner(j) == a. W_a is LAMMPS' per-atom
// virial of a many-body pair tally (ev_tally_xyz: half of each directed pair's -r (x) g to each
// end); components xx yy zz xy xz yz with xy = r_x g_y. sum_a W_a = -sum_(i,k) r_ik (x) g_ik.
#pragma once

#include <cstdint>

#include "engine/views.hpp"
#include "kernels/launch.hpp"

namespace md {

// ---------------------------------------------------------------- neighbour environment

// One neighbour of a local atom: list slot k of atom i (slot = k * n_local + i, the index into
// the list and into PairPartials), the neighbour atom j (local or ghost), d = r_j - r_i, |d|^2.
struct NeighborSlot {
  Index slot;
  int j;
  double dx, dy, dz, rsq;
};

// The neighbour-loop preamble, written once: the environment of local atom i in a full list.
//   const AtomEnv env(sys, nl, i);
//   for (int k = 0; k < env.count; ++k) { const NeighborSlot p = env.neighbor(k); ... }
struct AtomEnv {
  const double *x, *y, *z;
  const int* neigh;
  Index n_local, i;
  double xi, yi, zi;
  int count;  // neighbours in the list (slots 0 .. count-1)

  MD_HD AtomEnv(const SystemView& sys, const NeighborView& nl, Index atom)
      : x(sys.x), y(sys.y), z(sys.z), neigh(nl.neigh), n_local(nl.n_local), i(atom),
        xi(sys.x[atom]), yi(sys.y[atom]), zi(sys.z[atom]), count(nl.num_neigh[atom]) {}

  MD_HD NeighborSlot neighbor(int k) const {
    NeighborSlot p;
    p.slot = static_cast<Index>(k) * n_local + i;
    p.j = neigh[p.slot];
    p.dx = x[p.j] - xi;
    p.dy = y[p.j] - yi;
    p.dz = z[p.j] - zi;
    p.rsq = p.dx * p.dx + p.dy * p.dy + p.dz * p.dz;
    return p;
  }
};

// ---------------------------------------------------------------- per-pair partials

// g_ik = dE_i/dr_ij per list slot: three planes (x, y, z) of max_neigh * n_local doubles,
// slot-major inside a plane like the Verlet list: g_c(slot) = g[c * plane + k * n_local + i],
// so the threads of consecutive atoms touch consecutive addresses. A model writes every slot
// k < num_neigh[i] of every local atom (zero for pairs beyond its cutoff).
struct PairPartialsView {
  double* g;
  Index plane;  // max_neigh * n_local
  MD_HD void store(Index slot, double gx, double gy, double gz) const {
    g[slot] = gx;
    g[plane + slot] = gy;
    g[2 * plane + slot] = gz;
  }
  MD_HD void load(Index slot, double out[3]) const {
    out[0] = g[slot];
    out[1] = g[plane + slot];
    out[2] = g[2 * plane + slot];
  }
};

class PairPartials {
 public:
  explicit PairPartials(Context& ctx) : data(ctx, 0) {}
  // Storage for the list's capacity (allocation only; contents undefined until written).
  void resize(const NeighborView& nl);
  PairPartialsView view() { return PairPartialsView{data.data(), plane_}; }
  DeviceArray<double> data;  // [3][max_neigh][n_local]

 private:
  Index plane_ = 0;
};

// v += scale * d (x) g, components xx yy zz xy xz yz (xy = d_x g_y). The one many-body virial
// tally (the central-force one is PairSums in engine/potential.hpp).
MD_INLINE void tally_virial(double v[6], double dx, double dy, double dz, const double g[3],
                            double scale) {
  v[0] += scale * dx * g[0];
  v[1] += scale * dy * g[1];
  v[2] += scale * dz * g[2];
  v[3] += scale * dx * g[1];
  v[4] += scale * dx * g[2];
  v[5] += scale * dy * g[2];
}

// ---------------------------------------------------------------- reverse-slot map

// Row a (a local atom) lists the slots (i, k) whose neighbour j = neigh[k * n_local + i] has
// owner(j) == a, as slot indices k * n_local + i sorted canonically by atom i as seen from a
// (id of i, image of i - image of j; NeighborView::key), else by (i, k): entries first[a] ..
// first[a+1]-1 of `slot`. Rows of a full list hold num_neigh[a] entries each when the list is
// symmetric, but nothing here assumes it.
struct ReverseSlotsView {
  const int* first;   // [n_local + 1]
  const Index* slot;  // [entries]
};

// The map with its device build: count -> exclusive scan -> fill -> per-row sort, all gated on
// the device by "the list was rebuilt since this map was built" (NeighborStatus::n_builds), so
// the host reads nothing. A new list (another NeighborList, capacity or atom count changed)
// is transposed unconditionally. Memory: 8 bytes per list slot + 8 bytes per atom.
class ReverseSlots {
 public:
  explicit ReverseSlots(Context& ctx);
  // Brings the map up to date with the list; call before every gather (cheap when current).
  void update(Context& ctx, const NeighborView& nl);
  ReverseSlotsView view() const { return ReverseSlotsView{first.data(), slot.data()}; }

  DeviceArray<int> first;    // [n_local + 1]
  DeviceArray<Index> slot;   // [max_neigh * n_local] (entries used: first[n_local])
  DeviceArray<int> cursor;   // [n_local] row counts during a build, zero between builds
  DeviceArray<int> state;    // [0] build gate, [1] n_builds of the list at the last build
  DeviceArray<int> scan_work;

 private:
  std::uint64_t list_id_ = 0;
  const int* neigh_ = nullptr;
  Index n_local_ = -1;
  int max_neigh_ = -1;
};

// ---------------------------------------------------------------- the gather

// One thread per local atom a: F_a and W_a from the partials (formula at the top), written
// through store_force / store_virial (so ForceOut::accumulate is honoured). Energies are the
// model's (store_energy in its own pass). Deterministic: a fixed summation order per atom
// (own slots in list order, then reverse entries in the row's canonical order), no atomics.
struct GatherPairForces {
  SystemView sys;
  NeighborView nl;
  ReverseSlotsView rev;
  PairPartialsView g;
  ForceOut out;
  bool vflag;

  MD_HD void operator()(Index a) const {
    double f[3] = {0.0, 0.0, 0.0};
    double v[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    const AtomEnv env(sys, nl, a);
    for (int k = 0; k < env.count; ++k) {
      double gk[3];
      const Index slot = static_cast<Index>(k) * nl.n_local + a;
      g.load(slot, gk);
      f[0] += gk[0];
      f[1] += gk[1];
      f[2] += gk[2];
      if (vflag) {
        const NeighborSlot p = env.neighbor(k);
        tally_virial(v, p.dx, p.dy, p.dz, gk, -0.5);
      }
    }
    const int end = rev.first[a + 1];
    for (int e = rev.first[a]; e < end; ++e) {
      const Index slot = rev.slot[e];
      double gk[3];
      g.load(slot, gk);
      f[0] -= gk[0];
      f[1] -= gk[1];
      f[2] -= gk[2];
      if (vflag) {
        const Index i = slot % nl.n_local;
        const int j = nl.neigh[slot];
        tally_virial(v, sys.x[j] - sys.x[i], sys.y[j] - sys.y[i], sys.z[j] - sys.z[i], gk,
                     -0.5);
      }
    }
    store_force(out, a, f[0], f[1], f[2]);
    if (vflag) store_virial(out, a, nl.n_local, v);
  }
};

// Forces (and per-atom virial when vflag) of every local atom from the partials.
void gather_pair_forces(Context& ctx, const SystemView& sys, const NeighborView& nl,
                        const ReverseSlotsView& rev, const PairPartialsView& g,
                        const ForceOut& out, bool vflag);

// The bundle a many-body model owns: partials + reverse map + gather.
//   mb.prepare(ctx, nl);                      // every compute, before the dE/dr pass
//   ... model kernel writes mb.partials() ...
//   mb.gather(ctx, sys, nl, out, req.virial);
class ManyBodyForces {
 public:
  explicit ManyBodyForces(Context& ctx) : reverse(ctx), partials_(ctx) {}
  void prepare(Context& ctx, const NeighborView& nl) {
    partials_.resize(nl);
    reverse.update(ctx, nl);
  }
  PairPartialsView partials() { return partials_.view(); }
  void gather(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
              bool vflag) {
    gather_pair_forces(ctx, sys, nl, reverse.view(), partials_.view(), out, vflag);
  }
  ReverseSlots reverse;

 private:
  PairPartials partials_;
};

// ---------------------------------------------------------------- per-type slots

// DeePMD's neighbour selection: among the list neighbours with r^2 <= rcut^2, the nearest
// width = sel_start[n_types] over all types (ties: list order), then for each model type t the
// nearest sel[t] of those, in slots sel_start[t] .. sel_start[t+1]-1 sorted by distance (ties:
// list order) and padded with -1. A slot holds the neighbour's list slot k (its atom is
// neigh[k * n_local + i], its partial goes to PairPartials slot k * n_local + i).
struct TypedSlotSpec {
  int n_types;           // model types
  double rcut;
  const int* sel_start;  // device [n_types + 1]
  const int* type_map;   // device: system type -> model type (< 0: never selected)
};

struct TypedSlotsView {
  const int* k;  // [width][n_local]: k[s * n_local + i], -1 = padding
  Index n_local;
  int width;
  MD_HD int operator()(int s, Index i) const { return k[static_cast<Index>(s) * n_local + i]; }
};

// One thread per local atom, O(count^2) distance comparisons (ranks) and no scratch. When
// clear.g is set, the atom's partials of list slots 0 .. count-1 are zeroed as well (so a
// model that writes only its selected slots leaves the others at zero for the gather).
struct BuildTypedSlots {
  TypedSlotSpec spec;
  SystemView sys;
  NeighborView nl;
  int width;
  int* k_out;
  PairPartialsView clear;

  MD_HD void operator()(Index i) const {
    const Index n = nl.n_local;
    for (int s = 0; s < width; ++s) k_out[static_cast<Index>(s) * n + i] = -1;
    const AtomEnv env(sys, nl, i);
    const double rc2 = spec.rcut * spec.rcut;
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot p = env.neighbor(k);
      if (clear.g) clear.store(p.slot, 0.0, 0.0, 0.0);
      if (p.rsq > rc2) continue;
      const int t = spec.type_map[sys.type[p.j]];
      if (t < 0) continue;
      int rank_all = 0, rank_type = 0;  // neighbours before k in (r^2, list order)
      for (int m = 0; m < env.count; ++m) {
        if (m == k) continue;
        const NeighborSlot q = env.neighbor(m);
        if (q.rsq > rc2) continue;
        if (!(q.rsq < p.rsq || (q.rsq == p.rsq && m < k))) continue;
        ++rank_all;
        if (spec.type_map[sys.type[q.j]] == t) ++rank_type;
      }
      const int s = spec.sel_start[t] + rank_type;
      if (rank_all < width && s < spec.sel_start[t + 1]) k_out[static_cast<Index>(s) * n + i] = k;
    }
  }
};

class TypedSlots {
 public:
  explicit TypedSlots(Context& ctx) : k(ctx, 0) {}
  // Every step (distances change): slots for `width` = host copy of sel_start[n_types].
  // clear: partials whose list slots are zeroed for the atoms (may be null).
  void build(Context& ctx, const SystemView& sys, const NeighborView& nl,
             const TypedSlotSpec& spec, int width, const PairPartialsView* clear = nullptr);
  TypedSlotsView view() const { return TypedSlotsView{k.data(), n_local_, width_}; }
  DeviceArray<int> k;  // [width][n_local]

 private:
  Index n_local_ = 0;
  int width_ = 0;
};

}  // namespace md
