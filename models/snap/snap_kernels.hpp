// SNAP device maths (MD_HD): switching function, Cayley-Klein parameters, the Wigner-U layer
// recursion with its derivative (one layer element per lane, layers in team scratch), Z =
// CG-contracted products of U, and the pass functors (U per atom [team], Z per atom x element,
// B per atom x component, Y per atom x half-U element, dE/dr per atom [team over its
// neighbours] into the many-body layer's pair partials, which kernels/many_body.hpp gathers
// into forces and virial). Lengths Å, energies eV. Included by snap_*.cpp.
//
// Equations follow Thompson et al., J. Comput. Phys. 285, 316 (2015) and the conventions of
// LAMMPS ML-SNAP (src/ML-SNAP/sna.cpp): U in VMK §4.8.2 recursion with inversion symmetry
// VMK 4.4(2), Z with Clebsch-Gordan coefficients VMK 8.2.1(3), adjoint Y = sum beta dB/dU.
//
// Per-atom arrays are atom-minor (atom_minor in descriptor_model.hpp, see SnapWork): the flat
// passes put the atom index fastest, so neighbouring GPU threads read neighbouring addresses.
#pragma once

#include <cmath>

#include "kernels/basis.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"
#include "kernels/team.hpp"
#include "models/snap/snap.hpp"

namespace md {
namespace snap {

constexpr double kPi = 3.14159265358979323846;

// Outer cosine switch (switchflag) times the optional inner switch (switchinnerflag) and its
// r-derivative (LAMMPS' compute_sfac / compute_dsfac), from the shared basis library.
MD_INLINE void switching(const SnapView& s, double r, double rcut, double sinner, double dinner,
                         double& sfac, double& dsfac) {
  sfac = basis::cutoff_snap(r, s.rmin0, rcut, s.switchflag != 0, s.switchinner != 0, sinner,
                            dinner, dsfac);
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

// Cayley-Klein parameters a, b of one pair (and their gradients in the dE/dr pass).
struct Cayley {
  double a_r, a_i, b_r, b_i;
};

// ---------------------------------------------------------------- one layer element
// Layer j is stored full, (j+1)^2 entries, flat q = mb (j+1) + ma. Its "left" entries are
// the rows 2 mb < j and, for even j, the middle row up to its centre: flat q < u_left(j).
// They follow from layer j-1 by the recursion; the other entries by the inversion symmetry
// u[j-ma][j-mb] = (-1)^(ma-mb) conj(u[ma][mb]), which also conjugates the centre entry (as
// LAMMPS' compute_uarray does).
MD_INLINE int u_left(int j) { return ((j + 1) / 2) * (j + 1) + ((j % 2 == 0) ? j / 2 + 1 : 0); }

// Row mb and column ma of flat entry q of layer j (q = mb (j+1) + ma), without an integer
// division: inv = 1 / (j+1); (q + 1/2) inv is at least 1/(2(j+1)) away from an integer.
MD_INLINE void row_col(int q, int j, double inv, int& mb, int& ma) {
  mb = static_cast<int>((q + 0.5) * inv);
  ma = q - mb * (j + 1);
}

// body(q, mb, ma) for the flat entries q in [q0, q1) of layer j, spread over the team's lanes.
// CPU in lane order (team of one lane): the entries row by row in plain nested loops, so the
// compiler sees affine indices and splits the column loop at the recursion's edge cases. CUDA
// and the strict (permuted) CPU mode: team_for, row and column by row_col. The CPU body is
// forced inline at both call sites (SNAP_LANE): a body called from two loops was otherwise
// kept out of line (+30 % in the dE/dr pass).
#if defined(__CUDACC__)
#define SNAP_LANE
#define SNAP_ELEMENT MD_INLINE
#else
#define SNAP_LANE __attribute__((always_inline))
#define SNAP_ELEMENT inline __attribute__((always_inline))  // layer_for and the element functions
#endif
template <class Body>
SNAP_ELEMENT void layer_for(const Team& t, int j, int q0, int q1, Body&& body) {
#if !defined(__CUDA_ARCH__)
  if (t.shuffle == 0) {
    int mb = 0, ma = q0;  // row and column of q0 by subtraction (no division on the CPU path)
    while (ma > j) {
      ma -= j + 1;
      ++mb;
    }
    for (int q = q0; q < q1; ++mb, ma = 0) {
      const int row_end = (mb + 1) * (j + 1) < q1 ? (mb + 1) * (j + 1) : q1;
      for (; q < row_end; ++q, ++ma) body(q, mb, ma);
    }
    return;
  }
#endif
  const double inv = 1.0 / (j + 1);
  team_for(t, q1 - q0, [&](int e) {
    int mb, ma;
    row_col(q0 + e, j, inv, mb, ma);
    body(q0 + e, mb, ma);
  });
}

// Left entry (ma, mb) of layer j >= 1 from layer j-1 (planes pr, pi; row width j).
SNAP_ELEMENT void u_element(const double* rootpq, int rp, int j, int ma, int mb, const Cayley& c,
                         const double* pr, const double* pi, double& ur, double& ui) {
  double r = 0.0, im = 0.0;
  if (ma > 0) {
    const int q = mb * j + ma - 1;
    const double rq = rootpq[ma * rp + (j - mb)];
    r = -rq * (c.b_r * pr[q] + c.b_i * pi[q]);
    im = -rq * (c.b_r * pi[q] - c.b_i * pr[q]);
  }
  if (ma < j) {
    const int q = mb * j + ma;
    const double rq = rootpq[(j - ma) * rp + (j - mb)];
    r += rq * (c.a_r * pr[q] + c.a_i * pi[q]);
    im += rq * (c.a_r * pi[q] - c.a_i * pr[q]);
  }
  ur = r;
  ui = im;
}

// Left entry (ma, mb) of layer j >= 1 and its gradient (components k = x, y, z) from layer
// j-1: u planes pr, pi; gradient planes dpr, dpi with component k at k * ds + q.
SNAP_ELEMENT void udu_element(const double* rootpq, int rp, int j, int ma, int mb, const Cayley& c,
                           const double* da_r, const double* da_i, const double* db_r,
                           const double* db_i, const double* pr, const double* pi,
                           const double* dpr, const double* dpi, int ds, double& ur, double& ui,
                           double* dr, double* di) {
  double r = 0.0, im = 0.0;
  for (int k = 0; k < 3; ++k) {
    dr[k] = 0.0;
    di[k] = 0.0;
  }
  if (ma > 0) {
    const int q = mb * j + ma - 1;
    const double rq = rootpq[ma * rp + (j - mb)];
    const double p_r = pr[q], p_i = pi[q];
    r = -rq * (c.b_r * p_r + c.b_i * p_i);
    im = -rq * (c.b_r * p_i - c.b_i * p_r);
    for (int k = 0; k < 3; ++k) {
      const double dp_r = dpr[k * ds + q], dp_i = dpi[k * ds + q];
      dr[k] = -rq * (db_r[k] * p_r + db_i[k] * p_i + c.b_r * dp_r + c.b_i * dp_i);
      di[k] = -rq * (db_r[k] * p_i - db_i[k] * p_r + c.b_r * dp_i - c.b_i * dp_r);
    }
  }
  if (ma < j) {
    const int q = mb * j + ma;
    const double rq = rootpq[(j - ma) * rp + (j - mb)];
    const double p_r = pr[q], p_i = pi[q];
    r += rq * (c.a_r * p_r + c.a_i * p_i);
    im += rq * (c.a_r * p_i - c.a_i * p_r);
    for (int k = 0; k < 3; ++k) {
      const double dp_r = dpr[k * ds + q], dp_i = dpi[k * ds + q];
      dr[k] += rq * (da_r[k] * p_r + da_i[k] * p_i + c.a_r * dp_r + c.a_i * dp_i);
      di[k] += rq * (da_r[k] * p_i - da_i[k] * p_r + c.a_r * dp_i - c.a_i * dp_r);
    }
  }
  ur = r;
  ui = im;
}

// Pair geometry: Cayley-Klein parameters from r_ij (U pass).
MD_INLINE Cayley cayley(const SnapView& s, double x, double y, double z, double r, double rcut) {
  const double theta0 = (r - s.rmin0) * s.rfac0 * kPi / (rcut - s.rmin0);
  const double z0 = r / tan(theta0);
  const double r0inv = 1.0 / sqrt(r * r + z0 * z0);
  return Cayley{r0inv * z0, -r0inv * z, r0inv * y, -r0inv * x};
}

// Team scratch (in doubles) of the U pass and the dE/dr pass for a model.
MD_INLINE int u_layer_size(const SnapView& s) { return (s.twojmax + 1) * (s.twojmax + 1); }
inline std::size_t ui_scratch_doubles(const SnapView& s) {
  return 2 + 4 * static_cast<std::size_t>(u_layer_size(s)) +
         2 * static_cast<std::size_t>(s.nchem) * s.idxu_max;
}
inline std::size_t deidrj_scratch_doubles(const SnapView& s) {
  return 8 + 16 * static_cast<std::size_t>(u_layer_size(s)) +
         2 * static_cast<std::size_t>(s.nchem) * s.idxu_half_max;
}
// Lanes per team on CUDA: the widest layer's left half, as a power of two in [32, 256].
inline int snap_team_size(const SnapView& s) {
  const int w = u_left(s.twojmax);
  int t = 32;
  while (t < w && t < 256) t *= 2;
  return t;
}

// Offset of component (c, q, re/im) of a per-atom array with `per` complex entries per
// channel, from the atom's first element (atom_minor): ((c * per + q) * 2 + ri) * stride.
MD_INLINE Index am(int c, int per, int q, int ri, Index stride) {
  return ((static_cast<Index>(c) * per + q) * 2 + ri) * stride;
}
// Components per atom of the work arrays.
MD_INLINE Index ncomp_u(const SnapView& s) { return 2 * static_cast<Index>(s.nchem) * s.idxu_max; }
MD_INLINE Index ncomp_y(const SnapView& s) {
  return 2 * static_cast<Index>(s.nchem) * s.idxu_half_max;
}
MD_INLINE Index ncomp_z(const SnapView& s) {
  return 2 * static_cast<Index>(s.nchem) * s.nchem * s.idxz_max;
}

MD_INLINE int atom_element(const SnapView& s, const SystemView& sys, Index i) {
  return s.type_element[sys.type[i]];
}

// ---------------------------------------------------------------- pass 1: U totals per atom
// utot(c; j, ma, mb) = wself delta(ma, mb) [own channel, or all with wselfallflag]
//                      + sum_j in channel c of sfac(r) w_j u_j(r_ij).
// One team per atom; per neighbour, layer by layer: lanes over the layer's left entries
// (recursion; each added to the atom's totals in scratch by the lane that wrote it), barrier,
// lanes over the one mirrored row the next layer reads (symmetry), barrier. After the last
// neighbour the totals' other entries follow from the left ones by the same symmetry (once per
// atom, not per neighbour), and go to w.utot. Scratch: layer 0 (2), two layers (re/im planes,
// 4 (2J+1)^2), totals (re/im planes).
struct UiKernel {
  SnapView s;
  SystemView sys;
  NeighborView nl;
  SnapWork w;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int ielem = atom_element(s, sys, i);
    const int L = u_layer_size(s);
    double* layer0 = t.scratch_as<double>();
    double* buf = layer0 + 2;                                   // [parity][re, im][L]
    const Index ntot = static_cast<Index>(s.nchem) * s.idxu_max;
    double* tot_r = buf + 4 * L;                                // [nchem][idxu_max], real
    double* tot_i = tot_r + ntot;                               // imaginary
    const int cself = s.chemflag ? ielem : 0;
    for (int c = 0; c < s.nchem; ++c)
      for (int j = 0; j <= s.twojmax; ++j) {
        const Index o = static_cast<Index>(c) * s.idxu_max + s.idxu_block[j];
        layer_for(t, j, 0, (j + 1) * (j + 1), [&](int q, int mb, int ma) {
          const bool self = ielem >= 0 && ma == mb && (c == cself || s.wselfall);
          tot_r[o + q] = self ? s.wself : 0.0;
          tot_i[o + q] = 0.0;
        });
      }
    team_single(t, [&] {
      layer0[0] = 1.0;
      layer0[1] = 0.0;
    });
    if (ielem >= 0) {
      const int rp = s.twojmax + 1;
      const AtomEnv env(sys, nl, i);
      for (int k = 0; k < env.count; ++k) {
        const NeighborSlot ns = env.neighbor(k);
        const double x = ns.dx, y = ns.dy, z = ns.dz, rsq = ns.rsq;
        PairInfo p;
        if (!pair_inside(s, ielem, s.type_element[sys.type[ns.j]], rsq, p)) continue;
        const double r = sqrt(rsq);
        const Cayley ck = cayley(s, x, y, z, r, p.rcut);
        double sfac, dsfac;
        switching(s, r, p.rcut, p.sinner, p.dinner, sfac, dsfac);
        sfac *= s.weight[p.jelem];
        const Index oc = static_cast<Index>(s.chemflag ? p.jelem : 0) * s.idxu_max;
        double* uc_r = tot_r + oc;
        double* uc_i = tot_i + oc;
        team_for(t, 1, [&](int) { uc_r[0] += sfac; });
        for (int j = 1; j <= s.twojmax; ++j) {
          const double* pr = j == 1 ? layer0 : buf + 2 * L * ((j - 1) & 1);
          const double* pi = j == 1 ? layer0 + 1 : pr + L;
          double* cr = buf + 2 * L * (j & 1);
          double* ci = cr + L;
          double* dst_r = uc_r + s.idxu_block[j];
          double* dst_i = uc_i + s.idxu_block[j];
          const int nleft = u_left(j), m = (j + 1) * (j + 1);
          layer_for(t, j, 0, nleft, [&](int q, int mb, int ma) SNAP_LANE {
            double ur, ui;
            u_element(s.rootpq, rp, j, ma, mb, ck, pr, pi, ur, ui);
            if (2 * mb == j && ma == mb) ui = -ui;  // the centre, conjugated by the symmetry
            cr[q] = ur;
            ci[q] = ui;
            dst_r[q] += sfac * ur;
            dst_i[q] += sfac * ui;
          });
          team_barrier(t);
          if (j == s.twojmax) break;
          // the mirrored entries of the row the next layer still reads (mb = (j+1)/2)
          const int mend = ((j + 1) / 2 + 1) * (j + 1);
          layer_for(t, j, nleft, mend, [&](int q, int mb, int ma) SNAP_LANE {
            const int qs = m - 1 - q;
            const bool even = ((ma + mb) & 1) == 0;
            cr[q] = even ? cr[qs] : -cr[qs];
            ci[q] = even ? -ci[qs] : ci[qs];
          });
          team_barrier(t);
        }
      }
    }
    // The other entries of the totals by the same symmetry, once per atom: a sum of mirrored
    // terms is the mirrored sum (negation and conjugation are exact; the diagonal's wself and
    // the zeros start symmetric), so this equals adding every mirrored entry per neighbour.
    for (int c = 0; c < s.nchem; ++c)
      for (int j = 1; j <= s.twojmax; ++j) {
        double* tr = tot_r + static_cast<Index>(c) * s.idxu_max + s.idxu_block[j];
        double* ti = tot_i + static_cast<Index>(c) * s.idxu_max + s.idxu_block[j];
        const int m = (j + 1) * (j + 1);
        layer_for(t, j, u_left(j), m, [&](int q, int mb, int ma) {
          const int qs = m - 1 - q;
          const bool even = ((ma + mb) & 1) == 0;
          tr[q] = even ? tr[qs] : -tr[qs];
          ti[q] = even ? -ti[qs] : ti[qs];
        });
      }
    team_barrier(t);
    const int ncomp = 2 * s.nchem * s.idxu_max;
    double* dst = w.utot + atom_minor(i, ncomp, w.blk);
    team_for(t, ncomp, [&](int q) {
      dst[static_cast<Index>(q) * w.blk] = (q & 1) ? tot_i[q >> 1] : tot_r[q >> 1];
    });
  }
};

// Z(j1,j2,j; ma,mb) for density channels e1 (j1) and e2 (j2) of one atom's U totals: ut
// points at the atom's first element of w.utot, stride n between its components. Divided
// by (j+1) with bnormflag.
template <int kStride>
MD_INLINE void z_element_t(const SnapView& s, const double* ut, Index stride, int e1, int e2,
                           const SnapZIndex& z, double& zr, double& zi) {
  const Index n = kStride > 0 ? kStride : stride;
  const double* cgb = s.cg + z.cg;
  const double* u1 = ut + am(e1, s.idxu_max, 0, 0, n);
  const double* u2 = ut + am(e2, s.idxu_max, 0, 0, n);
  int jju1 = s.idxu_block[z.j1] + (z.j1 + 1) * z.mb1min;
  int jju2 = s.idxu_block[z.j2] + (z.j2 + 1) * z.mb2max;
  int icgb = z.mb1min * (z.j2 + 1) + z.mb2max;
  const Index step = 2 * n;
  double sr = 0.0, si = 0.0;
  for (int ib = 0; ib < z.nb; ++ib) {
    double ar = 0.0, ai = 0.0;
    const double* p1 = u1 + (jju1 + z.ma1min) * step;
    const double* p2 = u2 + (jju2 + z.ma2max) * step;
    const double* cga = cgb + z.ma1min * (z.j2 + 1) + z.ma2max;
    for (int ia = 0; ia < z.na; ++ia) {
      const double u1r = p1[0], u1i = p1[n], u2r = p2[0], u2i = p2[n];
      ar += *cga * (u1r * u2r - u1i * u2i);
      ai += *cga * (u1r * u2i + u1i * u2r);
      p1 += step;
      p2 -= step;
      cga += z.j2;
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

// The stride is a compile-time 1 in the CPU layout (re, im adjacent: paired loads).
MD_INLINE void z_element(const SnapView& s, const double* ut, Index n, int e1, int e2,
                         const SnapZIndex& z, double& zr, double& zi) {
  if (n == 1)
    z_element_t<1>(s, ut, 1, e1, e2, z, zr, zi);
  else
    z_element_t<0>(s, ut, n, e1, e2, z, zr, zi);
}

// ---------------------------------------------------------------- pass 2: Z per atom (stored)
// On steps that need B (energies, quadratic models) Z is computed once here and read by the
// B and Y passes. One thread per (channel pair, chunk of kZChunk consecutive Z elements,
// atom), atom fastest (atom_item with rows = nchem^2 z_chunks, row = pair * z_chunks + chunk,
// pair = e1 * nchem + e2); the chunk amortises the index decode over several Z elements.
constexpr int kZChunk = 8;
MD_INLINE int z_chunks(const SnapView& s) { return (s.idxz_max + kZChunk - 1) / kZChunk; }

struct ZiKernel {
  SnapView s;
  SystemView sys;
  SnapWork w;

  MD_HD void operator()(Index t) const {
    const int nch = z_chunks(s);
    Index row;
    const Index i = atom_item(t, static_cast<Index>(s.nchem) * s.nchem * nch, w.blk, row);
    if (i >= w.n) return;
    const int pair = static_cast<int>(row / nch);
    const int chunk = static_cast<int>(row - static_cast<Index>(pair) * nch);
    const int e1 = pair / s.nchem, e2 = pair - e1 * s.nchem;
    const bool active = atom_element(s, sys, i) >= 0;
    const double* ut = w.utot + atom_minor(i, ncomp_u(s), w.blk);
    double* zl = w.zlist + atom_minor(i, ncomp_z(s), w.blk);
    const int end = (chunk + 1) * kZChunk < s.idxz_max ? (chunk + 1) * kZChunk : s.idxz_max;
    for (int jjz = chunk * kZChunk; jjz < end; ++jjz) {
      double zr = 0.0, zi = 0.0;
      if (active) z_element(s, ut, w.blk, e1, e2, s.idxz[jjz], zr, zi);
      const Index q = am(pair, s.idxz_max, jjz, 0, w.blk);
      zl[q] = zr;
      zl[q + w.blk] = zi;
    }
  }
};

// ---------------------------------------------------------------- pass 3: bispectrum B
// One thread per (component, atom), atom fastest (atom_item with rows = ncoeff, row = triple
// * idxb_max + jjb). B = 2 sum_{half} conj(U_e3) . Z(e1, e2) (stored Z), minus bzero.
struct BiKernel {
  SnapView s;
  SystemView sys;
  SnapWork w;

  MD_HD void operator()(Index t) const {
    Index comp;
    const Index i = atom_item(t, s.ncoeff, w.blk, comp);
    if (i >= w.n) return;
    double& out = w.blist[atom_minor(i, s.ncoeff, w.blk) + comp * w.blk];
    const int triple = static_cast<int>(comp / s.idxb_max);
    const int jjb = static_cast<int>(comp - static_cast<Index>(triple) * s.idxb_max);
    const int nc = s.nchem;
    const int e1 = triple / (nc * nc), e2 = (triple / nc) % nc, e3 = triple % nc;
    const int ielem = atom_element(s, sys, i);
    if (ielem < 0) {
      out = 0.0;
      return;
    }
    const double* u3 = w.utot + atom_minor(i, ncomp_u(s), w.blk) + am(e3, s.idxu_max, 0, 0, w.blk);
    const double* zl =
        w.zlist + atom_minor(i, ncomp_z(s), w.blk) + am(e1 * nc + e2, s.idxz_max, 0, 0, w.blk);
    const int j1 = s.idxb[3 * jjb], j2 = s.idxb[3 * jjb + 1], j = s.idxb[3 * jjb + 2];
    const int jd = s.twojmax + 1;
    int jjz = s.idxz_block[(j1 * jd + j2) * jd + j];
    int jju = s.idxu_block[j];
    auto term = [&](int jz, int ju) {
      const Index qz = 2 * static_cast<Index>(jz) * w.blk, qu = 2 * static_cast<Index>(ju) * w.blk;
      return u3[qu] * zl[qz] + u3[qu + w.blk] * zl[qz + w.blk];
    };
    double sum = 0.0;
    for (int mb = 0; 2 * mb < j; ++mb)
      for (int ma = 0; ma <= j; ++ma) sum += term(jjz++, jju++);
    if (j % 2 == 0) {
      const int mb = j / 2;
      for (int ma = 0; ma < mb; ++ma) sum += term(jjz++, jju++);
      sum += 0.5 * term(jjz, jju);
    }
    double b = 2.0 * sum;
    if (s.bzeroflag) {
      const int c = s.chemflag ? ielem : 0;
      if (s.wselfall || triple == (c * nc + c) * nc + c) b -= s.bzero[j];
    }
    out = b;
  }
};

// ---------------------------------------------------------------- pass 5: adjoint Y
// One thread per (channel e3, half-U element, atom), atom fastest (atom_item with rows =
// nchem idxu_half_max, row = e3 * idxu_half_max + jjuh). Y = sum over the Z elements that map onto
// this U element of beta_j Z (multiplicities and j-rescaling as LAMMPS' compute_yi); Z read from
// w.zlist when stored this step, else computed here (force-only steps of linear models).
// beta: the model's per-atom w.beta (ncoeff components) when quadratic, else the coefficients.
// Y of one (atom, channel e3, half-U element jjuh): the sum over the Z elements that map onto
// it. kStride: the work arrays' atom stride when known at compile time (1: the CPU layout),
// else 0 (stride w.blk). kStored: Z read from zlist (else computed here); b, bstride: beta per
// component (the model's per-atom beta, stride w.blk, or the coefficients, stride 1).
template <int kStride, bool kStored>
MD_INLINE void yi_element(const SnapView& s, const SnapWork& w, const double* ut,
                          const double* zlist, const double* b, Index bstride, int e3, int jjuh,
                          double& yr_out, double& yi_out) {
  const Index n = kStride > 0 ? kStride : w.blk;
  const int nc = s.nchem;
  const int first = s.y_offset[jjuh], last = s.y_offset[jjuh + 1];
  double yr = 0.0, yi = 0.0;
  for (int e1 = 0; e1 < nc; ++e1)
    for (int e2 = 0; e2 < nc; ++e2)
      for (int q = first; q < last; ++q) {
        const int jjz = s.y_jjz[q];
        const SnapZIndex& z = s.idxz[jjz];
        double zr, zi;
        if (kStored) {
          const Index qz = am(e1 * nc + e2, s.idxz_max, jjz, 0, n);
          zr = zlist[qz];
          zi = zlist[qz + n];
        } else {
          z_element_t<kStride>(s, ut, n, e1, e2, z, zr, zi);
        }
        int triple;
        if (z.perm == 0)
          triple = (e1 * nc + e2) * nc + e3;
        else if (z.perm == 1)
          triple = (e3 * nc + e2) * nc + e1;
        else
          triple = (e2 * nc + e3) * nc + e1;
        const int kb = triple * s.idxb_max + z.jjb;
        const double betaj = z.mult * b[static_cast<Index>(kb) * bstride] * z.rescale;
        yr += betaj * zr;
        yi += betaj * zi;
      }
  yr_out = yr;
  yi_out = yi;
}

struct YiKernel {
  SnapView s;
  SystemView sys;
  SnapWork w;

  MD_HD void operator()(Index t) const {
    Index row;
    const Index i = atom_item(t, static_cast<Index>(s.nchem) * s.idxu_half_max, w.blk, row);
    if (i >= w.n) return;
    const int e3 = static_cast<int>(row / s.idxu_half_max);
    const int jjuh = static_cast<int>(row - static_cast<Index>(e3) * s.idxu_half_max);
    const int ielem = atom_element(s, sys, i);
    double yr = 0.0, yi = 0.0;
    if (ielem >= 0) {
      const double* ut = w.utot + atom_minor(i, ncomp_u(s), w.blk);
      const double* zlist = w.zstored ? w.zlist + atom_minor(i, ncomp_z(s), w.blk) : nullptr;
      const double* b = s.quadratic ? w.beta + atom_minor(i, s.ncoeff, w.blk)
                                    : s.coeff + static_cast<Index>(ielem) * s.ncoeffall + 1;
      const Index bstride = s.quadratic ? w.blk : 1;
      if (zlist) {
        yi_element<0, true>(s, w, ut, zlist, b, bstride, e3, jjuh, yr, yi);
      } else {
#if !defined(__CUDA_ARCH__)
        if (w.blk == 1)  // the CPU layout: unit stride known to the compiler (paired loads)
          yi_element<1, false>(s, w, ut, zlist, b, bstride, e3, jjuh, yr, yi);
        else
#endif
          yi_element<0, false>(s, w, ut, zlist, b, bstride, e3, jjuh, yr, yi);
      }
    }
    double* yl =
        w.ylist + atom_minor(i, ncomp_y(s), w.blk) + am(e3, s.idxu_half_max, jjuh, 0, w.blk);
    yl[0] = yr;
    yl[w.blk] = yi;
  }
};

// Per-pair constants of the dE/dr recursion.
struct PairDeriv {
  Cayley ck;
  double da_r[3], da_i[3], db_r[3], db_i[3];  // gradients of a and b
  double uvec[3];                             // r_ij / r
  double sfac, dsfac;                         // weighted switching function and dsfac/dr
};

// One left entry q of layer j in the dE/dr pass: u and du (into the layer planes cr, ci,
// dcr, dci; component k of du at k * L + q) and its contraction with Y (yj, the layer's
// half-storage Y of the neighbour's channel), added to acc. The centre entry is conjugated
// (inversion symmetry) and weighted 1/2 in the contraction.
SNAP_ELEMENT void deidrj_left(const double* rootpq, int rp, int j, int q, int mb, int ma,
                           const PairDeriv& pdin, const double* pr, const double* pi,
                           const double* dpr, const double* dpi, int ds, double* cr, double* ci,
                           double* dcr, double* dci, int L, const double* yj, double* acc) {
  const PairDeriv& pd = pdin;  // all loads below come before the scratch stores
  const bool centre = 2 * mb == j && ma == mb;
  double ur, ui, dr[3], di[3];
  udu_element(rootpq, rp, j, ma, mb, pd.ck, pd.da_r, pd.da_i, pd.db_r, pd.db_i, pr, pi, dpr, dpi,
              ds, ur, ui, dr, di);
  if (centre) {
    ui = -ui;
    for (int c = 0; c < 3; ++c) di[c] = -di[c];
  }
  const double y_r = yj[2 * q], y_i = yj[2 * q + 1];
  double term[3];
  for (int c = 0; c < 3; ++c) {
    const double du_r = pd.dsfac * ur * pd.uvec[c] + pd.sfac * dr[c];
    const double du_i = pd.dsfac * ui * pd.uvec[c] + pd.sfac * di[c];
    term[c] = centre ? 0.5 * (du_r * y_r + du_i * y_i) : du_r * y_r + du_i * y_i;
  }
  cr[q] = ur;
  ci[q] = ui;
  for (int c = 0; c < 3; ++c) {
    dcr[c * L + q] = dr[c];
    dci[c * L + q] = di[c];
    acc[c] += term[c];
  }
}

// Sum over the team's lanes of one lane-private value (each lane passes its own).
template <class T>
MD_INLINE T lane_total(const Team& t, const T& mine) {
  return team_sum<T>(t, t.size, [&](int) { return mine; });
}

// ---------------------------------------------------------------- pass 6: dE_i/dr_ij per pair
// One team per atom, its neighbours in turn. Per neighbour, layer by layer: lanes over the
// left entries compute u and du (3 components), store them in scratch and add their
// contraction with Y_i (of the neighbour's channel) to lane-private sums; barrier; lanes over
// the one row of mirrored entries the next layer reads; barrier. The lane sums are combined
// per neighbour and written to its slot of the pair partials g (dE_i/dr_ij, r_ij = r_j - r_i;
// zero beyond the cutoff). Scratch: layer 0 (u, du), two layers of u (re, im) and du (3 re,
// 3 im) planes, and the atom's Y.
struct DeidrjKernel {
  SnapView s;
  SystemView sys;
  NeighborView nl;
  SnapWork w;
  PairPartialsView g;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int L = u_layer_size(s);
    double* layer0 = t.scratch_as<double>();  // ur, ui, dur[3], dui[3]
    double* ubuf = layer0 + 8;                // [parity][re, im][L]
    double* dbuf = ubuf + 4 * L;              // [parity][3 re, 3 im][L]
    double* yl = dbuf + 12 * L;               // [nchem][idxu_half_max][2]
    const int ielem = atom_element(s, sys, i);
    const int ny = 2 * s.nchem * s.idxu_half_max;
    const double* ysrc = w.ylist + atom_minor(i, ny, w.blk);
    team_for(t, ny, [&](int q) { yl[q] = ielem >= 0 ? ysrc[static_cast<Index>(q) * w.blk] : 0.0; });
    team_single(t, [&] {
      layer0[0] = 1.0;
      for (int c = 1; c < 8; ++c) layer0[c] = 0.0;
    });
    const int rp = s.twojmax + 1;
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot ns = env.neighbor(k);
      const double x = ns.dx, y = ns.dy, z = ns.dz, rsq = ns.rsq;
      PairInfo p;
      if (ielem < 0 || !pair_inside(s, ielem, s.type_element[sys.type[ns.j]], rsq, p)) {
        team_single(t, [&] { g.store(ns.slot, 0.0, 0.0, 0.0); });
        continue;
      }
      const double r = sqrt(rsq);
      const double rscale0 = s.rfac0 * kPi / (p.rcut - s.rmin0);
      const double theta0 = (r - s.rmin0) * rscale0;
      const double cs = cos(theta0), sn = sin(theta0);
      const double z0 = r * cs / sn;
      const double dz0dr = z0 / r - (r * rscale0) * (rsq + z0 * z0) / rsq;
      const double rinv = 1.0 / r;
      const double uvec[3] = {x * rinv, y * rinv, z * rinv};
      const double r0inv = 1.0 / sqrt(r * r + z0 * z0);
      const Cayley ck{z0 * r0inv, -z * r0inv, y * r0inv, -x * r0inv};
      const double dr0invdr = -pow(r0inv, 3.0) * (r + z0 * dz0dr);
      double da_r[3], da_i[3], db_r[3], db_i[3];
      for (int c = 0; c < 3; ++c) {
        const double dr0inv = dr0invdr * uvec[c];
        const double dz0 = dz0dr * uvec[c];
        da_r[c] = dz0 * r0inv + z0 * dr0inv;
        da_i[c] = -z * dr0inv;
        db_r[c] = y * dr0inv;
        db_i[c] = -x * dr0inv;
      }
      da_i[2] += -r0inv;
      db_i[0] += -r0inv;
      db_r[1] += r0inv;
      double sfac, dsfac;
      switching(s, r, p.rcut, p.sinner, p.dinner, sfac, dsfac);
      sfac *= s.weight[p.jelem];
      dsfac *= s.weight[p.jelem];
      const double* yc = yl + 2 * (s.chemflag ? p.jelem : 0) * s.idxu_half_max;
      PairDeriv pd;
      pd.ck = ck;
      for (int c = 0; c < 3; ++c) {
        pd.da_r[c] = da_r[c];
        pd.da_i[c] = da_i[c];
        pd.db_r[c] = db_r[c];
        pd.db_i[c] = db_i[c];
        pd.uvec[c] = uvec[c];
      }
      pd.sfac = sfac;
      pd.dsfac = dsfac;
      // layer 0: u = 1, du = 0; only the middle element, weighted 1/2 (one lane)
      DVec<3> acc = DVec<3>::zero();
      team_for(t, 1, [&](int) {
        for (int c = 0; c < 3; ++c) acc.v[c] += 0.5 * (dsfac * uvec[c]) * yc[0];
      });
      for (int j = 1; j <= s.twojmax; ++j) {
        const bool first = j == 1;
        const double* pr = first ? layer0 : ubuf + 2 * L * ((j - 1) & 1);
        const double* pi = first ? layer0 + 1 : pr + L;
        const double* dpr = first ? layer0 + 2 : dbuf + 6 * L * ((j - 1) & 1);
        const double* dpi = first ? layer0 + 5 : dpr + 3 * L;
        const int ds = first ? 1 : L;
        double* cr = ubuf + 2 * L * (j & 1);
        double* ci = cr + L;
        double* dcr = dbuf + 6 * L * (j & 1);
        double* dci = dcr + 3 * L;
        const double* yj = yc + 2 * s.idxu_half_block[j];
        const int nleft = u_left(j);
        // left entries: rows 2 mb < j in full, for even j the middle row up to its centre
        // (centre weighted 1/2): recursion, and the contraction with Y
        layer_for(t, j, 0, nleft, [&](int q, int mb, int ma) SNAP_LANE {
          deidrj_left(s.rootpq, rp, j, q, mb, ma, pd, pr, pi, dpr, dpi, ds, cr, ci, dcr, dci, L, yj,
                      acc.v);
        });
        if (j == s.twojmax) break;
        team_barrier(t);
        // the mirrored entries of the row the next layer still reads (mb = (j+1)/2)
        const int mend = ((j + 1) / 2 + 1) * (j + 1);
        layer_for(t, j, nleft, mend, [&](int q, int mb, int ma) SNAP_LANE {
          const int qs = (j + 1) * (j + 1) - 1 - q;
          const bool even = ((ma + mb) & 1) == 0;
          cr[q] = even ? cr[qs] : -cr[qs];
          ci[q] = even ? -ci[qs] : ci[qs];
          for (int c = 0; c < 3; ++c) {
            dcr[c * L + q] = even ? dcr[c * L + qs] : -dcr[c * L + qs];
            dci[c * L + q] = even ? -dci[c * L + qs] : dci[c * L + qs];
          }
        });
        team_barrier(t);
      }
      const DVec<3> dedr = lane_total(t, acc);
      team_single(t, [&] { g.store(ns.slot, 2.0 * dedr.v[0], 2.0 * dedr.v[1], 2.0 * dedr.v[2]); });
    }
  }
};

}  // namespace snap
}  // namespace md
