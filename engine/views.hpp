// Plain device views: the POD structs of raw device pointers and small value types that
// kernels read and write (atoms, neighbour lists, force outputs, per-atom pair sums,
// reduction vectors). The one engine header kernels/ may include besides backend/box/units/
// error; engine/system, neighbor, potential and kernels/launch build on it. Run units.
#pragma once

#include "engine/backend.hpp"
#include "engine/box.hpp"

namespace md {

// Fixed-size vector of doubles, the value type of multi-quantity reductions.
template <int K>
struct DVec {
  double v[K];
  MD_HD static DVec zero() {
    DVec r{};
    for (int k = 0; k < K; ++k) r.v[k] = 0.0;
    return r;
  }
  MD_HD DVec& operator+=(const DVec& o) {
    for (int k = 0; k < K; ++k) v[k] += o.v[k];
    return *this;
  }
};

// The atoms a kernel reads (engine/system.hpp fills it).
struct SystemView {
  Index n_local;
  int n_types;
  const double* x;
  const double* y;
  const double* z;
  const int* type;  // [n_local + n_ghost], ghosts carry their owner's type
  const double* mass_of_type;
  const Box* box;   // device copy of the cell (barostats change it on the device)
  // Atoms whose forces are needed: [0, n_owned) (several ranks: the rest are imported copies
  // whose forces are discarded; one rank: n_local). Models may skip force work beyond it.
  Index n_owned = INT64_MAX;
};

// Device-side bookkeeping, one instance per list.
struct NeighborStatus {
  int rebuild;        // this step rebuilds
  int force_rebuild;  // set by the host (setup, restore); consumed at the next check
  int n_ghost;        // ghosts in use (<= ghost capacity)
  int ghost_needed;   // ghosts required at the last rebuild
  int neigh_needed;   // most neighbours of any atom seen at a rebuild since the last reset
  int n_builds;       // rebuilds since construction
  int pad0, pad1;
  double max_disp2;   // largest squared displacement since the last build
};

// Canonical identity of an atom slot (local atom or ghost), independent of storage order and
// of the decomposition: the global id of the atom and its periodic image relative to the
// owner's stored position, packed by pack_image. Each atom's neighbours are listed in
// increasing key (engine/neighbor.hpp), so every per-atom sum over neighbours runs in an
// order given by the neighbours' identity.
struct SlotKey {
  std::int64_t id;
  int image;  // pack_image(n0, n1, n2)
  int pad;
};

// Image triple -> one int: n0 + 1024 n1 + 1024^2 n2 for |n_d| < 512. Balanced radix: 0 is the
// zero image, packed keys add like the triples, and their integer order is the lexicographic
// order of (n2, n1, n0), which a common shift of every image does not change.
MD_INLINE int pack_image(int n0, int n1, int n2) { return n0 + 1024 * n1 + 1048576 * n2; }
constexpr int kMaxPackedImage = 511;  // largest |n_d| pack_image represents

MD_INLINE bool key_less(const SlotKey& a, const SlotKey& b) {
  return a.id < b.id || (a.id == b.id && a.image < b.image);
}

// What force kernels read.
struct NeighborView {
  Index n_local;
  int max_neigh;
  const int* neigh;       // [max_neigh * n_local], neigh[k*n_local + i]
  const int* num_neigh;   // [n_local]
  const int* ghost_owner; // [ghost capacity]: local index owning ghost g (= atom n_local+g)
  // For the halo and the many-body layer (kernels/many_body.hpp, engine/halo.hpp):
  Index ghost_capacity;    // ghost slots allocated: per-atom fields hold n_local + ghost_capacity
  const int* ghost_first;  // [n_local] first ghost slot of each owner (an owner's ghosts are
  const int* ghost_count;  // [n_local] contiguous); ghosts per owner at the last rebuild
  const NeighborStatus* status;  // device status (n_ghost, n_builds); kernels read, never the host
  std::uint64_t list_id;   // host-side identity of the NeighborList (unique per instance)
  const SlotKey* key;      // [n_local + ghost capacity]: canonical key of every atom slot
  MD_HD int owner(int j) const { return j < n_local ? j : ghost_owner[j - n_local]; }
};

// Cells in fractional coordinates. A cell is at least list_radius / (perpendicular width)
// wide in each fractional direction, so all neighbours of an atom lie in the 27 cells around
// its own (also when the box is thinner than the list radius and cells exceed the box).
struct CellGrid {
  int n[3];          // cells per fractional dimension, including ghost padding
  int n_inside[3];   // cells spanning [0, 1)
  double inv_width[3];  // 1 / (fractional cell width)
  int pad[3];        // padding cells on each side (periodic dims)
  int image_range[3];  // largest |image| a ghost may have per dimension
  double ghost_frac[3];  // ghost region thickness in fractional units
  MD_HD Index total() const { return static_cast<Index>(n[0]) * n[1] * n[2]; }
};

// Grid for a cell and list radius with at most max_cells cells (coarser when needed; the
// stencil stays complete because cells only grow).
MD_HD CellGrid make_cell_grid(const Box& box, double rlist, Index max_cells);

struct ForceRequest {
  bool energy = false;  // fill ForceOut::energy
  bool virial = false;  // fill ForceOut::virial
};

// Device pointers the potential writes; energy/virial may be null when not requested.
struct ForceOut {
  double *fx, *fy, *fz;  // [n_local]
  double* energy;        // [n_local] per-atom energy
  double* virial;        // [6 * n_local], component-major v[c*n + i], c = xx yy zz xy xz yz
  bool accumulate;       // add to what is there (overlays) instead of overwriting
};

// Store one local atom's results in ForceOut, adding when `accumulate` (overlays) and
// overwriting otherwise. Every force kernel writes through these, so the convention lives
// in one place. v: xx yy zz xy xz yz; n: number of local atoms.
MD_INLINE void store_force(const ForceOut& out, Index i, double fx, double fy, double fz) {
  if (out.accumulate) {
    out.fx[i] += fx;
    out.fy[i] += fy;
    out.fz[i] += fz;
  } else {
    out.fx[i] = fx;
    out.fy[i] = fy;
    out.fz[i] = fz;
  }
}
MD_INLINE void store_energy(const ForceOut& out, Index i, double e) {
  out.energy[i] = (out.accumulate ? out.energy[i] : 0.0) + e;
}
MD_INLINE void store_virial(const ForceOut& out, Index i, Index n, const double v[6]) {
  for (int c = 0; c < 6; ++c)
    out.virial[c * n + i] = (out.accumulate ? out.virial[c * n + i] : 0.0) + v[c];
}

// One local atom's sums over central pair terms of a full list: force (r_i - r_j) f_over_r,
// half of each pair energy and half of each pair virial (the partner atom gets the other half
// from its own list). Shared by the pair driver and the pair part of many-body kernels.
struct PairSums {
  double f[3] = {0, 0, 0};
  double e = 0;
  double v[6] = {0, 0, 0, 0, 0, 0};  // xx yy zz xy xz yz
  MD_HD void add(double dx, double dy, double dz, double f_over_r, double eij, bool eflag,
                 bool vflag) {
    f[0] += dx * f_over_r;
    f[1] += dy * f_over_r;
    f[2] += dz * f_over_r;
    if (eflag) e += 0.5 * eij;
    if (vflag) {
      const double h = 0.5 * f_over_r;
      v[0] += h * dx * dx;
      v[1] += h * dy * dy;
      v[2] += h * dz * dz;
      v[3] += h * dx * dy;
      v[4] += h * dx * dz;
      v[5] += h * dy * dz;
    }
  }
  // e_atom: a per-atom energy term added to the pair half-sum (e.g. EAM embedding).
  MD_HD void store(const ForceOut& out, Index i, Index n, bool eflag, bool vflag,
                   double e_atom = 0.0) const {
    store_force(out, i, f[0], f[1], f[2]);
    if (eflag) store_energy(out, i, e_atom + e);
    if (vflag) store_virial(out, i, n, v);
  }
};

}  // namespace md
