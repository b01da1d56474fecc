// SNAP device maths (MD_HD): switching function, Cayley-Klein parameters, the Wigner-U layer
// recursion with its derivative, Z = CG-contracted products of U, and the pass functors
// (U per atom, B per atom and component, Y per atom and U index, dE/dr per atom-neighbour
// pair, forces gathered per atom). Lengths Å, energies eV. Included by snap_*.cpp launchers.
//
// Equations follow Thompson et al., J. Comput. Phys. 285, 316 (2015) and the conventions of
// LAMMPS ML-SNAP (src/ML-SNAP/sna.cpp): U in VMK §4.8.2 recursion with inversion symmetry
// VMK 4.4(2), Z with Clebsch-Gordan coefficients VMK 8.2.1(3), adjoint Y = sum beta dB/dU.
#pragma once

#include <cmath>

#include "kernels/launch.hpp"
#include "models/snap/snap.hpp"

namespace md {
namespace snap {

constexpr int kLayer = (kSnapMaxTwoJ + 1) * (kSnapMaxTwoJ + 1);
constexpr double kPi = 3.14159265358979323846;
constexpr double kPiHalf = 1.57079632679489661923;

// Outer cosine switch (switchflag) times the optional inner switch (switchinnerflag) and its
// r-derivative; LAMMPS' compute_sfac / compute_dsfac.
MD_INLINE void switching(const SnapView& s, double r, double rcut, double sinner, double dinner,
                         double& sfac, double& dsfac) {
  double so = 1.0, dso = 0.0;
  if (s.switchflag && r > s.rmin0) {
    if (r > rcut) {
      so = 0.0;
    } else {
      const double f = kPi / (rcut - s.rmin0);
      so = 0.5 * (cos((r - s.rmin0) * f) + 1.0);
      dso = -0.5 * sin((r - s.rmin0) * f) * f;
    }
  }
  sfac = so;
  dsfac = dso;
  if (s.switchinner && r < sinner + dinner) {
    if (r > sinner - dinner) {
      const double f = kPiHalf / dinner;
      const double si = 0.5 * (1.0 - cos(kPiHalf + (r - sinner) * f));
      const double dsi = 0.5 * f * sin(kPiHalf + (r - sinner) * f);
      sfac = so * si;
      dsfac = dso * si + so * dsi;
    } else {
      sfac = 0.0;
      dsfac = 0.0;
    }
  }
}

// Pair geometry shared by the U and dE/dr passes: elements, cutoff test, switching inputs.
struct PairInfo {
  int jelem;
  double rcut, sinner, dinner;
};

MD_INLINE bool pair_inside(const SnapView& s, int ielem, int jelem, double rsq, PairInfo& p) {
  if (jelem < 0) return false;
  p.jelem = jelem;
  p.rcut = (s.radius[ielem] + s.radius[jelem]) * s.rcutfac;
  if (!(rsq < p.rcut * p.rcut && rsq > 1e-20)) return false;
  p.sinner = 0.0;
  p.dinner = 0.0;
  if (s.switchinner) {
    p.sinner = 0.5 * (s.sinner[ielem] + s.sinner[jelem]);
    p.dinner = 0.5 * (s.dinner[ielem] + s.dinner[jelem]);
  }
  return true;
}

// Layer j (>= 1) of the Wigner U-functions from layer j-1 (both full (j+1)^2 / j^2 blocks,
// row-major in mb then ma). Left half (2 mb <= j) by recursion, right half by symmetry.
MD_INLINE void u_layer(const double* rootpq, int rp, int j, double a_r, double a_i, double b_r,
                       double b_i, const double* pr, const double* pi, double* cr, double* ci) {
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int jju = mb * (j + 1);
    int jjup = mb * j;
    cr[jju] = 0.0;
    ci[jju] = 0.0;
    for (int ma = 0; ma < j; ++ma) {
      double rq = rootpq[(j - ma) * rp + (j - mb)];
      cr[jju] += rq * (a_r * pr[jjup] + a_i * pi[jjup]);
      ci[jju] += rq * (a_r * pi[jjup] - a_i * pr[jjup]);
      rq = rootpq[(ma + 1) * rp + (j - mb)];
      cr[jju + 1] = -rq * (b_r * pr[jjup] + b_i * pi[jjup]);
      ci[jju + 1] = -rq * (b_r * pi[jjup] - b_i * pr[jjup]);
      ++jju;
      ++jjup;
    }
  }
  // u[j-ma][j-mb] = (-1)^(ma-mb) conj(u[ma][mb])
  int jju = 0;
  int jjup = (j + 1) * (j + 1) - 1;
  int mbpar = 1;
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int mapar = mbpar;
    for (int ma = 0; ma <= j; ++ma) {
      if (mapar == 1) {
        cr[jjup] = cr[jju];
        ci[jjup] = -ci[jju];
      } else {
        cr[jjup] = -cr[jju];
        ci[jjup] = ci[jju];
      }
      mapar = -mapar;
      ++jju;
      --jjup;
    }
    mbpar = -mbpar;
  }
}

// The same recursion differentiated: du (3 components per element, [idx*3 + k]).
MD_INLINE void du_layer(const double* rootpq, int rp, int j, double a_r, double a_i, double b_r,
                        double b_i, const double* da_r, const double* da_i, const double* db_r,
                        const double* db_i, const double* pr, const double* pi,
                        const double* dpr, const double* dpi, double* dcr, double* dci) {
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int jju = mb * (j + 1);
    int jjup = mb * j;
    for (int k = 0; k < 3; ++k) {
      dcr[3 * jju + k] = 0.0;
      dci[3 * jju + k] = 0.0;
    }
    for (int ma = 0; ma < j; ++ma) {
      double rq = rootpq[(j - ma) * rp + (j - mb)];
      for (int k = 0; k < 3; ++k) {
        dcr[3 * jju + k] += rq * (da_r[k] * pr[jjup] + da_i[k] * pi[jjup] +
                                  a_r * dpr[3 * jjup + k] + a_i * dpi[3 * jjup + k]);
        dci[3 * jju + k] += rq * (da_r[k] * pi[jjup] - da_i[k] * pr[jjup] +
                                  a_r * dpi[3 * jjup + k] - a_i * dpr[3 * jjup + k]);
      }
      rq = rootpq[(ma + 1) * rp + (j - mb)];
      for (int k = 0; k < 3; ++k) {
        dcr[3 * (jju + 1) + k] = -rq * (db_r[k] * pr[jjup] + db_i[k] * pi[jjup] +
                                        b_r * dpr[3 * jjup + k] + b_i * dpi[3 * jjup + k]);
        dci[3 * (jju + 1) + k] = -rq * (db_r[k] * pi[jjup] - db_i[k] * pr[jjup] +
                                        b_r * dpi[3 * jjup + k] - b_i * dpr[3 * jjup + k]);
      }
      ++jju;
      ++jjup;
    }
  }
  int jju = 0;
  int jjup = (j + 1) * (j + 1) - 1;
  int mbpar = 1;
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int mapar = mbpar;
    for (int ma = 0; ma <= j; ++ma) {
      for (int k = 0; k < 3; ++k) {
        if (mapar == 1) {
          dcr[3 * jjup + k] = dcr[3 * jju + k];
          dci[3 * jjup + k] = -dci[3 * jju + k];
        } else {
          dcr[3 * jjup + k] = -dcr[3 * jju + k];
          dci[3 * jjup + k] = dci[3 * jju + k];
        }
      }
      mapar = -mapar;
      ++jju;
      --jjup;
    }
    mbpar = -mbpar;
  }
}

// Z(j1,j2,j; ma,mb) for density channels e1 (j1) and e2 (j2) of one atom's U totals
// (ut: [nchem][idxu_max][2]). Divided by (j+1) with bnormflag.
MD_INLINE void z_element(const SnapView& s, const double* ut, int e1, int e2, const SnapZIndex& z,
                         double& zr, double& zi) {
  const double* cgb = s.cg + z.cg;
  const double* u1 = ut + 2 * static_cast<Index>(e1) * s.idxu_max;
  const double* u2 = ut + 2 * static_cast<Index>(e2) * s.idxu_max;
  int jju1 = s.idxu_block[z.j1] + (z.j1 + 1) * z.mb1min;
  int jju2 = s.idxu_block[z.j2] + (z.j2 + 1) * z.mb2max;
  int icgb = z.mb1min * (z.j2 + 1) + z.mb2max;
  double sr = 0.0, si = 0.0;
  for (int ib = 0; ib < z.nb; ++ib) {
    double ar = 0.0, ai = 0.0;
    int ma1 = z.ma1min, ma2 = z.ma2max;
    int icga = z.ma1min * (z.j2 + 1) + z.ma2max;
    for (int ia = 0; ia < z.na; ++ia) {
      const double* p1 = u1 + 2 * (jju1 + ma1);
      const double* p2 = u2 + 2 * (jju2 + ma2);
      ar += cgb[icga] * (p1[0] * p2[0] - p1[1] * p2[1]);
      ai += cgb[icga] * (p1[0] * p2[1] + p1[1] * p2[0]);
      ++ma1;
      --ma2;
      icga += z.j2;
    }
    sr += cgb[icgb] * ar;
    si += cgb[icgb] * ai;
    jju1 += z.j1 + 1;
    jju2 -= z.j2 + 1;
    icgb += z.j2;
  }
  if (s.bnormflag) {
    sr /= (z.j + 1);
    si /= (z.j + 1);
  }
  zr = sr;
  zi = si;
}

MD_INLINE int atom_element(const SnapView& s, const SystemView& sys, Index i) {
  return s.type_element[sys.type[i]];
}

// ---------------------------------------------------------------- pass 1: U totals per atom
// utot(c; j, ma, mb) = wself delta(ma, mb) [own channel, or all with wselfallflag]
//                      + sum_j in channel c of sfac(r) w_j u_j(r_ij).
struct UiKernel {
  SnapView s;
  SystemView sys;
  NeighborView nl;
  SnapWork w;

  MD_HD void operator()(Index i) const {
    const int ielem = atom_element(s, sys, i);
    double* ut = w.utot + 2 * i * static_cast<Index>(s.nchem) * s.idxu_max;
    const int cself = s.chemflag ? ielem : 0;
    for (int c = 0; c < s.nchem; ++c) {
      double* uc = ut + 2 * static_cast<Index>(c) * s.idxu_max;
      for (int j = 0; j <= s.twojmax; ++j) {
        int jju = s.idxu_block[j];
        for (int mb = 0; mb <= j; ++mb)
          for (int ma = 0; ma <= j; ++ma) {
            const bool self = ielem >= 0 && ma == mb && (c == cself || s.wselfall);
            uc[2 * jju] = self ? s.wself : 0.0;
            uc[2 * jju + 1] = 0.0;
            ++jju;
          }
      }
    }
    if (ielem < 0) return;
    const int rp = s.twojmax + 1;
    double ur[2][kLayer], ui[2][kLayer];
    const double xi = sys.x[i], yi = sys.y[i], zi = sys.z[i];
    const int nn = nl.num_neigh[i];
    for (int k = 0; k < nn; ++k) {
      const int jn = nl.neigh[static_cast<Index>(k) * nl.n_local + i];
      const double x = sys.x[jn] - xi, y = sys.y[jn] - yi, z = sys.z[jn] - zi;
      const double rsq = x * x + y * y + z * z;
      PairInfo p;
      if (!pair_inside(s, ielem, s.type_element[sys.type[jn]], rsq, p)) continue;
      const double r = sqrt(rsq);
      const double theta0 = (r - s.rmin0) * s.rfac0 * kPi / (p.rcut - s.rmin0);
      const double z0 = r / tan(theta0);
      const double r0inv = 1.0 / sqrt(r * r + z0 * z0);
      const double a_r = r0inv * z0, a_i = -r0inv * z, b_r = r0inv * y, b_i = -r0inv * x;
      double sfac, dsfac;
      switching(s, r, p.rcut, p.sinner, p.dinner, sfac, dsfac);
      sfac *= s.weight[p.jelem];
      double* uc = ut + 2 * static_cast<Index>(s.chemflag ? p.jelem : 0) * s.idxu_max;
      ur[0][0] = 1.0;
      ui[0][0] = 0.0;
      uc[0] += sfac;
      for (int j = 1; j <= s.twojmax; ++j) {
        const int cur = j & 1, prev = cur ^ 1;
        u_layer(s.rootpq, rp, j, a_r, a_i, b_r, b_i, ur[prev], ui[prev], ur[cur], ui[cur]);
        double* dst = uc + 2 * s.idxu_block[j];
        const int m = (j + 1) * (j + 1);
        for (int q = 0; q < m; ++q) {
          dst[2 * q] += sfac * ur[cur][q];
          dst[2 * q + 1] += sfac * ui[cur][q];
        }
      }
    }
  }
};

// ---------------------------------------------------------------- pass 2: bispectrum B
// One thread per (atom, element triple, component): B = 2 sum_{half} conj(U_e3) . Z(e1, e2),
// minus bzero. Index t = (i * ntriples + triple) * idxb_max + jjb.
struct BiKernel {
  SnapView s;
  SystemView sys;
  SnapWork w;

  MD_HD void operator()(Index t) const {
    const Index i = t / s.ncoeff;
    const int rem = static_cast<int>(t - i * s.ncoeff);
    const int triple = rem / s.idxb_max;
    const int jjb = rem - triple * s.idxb_max;
    const int n = s.nchem;
    const int e1 = triple / (n * n), e2 = (triple / n) % n, e3 = triple % n;
    const int ielem = atom_element(s, sys, i);
    if (ielem < 0) {
      w.blist[t] = 0.0;
      return;
    }
    const double* ut = w.utot + 2 * i * static_cast<Index>(n) * s.idxu_max;
    const double* u3 = ut + 2 * static_cast<Index>(e3) * s.idxu_max;
    const int j1 = s.idxb[3 * jjb], j2 = s.idxb[3 * jjb + 1], j = s.idxb[3 * jjb + 2];
    const int jd = s.twojmax + 1;
    int jjz = s.idxz_block[(j1 * jd + j2) * jd + j];
    int jju = s.idxu_block[j];
    double sum = 0.0;
    for (int mb = 0; 2 * mb < j; ++mb)
      for (int ma = 0; ma <= j; ++ma) {
        double zr, zi;
        z_element(s, ut, e1, e2, s.idxz[jjz], zr, zi);
        sum += u3[2 * jju] * zr + u3[2 * jju + 1] * zi;
        ++jjz;
        ++jju;
      }
    if (j % 2 == 0) {
      const int mb = j / 2;
      for (int ma = 0; ma < mb; ++ma) {
        double zr, zi;
        z_element(s, ut, e1, e2, s.idxz[jjz], zr, zi);
        sum += u3[2 * jju] * zr + u3[2 * jju + 1] * zi;
        ++jjz;
        ++jju;
      }
      double zr, zi;
      z_element(s, ut, e1, e2, s.idxz[jjz], zr, zi);
      sum += 0.5 * (u3[2 * jju] * zr + u3[2 * jju + 1] * zi);
    }
    double b = 2.0 * sum;
    if (s.bzeroflag) {
      const int c = s.chemflag ? ielem : 0;
      if (s.wselfall || triple == (c * n + c) * n + c) b -= s.bzero[j];
    }
    w.blist[t] = b;
  }
};

// ---------------------------------------------------------------- pass 3: energy and beta
// Per atom: E_i = c0 + c.B + 1/2 sum_k a_kk B_k^2 + sum_{k<l} a_kl B_k B_l (packed file order),
// and for quadratic models beta_i = dE_i/dB_i.
struct EnergyBetaKernel {
  SnapView s;
  SystemView sys;
  SnapWork w;
  ForceOut out;
  bool eflag;

  MD_HD void operator()(Index i) const {
    const int ielem = atom_element(s, sys, i);
    const int nc = s.ncoeff;
    const double* b = w.blist + i * nc;
    double* beta = s.quadratic ? w.beta + i * nc : nullptr;
    double e = 0.0;
    if (ielem >= 0) {
      const double* c = s.coeff + static_cast<Index>(ielem) * s.ncoeffall;
      if (beta)
        for (int k = 0; k < nc; ++k) beta[k] = c[k + 1];
      if (eflag) {
        e = c[0];
        for (int k = 0; k < nc; ++k) e += c[k + 1] * b[k];
      }
      if (s.quadratic) {
        int q = nc + 1;
        for (int k = 0; k < nc; ++k) {
          const double bk = b[k];
          if (eflag) e += 0.5 * c[q] * bk * bk;
          beta[k] += c[q] * bk;
          ++q;
          for (int l = k + 1; l < nc; ++l) {
            const double bl = b[l];
            if (eflag) e += c[q] * bk * bl;
            beta[k] += c[q] * bl;
            beta[l] += c[q] * bk;
            ++q;
          }
        }
      }
    } else if (beta) {
      for (int k = 0; k < nc; ++k) beta[k] = 0.0;
    }
    if (eflag) store_energy(out, i, e);
  }
};

// ---------------------------------------------------------------- pass 4: adjoint Y
// One thread per (atom, channel e3, half-U index): Y = sum over the Z elements that map onto
// this U element of beta_j Z (multiplicities and j-rescaling as LAMMPS' compute_yi).
struct YiKernel {
  SnapView s;
  SystemView sys;
  SnapWork w;

  MD_HD void operator()(Index t) const {
    const int per_atom = s.nchem * s.idxu_half_max;
    const Index i = t / per_atom;
    const int rem = static_cast<int>(t - i * per_atom);
    const int e3 = rem / s.idxu_half_max;
    const int jjuh = rem - e3 * s.idxu_half_max;
    const int ielem = atom_element(s, sys, i);
    double yr = 0.0, yi = 0.0;
    if (ielem >= 0) {
      const int n = s.nchem;
      const double* ut = w.utot + 2 * i * static_cast<Index>(n) * s.idxu_max;
      const double* beta = s.quadratic ? w.beta + i * s.ncoeff
                                       : s.coeff + static_cast<Index>(ielem) * s.ncoeffall + 1;
      const int first = s.y_offset[jjuh], last = s.y_offset[jjuh + 1];
      for (int e1 = 0; e1 < n; ++e1)
        for (int e2 = 0; e2 < n; ++e2)
          for (int q = first; q < last; ++q) {
            const SnapZIndex& z = s.idxz[s.y_jjz[q]];
            double zr, zi;
            z_element(s, ut, e1, e2, z, zr, zi);
            int triple;
            if (z.perm == 0) triple = (e1 * n + e2) * n + e3;
            else if (z.perm == 1) triple = (e3 * n + e2) * n + e1;
            else triple = (e2 * n + e3) * n + e1;
            const double betaj = z.mult * beta[triple * s.idxb_max + z.jjb] * z.rescale;
            yr += betaj * zr;
            yi += betaj * zi;
          }
    }
    w.ylist[2 * t] = yr;
    w.ylist[2 * t + 1] = yi;
  }
};

// ---------------------------------------------------------------- pass 5: dE_i/dr_ij per pair
// One thread per neighbour slot p = k * n_local + i: recompute u and du for the pair, weight
// by the switching function, contract with Y_i of the neighbour's channel.
struct DeidrjKernel {
  SnapView s;
  SystemView sys;
  NeighborView nl;
  SnapWork w;
  Index npairs;  // max_neigh * n_local

  MD_HD void operator()(Index pslot) const {
    const Index n = nl.n_local;
    const Index k = pslot / n;
    const Index i = pslot - k * n;
    if (k >= nl.num_neigh[i]) return;
    double* dx_out = w.dedr;
    double* dy_out = w.dedr + npairs;
    double* dz_out = w.dedr + 2 * npairs;
    dx_out[pslot] = 0.0;
    dy_out[pslot] = 0.0;
    dz_out[pslot] = 0.0;
    const int ielem = atom_element(s, sys, i);
    if (ielem < 0) return;
    const int jn = nl.neigh[pslot];
    const double x = sys.x[jn] - sys.x[i], y = sys.y[jn] - sys.y[i], z = sys.z[jn] - sys.z[i];
    const double rsq = x * x + y * y + z * z;
    PairInfo p;
    if (!pair_inside(s, ielem, s.type_element[sys.type[jn]], rsq, p)) return;

    const double r = sqrt(rsq);
    const double rscale0 = s.rfac0 * kPi / (p.rcut - s.rmin0);
    const double theta0 = (r - s.rmin0) * rscale0;
    const double cs = cos(theta0), sn = sin(theta0);
    const double z0 = r * cs / sn;
    const double dz0dr = z0 / r - (r * rscale0) * (rsq + z0 * z0) / rsq;

    const double rinv = 1.0 / r;
    const double uvec[3] = {x * rinv, y * rinv, z * rinv};
    const double r0inv = 1.0 / sqrt(r * r + z0 * z0);
    const double a_r = z0 * r0inv, a_i = -z * r0inv, b_r = y * r0inv, b_i = -x * r0inv;
    const double dr0invdr = -pow(r0inv, 3.0) * (r + z0 * dz0dr);
    double dr0inv[3], dz0[3], da_r[3], da_i[3], db_r[3], db_i[3];
    for (int c = 0; c < 3; ++c) {
      dr0inv[c] = dr0invdr * uvec[c];
      dz0[c] = dz0dr * uvec[c];
    }
    for (int c = 0; c < 3; ++c) {
      da_r[c] = dz0[c] * r0inv + z0 * dr0inv[c];
      da_i[c] = -z * dr0inv[c];
    }
    da_i[2] += -r0inv;
    for (int c = 0; c < 3; ++c) {
      db_r[c] = y * dr0inv[c];
      db_i[c] = -x * dr0inv[c];
    }
    db_i[0] += -r0inv;
    db_r[1] += r0inv;

    double sfac, dsfac;
    switching(s, r, p.rcut, p.sinner, p.dinner, sfac, dsfac);
    sfac *= s.weight[p.jelem];
    dsfac *= s.weight[p.jelem];

    const double* yl = w.ylist + 2 * (i * s.nchem + (s.chemflag ? p.jelem : 0)) * s.idxu_half_max;
    double ur[2][kLayer], ui[2][kLayer];
    double dur[2][3 * kLayer], dui[2][3 * kLayer];
    double dedr[3] = {0.0, 0.0, 0.0};
    // layer 0: u = 1, du = 0; only the middle element, weighted 1/2
    ur[0][0] = 1.0;
    ui[0][0] = 0.0;
    for (int c = 0; c < 3; ++c) {
      dur[0][c] = 0.0;
      dui[0][c] = 0.0;
      dedr[c] += 0.5 * (dsfac * uvec[c]) * yl[0];
    }
    const int rp = s.twojmax + 1;
    for (int j = 1; j <= s.twojmax; ++j) {
      const int cur = j & 1, prev = cur ^ 1;
      u_layer(s.rootpq, rp, j, a_r, a_i, b_r, b_i, ur[prev], ui[prev], ur[cur], ui[cur]);
      du_layer(s.rootpq, rp, j, a_r, a_i, b_r, b_i, da_r, da_i, db_r, db_i, ur[prev], ui[prev],
               dur[prev], dui[prev], dur[cur], dui[cur]);
      const double* yj = yl + 2 * s.idxu_half_block[j];
      const double* cur_r = ur[cur];
      const double* cur_i = ui[cur];
      const double* dcur_r = dur[cur];
      const double* dcur_i = dui[cur];
      // rows 2 mb < j in full, and for even j the middle row up to its centre (centre x 1/2)
      const int full = ((j + 1) / 2) * (j + 1);
      for (int q = 0; q < full; ++q) {
        const double y_r = yj[2 * q], y_i = yj[2 * q + 1];
        for (int c = 0; c < 3; ++c) {
          const double du_r = dsfac * cur_r[q] * uvec[c] + sfac * dcur_r[3 * q + c];
          const double du_i = dsfac * cur_i[q] * uvec[c] + sfac * dcur_i[3 * q + c];
          dedr[c] += du_r * y_r + du_i * y_i;
        }
      }
      if (j % 2 == 0) {
        const int mb = j / 2;
        for (int ma = 0; ma <= mb; ++ma) {
          const int q = mb * (j + 1) + ma;
          const double h = ma == mb ? 0.5 : 1.0;
          const double y_r = yj[2 * q], y_i = yj[2 * q + 1];
          for (int c = 0; c < 3; ++c) {
            const double du_r = dsfac * cur_r[q] * uvec[c] + sfac * dcur_r[3 * q + c];
            const double du_i = dsfac * cur_i[q] * uvec[c] + sfac * dcur_i[3 * q + c];
            dedr[c] += h * (du_r * y_r + du_i * y_i);
          }
        }
      }
    }
    dx_out[pslot] = 2.0 * dedr[0];
    dy_out[pslot] = 2.0 * dedr[1];
    dz_out[pslot] = 2.0 * dedr[2];
  }
};

// ---------------------------------------------------------------- pass 6: forces and virial
// F_a = sum_k [dE_a/dr_ak - dE_o/dr_om], where o owns neighbour k and m is the slot of o's list
// that holds the image of a at r_o - r_ak (found by owner and position; no scatter to ghosts).
// Per-atom virial as LAMMPS' ev_tally_xyz: half of (r_a - r_k) (x) f for both pair directions.
struct ForceKernel {
  SnapView s;
  SystemView sys;
  NeighborView nl;
  SnapWork w;
  Index npairs;
  ForceOut out;
  bool vflag;

  MD_HD void operator()(Index a) const {
    const Index n = nl.n_local;
    const double* ex = w.dedr;
    const double* ey = w.dedr + npairs;
    const double* ez = w.dedr + 2 * npairs;
    const double xa = sys.x[a], ya = sys.y[a], za = sys.z[a];
    const int aelem = atom_element(s, sys, a);
    double f[3] = {0.0, 0.0, 0.0};
    double v[6] = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0};
    const int nn = nl.num_neigh[a];
    for (int k = 0; k < nn; ++k) {
      const Index slot = static_cast<Index>(k) * n + a;
      const int jn = nl.neigh[slot];
      const int jelem = s.type_element[sys.type[jn]];
      if (aelem < 0 || jelem < 0) continue;
      const double rx = sys.x[jn] - xa, ry = sys.y[jn] - ya, rz = sys.z[jn] - za;
      const double rsq = rx * rx + ry * ry + rz * rz;
      const double rcut = (s.radius[aelem] + s.radius[jelem]) * s.rcutfac;
      if (!(rsq < rcut * rcut * (1.0 + 1e-10))) continue;
      double fc[3] = {ex[slot], ey[slot], ez[slot]};
      // reverse pair: o -> image of a
      const int o = nl.owner(jn);
      const double xo = sys.x[o], yo = sys.y[o], zo = sys.z[o];
      const int no = nl.num_neigh[o];
      Index best = -1;
      double best_d2 = 1e-8;
      for (int m = 0; m < no; ++m) {
        const Index oslot = static_cast<Index>(m) * n + o;
        const int cand = nl.neigh[oslot];
        if (nl.owner(cand) != static_cast<int>(a)) continue;
        const double dx = sys.x[cand] - xo + rx, dy = sys.y[cand] - yo + ry,
                     dz = sys.z[cand] - zo + rz;
        const double d2 = dx * dx + dy * dy + dz * dz;
        if (d2 < best_d2) {
          best_d2 = d2;
          best = oslot;
        }
      }
      if (best >= 0) {
        fc[0] -= ex[best];
        fc[1] -= ey[best];
        fc[2] -= ez[best];
      }
      f[0] += fc[0];
      f[1] += fc[1];
      f[2] += fc[2];
      if (vflag) {
        // del = r_a - r_k = -r_ak
        v[0] -= 0.5 * rx * fc[0];
        v[1] -= 0.5 * ry * fc[1];
        v[2] -= 0.5 * rz * fc[2];
        v[3] -= 0.5 * rx * fc[1];
        v[4] -= 0.5 * rx * fc[2];
        v[5] -= 0.5 * ry * fc[2];
      }
    }
    store_force(out, a, f[0], f[1], f[2]);
    if (vflag) store_virial(out, a, n, v);
  }
};

}  // namespace snap
}  // namespace md
