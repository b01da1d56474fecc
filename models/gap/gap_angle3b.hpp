// GAP angle_3b descriptor with the ard_se kernel (MD_HD team functor for both executors): per
// centre atom i, every ordered pair of distinct neighbour slots (j, k) within the cutoff gives
// x = (r_ij + r_ik, (r_ij - r_ik)^2, r_jk), weighted by fcut(r_ij) fcut(r_ik); its energy goes
// to atom i. Energies eV, lengths Å. Launched by GapPotential::compute (gap.cpp) after the
// distance_2b kernel; adds its pair partials to the potential's. Conventions: models/gap/README.md.
#pragma once

#include <cmath>

#include "kernels/many_body.hpp"
#include "kernels/team.hpp"
#include "models/gap/gap_kernels.hpp"

namespace md {

struct Gap3bDesc {
  int z, z1, z2;       // centre and neighbour species (0 = any); (Z_j, Z_k) = (z1, z2) or (z2, z1)
  int n_sparse;
  int off_x;           // into sparse_x ([n_sparse][3]) and theta ([3] at 3 * index)
  int off_s;           // into alpha, sparse_cutoff
  int off_l;           // into the variance's L^-1 ([n_sparse]^2, column-major)
  double cutoff, width, delta2, f0sq;
};

struct Gap3bView {
  int n_desc;
  double cutoff_max;            // the largest angle_3b cutoff
  const Gap3bDesc* desc;
  const double* theta;          // [n_desc][3]
  const double* sparse_x;       // per descriptor [n_sparse][3]: x_s / theta
  const double* alpha;          // per descriptor [n_sparse]
  const double* sparse_cutoff;  // per descriptor [n_sparse]
};

MD_INLINE bool gap_z_matches(int want, int z) { return want == 0 || want == z; }

// Whether a centre zi with neighbours (zj, zk) is an instance of ds (the or-rule; a pair
// matching both ways counts once).
MD_INLINE bool gap_3b_matches(const Gap3bDesc& ds, int zi, int zj, int zk) {
  return gap_z_matches(ds.z, zi) &&
         ((gap_z_matches(ds.z1, zj) && gap_z_matches(ds.z2, zk)) ||
          (gap_z_matches(ds.z2, zj) && gap_z_matches(ds.z1, zk)));
}

// ard_se covariance of x with sparse point s of ds, without f0 and the sparse cutoff:
// delta^2 exp(-|u|^2 / 2), u_c = x_s,c / theta_c - x_c / theta_c (returned). Shared by the
// energy (Gap3bKernel) and the variance (Gap3bVarianceKernel).
MD_INLINE double gap_3b_covariance(const Gap3bView& v, const Gap3bDesc& ds, int s, const double* x,
                                   const double* th, double& u0, double& u1, double& u2) {
  const double* xs = v.sparse_x + ds.off_x + 3 * static_cast<Index>(s);
  u0 = xs[0] - x[0] / th[0];
  u1 = xs[1] - x[1] / th[1];
  u2 = xs[2] - x[2] / th[2];
  return ds.delta2 * exp(-0.5 * (u0 * u0 + u1 * u1 + u2 * u2));
}

// Team per local atom i, lanes over neighbour slots a (the pair's first member j): the lane
// sums eps(a, b) over every other slot b and collects g_a = dE_i/dd_a, where d_a = r_j - r_i.
// The descriptor and the species match are symmetric in (j, k), so eps(a, b) = eps(b, a) and
// g_a = 2 sum_b d eps(a, b)/d d_a: each slot is written by one lane only (no atomics), and
// E_i = sum over ordered pairs, the reference's count. g is added to what is already stored.
struct Gap3bKernel {
  SystemView sys;
  NeighborView nl;
  Gap3bView v;
  const int* type_z;  // [n_types]
  PairPartialsView g;
  double* e_atom;     // [n_local], added to

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    const AtomEnv env(sys, nl, i);
    double mine = 0.0;
    team_for(t, env.count, [&](int a) {
      const NeighborSlot pa = env.neighbor(a);
      const int zj = type_z[sys.type[pa.j]];
      const double ra = sqrt(pa.rsq);
      double ga[3] = {0.0, 0.0, 0.0};
      for (int b = 0; b < env.count && ra < v.cutoff_max; ++b) {
        if (b == a) continue;
        const NeighborSlot pb = env.neighbor(b);
        if (pb.rsq >= v.cutoff_max * v.cutoff_max) continue;
        const double rb = sqrt(pb.rsq);
        const int zk = type_z[sys.type[pb.j]];
        const double ex = pb.dx - pa.dx, ey = pb.dy - pa.dy, ez = pb.dz - pa.dz;  // r_k - r_j
        const double rjk = sqrt(ex * ex + ey * ey + ez * ez);
        const double dr = ra - rb;
        const double x[3] = {ra + rb, dr * dr, rjk};
        double de_dra = 0.0, de_drjk = 0.0;  // d eps(a, b) / d r_ij and / d r_jk, all descriptors
        for (int d = 0; d < v.n_desc; ++d) {
          const Gap3bDesc& ds = v.desc[d];
          if (ra >= ds.cutoff || rb >= ds.cutoff || !gap_3b_matches(ds, zi, zj, zk)) continue;
          double dfa, dfb;
          const double fa = gap_fcut(ra, ds.cutoff, ds.width, dfa);
          const double fb = gap_fcut(rb, ds.cutoff, ds.width, dfb);
          const double* th = v.theta + 3 * d;
          double sum = 0.0, dq0 = 0.0, dq1 = 0.0, dq2 = 0.0;  // sum_s alpha_s k fc_s and d/dx
          for (int s = 0; s < ds.n_sparse; ++s) {
            double u0, u1, u2;
            const double kq = gap_3b_covariance(v, ds, s, x, th, u0, u1, u2);
            const double al = v.alpha[ds.off_s + s], fcs = v.sparse_cutoff[ds.off_s + s];
            sum += al * ((kq + ds.f0sq) * fcs);
            const double w = al * kq * fcs;
            dq0 += w * u0;
            dq1 += w * u1;
            dq2 += w * u2;
          }
          const double fab = fa * fb;
          mine += fab * sum;
          // through r_ij: x0, x1 and fcut(r_ij); through r_jk: x2
          de_dra += dfa * fb * sum + fab * (dq0 / th[0] + dq1 / th[1] * 2.0 * dr);
          de_drjk += fab * dq2 / th[2];
        }
        // d eps(a, b) / d d_a, twice (eps(b, a) is the same function)
        const double sa = 2.0 * de_dra / ra;
        const double sjk = rjk > 0.0 ? -2.0 * de_drjk / rjk : 0.0;
        ga[0] += sa * pa.dx + sjk * ex;
        ga[1] += sa * pa.dy + sjk * ey;
        ga[2] += sa * pa.dz + sjk * ez;
      }
      double old[3];
      g.load(pa.slot, old);
      g.store(pa.slot, old[0] + ga[0], old[1] + ga[1], old[2] + ga[2]);
    });
    const double e = team_sum<double>(t, t.size, [&](int) { return mine; });
    team_single(t, [&] { e_atom[i] += e; });
  }
};

// Predictive variance of angle_3b (quippy's local_gap_variance; models/gap/README.md): a team
// per local atom i, lanes over sparse points. Per instance (ordered neighbour pair (j, k),
// matching descriptor) k_s = (cov(x, x_s) + f0^2) fc_s in scratch, q = |L^-1 k|^2, and the
// centre collects (fcut(r_ij) fcut(r_ik))^2 (delta^2 + f0^2 + reg^2 - q); added to std_out[i]
// (eV^2; GapVarianceToStd takes the root). Scratch: max n_sparse doubles. The instances run
// one after another (count^2 team steps): simple, not fast.
struct Gap3bVarianceKernel {
  SystemView sys;
  NeighborView nl;
  Gap3bView v;
  const double* linv;  // per descriptor [n_sparse][n_sparse], column-major
  double reg2;
  const int* type_z;
  double* std_out;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    double* k = t.scratch_as<double>();
    double var = 0.0;
    const AtomEnv env(sys, nl, i);
    for (int a = 0; a < env.count; ++a) {
      const NeighborSlot pa = env.neighbor(a);
      const double ra = sqrt(pa.rsq);
      if (ra >= v.cutoff_max) continue;
      const int zj = type_z[sys.type[pa.j]];
      for (int b = 0; b < env.count; ++b) {
        if (b == a) continue;
        const NeighborSlot pb = env.neighbor(b);
        if (pb.rsq >= v.cutoff_max * v.cutoff_max) continue;
        const double rb = sqrt(pb.rsq);
        const int zk = type_z[sys.type[pb.j]];
        const double ex = pb.dx - pa.dx, ey = pb.dy - pa.dy, ez = pb.dz - pa.dz;
        const double dr = ra - rb;
        const double x[3] = {ra + rb, dr * dr, sqrt(ex * ex + ey * ey + ez * ez)};
        for (int d = 0; d < v.n_desc; ++d) {
          const Gap3bDesc& ds = v.desc[d];
          if (ra >= ds.cutoff || rb >= ds.cutoff || !gap_3b_matches(ds, zi, zj, zk)) continue;
          const int m = ds.n_sparse;
          const double* th = v.theta + 3 * d;
          team_for(t, m, [&](int s) {
            double u0, u1, u2;
            k[s] = (gap_3b_covariance(v, ds, s, x, th, u0, u1, u2) + ds.f0sq) *
                   v.sparse_cutoff[ds.off_s + s];
          });
          team_barrier(t);
          const double* l = linv + ds.off_l;
          const double q = team_sum<double>(t, m, [&](int r) {
            double y = 0.0;
            for (int c = 0; c <= r; ++c) y += l[static_cast<Index>(c) * m + r] * k[c];
            return y * y;
          });
          team_barrier(t);  // k is rewritten by the next instance
          double dfa, dfb;
          const double fab = gap_fcut(ra, ds.cutoff, ds.width, dfa) * gap_fcut(rb, ds.cutoff, ds.width, dfb);
          var += fab * fab * (ds.delta2 + ds.f0sq + reg2 - q);
        }
      }
    }
    team_single(t, [&] { std_out[i] += var; });
  }
};

}  // namespace md
