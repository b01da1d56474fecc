// GAP bispectrum_so4 on the device: the 4-D harmonics U_j of a neighbour (doubled labels,
// projection on the 3-sphere, one lane per neighbour level recursion with d/dr), the atom's
// U = identity + sum_j fcut w U_j (team per atom), components B_k = Re sum coef U_a U_b
// conj(U_c) (host-built term lists), the ard_se kernel against the sparse set (team per atom),
// and the backward pass dE/dB -> dE/dU -> pair partials. Energies eV, lengths Å. Launched by
// GapPotential::compute (gap.cpp); conventions in models/gap/README.md.
#pragma once

#include <cmath>

#include "kernels/basis.hpp"
#include "kernels/many_body.hpp"
#include "kernels/team.hpp"

namespace md {

// One term of B_k (or of its adjoint): coef * U_p * U_q (conj_p: conj(U_p) U_q), and for the
// forward pass the third factor conj(U_c).
struct GapSo4Term {
  int k;         // component
  int a, b, c;   // U element indices (complex)
  double coef;   // CG(j1 m11 j1 m1-m11 | j m1) CG(j1 m12 j1 m2-m12 | j m2)
};
// Adjoint entry of element e: Ybar_e += g_k coef (role c ? U_p U_q : conj(U_p) U_q).
struct GapSo4Adj {
  int k, p, q, role_c;
  double coef;
};

struct GapSo4View {
  int j_max, n_u, n_b, n_species, z_centre;
  double cutoff, z0;
  const int* u_block;        // [j_max + 1] first element of level j ((j+1)^2 elements, (m1,m2))
  const int* species_z;      // [n_species]
  const double* w;           // [n_species]
  const int* term_first;     // [n_b + 1] into terms
  const GapSo4Term* terms;
  const int* adj_first;      // [n_u + 1] into adj
  const GapSo4Adj* adj;
  // ard_se GP
  int n_sparse;
  double delta2, f0sq;
  const double* theta;          // [n_b]
  const double* sparse_xt;      // [n_sparse][n_b]: x_s / theta
  const double* sparse_alpha;   // [n_sparse]
  const double* sparse_cutoff;  // [n_sparse]
};

struct GapSo4Work {
  double* u;     // [n][2 n_u] (re, im)
  double* x;     // [n][n_b]
  double* dedx;  // [n][n_b]
  int* centre;   // [n] 1 when atom i is a centre of this descriptor
};

MD_INLINE int gap_so4_species(const GapSo4View& s, int z) {
  for (int k = 0; k < s.n_species; ++k)
    if (s.species_z[k] == 0 || s.species_z[k] == z) return k;
  return -1;
}

// Complex helpers on (re, im) pairs.
MD_INLINE void cmul(double ar, double ai, double br, double bi, double& cr, double& ci) {
  cr = ar * br - ai * bi;
  ci = ar * bi + ai * br;
}

// The neighbour's U_j(m2, m1) for all levels (doubled labels, element u_block[j] + row (m2)
// * (j+1) + col (m1), index (m + j)/2), without the cutoff weight, into uc [2 n_u]; with
// du != null also d/dr_ij (3 Cartesian components) into du [3][2 n_u]. One lane.
MD_INLINE void gap_so4_neighbor_u(const GapSo4View& s, double dx, double dy, double dz,
                                  double* uc, double* du) {
  const double r = sqrt(dx * dx + dy * dy + dz * dz);
  const double th = r / s.z0;
  const double zz = r / tan(th), r0 = sin(th) / r;
  // z0 +- i z and x -+ i y, scaled by r0 (complex as re, im)
  const double zpr = zz * r0, zpi = dz * r0;  // zp = (zz + i dz) r0, zm = conj
  const double xpr = dx * r0, xpi = dy * r0;  // xp = (dx + i dy) r0, xm = conj
  double gzz[3], gr0[3];
  const double u[3] = {dx / r, dy / r, dz / r};
  for (int c = 0; c < 3; ++c) {
    gzz[c] = (1.0 / tan(th) - th / (sin(th) * sin(th))) * u[c];
    gr0[c] = (cos(th) / (r * s.z0) - r0 / r) * u[c];
  }
  // gradients of zp, zm, xp, xm: [c] (re, im)
  double gzp[3][2], gzm[3][2], gxp[3][2], gxm[3][2];
  for (int c = 0; c < 3; ++c) {
    gzp[c][0] = zz * gr0[c] + r0 * gzz[c];
    gzp[c][1] = dz * gr0[c] + (c == 2 ? r0 : 0.0);
    gzm[c][0] = gzp[c][0];
    gzm[c][1] = -gzp[c][1];
    gxp[c][0] = dx * gr0[c] + (c == 0 ? r0 : 0.0);
    gxp[c][1] = dy * gr0[c] + (c == 1 ? r0 : 0.0);
    gxm[c][0] = gxp[c][0];
    gxm[c][1] = -gxp[c][1];
  }
  const int nu2 = 2 * s.n_u;
  uc[0] = 1.0;
  uc[1] = 0.0;
  if (du)
    for (int c = 0; c < 3; ++c) du[c * nu2] = du[c * nu2 + 1] = 0.0;
  for (int j = 1; j <= s.j_max; ++j) {
    const int base = s.u_block[j], pbase = s.u_block[j - 1];
    // element (m2, m1) of level j at base + ((m2 + j)/2) * (j + 1) + (m1 + j)/2
    for (int i1 = 0; i1 <= j; ++i1) {
      const int m1 = 2 * i1 - j;
      for (int i2 = 0; i2 <= j; ++i2) {
        const int m2 = 2 * i2 - j;
        double vr = 0.0, vi = 0.0;
        double gv[3][2] = {{0, 0}, {0, 0}, {0, 0}};
        // previous level element (m2', m1') with doubled labels of level j-1
        auto prev = [&](int pm2, int pm1, int& idx) {
          const int k2 = (pm2 + j - 1), k1 = (pm1 + j - 1);
          if (k2 < 0 || k1 < 0 || k2 > 2 * (j - 1) || k1 > 2 * (j - 1)) return false;
          idx = pbase + (k2 / 2) * j + k1 / 2;
          return true;
        };
        // term: coef * f * Up(idx), f in {zp, zm, -i xm, -i xp}
        auto add = [&](double coef, double fr, double fi, const double (*gf)[2], int idx) {
          const double pr = uc[2 * idx], pi = uc[2 * idx + 1];
          double tr, ti;
          cmul(fr, fi, pr, pi, tr, ti);
          vr += coef * tr;
          vi += coef * ti;
          if (!du) return;
          for (int c = 0; c < 3; ++c) {
            const double dpr = du[c * nu2 + 2 * idx], dpi = du[c * nu2 + 2 * idx + 1];
            double ar, ai, br, bi;
            cmul(gf[c][0], gf[c][1], pr, pi, ar, ai);
            cmul(fr, fi, dpr, dpi, br, bi);
            gv[c][0] += coef * (ar + br);
            gv[c][1] += coef * (ai + bi);
          }
        };
        int idx;
        if (m1 < j) {
          if (j - m2 != 0 && prev(m2 + 1, m1 + 1, idx))
            add(sqrt(double(j - m2) / double(j - m1)), zpr, zpi, gzp, idx);
          if (j + m2 != 0 && prev(m2 - 1, m1 + 1, idx)) {
            // -i xm: xm = (xpr, -xpi) -> -i xm = (-xpi, -xpr)
            double g[3][2];
            for (int c = 0; c < 3; ++c) {
              g[c][0] = gxm[c][1];
              g[c][1] = -gxm[c][0];
            }
            add(sqrt(double(j + m2) / double(j - m1)), -xpi, -xpr, g, idx);
          }
        } else {
          if (j + m2 != 0 && prev(m2 - 1, m1 - 1, idx))
            add(sqrt(double(j + m2) / double(j + m1)), zpr, -zpi, gzm, idx);
          if (j - m2 != 0 && prev(m2 + 1, m1 - 1, idx)) {
            // -i xp = (xpi, -xpr)
            double g[3][2];
            for (int c = 0; c < 3; ++c) {
              g[c][0] = gxp[c][1];
              g[c][1] = -gxp[c][0];
            }
            add(sqrt(double(j - m2) / double(j + m1)), xpi, -xpr, g, idx);
          }
        }
        const int e = base + i2 * (j + 1) + i1;
        uc[2 * e] = vr;
        uc[2 * e + 1] = vi;
        if (du)
          for (int c = 0; c < 3; ++c) {
            du[c * nu2 + 2 * e] = gv[c][0];
            du[c * nu2 + 2 * e + 1] = gv[c][1];
          }
      }
    }
  }
}

// Team per local atom: U and B.
struct GapSo4DescriptorKernel {
  SystemView sys;
  NeighborView nl;
  GapSo4View s;
  GapSo4Work w;
  const int* type_z;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    if (!(s.z_centre == 0 || s.z_centre == zi)) {
      team_single(t, [&] { w.centre[i] = 0; });
      return;
    }
    double* uc = t.scratch_as<double>();  // [2 n_u]
    double* u = w.u + i * static_cast<Index>(2 * s.n_u);
    team_for(t, s.n_u, [&](int e) {
      int j = 0;
      while (j < s.j_max && s.u_block[j + 1] <= e) ++j;
      const int loc = e - s.u_block[j], i2 = loc / (j + 1), i1 = loc - i2 * (j + 1);
      u[2 * e] = i1 == i2 ? 1.0 : 0.0;
      u[2 * e + 1] = 0.0;
    });
    team_barrier(t);
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot p = env.neighbor(k);
      const double r = sqrt(p.rsq);
      if (r >= s.cutoff) continue;
      const int sp = gap_so4_species(s, type_z[sys.type[p.j]]);
      if (sp < 0) continue;
      double dfc;
      const double fc = basis::cutoff_cosine(r, s.cutoff, dfc) * s.w[sp];
      team_single(t, [&] { gap_so4_neighbor_u(s, p.dx, p.dy, p.dz, uc, nullptr); });
      team_for(t, 2 * s.n_u, [&](int e) { u[e] += fc * uc[e]; });
      team_barrier(t);
    }
    double* x = w.x + i * static_cast<Index>(s.n_b);
    team_for(t, s.n_b, [&](int kb) {
      double acc = 0.0;
      for (int q = s.term_first[kb]; q < s.term_first[kb + 1]; ++q) {
        const GapSo4Term& tm = s.terms[q];
        double pr, pi;
        cmul(u[2 * tm.a], u[2 * tm.a + 1], u[2 * tm.b], u[2 * tm.b + 1], pr, pi);
        // Re(P conj(U_c))
        acc += tm.coef * (pr * u[2 * tm.c] + pi * u[2 * tm.c + 1]);
      }
      x[kb] = acc;
    });
    team_single(t, [&] { w.centre[i] = 1; });
  }
};

// ard_se covariance of the descriptor x with sparse point q, without f0 and the sparse cutoff:
// delta^2 exp(-|x_q/theta - x/theta|^2 / 2). Shared by the energy (GapArdSeKernel) and the
// variance (GapSo4VarianceKernel).
MD_INLINE double gap_so4_covariance(const GapSo4View& s, int q, const double* x) {
  const int d = s.n_b;
  const double* xs = s.sparse_xt + static_cast<Index>(q) * d;
  double uu = 0.0;
  for (int c = 0; c < d; ++c) {
    const double uc = xs[c] - x[c] / s.theta[c];
    uu += uc * uc;
  }
  return s.delta2 * exp(-0.5 * uu);
}

// Predictive variance of one bispectrum_so4 descriptor (quippy's local_gap_variance; one
// instance per centre atom, covariance cutoff 1): a team per local atom, lanes over sparse
// points: k_q = (cov + f0^2) fc_q in scratch, std_out[i] += delta^2 + f0^2 + reg^2 - |L^-1 k|^2
// (GapVarianceToStd takes the root after all descriptors). Non-centres add nothing.
struct GapSo4VarianceKernel {
  GapSo4View s;
  const double* x;     // [n][n_b] descriptors of the last compute
  const int* centre;   // [n] nonzero: a centre of this descriptor
  const double* linv;  // [n_sparse][n_sparse] column-major
  double reg2;
  double* std_out;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    if (!centre[i]) return;  // the whole team leaves
    const int m = s.n_sparse;
    double* k = t.scratch_as<double>();
    const double* xi = x + i * static_cast<Index>(s.n_b);
    team_for(t, m, [&](int q) { k[q] = (gap_so4_covariance(s, q, xi) + s.f0sq) * s.sparse_cutoff[q]; });
    team_barrier(t);
    const double qf = team_sum<double>(t, m, [&](int r) {
      double y = 0.0;
      for (int c = 0; c <= r; ++c) y += linv[static_cast<Index>(c) * m + r] * k[c];
      return y * y;
    });
    team_single(t, [&] { std_out[i] += s.delta2 + s.f0sq + reg2 - qf; });
  }
};

// Team per local atom: eps = sum_s alpha_s (delta^2 exp(-|x_s/theta - x/theta|^2 / 2) + f0^2)
// fc_s added to e_atom; dE/dx_d = sum_s alpha_s fc_s delta^2 exp(..) (x_s/theta - x/theta)_d
// / theta_d into w.dedx. Scratch: weights of a chunk of kGapSo4Chunk sparse points.
constexpr int kGapSo4Chunk = 64;
struct GapArdSeKernel {
  GapSo4View s;
  GapSo4Work w;
  double* e_atom;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    if (!w.centre[i]) return;
    const int d = s.n_b;
    const double* x = w.x + i * static_cast<Index>(d);
    double* dedx = w.dedx + i * static_cast<Index>(d);
    double* wt = t.scratch_as<double>();
    team_for(t, d, [&](int c) { dedx[c] = 0.0; });
    double mine = 0.0;
    for (int s0 = 0; s0 < s.n_sparse; s0 += kGapSo4Chunk) {
      const int ns = s.n_sparse - s0 < kGapSo4Chunk ? s.n_sparse - s0 : kGapSo4Chunk;
      team_barrier(t);
      team_for(t, ns, [&](int q) {
        const double ex = gap_so4_covariance(s, s0 + q, x);
        const double al = s.sparse_alpha[s0 + q], fc = s.sparse_cutoff[s0 + q];
        mine += al * ((ex + s.f0sq) * fc);
        wt[q] = al * ex * fc;
      });
      team_barrier(t);
      team_for(t, d, [&](int c) {
        double acc = 0.0;
        for (int q = 0; q < ns; ++q)
          acc += wt[q] * (s.sparse_xt[static_cast<Index>(s0 + q) * d + c] - x[c] / s.theta[c]);
        dedx[c] += acc / s.theta[c];
      });
    }
    const double e = team_sum<double>(t, t.size, [&](int) { return mine; });
    team_single(t, [&] { e_atom[i] += e; });
  }
};

// Team per local atom: Ybar = dE/dU (complex: dE/dRe + i dE/dIm) from dE/dB, then per
// neighbour g_ik += sum_e Re(conj(Ybar_e) d(fc w U_e)/dr_ij). Scratch: Ybar [2 n_u], uc
// [2 n_u], du [3][2 n_u].
struct GapSo4BackwardKernel {
  SystemView sys;
  NeighborView nl;
  GapSo4View s;
  GapSo4Work w;
  const int* type_z;
  PairPartialsView g;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    if (!w.centre[i]) return;
    const int nu2 = 2 * s.n_u;
    double* yb = t.scratch_as<double>();
    double* uc = yb + nu2;
    double* du = uc + nu2;
    const double* u = w.u + i * static_cast<Index>(nu2);
    const double* gb = w.dedx + i * static_cast<Index>(s.n_b);
    team_for(t, s.n_u, [&](int e) {
      double yr = 0.0, yi = 0.0;
      for (int q = s.adj_first[e]; q < s.adj_first[e + 1]; ++q) {
        const GapSo4Adj& a = s.adj[q];
        const double pr = u[2 * a.p], pi = a.role_c ? u[2 * a.p + 1] : -u[2 * a.p + 1];
        double vr, vi;
        cmul(pr, pi, u[2 * a.q], u[2 * a.q + 1], vr, vi);
        yr += gb[a.k] * a.coef * vr;
        yi += gb[a.k] * a.coef * vi;
      }
      yb[2 * e] = yr;
      yb[2 * e + 1] = yi;
    });
    team_barrier(t);
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot p = env.neighbor(k);
      const double r = sqrt(p.rsq);
      if (r >= s.cutoff) continue;
      const int sp = gap_so4_species(s, type_z[sys.type[p.j]]);
      if (sp < 0) continue;
      double dfc;
      const double fc = basis::cutoff_cosine(r, s.cutoff, dfc) * s.w[sp];
      dfc *= s.w[sp];
      team_single(t, [&] { gap_so4_neighbor_u(s, p.dx, p.dy, p.dz, uc, du); });
      const double ux = p.dx / r, uy = p.dy / r, uz = p.dz / r;
      const DVec<3> gs = team_sum<DVec<3>>(t, s.n_u, [&](int e) {
        const double yr = yb[2 * e], yi = yb[2 * e + 1];
        const double val = yr * uc[2 * e] + yi * uc[2 * e + 1];  // Re(conj(Y) U)
        DVec<3> v;
        v.v[0] = dfc * ux * val + fc * (yr * du[2 * e] + yi * du[2 * e + 1]);
        v.v[1] = dfc * uy * val + fc * (yr * du[nu2 + 2 * e] + yi * du[nu2 + 2 * e + 1]);
        v.v[2] = dfc * uz * val + fc * (yr * du[2 * nu2 + 2 * e] + yi * du[2 * nu2 + 2 * e + 1]);
        return v;
      });
      team_single(t, [&] {
        double old[3];
        g.load(p.slot, old);
        g.store(p.slot, old[0] + gs.v[0], old[1] + gs.v[1], old[2] + gs.v[2]);
      });
    }
  }
};

}  // namespace md
