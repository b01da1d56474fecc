// MD_HD functors of the neighbour build (called by engine/neighbor.cpp): displacement check,
// wrapping into the box, ghost counting/writing/refresh, canonical slot keys, cell binning,
// per-cell ordering and the full Verlet list, each atom's neighbours sorted by key. Each gated functor returns at once unless status->rebuild is set.
// Distances in the run's length unit.
#pragma once

#include "engine/box.hpp"
#include "engine/views.hpp"
#include "kernels/launch.hpp"

namespace md {

struct Displacement2 {
  const double *x, *y, *z, *x0, *y0, *z0;
  MD_HD double operator()(Index i) const {
    const double dx = x[i] - x0[i], dy = y[i] - y0[i], dz = z[i] - z0[i];
    return dx * dx + dy * dy + dz * dz;
  }
};

// Half the skin left to the atoms once the cell's deformation since the build is counted:
// (skin - d1 - d2)/2 (>= 0), where d1, d2 are the two largest displacements of the cell's
// corners since the build (LAMMPS Neighbor::check_distance; skin/2 for a fixed box). Shared
// by DecideRebuild and the several-rank decision (engine/distributed.cpp).
MD_HD inline double rebuild_delta(const Box& box, const Box& box0, double skin) {
  double d1 = 0, d2 = 0;
  for (int c = 0; c < 8; ++c) {
    const double s[3] = {double(c & 1), double((c >> 1) & 1), double((c >> 2) & 1)};
    double r[3], r0[3];
    box.to_cartesian(s, r);
    box0.to_cartesian(s, r0);
    const double d = sqrt((r[0] - r0[0]) * (r[0] - r0[0]) + (r[1] - r0[1]) * (r[1] - r0[1]) +
                          (r[2] - r0[2]) * (r[2] - r0[2]));
    if (d > d1) {
      d2 = d1;
      d1 = d;
    } else if (d > d2) {
      d2 = d;
    }
  }
  double delta = 0.5 * (skin - (d1 + d2));
  if (delta < 0) delta = 0;
  return delta;
}

// The cell `box` in the basis of its lattice nearest to `ref`: a' = a, b' = b + k[0] a,
// c' = c + k[2] b + k[1] a with the integers that bring the tilts xy, yz, xz closest to
// ref's (a barostat's cell flip changes the basis, not the lattice: LAMMPS' flip, the
// Nose-Hoover integrator's flip_cell). box itself, bit for bit, with k = 0 unless a tilt moved
// by more than half a cell length. Image flags n (box's basis) become n' = (n0 - k0 n1 +
// (k0 k2 - k1) n2, n1 - k2 n2, n2) in the returned basis (to_nearest_basis_images).
MD_HD inline Box nearest_basis(const Box& box, const Box& ref, int k[3]) {
  k[2] = static_cast<int>(floor((ref.yz - box.yz) / box.l[1] + 0.5));
  k[1] = static_cast<int>(floor((ref.xz - (box.xz + k[2] * box.xy)) / box.l[0] + 0.5));
  k[0] = static_cast<int>(floor((ref.xy - box.xy) / box.l[0] + 0.5));
  Box out = box;
  if (k[2] != 0) {
    out.yz = box.yz + k[2] * box.l[1];
    out.xz = box.xz + k[2] * box.xy;
  }
  if (k[1] != 0) out.xz += k[1] * box.l[0];
  if (k[0] != 0) out.xy = box.xy + k[0] * box.l[0];
  return out;
}
MD_HD inline void to_nearest_basis_images(const int k[3], int& n0, int& n1, int n2) {
  n0 = n0 - k[0] * n1 + (k[0] * k[2] - k[1]) * n2;
  n1 = n1 - k[2] * n2;
}

// rebuild_delta for the several-rank margin check (engine/distributed.cpp, MarginCheck):
// the cells compared modulo lattice vectors (the current cell in the basis nearest to the
// cell at the migration), so a cell flip alone does not count as a deformation. The one-rank
// list keeps rebuild_delta: a flip rebuilds its list.
MD_HD inline double margin_delta(const Box& box, const Box& box_mig, double margin) {
  int k[3];
  return rebuild_delta(nearest_basis(box, box_mig, k), box_mig, margin);
}

// Rebuild when an atom may have moved into the list radius: largest displacement since the
// build > rebuild_delta (the skin less the cell corners' displacements, halved).
struct DecideRebuild {
  NeighborStatus* st;
  const Box* box;
  const Box* box0;  // cell at the last build
  double skin;
  MD_HD void operator()(Index) const {
    const double delta = rebuild_delta(*box, *box0, skin);
    st->rebuild = (st->force_rebuild || st->max_disp2 > delta * delta) ? 1 : 0;
    st->force_rebuild = 0;
  }
};

// rebuild_delta^2 into *out (one thread): the several-rank decision compares it with the
// cross-rank maximum of the squared displacements.
struct RebuildDelta2 {
  const Box* box;
  const Box* box0;
  double skin;
  double* out;
  MD_HD void operator()(Index) const {
    const double delta = rebuild_delta(*box, *box0, skin);
    *out = delta * delta;
  }
};

// The cell grid for the current (device) cell, recomputed at each rebuild.
struct ComputeGrid {
  const NeighborStatus* st;
  const Box* box;
  double rlist;
  Index max_cells;
  CellGrid* grid;
  MD_HD void operator()(Index) const {
    if (st->rebuild) *grid = make_cell_grid(*box, rlist, max_cells);
  }
};

struct RequestRebuild {
  NeighborStatus* st;
  MD_HD void operator()(Index) const { st->force_rebuild = 1; }
};

struct ResetNeeded {
  NeighborStatus* st;
  MD_HD void operator()(Index) const { st->neigh_needed = 0; }
};

// Wraps local atoms into the periodic box (updating image flags) and records x0.
struct WrapAtoms {
  const NeighborStatus* st;
  const Box* box_ptr;
  double *x, *y, *z, *x0, *y0, *z0;
  int *ix, *iy, *iz;
  MD_HD void operator()(Index i) const {
    if (!st->rebuild) return;
    const Box& box = *box_ptr;
    double s[3];
    box.to_fractional(x[i], y[i], z[i], s);
    int n[3] = {0, 0, 0};
    for (int d = 0; d < 3; ++d)
      if (box.periodic[d]) n[d] = static_cast<int>(floor(s[d]));
    if (n[0] || n[1] || n[2]) {
      double t[3];
      box.image_shift(n[0], n[1], n[2], t);
      x[i] -= t[0];
      y[i] -= t[1];
      z[i] -= t[2];
      ix[i] += n[0];
      iy[i] += n[1];
      iz[i] += n[2];
    }
    x0[i] = x[i];
    y0[i] = y[i];
    z0[i] = z[i];
  }
};

// Visits every periodic image (n0,n1,n2) != 0 of local atom i lying within the ghost shell.
// Non-periodic dimensions have only n = 0 and impose no condition (atoms may sit outside).
template <class Visit>
MD_HD void for_each_ghost_image(const Box& box, const CellGrid& g, double x, double y, double z,
                                Visit&& visit) {
  double s[3];
  box.to_fractional(x, y, z, s);
  const int m0 = g.image_range[0], m1 = g.image_range[1], m2 = g.image_range[2];
  for (int n2 = -m2; n2 <= m2; ++n2) {
    const double s2 = s[2] + n2;
    if (box.periodic[2] && (s2 < -g.ghost_frac[2] || s2 >= 1.0 + g.ghost_frac[2])) continue;
    for (int n1 = -m1; n1 <= m1; ++n1) {
      const double s1 = s[1] + n1;
      if (box.periodic[1] && (s1 < -g.ghost_frac[1] || s1 >= 1.0 + g.ghost_frac[1])) continue;
      for (int n0 = -m0; n0 <= m0; ++n0) {
        const double s0 = s[0] + n0;
        if (box.periodic[0] && (s0 < -g.ghost_frac[0] || s0 >= 1.0 + g.ghost_frac[0])) continue;
        if (n0 == 0 && n1 == 0 && n2 == 0) continue;
        visit(n0, n1, n2);
      }
    }
  }
}

struct CountGhosts {
  const NeighborStatus* st;
  const Box* box;
  const CellGrid* grid;
  const double *x, *y, *z;
  int* ghost_count;
  MD_HD void operator()(Index i) const {
    if (!st->rebuild) return;
    int c = 0;
    for_each_ghost_image(*box, *grid, x[i], y[i], z[i], [&](int, int, int) { ++c; });
    ghost_count[i] = c;
  }
};

struct WriteGhosts {
  const NeighborStatus* st;
  const Box* box;
  const CellGrid* grid;
  Index n_local;
  int capacity;
  const double *x, *y, *z;
  const int* ghost_offset;
  int* ghost_owner;
  int* ghost_image;
  int* type;  // [n_local + capacity]
  MD_HD void operator()(Index i) const {
    if (!st->rebuild) return;
    int slot = ghost_offset[i];
    const int owner = static_cast<int>(i);
    const int t = type[i];
    for_each_ghost_image(*box, *grid, x[i], y[i], z[i], [&](int n0, int n1, int n2) {
      if (slot < capacity) {
        ghost_owner[slot] = owner;
        ghost_image[3 * slot + 0] = n0;
        ghost_image[3 * slot + 1] = n1;
        ghost_image[3 * slot + 2] = n2;
        type[n_local + slot] = t;
      }
      ++slot;
    });
  }
};

struct CommitGhostCount {
  NeighborStatus* st;
  int capacity;
  MD_HD void operator()(Index) const {
    if (!st->rebuild) return;
    st->n_ghost = st->ghost_needed < capacity ? st->ghost_needed : capacity;
  }
};

// Every step: ghost positions = owner position + image translation.
struct RefreshGhosts {
  const NeighborStatus* st;
  const Box* box;
  Index n_local;
  const int* ghost_owner;
  const int* ghost_image;
  double *x, *y, *z;
  MD_HD void operator()(Index g) const {
    if (g >= st->n_ghost) return;
    const int o = ghost_owner[g];
    double t[3];
    box->image_shift(ghost_image[3 * g], ghost_image[3 * g + 1], ghost_image[3 * g + 2], t);
    x[n_local + g] = x[o] + t[0];
    y[n_local + g] = y[o] + t[1];
    z[n_local + g] = z[o] + t[2];
  }
};

// The canonical key of every atom slot in use (views.hpp SlotKey): local atom i -> (id[i],
// image_key[i]); ghost g -> its owner's id and the owner's image key plus the ghost's image.
struct ComputeSlotKeys {
  const NeighborStatus* st;
  Index n_local;
  const std::int64_t* id;
  const int* image_key;  // [n_local]
  const int* ghost_owner;
  const int* ghost_image;
  SlotKey* key;
  MD_HD void operator()(Index a) const {
    if (!st->rebuild || a >= n_local + st->n_ghost) return;
    SlotKey k;
    k.pad = 0;
    if (a < n_local) {
      k.id = id[a];
      k.image = image_key[a];
    } else {
      const Index g = a - n_local;
      const int o = ghost_owner[g];
      k.id = id[o];
      k.image = image_key[o] +
                pack_image(ghost_image[3 * g], ghost_image[3 * g + 1], ghost_image[3 * g + 2]);
    }
    key[a] = k;
  }
};

// Sorts list[0..m) (stride apart) by key[list[.]]: Shell sort with Ciura's gaps, in place
// (no scratch), about m^1.3 comparisons. Keys are distinct (one per atom image).
MD_INLINE void sort_by_key(int* list, Index stride, int m, const SlotKey* key) {
  for (int step = 0; step < 6; ++step) {
    const int gap = step == 0 ? 132 : step == 1 ? 57 : step == 2 ? 23 : step == 3 ? 10 : step == 4 ? 4 : 1;
    if (gap >= m) continue;
    for (int p = gap; p < m; ++p) {
      const int v = list[static_cast<Index>(p) * stride];
      const SlotKey kv = key[v];
      int q = p;
      while (q >= gap) {
        const int u = list[static_cast<Index>(q - gap) * stride];
        if (!key_less(kv, key[u])) break;
        list[static_cast<Index>(q) * stride] = u;
        q -= gap;
      }
      list[static_cast<Index>(q) * stride] = v;
    }
  }
}

MD_INLINE int cell_of(const Box& box, const CellGrid& g, double x, double y, double z) {
  double s[3];
  box.to_fractional(x, y, z, s);
  int c[3];
  for (int d = 0; d < 3; ++d) {
    int k = static_cast<int>(floor(s[d] * g.inv_width[d])) + g.pad[d];
    c[d] = k < 0 ? 0 : (k >= g.n[d] ? g.n[d] - 1 : k);
  }
  return (c[2] * g.n[1] + c[1]) * g.n[0] + c[0];
}

template <class T>
struct GatedFill {
  const NeighborStatus* st;
  T* a;
  T value;
  MD_HD void operator()(Index i) const {
    if (st->rebuild) a[i] = value;
  }
};

struct BinAtoms {
  const NeighborStatus* st;
  const Box* box;
  const CellGrid* grid;
  Index n_local;
  const double *x, *y, *z;
  int* atom_cell;
  int* cell_count;
  MD_HD void operator()(Index i) const {
    if (!st->rebuild || i >= n_local + st->n_ghost) return;
    const int c = cell_of(*box, *grid, x[i], y[i], z[i]);
    atom_cell[i] = c;
    atomic_add(&cell_count[c], 1);
  }
};

struct PlaceAtoms {
  const NeighborStatus* st;
  Index n_local;
  const int* atom_cell;
  const int* cell_start;
  int* cell_fill;
  int* cell_atoms;
  MD_HD void operator()(Index i) const {
    if (!st->rebuild || i >= n_local + st->n_ghost) return;
    const int c = atom_cell[i];
    cell_atoms[cell_start[c] + atomic_add(&cell_fill[c], 1)] = static_cast<int>(i);
  }
};

// Orders each cell's atoms by index so the lists (and force sums) are deterministic.
struct SortCells {
  const NeighborStatus* st;
  const CellGrid* grid;
  const int* cell_start;
  const int* cell_count;
  int* cell_atoms;
  MD_HD void operator()(Index c) const {
    if (!st->rebuild || c >= grid->total()) return;
    int* a = cell_atoms + cell_start[c];
    const int n = cell_count[c];
    for (int k = 1; k < n; ++k) {
      const int v = a[k];
      int m = k - 1;
      while (m >= 0 && a[m] > v) {
        a[m + 1] = a[m];
        --m;
      }
      a[m + 1] = v;
    }
  }
};

struct BuildVerlet {
  NeighborStatus* st;
  const CellGrid* grid_ptr;
  Index n_local;
  int max_neigh;
  double rlist2;
  const double *x, *y, *z;
  const int* atom_cell;
  const int* cell_start;
  const int* cell_count;
  const int* cell_atoms;
  const SlotKey* key;  // canonical slot keys (ComputeSlotKeys)
  int* neigh;
  int* num_neigh;
  // atoms [n_list, n_local) get empty lists unless list_mask[i - n_list] (may be null) is set
  // (NeighborList::set_list_atoms)
  Index n_list;
  const unsigned char* list_mask;
  MD_HD void operator()(Index i) const {
    if (!st->rebuild) return;
    if (i >= n_list && !(list_mask && list_mask[i - n_list])) {
      num_neigh[i] = 0;
      return;
    }
    const CellGrid& grid = *grid_ptr;
    const int c = atom_cell[i];
    const int cx = c % grid.n[0], cy = (c / grid.n[0]) % grid.n[1], cz = c / (grid.n[0] * grid.n[1]);
    const double xi = x[i], yi = y[i], zi = z[i];
    int count = 0;
    for (int kz = (cz > 0 ? cz - 1 : 0); kz <= (cz + 1 < grid.n[2] ? cz + 1 : cz); ++kz)
      for (int ky = (cy > 0 ? cy - 1 : 0); ky <= (cy + 1 < grid.n[1] ? cy + 1 : cy); ++ky)
        for (int kx = (cx > 0 ? cx - 1 : 0); kx <= (cx + 1 < grid.n[0] ? cx + 1 : cx); ++kx) {
          const int cc = (kz * grid.n[1] + ky) * grid.n[0] + kx;
          const int begin = cell_start[cc], end = begin + cell_count[cc];
          for (int m = begin; m < end; ++m) {
            const int j = cell_atoms[m];
            if (j == i) continue;
            const double dx = x[j] - xi, dy = y[j] - yi, dz = z[j] - zi;
            if (dx * dx + dy * dy + dz * dz < rlist2) {
              if (count < max_neigh) neigh[static_cast<Index>(count) * n_local + i] = j;
              ++count;
            }
          }
        }
    num_neigh[i] = count < max_neigh ? count : max_neigh;
    atomic_max(&st->neigh_needed, count);
    // Canonical order: by the neighbours' identity, not by storage or cell order (a
    // truncated list is an overflow, rebuilt after growth: nothing to order).
    if (count <= max_neigh) sort_by_key(neigh + i, n_local, count, key);
  }
};

struct FinishBuild {
  NeighborStatus* st;
  const Box* box;
  Box* box0;
  MD_HD void operator()(Index) const {
    if (!st->rebuild) return;
    ++st->n_builds;
    *box0 = *box;
  }
};

}  // namespace md
