// Neighbour-density expansion on the team kernels: per atom the coefficients
// c_{(s,n),lm} = sum_{j of species s} R_n(r_ij [, l]) Y_lm(r_hat_ij), the power spectrum
// B_{(a<=b),l} = w(a,b,l) sum_m c_{a,lm} c_{b,lm}, and the way back: dE/dB -> dE/dc -> pair
// partials dE_i/dr_ij for the shared gather (kernels/many_body.hpp). Lengths in the run's unit;
// R_n, Y_lm as the caller's radial functor and kernels/basis.hpp. Used by FLARE (models/flare)
// and GAP/SOAP (models/gap).
//
// ---------------------------------------------------------------- API (stable; gap uses it)
//   density::Shape sh{n_species, n_max, l_max};  a = s * n_max + n (radial channel),
//     c index  sh.c_index(a, l, m) = a * (l_max+1)^2 + l^2 + l + m      (sh.n_coeff() values)
//     B index  sh.b_index(a, b, l) = pair(a, b) * (l_max+1) + l, a <= b, pairs row-major over
//              the upper triangle (FLARE's order)                        (sh.n_b2() values)
//   Radial functor R (MD_HD, trivially copyable):
//     static constexpr bool kLDependent;          // false: R_n(r); true: R_nl(r) (SOAP)
//     double cutoff(int s_i, int s_j) const;      // pairs with r >= cutoff contribute nothing
//     void operator()(int s_i, int s_j, double r, double* g, double* dg) const;
//        writes n_max values g[n], dg[n] = dR/dr (kLDependent: (l_max+1) * n_max values at
//        g[l * n_max + n])
//   Team functions (every lane calls them; they barrier internally; scratch from the caller):
//     expand_density(t, sh, R, env, species_of_type, s_i, c, work, chunk)   c: scratch
//     power_spectrum(t, sh, wts, c, b)                b: scratch or global, n_b2 values
//     power_spectrum_adjoint(t, sh, wts, c, dEdB, u)  u = dE/dc (scratch), n_coeff values
//     density_pair_partials(t, sh, R, env, species_of_type, s_i, u, work, chunk, partials)
//        writes dE_i/dr_ij for every list slot of atom i (0 beyond the cutoff)
//   work: chunk * slot_doubles(sh, R::kLDependent) doubles of team scratch (neighbour slots);
//   chunk >= 1 neighbours per pass (the team size is a good choice on a GPU).
//   Weights wts: FLARE = PowerSpectrumWeights{} (sum_m c_a c_b, no sqrt2, no normalisation).
#pragma once

#include <cmath>

#include "kernels/basis.hpp"
#include "kernels/many_body.hpp"
#include "kernels/team.hpp"

namespace md::density {

// Sizes and index maps of one expansion.
struct Shape {
  int n_species;  // species channels S
  int n_max;      // radial functions per channel N
  int l_max;

  MD_HD int n_radial() const { return n_species * n_max; }
  MD_HD int n_harm() const { return (l_max + 1) * (l_max + 1); }
  MD_HD int n_coeff() const { return n_radial() * n_harm(); }
  MD_HD int n_pairs() const { return n_radial() * (n_radial() + 1) / 2; }
  MD_HD int n_b2() const { return n_pairs() * (l_max + 1); }
  MD_HD int c_index(int a, int l, int m) const { return a * n_harm() + l * l + l + m; }
  // Row-major upper triangle, a <= b: (0,0) (0,1) ... (0,R-1) (1,1) ...
  MD_HD int pair(int a, int b) const { return a * n_radial() - a * (a - 1) / 2 + (b - a); }
  MD_HD int b_index(int a, int b, int l) const { return pair(a, b) * (l_max + 1) + l; }
};

// Scale factors of the power spectrum: B_{ab,l} = w(a,b,l) sum_m c_a c_b with
// w = scale * (a != b ? offdiag : 1) / (inv_sqrt_2l1 ? sqrt(2l+1) : 1). FLARE: the defaults.
struct PowerSpectrumWeights {
  double scale = 1.0;
  double offdiag = 1.0;
  bool inv_sqrt_2l1 = false;
  MD_HD double operator()(int a, int b, int l) const {
    double w = a != b ? scale * offdiag : scale;
    return inv_sqrt_2l1 ? w / sqrt(2.0 * l + 1.0) : w;
  }
};

// Doubles of team scratch per neighbour slot of `work`: species, g, dg, Y, dY.
MD_HD inline int radial_values(const Shape& sh, bool l_dependent) {
  return l_dependent ? (sh.l_max + 1) * sh.n_max : sh.n_max;
}
MD_HD inline int slot_doubles(const Shape& sh, bool l_dependent) {
  return 1 + 2 * radial_values(sh, l_dependent) + 4 * sh.n_harm();
}

namespace detail {

// Fills one neighbour slot of `work`: species (as a double; -1 = no contribution), g, dg,
// Y and, when with_grad, dY. Returns false (and stores species -1) when the neighbour does
// not contribute. Also returns d and r through the arguments.
template <class Radial>
MD_INLINE bool fill_slot(const Shape& sh, const Radial& R, const NeighborSlot& p, int s_i,
                         int s_j, double* slot, bool with_grad, double& r) {
  const int nr = radial_values(sh, Radial::kLDependent);
  double* g = slot + 1;
  double* dg = g + nr;
  double* y = dg + nr;
  double* dy = y + sh.n_harm();
  slot[0] = -1.0;
  if (s_j < 0) return false;
  const double rc = R.cutoff(s_i, s_j);
  if (!(p.rsq < rc * rc) || p.rsq <= 0.0) return false;
  r = sqrt(p.rsq);
  R(s_i, s_j, r, g, dg);
  basis::spherical_harmonics(sh.l_max, p.dx, p.dy, p.dz, y, with_grad ? dy : nullptr);
  slot[0] = static_cast<double>(s_j);
  return true;
}

MD_INLINE int l_of(int lm) {
  int l = static_cast<int>(sqrt(static_cast<double>(lm)));
  while (l * l > lm) --l;
  while ((l + 1) * (l + 1) <= lm) ++l;
  return l;
}

}  // namespace detail

// c[sh.n_coeff()] (team scratch) = the expansion of atom env.i (species s_i) over its list
// neighbours of a modelled species (species_of_type[type[j]] >= 0) inside the pair cutoff.
// Neighbours in chunks of `chunk`: lanes over neighbours fill the slots (radial values,
// harmonics), then lanes over (n, lm) add each slot to the channel of its species.
template <class Radial>
MD_INLINE void expand_density(const Team& t, const Shape& sh, const Radial& R, const AtomEnv& env,
                              const int* type, const int* species_of_type, int s_i, double* c,
                              double* work, int chunk) {
  const int nc = sh.n_coeff(), nh = sh.n_harm(), nmax = sh.n_max;
  const int nr = radial_values(sh, Radial::kLDependent);
  const int sd = slot_doubles(sh, Radial::kLDependent);
  team_for(t, nc, [&](int q) { c[q] = 0.0; });
  team_barrier(t);
  for (int k0 = 0; k0 < env.count; k0 += chunk) {
    const int m = env.count - k0 < chunk ? env.count - k0 : chunk;
    team_for(t, m, [&](int kk) {
      const NeighborSlot p = env.neighbor(k0 + kk);
      double r = 0.0;
      detail::fill_slot(sh, R, p, s_i, species_of_type[type[p.j]], work + kk * sd, false, r);
    });
    team_barrier(t);
    // lane q = (n, lm) owns c[(s, n), lm] for every species s
    team_for(t, nmax * nh, [&](int q) {
      const int n = q / nh, lm = q - n * nh;
      const int gi = Radial::kLDependent ? detail::l_of(lm) * nmax + n : n;
      for (int kk = 0; kk < m; ++kk) {
        const double* slot = work + kk * sd;
        const int s = static_cast<int>(slot[0]);
        if (s < 0) continue;
        c[(s * nmax + n) * nh + lm] += slot[1 + gi] * slot[1 + 2 * nr + lm];
      }
    });
    team_barrier(t);
  }
}

// b[sh.n_b2()] = w(a,b,l) sum_m c_{a,lm} c_{b,lm}, lanes over the components.
MD_INLINE void power_spectrum(const Team& t, const Shape& sh, const PowerSpectrumWeights& w,
                              const double* c, double* b) {
  const int nrad = sh.n_radial(), L = sh.l_max + 1, nh = sh.n_harm();
  team_for(t, sh.n_b2(), [&](int q) {
    const int pr = q / L, l = q - pr * L;
    // invert pair(a, b): rows of the upper triangle
    int a = 0, start = 0;
    while (start + (nrad - a) <= pr) {
      start += nrad - a;
      ++a;
    }
    const int bb = a + (pr - start);
    const double* ca = c + a * nh + l * l;
    const double* cb = c + bb * nh + l * l;
    double s = 0.0;
    for (int m = 0; m < 2 * l + 1; ++m) s += ca[m] * cb[m];
    b[q] = w(a, bb, l) * s;
  });
  team_barrier(t);
}

// u = dE/dc from dE/dB: u_{a,lm} = sum_b dE/dB_{(a,b),l} w(a,b,l) c_{b,lm} (1 + [a == b]),
// lanes over (a, lm).
MD_INLINE void power_spectrum_adjoint(const Team& t, const Shape& sh,
                                      const PowerSpectrumWeights& w, const double* c,
                                      const double* dEdB, double* u) {
  const int nrad = sh.n_radial(), L = sh.l_max + 1, nh = sh.n_harm();
  team_for(t, sh.n_coeff(), [&](int q) {
    const int a = q / nh, lm = q - a * nh;
    const int l = detail::l_of(lm);
    double s = 0.0;
    for (int b = 0; b < nrad; ++b) {
      const int lo = a < b ? a : b, hi = a < b ? b : a;
      const double f = (a == b ? 2.0 : 1.0) * w(lo, hi, l);
      s += f * dEdB[sh.pair(lo, hi) * L + l] * c[b * nh + lm];
    }
    u[q] = s;
  });
  team_barrier(t);
}

// Pair partials of atom env.i: g_ik = dE_i/dr_ij = sum_{n,lm} u_{(s_j,n),lm}
// d[R_n(r) Y_lm(r_hat)]/dr_ij for every list slot k (0 for slots that do not contribute).
// Lanes over neighbours; each lane fills and reads its own work slot (no barrier inside).
template <class Radial>
MD_INLINE void density_pair_partials(const Team& t, const Shape& sh, const Radial& R,
                                     const AtomEnv& env, const int* type,
                                     const int* species_of_type, int s_i, const double* u,
                                     double* work, int chunk, const PairPartialsView& partials) {
  const int nh = sh.n_harm(), nmax = sh.n_max;
  const int nr = radial_values(sh, Radial::kLDependent);
  const int sd = slot_doubles(sh, Radial::kLDependent);
  for (int k0 = 0; k0 < env.count; k0 += chunk) {
    const int m = env.count - k0 < chunk ? env.count - k0 : chunk;
    team_for(t, m, [&](int kk) {
      const NeighborSlot p = env.neighbor(k0 + kk);
      double* slot = work + kk * sd;
      double r = 0.0;
      const int s_j = species_of_type[type[p.j]];
      if (!detail::fill_slot(sh, R, p, s_i, s_j, slot, true, r)) {
        partials.store(p.slot, 0.0, 0.0, 0.0);
        return;
      }
      const double* g = slot + 1;
      const double* dg = g + nr;
      const double* y = dg + nr;
      const double* dy = y + nh;
      const double inv_r = 1.0 / r;
      const double ux = p.dx * inv_r, uy = p.dy * inv_r, uz = p.dz * inv_r;
      const double* us = u + s_j * nmax * nh;
      double fx = 0.0, fy = 0.0, fz = 0.0;
      for (int lm = 0; lm < nh; ++lm) {
        const int l = Radial::kLDependent ? detail::l_of(lm) : 0;
        double ug = 0.0, udg = 0.0;  // sum_n u g_n, sum_n u dg_n
        for (int n = 0; n < nmax; ++n) {
          const double un = us[n * nh + lm];
          ug += un * g[l * nmax + n];
          udg += un * dg[l * nmax + n];
        }
        const double ry = udg * y[lm];
        fx += ry * ux + ug * dy[3 * lm + 0];
        fy += ry * uy + ug * dy[3 * lm + 1];
        fz += ry * uz + ug * dy[3 * lm + 2];
      }
      partials.store(p.slot, fx, fy, fz);
    });
    team_barrier(t);
  }
}

}  // namespace md::density
