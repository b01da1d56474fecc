// GAP device kernels (MD_HD functors for both executors): distance_2b pair terms with the
// ard_se kernel, the SOAP neighbour-density expansion and power spectrum (team per atom), the
// dot-product kernel against the sparse set as a tiled product (team per tile of atoms, chunks
// of sparse points in team scratch), and SOAP's backward pass dE/dp -> dE/dc -> pair partials
// g_ik = dE_i/dr_ij for the shared gather (kernels/many_body.hpp). Energies eV, lengths Å.
// Launched by GapPotential::compute (gap.cpp). Conventions: models/gap/README.md.
#pragma once

#include <cmath>

#include "kernels/basis.hpp"
#include "kernels/many_body.hpp"
#include "kernels/team.hpp"

namespace md {

// Cutoff transition of GAP descriptors: 1 for r <= rc - w, (cos(pi (r - rc + w) / w) + 1) / 2
// up to rc, 0 beyond; df = d/dr.
MD_INLINE double gap_fcut(double r, double rc, double w, double& df) {
  if (r >= rc) {
    df = 0.0;
    return 0.0;
  }
  if (r <= rc - w) {
    df = 0.0;
    return 1.0;
  }
  const double k = basis::kPi / w;
  df = -0.5 * k * sin(k * (r - rc + w));
  return 0.5 * (cos(k * (r - rc + w)) + 1.0);
}

// ---------------------------------------------------------------- distance_2b

struct Gap2bDesc {
  int z1, z2;          // 0 = any
  int dim, n_sparse;   // exponents, sparse points
  int off_theta;       // into exponents / inv_theta
  int off_x;           // into sparse_x ([n_sparse][dim])
  int off_s;           // into alpha, sparse_cutoff
  double cutoff, width, delta2, f0sq;
};

struct Gap2bView {
  int n_desc;
  const Gap2bDesc* desc;
  const double* exponents;      // per descriptor [dim]
  const double* theta;          // per descriptor [dim]
  const double* sparse_x;       // per descriptor [n_sparse][dim]: x_s / theta
  const double* alpha;          // per descriptor [n_sparse]
  const double* sparse_cutoff;  // per descriptor [n_sparse]
};

// One thread per local atom i: E_i = e0(Z_i) + sum over list neighbours j and matching
// descriptors of eps(r_ij) (QUIP counts i->j and j->i, half of each to each end: i collects
// eps(r_ij) once per neighbour), and g_ik = d eps / d r_ij for every slot (0 when no term).
struct Gap2bKernel {
  SystemView sys;
  NeighborView nl;
  Gap2bView v;
  const int* type_z;   // [n_types] atomic number of each system type
  const double* e0;    // [119]
  PairPartialsView g;
  double* e_atom;      // [n_local]

  MD_HD void operator()(Index i) const {
    const int zi = type_z[sys.type[i]];
    double e = e0[zi];
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot p = env.neighbor(k);
      const int zj = type_z[sys.type[p.j]];
      const double r = sqrt(p.rsq);
      double de = 0.0;
      for (int d = 0; d < v.n_desc; ++d) {
        const Gap2bDesc& ds = v.desc[d];
        if (r >= ds.cutoff) continue;
        const bool i1 = ds.z1 == 0 || zi == ds.z1, i2 = ds.z2 == 0 || zi == ds.z2;
        const bool j1 = ds.z1 == 0 || zj == ds.z1, j2 = ds.z2 == 0 || zj == ds.z2;
        if (!((i1 && j2) || (i2 && j1))) continue;
        double dfc;
        const double fc = gap_fcut(r, ds.cutoff, ds.width, dfc);
        double sum = 0.0, dsum = 0.0;  // sum_s alpha_s k(x, x_s) fc_s, d/dr
        const double* ex = v.exponents + ds.off_theta;
        const double* th = v.theta + ds.off_theta;
        for (int s = 0; s < ds.n_sparse; ++s) {
          // x_s / theta is stored (sparse_x); u = x_s/theta - x/theta, as the sum is
          // ill-conditioned (alphas of 1e4-1e5 cancel) the same operation order as the
          // reference keeps the rounding close to it
          const double* xs = v.sparse_x + ds.off_x + static_cast<Index>(s) * ds.dim;
          double uu = 0.0, dq = 0.0;  // |(x_s - x)/theta|^2 and d/dr of -uu/2
          for (int c = 0; c < ds.dim; ++c) {
            const double x = pow(r, ex[c]);
            const double dx = ex[c] * x / r;
            const double u = xs[c] - x / th[c];
            uu += u * u;
            dq += u * dx / th[c];
          }
          const double ex_q = ds.delta2 * exp(-0.5 * uu);
          const double a = v.alpha[ds.off_s + s], fcs = v.sparse_cutoff[ds.off_s + s];
          sum += a * ((ex_q + ds.f0sq) * fcs);
          dsum += a * (ex_q * dq * fcs);
        }
        e += fc * sum;
        de += dfc * sum + fc * dsum;
      }
      const double s = de / r;
      g.store(p.slot, s * p.dx, s * p.dy, s * p.dz);
    }
    e_atom[i] = e;
  }
};

// ---------------------------------------------------------------- SOAP

struct GapSoapView {
  int n_max, l_max, n_species, nch, nlm, dim;  // nch = n_species n_max, nlm = (l_max+1)^2
  int z_centre;                                // 0 = any
  int central_all, normalise, two_l_plus_one;
  double cutoff, width, alpha, central_weight, sigma0;
  const int* species_z;     // [n_species]
  const double* r_basis;    // [n_max] Gaussian centres
  const double* transform;  // [n_max (grid a)][n_max (n)]: C^-1 L
  const double* central;    // [n_max]: coefficient of a density at r = 0 (row 0 of L)
  // the GP
  int n_sparse;
  double delta2, zeta;
  const double* sparse_x;   // [n_sparse][dim]
  const float* sparse_xf;   // [n_sparse][dim] in float: mixed mode (float products, double
                            // sums) of the dot-product kernel; null in double mode
  const double* sparse_alpha;   // [n_sparse]
  const double* sparse_cutoff;  // [n_sparse]
};

// Per-atom work (atom-major): c [n][nch][nlm], x [n][dim], dedx [n][dim], norm [n] (0: not a
// centre of this descriptor).
struct GapSoapWork {
  double *c, *x, *dedx, *norm;
};

MD_INLINE int gap_l_of(int lm) {
  int l = static_cast<int>(sqrt(static_cast<double>(lm)));
  while (l * l > lm) --l;
  while ((l + 1) * (l + 1) <= lm) ++l;
  return l;
}

// Pair index p = a (a + 1) / 2 + b, b <= a, back to (a, b).
MD_INLINE void gap_pair_of(int p, int& a, int& b) {
  a = static_cast<int>((sqrt(8.0 * p + 1.0) - 1.0) * 0.5);
  while (a * (a + 1) / 2 > p) --a;
  while ((a + 1) * (a + 2) / 2 <= p) ++a;
  b = p - a * (a + 1) / 2;
}

// Radial functions at grid point a: f_l = exp(-alpha (r^2 + r_a^2)) i_l(2 alpha r r_a) for
// l = 0..l_max (modified spherical Bessel i_l, upward recursion
// i_l = i_{l-2} - (2l - 1) i_{l-1} / x, from i_-1 = cosh x / x, i_0 = sinh x / x, with the
// Gaussians folded into exp(-alpha (r -+ r_a)^2)); df_l = d f_l / dr when df != null.
MD_INLINE void gap_soap_radial_grid(double r, double ra, double alpha, int l_max, double* f,
                                    double* df) {
  const double x = 2.0 * alpha * r * ra;
  if (x == 0.0) {
    const double e = exp(-alpha * (ra * ra + r * r));
    for (int l = 0; l <= l_max; ++l) {
      f[l] = l == 0 ? e : 0.0;
      if (df) df[l] = l == 0 ? -2.0 * alpha * r * e : 0.0;
    }
    if (df && ra != 0.0 && l_max >= 0) {
      // r = 0, ra > 0: f_1 ~ (2 alpha ra r / 3) e, so df_1 = 2 alpha ra e / 3
      if (l_max >= 1) df[1] = 2.0 * alpha * ra * e / 3.0;
    }
    return;
  }
  const double ep = exp(-alpha * (r + ra) * (r + ra));
  const double em = exp(-alpha * (r - ra) * (r - ra));
  double fm = 0.5 * (em + ep) / x;  // l - 1
  double fl = 0.5 * (em - ep) / x;  // l
  for (int l = 0; l <= l_max; ++l) {
    if (l > 0) {
      const double fn = fm - (2 * l - 1) * fl / x;
      fm = fl;
      fl = fn;
    }
    f[l] = fl;
  }
  if (!df) return;
  // d/dr [e i_l(x)] = -2 alpha r f_l + 2 alpha ra f_{l+1} + l f_l / r
  const double fnext = (l_max >= 1 ? f[l_max - 1] : 0.5 * (em + ep) / x) - (2 * l_max + 1) * f[l_max] / x;
  for (int l = 0; l <= l_max; ++l) {
    const double fp = l < l_max ? f[l + 1] : fnext;
    df[l] = -2.0 * alpha * r * f[l] + 2.0 * alpha * ra * fp + l * f[l] / r;
  }
}

MD_INLINE int gap_species_index(const GapSoapView& s, int z) {
  for (int k = 0; k < s.n_species; ++k)
    if (s.species_z[k] == 0 || s.species_z[k] == z) return k;
  return -1;
}

MD_INLINE bool gap_soap_centre(const GapSoapView& s, int z) {
  return s.z_centre == 0 || s.z_centre == z;
}

// Team scratch of the per-atom SOAP kernels (doubles): Y [nlm], dY [3 nlm], f, df
// [n_max][l_max+1], R, dR [n_max][l_max+1], then dE/dc [nch][nlm] and dE/dp [dim].
struct GapSoapScratch {
  int y, dy, f, df, rr, dr, dc, dp, total;
  MD_HD explicit GapSoapScratch(const GapSoapView& s) {
    const int nl = s.n_max * (s.l_max + 1);
    y = 0;
    dy = y + s.nlm;
    f = dy + 3 * s.nlm;
    df = f + nl;
    rr = df + nl;
    dr = rr + nl;
    dc = dr + nl;
    dp = dc + s.nch * s.nlm;
    total = dp + s.dim;
  }
};

// One neighbour's harmonics and radial channels R_nl = fcut sum_a T_an f_l(r, r_a) (and d/dr
// when grad) into scratch; ends with a barrier.
MD_INLINE void gap_soap_neighbor(const Team& t, const GapSoapView& s, const GapSoapScratch& o,
                                 double* sc, const NeighborSlot& p, double r, bool grad) {
  const int L1 = s.l_max + 1;
  team_single(t, [&] {
    basis::spherical_harmonics(s.l_max, p.dx, p.dy, p.dz, sc + o.y, grad ? sc + o.dy : nullptr);
  });
  team_for(t, s.n_max, [&](int a) {
    gap_soap_radial_grid(r, s.r_basis[a], s.alpha, s.l_max, sc + o.f + a * L1,
                         grad ? sc + o.df + a * L1 : nullptr);
  });
  team_barrier(t);
  double dfc;
  const double fc = gap_fcut(r, s.cutoff, s.width, dfc);
  team_for(t, s.n_max * L1, [&](int e) {
    const int n = e / L1, l = e - n * L1;
    double v = 0.0, dv = 0.0;
    for (int a = 0; a < s.n_max; ++a) {
      const double tr = s.transform[a * s.n_max + n];
      v += tr * sc[o.f + a * L1 + l];
      if (grad) dv += tr * sc[o.df + a * L1 + l];
    }
    sc[o.rr + e] = fc * v;
    if (grad) sc[o.dr + e] = dfc * v + fc * dv;
  });
  team_barrier(t);
}

// Team per local atom: c_{ch,lm} (central atom + neighbours), the power spectrum
// p_{ab l} = f_ab (2l+1)^-1/2 sum_m c_{a lm} c_{b lm} (f_ab = sqrt2 for a != b, b <= a,
// index (a (a+1)/2 + b)(l_max+1) + l), normalised, covariance_sigma0 last.
struct GapSoapDescriptorKernel {
  SystemView sys;
  NeighborView nl;
  GapSoapView s;
  GapSoapWork w;
  const int* type_z;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    if (!gap_soap_centre(s, zi)) {
      team_single(t, [&] { w.norm[i] = 0.0; });
      return;
    }
    const GapSoapScratch o(s);
    double* sc = t.scratch_as<double>();
    double* c = w.c + i * static_cast<Index>(s.nch) * s.nlm;
    const int L1 = s.l_max + 1;
    team_for(t, s.nch * s.nlm, [&](int e) {
      const int ch = e / s.nlm, lm = e - ch * s.nlm;
      const int sp = ch / s.n_max, n = ch - sp * s.n_max;
      double v = 0.0;
      if (lm == 0 && (s.central_all || s.species_z[sp] == zi || s.species_z[sp] == 0))
        v = s.central_weight * s.central[n] * basis::kInvSqrt4Pi;
      c[e] = v;
    });
    team_barrier(t);
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot p = env.neighbor(k);
      const double r = sqrt(p.rsq);
      if (r >= s.cutoff) continue;
      const int sp = gap_species_index(s, type_z[sys.type[p.j]]);
      if (sp < 0) continue;
      gap_soap_neighbor(t, s, o, sc, p, r, false);
      team_for(t, s.n_max * s.nlm, [&](int e) {
        const int n = e / s.nlm, lm = e - n * s.nlm;
        c[(sp * s.n_max + n) * s.nlm + lm] += sc[o.rr + n * L1 + gap_l_of(lm)] * sc[o.y + lm];
      });
      team_barrier(t);
    }
    double* x = w.x + i * static_cast<Index>(s.dim);
    const int np = s.dim - 1;
    team_for(t, np, [&](int e) {
      const int pair = e / L1, l = e - pair * L1;
      int a, b;
      gap_pair_of(pair, a, b);
      double v = 0.0;
      for (int m = l * l; m < (l + 1) * (l + 1); ++m) v += c[a * s.nlm + m] * c[b * s.nlm + m];
      if (s.two_l_plus_one) v /= sqrt(2.0 * l + 1.0);
      if (a != b) v *= basis::kSqrt2;
      x[e] = v;
    });
    team_barrier(t);
    const double norm2 = team_sum<double>(t, np, [&](int e) { return x[e] * x[e]; });
    const double norm = sqrt(norm2);
    const double inv = s.normalise ? 1.0 / norm : 1.0;
    team_for(t, np, [&](int e) { x[e] *= inv; });
    team_single(t, [&] {
      x[np] = s.sigma0;
      w.norm[i] = norm;
    });
  }
};

// Tile of `tile` (<= kGapTile) atoms per team against the sparse set, in chunks of
// kGapSparseChunk sparse points:
// k_as = delta^2 (x_a . x_s)^zeta; eps_a = sum_s alpha_s fc_s k_as is added to e_atom, and
// dE/dx_a = sum_s alpha_s fc_s delta^2 zeta (x_a . x_s)^(zeta-1) x_s is written to w.dedx.
// Scratch: x tile [tile][dim], weights [tile][chunk], dE/dx tile [tile][dim]
// (gap_tile_scratch_bytes).
constexpr int kGapTile = 8;
constexpr int kGapSparseChunk = 64;

MD_INLINE std::size_t gap_tile_scratch_bytes(int tile, int dim) {
  return sizeof(double) * (2 * static_cast<std::size_t>(tile) * dim +
                           static_cast<std::size_t>(tile) * kGapSparseChunk);
}

struct GapDotProductKernel {
  GapSoapView s;
  GapSoapWork w;
  Index n;
  int tile;
  double* e_atom;

  MD_HD void operator()(const Team& t) const {
    const Index i0 = t.item * tile;
    const int na = static_cast<int>(n - i0 < tile ? n - i0 : tile);
    const int d = s.dim;
    double* xs = t.scratch_as<double>();
    double* wt = xs + tile * d;
    double* gx = wt + tile * kGapSparseChunk;
    team_for(t, tile * d, [&](int e) {
      const int a = e / d, c = e - a * d;
      const bool on = a < na && w.norm[i0 + a] != 0.0;
      xs[e] = on ? w.x[(i0 + a) * d + c] : 0.0;
      gx[e] = 0.0;
    });
    team_barrier(t);
    double mine[kGapTile];
    for (int a = 0; a < kGapTile; ++a) mine[a] = 0.0;
    for (int s0 = 0; s0 < s.n_sparse; s0 += kGapSparseChunk) {
      const int ns = s.n_sparse - s0 < kGapSparseChunk ? s.n_sparse - s0 : kGapSparseChunk;
      team_for(t, tile * ns, [&](int e) {
        const int a = e / ns, q = e - a * ns;
        double dot = 0.0;
        if (s.sparse_xf) {
          const float* xq = s.sparse_xf + static_cast<Index>(s0 + q) * d;
          for (int c = 0; c < d; ++c) dot += static_cast<double>(static_cast<float>(xs[a * d + c]) * xq[c]);
        } else {
          const double* xq = s.sparse_x + static_cast<Index>(s0 + q) * d;
          for (int c = 0; c < d; ++c) dot += xs[a * d + c] * xq[c];
        }
        const double al = s.sparse_alpha[s0 + q], fc = s.sparse_cutoff[s0 + q];
        const bool on = a < na && w.norm[i0 + a] != 0.0;
        // the reference's operation order: k = delta^2 (x.x_s)^zeta fc_s, eps = sum alpha k
        mine[a] += on ? al * (s.delta2 * pow(dot, s.zeta) * fc) : 0.0;
        wt[a * kGapSparseChunk + q] = on ? al * s.delta2 * s.zeta * pow(dot, s.zeta - 1.0) * fc : 0.0;
      });
      team_barrier(t);
      team_for(t, d, [&](int c) {
        for (int q = 0; q < ns; ++q) {
          if (s.sparse_xf) {
            const float xq = s.sparse_xf[static_cast<Index>(s0 + q) * d + c];
            for (int a = 0; a < na; ++a)
              gx[a * d + c] += static_cast<double>(static_cast<float>(wt[a * kGapSparseChunk + q]) * xq);
          } else {
            const double xq = s.sparse_x[static_cast<Index>(s0 + q) * d + c];
            for (int a = 0; a < na; ++a) gx[a * d + c] += wt[a * kGapSparseChunk + q] * xq;
          }
        }
      });
      team_barrier(t);
    }
    for (int a = 0; a < na; ++a) {
      const double mine_a = mine[a];
      const double e = team_sum<double>(t, t.size, [&](int) { return mine_a; });
      team_single(t, [&] {
        if (w.norm[i0 + a] != 0.0) e_atom[i0 + a] += e;
      });
    }
    team_for(t, na * d, [&](int e) { w.dedx[i0 * d + e] = gx[e]; });
  }
};

// Team per local atom: dE/dp (through the normalisation), dE/dc, then for every neighbour
// g_ik += sum_{n,lm} dE/dc_{s_j n, lm} d(R_nl Y_lm)/dr_ij, added to the partials.
struct GapSoapBackwardKernel {
  SystemView sys;
  NeighborView nl;
  GapSoapView s;
  GapSoapWork w;
  const int* type_z;
  PairPartialsView g;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    if (!gap_soap_centre(s, zi)) return;
    const GapSoapScratch o(s);
    double* sc = t.scratch_as<double>();
    const int L1 = s.l_max + 1;
    const int np = s.dim - 1;
    const double* x = w.x + i * static_cast<Index>(s.dim);
    const double* gxi = w.dedx + i * static_cast<Index>(s.dim);
    const double* c = w.c + i * static_cast<Index>(s.nch) * s.nlm;
    const double norm = w.norm[i];
    double proj = 0.0;
    if (s.normalise) proj = team_sum<double>(t, np, [&](int e) { return gxi[e] * x[e]; });
    team_for(t, np, [&](int e) {
      sc[o.dp + e] = s.normalise ? (gxi[e] - x[e] * proj) / norm : gxi[e];
    });
    team_barrier(t);
    team_for(t, s.nch * s.nlm, [&](int e) {
      const int a = e / s.nlm, lm = e - a * s.nlm;
      const int l = gap_l_of(lm);
      double v = 0.0;
      for (int b = 0; b < s.nch; ++b) {
        const int pair = a >= b ? a * (a + 1) / 2 + b : b * (b + 1) / 2 + a;
        const double gp = sc[o.dp + pair * L1 + l];
        v += (a == b ? 2.0 : basis::kSqrt2) * gp * c[b * s.nlm + lm];
      }
      if (s.two_l_plus_one) v /= sqrt(2.0 * l + 1.0);
      sc[o.dc + e] = v;
    });
    team_barrier(t);
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot p = env.neighbor(k);
      const double r = sqrt(p.rsq);
      if (r >= s.cutoff) continue;
      const int sp = gap_species_index(s, type_z[sys.type[p.j]]);
      if (sp < 0) continue;
      gap_soap_neighbor(t, s, o, sc, p, r, true);
      const double ux = p.dx / r, uy = p.dy / r, uz = p.dz / r;
      const DVec<3> gsum = team_sum<DVec<3>>(t, s.n_max * s.nlm, [&](int e) {
        const int n = e / s.nlm, lm = e - n * s.nlm;
        const int l = gap_l_of(lm);
        const double dc = sc[o.dc + (sp * s.n_max + n) * s.nlm + lm];
        const double rr = sc[o.rr + n * L1 + l], dr = sc[o.dr + n * L1 + l];
        const double y = sc[o.y + lm];
        const double* dy = sc + o.dy + 3 * lm;
        DVec<3> v;
        v.v[0] = dc * (dr * y * ux + rr * dy[0]);
        v.v[1] = dc * (dr * y * uy + rr * dy[1]);
        v.v[2] = dc * (dr * y * uz + rr * dy[2]);
        return v;
      });
      team_single(t, [&] {
        double old[3];
        g.load(p.slot, old);
        g.store(p.slot, old[0] + gsum.v[0], old[1] + gsum.v[1], old[2] + gsum.v[2]);
      });
    }
  }
};

// One thread per local atom: the per-atom energy into ForceOut.
struct GapStoreEnergy {
  const double* e_atom;
  ForceOut out;
  MD_HD void operator()(Index i) const { store_energy(out, i, e_atom[i]); }
};

}  // namespace md
