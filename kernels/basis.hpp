// Basis library for many-body and ML potentials (MD_HD, value and derivative together):
// cutoff functions f(r) with df/dr, radial bases with d/dr, and real orthonormal spherical
// harmonics Y_lm(r_hat) with Cartesian gradients up to any l (tested to l = 12). Lengths in
// the caller's unit; derivatives per that unit. Called by model kernels; see kernels/BASIS.md.
#pragma once

#include <cmath>

#include "engine/backend.hpp"

namespace md::basis {

constexpr double kPi = 3.14159265358979323846;
constexpr double kPiHalf = 1.57079632679489661923;
constexpr double kSqrt2 = 1.41421356237309504880;
constexpr double kInvSqrt4Pi = 0.28209479177387814347;  // Y_00 = 1 / sqrt(4 pi)

// ------------------------------------------------------------------------- cutoff functions
// Each returns f(r) and writes df/dr; all are 0 (with zero derivative) for r >= rc.

// Cosine cutoff (Behler; schnetpack CosineCutoff): f = (cos(pi r / rc) + 1) / 2.
MD_INLINE double cutoff_cosine(double r, double rc, double& df) {
  if (r >= rc) {
    df = 0.0;
    return 0.0;
  }
  const double k = kPi / rc;
  df = -0.5 * k * sin(k * r);
  return 0.5 * (cos(k * r) + 1.0);
}

// SNAP's switch (LAMMPS compute_sfac / compute_dsfac): the outer cosine switch
// (switchflag) 0.5 (cos(pi (r - rmin0) / (rc - rmin0)) + 1) for rmin0 < r < rc, times, when
// `inner` (switchinnerflag), the inner switch 0.5 (1 - cos(pi/2 + pi/2 (r - sinner) / dinner))
// on sinner - dinner < r < sinner + dinner (0 below, 1 above). SNAP's kernels call it
// (models/snap/snap_kernels.hpp `switching`).
MD_INLINE double cutoff_snap(double r, double rmin0, double rc, bool outer, bool inner,
                             double sinner, double dinner, double& df) {
  double so = 1.0, dso = 0.0;
  if (outer && r > rmin0) {
    if (r > rc) {
      so = 0.0;
    } else {
      const double f = kPi / (rc - rmin0);
      so = 0.5 * (cos((r - rmin0) * f) + 1.0);
      dso = -0.5 * sin((r - rmin0) * f) * f;
    }
  }
  double s = so;
  df = dso;
  if (inner && r < sinner + dinner) {
    if (r > sinner - dinner) {
      const double f = kPiHalf / dinner;
      const double si = 0.5 * (1.0 - cos(kPiHalf + (r - sinner) * f));
      const double dsi = 0.5 * f * sin(kPiHalf + (r - sinner) * f);
      s = so * si;
      df = dso * si + so * dsi;
    } else {
      s = 0.0;
      df = 0.0;
    }
  }
  return s;
}

// DeePMD's smooth switch (se_e2_a): 1 for r <= rs, 1 - 10u^3 + 15u^4 - 6u^5 with
// u = (r - rs) / (rc - rs) in between, 0 for r >= rc. DeePMD's kernels call it
// (models/deepmd/deepmd_net.hpp `smooth_switch`).
MD_INLINE double cutoff_quintic(double r, double rs, double rc, double& df) {
  if (r <= rs) {
    df = 0.0;
    return 1.0;
  }
  if (r >= rc) {
    df = 0.0;
    return 0.0;
  }
  const double u = (r - rs) / (rc - rs);
  const double u2 = u * u;
  df = (-30.0 * u2 + 60.0 * u2 * u - 30.0 * u2 * u2) / (rc - rs);
  return u2 * u * (-6.0 * u2 + 15.0 * u - 10.0) + 1.0;
}

// Polynomial cutoff of order p (NequIP PolynomialCutoff, default p = 6; DimeNet's envelope
// is this divided by u): with u = r / rc,
// f = 1 - (p+1)(p+2)/2 u^p + p(p+2) u^(p+1) - p(p+1)/2 u^(p+2),
// df/dr = -p(p+1)(p+2) / (2 rc) u^(p-1) (1 - u)^2. f, f' and f'' vanish at rc. p >= 1.
MD_INLINE double cutoff_polynomial(double r, double rc, double p, double& df) {
  if (r >= rc) {
    df = 0.0;
    return 0.0;
  }
  const double u = r / rc;
  const double up1 = pow(u, p - 1.0);  // u^(p-1)
  const double up = up1 * u;
  const double w = 1.0 - u;
  df = -0.5 * p * (p + 1.0) * (p + 2.0) / rc * up1 * w * w;
  return 1.0 - 0.5 * (p + 1.0) * (p + 2.0) * up + p * (p + 2.0) * up * u -
         0.5 * p * (p + 1.0) * up * u * u;
}

// FLARE's quadratic cutoff: f = (r - rc)^2, df/dr = 2 (r - rc) (not 1 at r = 0: FLARE's
// descriptors absorb the scale).
MD_INLINE double cutoff_quadratic(double r, double rc, double& df) {
  if (r >= rc) {
    df = 0.0;
    return 0.0;
  }
  const double d = r - rc;
  df = 2.0 * d;
  return d * d;
}

// ------------------------------------------------------------------------- radial bases
// Each writes n values b[k] and derivatives db[k] = d b_k / dr into caller buffers.

// Gaussian radial basis (schnetpack GaussianRBF): centres mu_k = r0 + k (r1 - r0) / (n - 1),
// b_k = exp(-(r - mu_k)^2 / (2 width^2)). schnetpack: r0 = 0, r1 = cutoff, width = the
// centre spacing. n >= 1 (n = 1: one centre at r0).
MD_INLINE void radial_gaussian(double r, int n, double r0, double r1, double width, double* b,
                               double* db) {
  const double step = n > 1 ? (r1 - r0) / (n - 1) : 0.0;
  const double c = -0.5 / (width * width);
  for (int k = 0; k < n; ++k) {
    const double d = r - (r0 + k * step);
    const double g = exp(c * d * d);
    b[k] = g;
    db[k] = 2.0 * c * d * g;
  }
}

// Chebyshev polynomials of the first kind (FLARE's "chebyshev" radial basis):
// b_k = T_k(x), x = (r - r1) / (r2 - r1) (r1 = 0, r2 = rc gives T_k(r / rc)), k = 0..n-1, by
// the three-term recursion T_{k+1} = 2 x T_k - T_{k-1}. FLARE multiplies by a cutoff.
MD_INLINE void radial_chebyshev(double r, int n, double r1, double r2, double* b, double* db) {
  const double c = 1.0 / (r2 - r1);
  const double x = (r - r1) * c;
  for (int k = 0; k < n; ++k) {
    if (k == 0) {
      b[k] = 1.0;
      db[k] = 0.0;
    } else if (k == 1) {
      b[k] = x;
      db[k] = c;
    } else {
      b[k] = 2.0 * x * b[k - 1] - b[k - 2];
      db[k] = 2.0 * (c * b[k - 1] + x * db[k - 1]) - db[k - 2];
    }
  }
}

// Sine (zeroth spherical Bessel) radial basis of DimeNet and NequIP:
// b_k = prefactor sin(k pi r / rc) / r for k = 1..n (stored at b[k-1]), i.e. prefactor
// (k pi / rc) j_0(k pi r / rc). DimeNet: prefactor = sqrt(2 / rc); NequIP BesselBasis:
// prefactor = 2 / rc. sin/cos of k theta by the angle-addition recursion. r > 0.
MD_INLINE void radial_bessel(double r, int n, double rc, double prefactor, double* b, double* db) {
  const double theta = kPi * r / rc;
  const double s1 = sin(theta), c1 = cos(theta);
  const double inv_r = 1.0 / r;
  double s = s1, c = c1;  // sin(k theta), cos(k theta)
  for (int k = 1; k <= n; ++k) {
    const double kk = k * kPi / rc;
    b[k - 1] = prefactor * s * inv_r;
    db[k - 1] = prefactor * (kk * c - s * inv_r) * inv_r;
    const double s_next = s * c1 + c * s1;
    c = c * c1 - s * s1;
    s = s_next;
  }
}

// ------------------------------------------------------------------------- spherical harmonics

// Number of real harmonics up to degree lmax, and the index of (l, m), -l <= m <= l.
MD_INLINE constexpr int sh_count(int lmax) { return (lmax + 1) * (lmax + 1); }
MD_INLINE constexpr int sh_index(int l, int m) { return l * l + l + m; }

// Real orthonormal spherical harmonics of the direction of (x, y, z) (|r| > 0), for
// l = 0..lmax: y[sh_index(l, m)]; and, when dy is not null, their Cartesian gradients with
// respect to (x, y, z) at dy[3 * sh_index(l, m) + c] (tangential, scaling as 1/|r|).
// Convention (no Condon-Shortley phase; Y_1,-1 Y_10 Y_11 = sqrt(3/4pi) (y, z, x)/r):
//   Y_l0 = Y_l^0,  Y_lm = sqrt2 (-1)^m Re Y_l^m (m > 0),  Y_l,-m = sqrt2 (-1)^m Im Y_l^m,
// with Y_l^m the complex harmonics of scipy.special.sph_harm_y (which include the phase).
// Written as Nbar_l^m(z) * Re/Im (x + i y)^m on the unit vector, with Nbar_l^m the normalised
// m-th derivative of the Legendre polynomial, by the stable fixed-m recursion in l; no poles,
// no per-thread tables: O(lmax^2) work, a few scalars of state.
MD_INLINE void spherical_harmonics(int lmax, double x, double y, double z, double* yl, double* dy) {
  const double r = sqrt(x * x + y * y + z * z);
  const double inv_r = 1.0 / r;
  const double ux = x * inv_r, uy = y * inv_r, uz = z * inv_r;
  // (ux + i uy)^m = a + i b, and the previous power am1 + i bm1.
  double a = 1.0, b = 0.0, am1 = 0.0, bm1 = 0.0;
  double pmm = kInvSqrt4Pi;  // Nbar_m^m
  for (int m = 0; m <= lmax; ++m) {
    if (m > 0) {
      am1 = a;
      bm1 = b;
      a = am1 * ux - bm1 * uy;
      b = am1 * uy + bm1 * ux;
      pmm *= sqrt((2.0 * m + 1.0) / (2.0 * m));
    }
    const double scale = m == 0 ? 1.0 : kSqrt2;
    // Nbar_l^m and d/dz for l = m, m+1, ...: p0 = degree l, p1 = l-1 (rolling).
    double p_l = pmm, dp_l = 0.0, p_lm1 = 0.0, dp_lm1 = 0.0;
    double a_prev = 0.0;  // a_{l-1,m}; b_{l,m} = 1 / a_{l-1,m}
    for (int l = m; l <= lmax; ++l) {
      if (l == m + 1) {
        a_prev = sqrt(2.0 * m + 3.0);
        p_lm1 = p_l;
        dp_lm1 = dp_l;
        p_l = a_prev * uz * p_lm1;
        dp_l = a_prev * p_lm1;
      } else if (l > m + 1) {
        const double al = sqrt((4.0 * l * l - 1.0) / (double(l) * l - double(m) * m));
        const double bl = 1.0 / a_prev;
        const double p_new = al * (uz * p_l - bl * p_lm1);
        const double dp_new = al * (p_l + uz * dp_l - bl * dp_lm1);
        p_lm1 = p_l;
        dp_lm1 = dp_l;
        p_l = p_new;
        dp_l = dp_new;
        a_prev = al;
      }
      const double sp = scale * p_l;
      // Cosine-type (m >= 0): F = sp a; gradient of the polynomial extension in u.
      {
        const int idx = sh_index(l, m);
        yl[idx] = sp * a;
        if (dy) {
          const double gx = sp * m * am1, gy = -sp * m * bm1, gz = scale * dp_l * a;
          const double gu = gx * ux + gy * uy + gz * uz;
          dy[3 * idx + 0] = (gx - gu * ux) * inv_r;
          dy[3 * idx + 1] = (gy - gu * uy) * inv_r;
          dy[3 * idx + 2] = (gz - gu * uz) * inv_r;
        }
      }
      if (m > 0) {  // sine-type: F = sp b
        const int idx = sh_index(l, -m);
        yl[idx] = sp * b;
        if (dy) {
          const double gx = sp * m * bm1, gy = sp * m * am1, gz = scale * dp_l * b;
          const double gu = gx * ux + gy * uy + gz * uz;
          dy[3 * idx + 0] = (gx - gu * ux) * inv_r;
          dy[3 * idx + 1] = (gy - gu * uy) * inv_r;
          dy[3 * idx + 2] = (gz - gu * uz) * inv_r;
        }
      }
    }
  }
}

}  // namespace md::basis
