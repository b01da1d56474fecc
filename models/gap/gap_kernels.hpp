// GAP device kernels (MD_HD functors for both executors): distance_2b pair terms with the
// ard_se kernel; SOAP on the shared neighbour-density expansion (kernels/density_expansion.hpp:
// accumulation of c, power spectrum, adjoint, pair partials) with GAP's own radial functor,
// central-atom term, normalisation and covariance_sigma0; the dot-product kernel against the
// sparse set as a tiled product (team per tile of atoms, chunks of sparse points in team
// scratch). Energies eV, lengths Å. Launched by GapPotential::compute (gap.cpp).
// Conventions: models/gap/README.md.
#pragma once

#include <cmath>

#include "kernels/basis.hpp"
#include "kernels/density_expansion.hpp"
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
  int off_l;           // into the variance's L^-1 ([n_sparse]^2, column-major)
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

// Whether the pair (Z_i, Z_j) is an instance of descriptor ds ({z1, z2} either way; 0 = any).
MD_INLINE bool gap_2b_matches(const Gap2bDesc& ds, int zi, int zj) {
  const bool i1 = ds.z1 == 0 || zi == ds.z1, i2 = ds.z2 == 0 || zi == ds.z2;
  const bool j1 = ds.z1 == 0 || zj == ds.z1, j2 = ds.z2 == 0 || zj == ds.z2;
  return (i1 && j2) || (i2 && j1);
}

// ard_se covariance of pair distance r with sparse point s of ds, without f0 and the sparse
// cutoff: delta^2 exp(-|(x - x_s)/theta|^2 / 2), x_c = r^exponent_c; dq = d/dr of the
// exponent. Shared by the energy (Gap2bKernel) and the variance (Gap2bVarianceKernel).
MD_INLINE double gap_2b_covariance(const Gap2bView& v, const Gap2bDesc& ds, int s, double r,
                                   double& dq) {
  const double* ex = v.exponents + ds.off_theta;
  const double* th = v.theta + ds.off_theta;
  // x_s / theta is stored (sparse_x); u = x_s/theta - x/theta, as the energy sum is
  // ill-conditioned (alphas of 1e4-1e5 cancel) the same operation order as the reference
  // keeps the rounding close to it
  const double* xs = v.sparse_x + ds.off_x + static_cast<Index>(s) * ds.dim;
  double uu = 0.0;  // |(x_s - x)/theta|^2
  dq = 0.0;
  for (int c = 0; c < ds.dim; ++c) {
    const double x = pow(r, ex[c]);
    const double dx = ex[c] * x / r;
    const double u = xs[c] - x / th[c];
    uu += u * u;
    dq += u * dx / th[c];
  }
  return ds.delta2 * exp(-0.5 * uu);
}

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
        if (r >= ds.cutoff || !gap_2b_matches(ds, zi, zj)) continue;
        double dfc;
        const double fc = gap_fcut(r, ds.cutoff, ds.width, dfc);
        double sum = 0.0, dsum = 0.0;  // sum_s alpha_s k(x, x_s) fc_s, d/dr
        for (int s = 0; s < ds.n_sparse; ++s) {
          double dq;
          const double ex_q = gap_2b_covariance(v, ds, s, r, dq);
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

// Predictive variance of distance_2b (quippy's local_gap_variance; models/gap/README.md): a
// team per local atom i, lanes over sparse points. Per instance (neighbour j, matching
// descriptor) k_s = (cov(r_ij, x_s) + f0^2) fc_s in team scratch, then
// q = k^T (K_mm + reg^2 I)^-1 k = |L^-1 k|^2 (lanes over rows of L^-1), and atom i collects
// fc(r_ij)^2 (delta^2 + f0^2 + reg^2 - q) once per neighbour (instances i->j and j->i, half
// to each atom). std_out[i] = that sum (eV^2; the other descriptors add to it, then
// GapVarianceToStd). Scratch: max n_sparse doubles.
struct Gap2bVarianceKernel {
  SystemView sys;
  NeighborView nl;
  Gap2bView v;
  const double* linv;  // per descriptor [n_sparse][n_sparse], column-major: linv[t*M + s] = (L^-1)_st
  double reg2;         // gap_variance_regularisation^2
  const int* type_z;
  double* std_out;     // [n_local]

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    double* k = t.scratch_as<double>();
    double var = 0.0;
    const AtomEnv env(sys, nl, i);
    for (int nb = 0; nb < env.count; ++nb) {
      const NeighborSlot p = env.neighbor(nb);
      const int zj = type_z[sys.type[p.j]];
      const double r = sqrt(p.rsq);
      for (int d = 0; d < v.n_desc; ++d) {
        const Gap2bDesc& ds = v.desc[d];
        if (r >= ds.cutoff || !gap_2b_matches(ds, zi, zj)) continue;
        const int m = ds.n_sparse;
        team_for(t, m, [&](int s) {
          double dq;
          k[s] = (gap_2b_covariance(v, ds, s, r, dq) + ds.f0sq) * v.sparse_cutoff[ds.off_s + s];
        });
        team_barrier(t);
        const double* l = linv + ds.off_l;
        const double q = team_sum<double>(t, m, [&](int s) {
          double y = 0.0;
          for (int c = 0; c <= s; ++c) y += l[static_cast<Index>(c) * m + s] * k[c];
          return y * y;
        });
        team_barrier(t);  // k is rewritten by the next instance
        double dfc;
        const double fc = gap_fcut(r, ds.cutoff, ds.width, dfc);
        var += fc * fc * (ds.delta2 + ds.f0sq + reg2 - q);
      }
    }
    team_single(t, [&] { std_out[i] = var; });
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

// SOAP's radial channels as the shared expansion's l-dependent radial functor
// (kernels/density_expansion.hpp): R_nl(r) = fcut(r) sum_a T_an f_l(r, r_a) with
// f_l = exp(-alpha (r^2 + r_a^2)) i_l(2 alpha r r_a) (modified spherical Bessel i_l, upward
// recursion i_{l+1} = i_{l-1} - (2l + 1) i_l / x from i_-1 = cosh x / x, i_0 = sinh x / x,
// the Gaussians folded into exp(-alpha (r -+ r_a)^2)); g[l n_max + n] = R_nl, dg = d/dr.
// The sum over grid points a runs in order a = 0.. for every (n, l) (no per-thread arrays).
struct GapSoapRadial {
  static constexpr bool kLDependent = true;
  int n_max, l_max;
  double rc, width, alpha;
  const double* r_basis;    // [n_max] Gaussian centres
  const double* transform;  // [n_max (grid a)][n_max (n)]: C^-1 L

  MD_HD double cutoff(int, int) const { return rc; }
  MD_HD void operator()(int, int, double r, double* g, double* dg) const {
    const int nv = (l_max + 1) * n_max;
    for (int e = 0; e < nv; ++e) {
      g[e] = 0.0;
      dg[e] = 0.0;
    }
    for (int a = 0; a < n_max; ++a) {
      const double ra = r_basis[a];
      const double* tr = transform + a * n_max;
      const double x = 2.0 * alpha * r * ra;
      if (x == 0.0) {
        // f_0 = exp(-alpha (r^2 + r_a^2)), f_l>0 = 0 (r_a = 0; r > 0 for every neighbour)
        const double e = exp(-alpha * (ra * ra + r * r));
        const double de = -2.0 * alpha * r * e;
        for (int n = 0; n < n_max; ++n) {
          g[n] += tr[n] * e;
          dg[n] += tr[n] * de;
        }
        continue;
      }
      const double ep = exp(-alpha * (r + ra) * (r + ra));
      const double em = exp(-alpha * (r - ra) * (r - ra));
      double fm = 0.5 * (em + ep) / x;  // f_{l-1}
      double fl = 0.5 * (em - ep) / x;  // f_l
      for (int l = 0; l <= l_max; ++l) {
        const double fn = fm - (2 * l + 1) * fl / x;  // f_{l+1}
        // d/dr [e i_l(x)] = -2 alpha r f_l + 2 alpha ra f_{l+1} + l f_l / r
        const double df = -2.0 * alpha * r * fl + 2.0 * alpha * ra * fn + l * fl / r;
        for (int n = 0; n < n_max; ++n) {
          g[l * n_max + n] += tr[n] * fl;
          dg[l * n_max + n] += tr[n] * df;
        }
        fm = fl;
        fl = fn;
      }
    }
    double dfc;
    const double fc = gap_fcut(r, rc, width, dfc);
    for (int e = 0; e < nv; ++e) {
      const double v = g[e], dv = dg[e];
      g[e] = fc * v;
      dg[e] = dfc * v + fc * dv;
    }
  }
};

MD_INLINE GapSoapRadial gap_soap_radial(const GapSoapView& s) {
  return GapSoapRadial{s.n_max, s.l_max, s.cutoff, s.width, s.alpha, s.r_basis, s.transform};
}

MD_INLINE density::Shape gap_soap_shape(const GapSoapView& s) {
  return density::Shape{s.n_species, s.n_max, s.l_max};
}

// GAP's power-spectrum factors: sqrt2 off the diagonal, (2l+1)^-1/2 when two_l_plus_one.
MD_INLINE density::PowerSpectrumWeights gap_soap_weights(const GapSoapView& s) {
  return density::PowerSpectrumWeights{1.0, basis::kSqrt2, s.two_l_plus_one != 0};
}

MD_INLINE bool gap_soap_centre(const GapSoapView& s, int z) {
  return s.z_centre == 0 || s.z_centre == z;
}

// Team scratch of the per-atom SOAP kernels (doubles): dE/dp [dim], dE/dc [n_coeff] (backward
// only), then `chunk` neighbour slots of the shared expansion.
struct GapSoapScratch {
  int dp, dc, work, total;
  MD_HD GapSoapScratch(const GapSoapView& s, int chunk, bool backward) {
    const density::Shape sh = gap_soap_shape(s);
    dp = 0;
    dc = backward ? s.dim : 0;
    work = backward ? dc + sh.n_coeff() : 0;
    total = work + chunk * density::slot_doubles(sh, true);
  }
};

// Team per local atom: c_{(s,n),lm} by the shared expansion (neighbours), plus the central
// atom's Gaussian on c[(s,n), l=0]; the power spectrum in the shared layout
// p_{(a<=b) l} = f_ab (2l+1)^-1/2 sum_m c_{a lm} c_{b lm} (f_ab = sqrt2 for a != b; the sparse
// points' columns are permuted to this order at load), normalised, covariance_sigma0 last.
struct GapSoapDescriptorKernel {
  SystemView sys;
  NeighborView nl;
  GapSoapView s;
  GapSoapWork w;
  const int* type_z;
  const int* species_of_type;  // [n_types] SOAP species channel of each system type, -1: none
  int chunk;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    if (!gap_soap_centre(s, zi)) {
      team_single(t, [&] { w.norm[i] = 0.0; });
      return;
    }
    const density::Shape sh = gap_soap_shape(s);
    const GapSoapScratch o(s, chunk, false);
    double* sc = t.scratch_as<double>();
    double* c = w.c + i * static_cast<Index>(s.nch) * s.nlm;
    const AtomEnv env(sys, nl, i);
    density::expand_density(t, sh, gap_soap_radial(s), env, sys.type, species_of_type, 0, c,
                            sc + o.work, chunk);
    team_for(t, s.nch, [&](int ch) {
      const int sp = ch / s.n_max, n = ch - sp * s.n_max;
      if (s.central_all || s.species_z[sp] == zi || s.species_z[sp] == 0)
        c[ch * s.nlm] += s.central_weight * s.central[n] * basis::kInvSqrt4Pi;
    });
    team_barrier(t);
    double* x = w.x + i * static_cast<Index>(s.dim);
    const int np = s.dim - 1;
    density::power_spectrum(t, sh, gap_soap_weights(s), c, x);
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

// dot_product covariance of a SOAP descriptor with sparse point of product `dot` and sparse
// cutoff fc: delta^2 dot^zeta fc. Shared by the energy (GapDotProductKernel) and the variance.
MD_INLINE double gap_soap_covariance(const GapSoapView& s, double dot, double fc) {
  return s.delta2 * pow(dot, s.zeta) * fc;
}

// Predictive variance of one SOAP descriptor (quippy's local_gap_variance; one instance per
// centre atom, covariance cutoff 1): a team per local atom, lanes over sparse points:
// k_q = delta^2 (x.x_q)^zeta fc_q in scratch, then std_out[i] += delta^2 + reg^2 - |L^-1 k|^2
// (a variance; GapVarianceToStd takes the root after all descriptors). Atoms that are not
// centres of this descriptor (norm 0) add nothing.
struct GapSoapVarianceKernel {
  GapSoapView s;
  const double* x;     // [n][dim] descriptors of the last compute
  const double* norm;  // [n], 0: not a centre
  const double* linv;  // [n_sparse][n_sparse] column-major
  double reg2;
  double* std_out;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    if (norm[i] == 0.0) return;  // the whole team leaves: no barrier is skipped by a lane
    const int m = s.n_sparse, d = s.dim;
    double* k = t.scratch_as<double>();
    const double* xi = x + i * d;
    team_for(t, m, [&](int q) {
      const double* xq = s.sparse_x + static_cast<Index>(q) * d;
      double dot = 0.0;
      for (int c = 0; c < d; ++c) dot += xi[c] * xq[c];
      k[q] = gap_soap_covariance(s, dot, s.sparse_cutoff[q]);
    });
    team_barrier(t);
    const double qf = team_sum<double>(t, m, [&](int r) {
      double y = 0.0;
      for (int c = 0; c <= r; ++c) y += linv[static_cast<Index>(c) * m + r] * k[c];
      return y * y;
    });
    team_single(t, [&] { std_out[i] += s.delta2 + reg2 - qf; });
  }
};

// std_out[i] = sqrt(variance_i) (negative rounding clamped to 0).
struct GapVarianceToStd {
  double* v;
  MD_HD void operator()(Index i) const { v[i] = sqrt(v[i] > 0.0 ? v[i] : 0.0); }
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
        mine[a] += on ? al * gap_soap_covariance(s, dot, fc) : 0.0;
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

// Team per local atom: dE/dp (through the normalisation), dE/dc by the shared power-spectrum
// adjoint, then the shared pair partials of this descriptor (stored into `gs`, every slot of
// the atom's list) added to the partials g of the whole potential.
struct GapSoapBackwardKernel {
  SystemView sys;
  NeighborView nl;
  GapSoapView s;
  GapSoapWork w;
  const int* type_z;
  const int* species_of_type;
  int chunk;
  PairPartialsView gs;  // this descriptor's partials
  PairPartialsView g;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int zi = type_z[sys.type[i]];
    if (!gap_soap_centre(s, zi)) return;
    const density::Shape sh = gap_soap_shape(s);
    const GapSoapScratch o(s, chunk, true);
    double* sc = t.scratch_as<double>();
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
    density::power_spectrum_adjoint(t, sh, gap_soap_weights(s), c, sc + o.dp, sc + o.dc);
    const AtomEnv env(sys, nl, i);
    density::density_pair_partials(t, sh, gap_soap_radial(s), env, sys.type, species_of_type, 0,
                                   sc + o.dc, sc + o.work, chunk, gs);
    team_for(t, env.count, [&](int k) {
      const Index slot = env.neighbor(k).slot;
      double old[3], add[3];
      g.load(slot, old);
      gs.load(slot, add);
      g.store(slot, old[0] + add[0], old[1] + add[1], old[2] + add[2]);
    });
  }
};

// One thread per local atom: the per-atom energy into ForceOut.
struct GapStoreEnergy {
  const double* e_atom;
  ForceOut out;
  MD_HD void operator()(Index i) const { store_energy(out, i, e_atom[i]); }
};

}  // namespace md
