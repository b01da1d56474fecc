// The Potential interface every force field implements (LAMMPS' compute(eflag, vflag)):
// forces always, per-atom energy and per-atom virial only when the caller asks. Energies in
// the unit system's energy, forces energy/length, virial energy (sum of r_ij (x) f_ij).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/neighbor.hpp"
#include "engine/system.hpp"

namespace md {

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

class Potential {
 public:
  virtual ~Potential() = default;
  virtual std::string style() const = 0;
  // Largest interaction cutoff (sets the neighbour-list radius with the skin).
  virtual double cutoff() const = 0;
  virtual void compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                       const ForceOut& out, ForceRequest req) = 0;
};

}  // namespace md
