// GAP potential: host set-up (SOAP radial basis tables, SO4 Clebsch-Gordan term lists,
// descriptor tables uploaded once) and the passes of one force call: distance_2b + e0, angle_3b,
// per SOAP descriptor the density / power spectrum, the tiled dot-product kernel against the
// sparse set and the backward pass into pair partials, per bispectrum_so4 descriptor U and B,
// the ard_se kernel and the backward pass; finally energies and the shared gather.
#include "models/gap/gap.hpp"

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"

namespace md {

namespace {

// In-place Cholesky S = L L^T (lower), n x n row-major.
std::vector<double> cholesky_lower(const std::vector<double>& s, int n) {
  std::vector<double> l(static_cast<std::size_t>(n) * n, 0.0);
  for (int j = 0; j < n; ++j) {
    double d = s[j * n + j];
    for (int k = 0; k < j; ++k) d -= l[j * n + k] * l[j * n + k];
    if (!(d > 0.0)) throw Error("gap: SOAP radial overlap matrix is not positive definite");
    l[j * n + j] = std::sqrt(d);
    for (int i = j + 1; i < n; ++i) {
      double v = s[i * n + j];
      for (int k = 0; k < j; ++k) v -= l[i * n + k] * l[j * n + k];
      l[i * n + j] = v / l[j * n + j];
    }
  }
  return l;
}

// X = A^-1 B for symmetric positive definite A (Cholesky), n x n row-major.
std::vector<double> spd_solve(const std::vector<double>& a, const std::vector<double>& b, int n) {
  const std::vector<double> l = cholesky_lower(a, n);
  std::vector<double> x = b;
  for (int col = 0; col < n; ++col) {
    for (int i = 0; i < n; ++i) {  // L y = b
      double v = x[i * n + col];
      for (int k = 0; k < i; ++k) v -= l[i * n + k] * x[k * n + col];
      x[i * n + col] = v / l[i * n + i];
    }
    for (int i = n - 1; i >= 0; --i) {  // L^T x = y
      double v = x[i * n + col];
      for (int k = i + 1; k < n; ++k) v -= l[k * n + i] * x[k * n + col];
      x[i * n + col] = v / l[i * n + i];
    }
  }
  return x;
}

double factorial(int n) {
  double f = 1.0;
  for (int k = 2; k <= n; ++k) f *= k;
  return f;
}

// <j1/2 m1/2, j2/2 m2/2 | j/2 m/2> in doubled labels (Racah's formula), 0 when not allowed.
double cg_doubled(int j1, int m1, int j2, int m2, int j, int m) {
  if (m1 + m2 != m || std::abs(m1) > j1 || std::abs(m2) > j2 || std::abs(m) > j) return 0.0;
  if ((j1 + m1) % 2 || (j2 + m2) % 2 || (j + m) % 2) return 0.0;
  if (j < std::abs(j1 - j2) || j > j1 + j2 || (j1 + j2 + j) % 2) return 0.0;
  // integer arguments of the factorials (all sums of doubled labels are even here)
  const int a = (j + j1 - j2) / 2, b = (j - j1 + j2) / 2, c = (j1 + j2 - j) / 2;
  double pre = std::sqrt((j + 1) * factorial(a) * factorial(b) * factorial(c) /
                         factorial((j1 + j2 + j) / 2 + 1));
  pre *= std::sqrt(factorial((j + m) / 2) * factorial((j - m) / 2) * factorial((j1 - m1) / 2) *
                   factorial((j1 + m1) / 2) * factorial((j2 - m2) / 2) * factorial((j2 + m2) / 2));
  double sum = 0.0;
  for (int k = 0; k <= c; ++k) {
    const int t[6] = {k, c - k, (j1 - m1) / 2 - k, (j2 + m2) / 2 - k, (j - j2 + m1) / 2 + k,
                      (j - j1 - m2) / 2 + k};
    bool ok = true;
    double den = 1.0;
    for (int v : t) {
      if (v < 0) ok = false;
      else den *= factorial(v);
    }
    if (ok) sum += (k % 2 ? -1.0 : 1.0) / den;
  }
  return pre * sum;
}

}  // namespace

GapSo4Tables gap_so4_tables(int j_max) {
  GapSo4Tables t;
  for (int j = 0; j <= j_max; ++j) {
    t.u_block.push_back(t.n_u);
    t.n_u += (j + 1) * (j + 1);
  }
  auto el = [&](int j, int a, int b) { return t.u_block[j] + ((a + j) / 2) * (j + 1) + (b + j) / 2; };
  int kb = 0;
  for (int j1 = 0; j1 <= j_max; ++j1)
    for (int j = 0; j <= std::min(j_max, 2 * j1); j += 2, ++kb) {
      t.term_first.push_back(static_cast<int>(t.terms.size()));
      for (int m1 = -j; m1 <= j; m1 += 2)
        for (int m2 = -j; m2 <= j; m2 += 2)
          for (int m11 = std::max(-j1, m1 - j1); m11 <= std::min(j1, m1 + j1); m11 += 2)
            for (int m12 = std::max(-j1, m2 - j1); m12 <= std::min(j1, m2 + j1); m12 += 2) {
              const double coef = cg_doubled(j1, m11, j1, m1 - m11, j, m1) *
                                  cg_doubled(j1, m12, j1, m2 - m12, j, m2);
              if (coef == 0.0) continue;
              t.terms.push_back(GapSo4Term{kb, el(j1, m11, m12), el(j1, m1 - m11, m2 - m12),
                                           el(j, m1, m2), coef});
            }
    }
  t.term_first.push_back(static_cast<int>(t.terms.size()));
  std::vector<std::vector<GapSo4Adj>> per(t.n_u);
  for (const GapSo4Term& m : t.terms) {
    per[m.a].push_back(GapSo4Adj{m.k, m.b, m.c, 0, m.coef});
    per[m.b].push_back(GapSo4Adj{m.k, m.a, m.c, 0, m.coef});
    per[m.c].push_back(GapSo4Adj{m.k, m.a, m.b, 1, m.coef});
  }
  for (int e = 0; e < t.n_u; ++e) {
    t.adj_first.push_back(static_cast<int>(t.adj.size()));
    t.adj.insert(t.adj.end(), per[e].begin(), per[e].end());
  }
  t.adj_first.push_back(static_cast<int>(t.adj.size()));
  return t;
}

GapSoapBasis gap_soap_basis(const GapSoap& s) {
  const int n = s.n_max;
  const double alpha = 0.5 / (s.atom_sigma * s.atom_sigma);
  const double rcb = s.cutoff + s.atom_sigma * std::sqrt(2.0 * s.basis_error_exponent * std::log(10.0));
  GapSoapBasis b;
  b.r_basis.resize(n);
  for (int a = 0; a < n; ++a) b.r_basis[a] = a * (rcb / n);
  std::vector<double> cg(static_cast<std::size_t>(n) * n), ov(cg.size());
  const double pi = 3.14159265358979323846;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const double ri = b.r_basis[i], rj = b.r_basis[j], sum = ri + rj, dif = ri - rj;
      cg[i * n + j] = std::exp(-alpha * dif * dif);
      // int_0^inf r^2 exp(-alpha (r - ri)^2) exp(-alpha (r - rj)^2) dr, closed form
      ov[i * n + j] = (std::exp(-alpha * (ri * ri + rj * rj)) * std::sqrt(2.0) * std::pow(alpha, 1.5) * sum +
                       alpha * std::exp(-0.5 * alpha * dif * dif) * std::sqrt(pi) *
                           (1.0 + alpha * sum * sum) * (1.0 + std::erf(std::sqrt(alpha / 2.0) * sum))) /
                      std::sqrt(128.0 * std::pow(alpha, 5));
    }
  const std::vector<double> l = cholesky_lower(ov, n);
  b.transform = spd_solve(cg, l, n);  // [a][n]
  b.central.resize(n);
  for (int k = 0; k < n; ++k) b.central[k] = l[0 * n + k];  // a density at r = 0: row 0 of L
  return b;
}

// L^-1 of K_mm + reg^2 I (column-major, Cholesky in double) for the predictive variance of
// one descriptor; cov(s, t) = K_st, the covariance of sparse points s and t with both sparse
// cutoffs. Empty with a message in `why` when the matrix is not positive definite.
template <class Cov>
static std::vector<double> gap_variance_linv(const GapCoordinates& g, double reg2, Cov&& cov,
                                             std::string& why) {
  const int m = g.n_sparse;
  std::vector<double> a(static_cast<std::size_t>(m) * m);
  for (int s = 0; s < m; ++s)
    for (int t = 0; t < m; ++t) a[static_cast<std::size_t>(s) * m + t] = cov(s, t) + (s == t ? reg2 : 0.0);
  std::vector<double> l(a.size(), 0.0), x(a.size(), 0.0);
  for (int j = 0; j < m; ++j) {  // Cholesky A = L L^T
    double d = a[static_cast<std::size_t>(j) * m + j];
    for (int c = 0; c < j; ++c) d -= l[static_cast<std::size_t>(j) * m + c] * l[static_cast<std::size_t>(j) * m + c];
    if (!(d > 0.0)) {
      why = "the sparse covariance K_mm + r^2 I of descriptor \"" + g.label +
            "\" is not positive definite (raise [potential] variance_regularisation)";
      return {};
    }
    l[static_cast<std::size_t>(j) * m + j] = std::sqrt(d);
    for (int i = j + 1; i < m; ++i) {
      double v = a[static_cast<std::size_t>(i) * m + j];
      for (int c = 0; c < j; ++c) v -= l[static_cast<std::size_t>(i) * m + c] * l[static_cast<std::size_t>(j) * m + c];
      l[static_cast<std::size_t>(i) * m + j] = v / l[static_cast<std::size_t>(j) * m + j];
    }
  }
  for (int col = 0; col < m; ++col)  // L X = I, X lower; stored column-major
    for (int i = col; i < m; ++i) {
      double v = i == col ? 1.0 : 0.0;
      for (int c = col; c < i; ++c) v -= l[static_cast<std::size_t>(i) * m + c] * x[static_cast<std::size_t>(col) * m + c];
      x[static_cast<std::size_t>(col) * m + i] = v / l[static_cast<std::size_t>(i) * m + i];
    }
  return x;
}

// gap_variance_linv for an ard_se descriptor (distance_2b, angle_3b, bispectrum_so4):
// K_st = (delta^2 exp(-|(x_s - x_t)/theta|^2 / 2) + f0^2) fc_s fc_t.
static std::vector<double> gap_ard_se_variance_linv(const GapCoordinates& g, double reg2,
                                                    std::string& why) {
  const int dim = g.dimensions;
  return gap_variance_linv(
      g, reg2,
      [&](int s, int t) {
        double uu = 0.0;
        for (int c = 0; c < dim; ++c) {
          const double u = (g.sparse_x[static_cast<std::size_t>(s) * dim + c] -
                            g.sparse_x[static_cast<std::size_t>(t) * dim + c]) / g.theta[c];
          uu += u * u;
        }
        return (g.delta * g.delta * std::exp(-0.5 * uu) + g.f0 * g.f0) * g.sparse_cutoff[s] *
               g.sparse_cutoff[t];
      },
      why);
}

GapPotential::GapPotential(Context& ctx, GapModel model, std::vector<int> type_z, bool mixed,
                           double variance_regularisation)
    : model_(std::move(model)), type_z_host_(std::move(type_z)), forces_(ctx), mixed_(mixed),
      d2b_linv_(ctx, 0), a3b_linv_(ctx, 0), variance_reg2_(variance_regularisation * variance_regularisation) {
  for (auto* a : {&e0_, &d2b_exp_, &d2b_theta_, &d2b_x_, &d2b_alpha_, &d2b_fc_, &e_atom_,
                  &a3b_theta_, &a3b_x_, &a3b_alpha_, &a3b_fc_})
    a->bind(ctx);
  type_z_.bind(ctx);
  d2b_desc_.bind(ctx);
  a3b_desc_.bind(ctx);
  std::vector<Gap2bDesc> desc;
  std::vector<double> ex, it, xs, af, fcs;
  std::vector<Gap3bDesc> desc3;
  std::vector<double> th3, xs3, af3, fcs3;
  std::vector<double> linv, linv3;
  const char* kind_name[] = {"distance_2b", "soap", "bispectrum_so4", "angle_3b"};
  for (const GapCoordinates& g : model_.coords) {
    cutoff_ = std::max(cutoff_, g.cutoff());
    if (variance_unsupported_.empty() && g.n_sparse > 4096) {
      variance_unsupported_ = std::string("gap: predictive variance ([uncertainty]) of a \"") +
                              kind_name[static_cast<int>(g.kind)] + "\" descriptor (label " +
                              g.label + ") with more than 4096 sparse points is not supported "
                              "(its kernel vector lives in team scratch)";
      variance_line_ = g.line;
    }
    if (variance_unsupported_.empty() && g.f0 != 0.0) {
      variance_unsupported_ = "gap: predictive variance ([uncertainty]) with signal_mean (f0) != 0 "
                              "is not supported (its convention is unverified against quippy); "
                              "descriptor label " + g.label;
      variance_line_ = g.line;
    }
    if (g.kind == GapDescriptorKind::Angle3b) {
      if (g.covariance != GapCovariance::ArdSe || g.dimensions != 3)
        throw InputError(model_.path, g.line, "gap: angle_3b needs ard_se covariance and 3 dimensions");
      Gap3bDesc d{};
      d.z = g.a3b.z;
      d.z1 = g.a3b.z1;
      d.z2 = g.a3b.z2;
      d.n_sparse = g.n_sparse;
      d.off_x = static_cast<int>(xs3.size());
      d.off_s = static_cast<int>(af3.size());
      d.cutoff = g.a3b.cutoff;
      d.width = g.a3b.width;
      d.delta2 = g.delta * g.delta;
      d.f0sq = g.f0 * g.f0;
      d.off_l = static_cast<int>(linv3.size());
      if (variance_unsupported_.empty()) {
        const std::vector<double> li = gap_ard_se_variance_linv(g, variance_reg2_, variance_unsupported_);
        if (!variance_unsupported_.empty()) variance_line_ = g.line;
        linv3.insert(linv3.end(), li.begin(), li.end());
      }
      th3.insert(th3.end(), g.theta.begin(), g.theta.end());
      for (int s = 0; s < g.n_sparse; ++s)
        for (int c = 0; c < 3; ++c) xs3.push_back(g.sparse_x[static_cast<std::size_t>(s) * 3 + c] / g.theta[c]);
      af3.insert(af3.end(), g.alpha.begin(), g.alpha.end());
      fcs3.insert(fcs3.end(), g.sparse_cutoff.begin(), g.sparse_cutoff.end());
      desc3.push_back(d);
      cutoff_3b_ = std::max(cutoff_3b_, d.cutoff);
      continue;
    }
    if (g.kind == GapDescriptorKind::Distance2b) {
      if (g.covariance != GapCovariance::ArdSe)
        throw InputError(model_.path, g.line, "gap: distance_2b with dot_product covariance is not supported by mdgpu");
      Gap2bDesc d{};
      d.z1 = g.d2b.z1;
      d.z2 = g.d2b.z2;
      d.dim = g.dimensions;
      d.n_sparse = g.n_sparse;
      d.off_theta = static_cast<int>(ex.size());
      d.off_x = static_cast<int>(xs.size());
      d.off_s = static_cast<int>(af.size());
      d.cutoff = g.d2b.cutoff;
      d.width = g.d2b.width;
      d.delta2 = g.delta * g.delta;
      d.f0sq = g.f0 * g.f0;
      d.off_l = static_cast<int>(linv.size());
      if (variance_unsupported_.empty()) {
        const std::vector<double> li = gap_ard_se_variance_linv(g, variance_reg2_, variance_unsupported_);
        if (!variance_unsupported_.empty()) variance_line_ = g.line;
        linv.insert(linv.end(), li.begin(), li.end());
      }
      for (int c = 0; c < g.dimensions; ++c) {
        ex.push_back(g.d2b.exponents[c]);
        it.push_back(g.theta[c]);
      }
      for (int s = 0; s < g.n_sparse; ++s)
        for (int c = 0; c < g.dimensions; ++c)
          xs.push_back(g.sparse_x[static_cast<std::size_t>(s) * g.dimensions + c] / g.theta[c]);
      af.insert(af.end(), g.alpha.begin(), g.alpha.end());
      fcs.insert(fcs.end(), g.sparse_cutoff.begin(), g.sparse_cutoff.end());
      desc.push_back(d);
      continue;
    }
    if (g.kind == GapDescriptorKind::BispectrumSo4) {
      const GapSo4& o = g.so4;
      So4Data sd(ctx);
      const GapSo4Tables tb = gap_so4_tables(o.j_max);
      upload(ctx, tb.u_block, sd.u_block);
      upload(ctx, o.species_z, sd.species_z);
      upload(ctx, tb.term_first, sd.term_first);
      upload(ctx, tb.adj_first, sd.adj_first);
      upload(ctx, tb.terms, sd.terms);
      upload(ctx, tb.adj, sd.adj);
      upload(ctx, o.w, sd.w);
      upload(ctx, g.theta, sd.theta);
      std::vector<double> xt(g.sparse_x.size());
      for (int q = 0; q < g.n_sparse; ++q)
        for (int c = 0; c < g.dimensions; ++c)
          xt[static_cast<std::size_t>(q) * g.dimensions + c] =
              g.sparse_x[static_cast<std::size_t>(q) * g.dimensions + c] / g.theta[c];
      upload(ctx, xt, sd.sparse_xt);
      upload(ctx, g.alpha, sd.alpha);
      upload(ctx, g.sparse_cutoff, sd.sparse_cutoff);
      if (variance_unsupported_.empty()) {
        const std::vector<double> li = gap_ard_se_variance_linv(g, variance_reg2_, variance_unsupported_);
        if (!variance_unsupported_.empty()) variance_line_ = g.line;
        upload(ctx, li, sd.linv);
      }
      GapSo4View& v = sd.view;
      v.j_max = o.j_max;
      v.n_u = tb.n_u;
      v.n_b = g.dimensions;
      v.n_species = static_cast<int>(o.species_z.size());
      v.z_centre = o.z_centre;
      v.cutoff = o.cutoff;
      v.z0 = std::max(1.0, o.z0_ratio) * o.cutoff / (3.14159265358979323846 - 0.02);
      v.n_sparse = g.n_sparse;
      v.delta2 = g.delta * g.delta;
      v.f0sq = g.f0 * g.f0;
      so4_.push_back(std::move(sd));
      continue;
    }
    // SOAP
    const GapSoap& so = g.soap;
    SoapData sd(ctx);
    const GapSoapBasis b = gap_soap_basis(so);
    upload(ctx, so.species_z, sd.species_z);
    upload(ctx, b.r_basis, sd.r_basis);
    upload(ctx, b.transform, sd.transform);
    upload(ctx, b.central, sd.central);
    // the sparse points' columns from GAP's pair order (a (a+1)/2 + b, b <= a) to the shared
    // expansion's (kernels/density_expansion.hpp: row-major upper triangle), so x and the
    // sparse points share the layout of density::power_spectrum
    const density::Shape sh{static_cast<int>(so.species_z.size()), so.n_max, so.l_max};
    if (g.dimensions != sh.n_b2() + 1)
      throw Error("gap: SOAP descriptor of dimension " + std::to_string(g.dimensions) +
                  " where n_max, l_max and the species give " + std::to_string(sh.n_b2() + 1));
    std::vector<int> column(static_cast<std::size_t>(g.dimensions));
    const int l1 = so.l_max + 1;
    for (int a = 0, pg = 0; a < sh.n_radial(); ++a)
      for (int bb = 0; bb <= a; ++bb, ++pg)
        for (int l = 0; l < l1; ++l) column[static_cast<std::size_t>(pg * l1 + l)] = sh.b_index(bb, a, l);
    column.back() = g.dimensions - 1;
    std::vector<double> xp(g.sparse_x.size());
    for (int q = 0; q < g.n_sparse; ++q)
      for (int cg = 0; cg < g.dimensions; ++cg)
        xp[static_cast<std::size_t>(q) * g.dimensions + column[static_cast<std::size_t>(cg)]] =
            g.sparse_x[static_cast<std::size_t>(q) * g.dimensions + cg];
    upload(ctx, xp, sd.sparse_x);
    std::vector<int> species_of_type(type_z_host_.size(), -1);
    for (std::size_t ty = 0; ty < type_z_host_.size(); ++ty)
      for (std::size_t k = 0; k < so.species_z.size(); ++k)
        if (so.species_z[k] == 0 || so.species_z[k] == type_z_host_[ty]) {
          species_of_type[ty] = static_cast<int>(k);
          break;
        }
    upload(ctx, species_of_type, sd.species_of_type);
    if (mixed_) {
      const std::vector<float> xf(xp.begin(), xp.end());
      upload(ctx, xf, sd.sparse_xf);
    }
    upload(ctx, g.alpha, sd.alpha);
    upload(ctx, g.sparse_cutoff, sd.sparse_cutoff);
    if (variance_unsupported_.empty()) {
      const int dim = g.dimensions;
      const std::vector<double> li = gap_variance_linv(
          g, variance_reg2_,
          [&](int p, int q) {  // delta^2 (x_p . x_q)^zeta fc_p fc_q
            double dot = 0.0;
            for (int c = 0; c < dim; ++c)
              dot += g.sparse_x[static_cast<std::size_t>(p) * dim + c] * g.sparse_x[static_cast<std::size_t>(q) * dim + c];
            return g.delta * g.delta * std::pow(dot, g.zeta) * g.sparse_cutoff[p] * g.sparse_cutoff[q];
          },
          variance_unsupported_);
      if (!variance_unsupported_.empty()) variance_line_ = g.line;
      upload(ctx, li, sd.linv);
    }
    GapSoapView& v = sd.view;
    v.n_max = so.n_max;
    v.l_max = so.l_max;
    v.n_species = static_cast<int>(so.species_z.size());
    v.nch = v.n_species * v.n_max;
    v.nlm = (so.l_max + 1) * (so.l_max + 1);
    v.dim = g.dimensions;
    v.z_centre = so.z_centre;
    v.central_all = so.central_reference_all_species ? 1 : 0;
    v.normalise = so.normalise ? 1 : 0;
    v.two_l_plus_one = so.two_l_plus_one ? 1 : 0;
    v.cutoff = so.cutoff;
    v.width = so.width;
    v.alpha = 0.5 / (so.atom_sigma * so.atom_sigma);
    v.central_weight = so.central_weight;
    v.sigma0 = so.covariance_sigma0;
    v.n_sparse = g.n_sparse;
    v.delta2 = g.delta * g.delta;
    v.zeta = g.zeta;
    soap_.push_back(std::move(sd));
  }
  n_2b_ = static_cast<int>(desc.size());
  upload(ctx, desc, d2b_desc_);
  upload(ctx, ex, d2b_exp_);
  upload(ctx, it, d2b_theta_);
  upload(ctx, xs, d2b_x_);
  upload(ctx, af, d2b_alpha_);
  upload(ctx, fcs, d2b_fc_);
  if (variance_unsupported_.empty()) upload(ctx, linv, d2b_linv_);
  n_3b_ = static_cast<int>(desc3.size());
  upload(ctx, desc3, a3b_desc_);
  upload(ctx, th3, a3b_theta_);
  upload(ctx, xs3, a3b_x_);
  upload(ctx, af3, a3b_alpha_);
  upload(ctx, fcs3, a3b_fc_);
  if (variance_unsupported_.empty()) upload(ctx, linv3, a3b_linv_);
  std::vector<double> e0(model_.e0.begin(), model_.e0.end());
  upload(ctx, e0, e0_);
  upload(ctx, type_z_host_, type_z_);
}

void GapPotential::ensure_capacity(Index n) {
  if (n == n_alloc_) return;
  e_atom_.resize(static_cast<std::size_t>(std::max<Index>(n, 1)));
  for (SoapData& s : soap_) {
    const std::size_t nn = static_cast<std::size_t>(std::max<Index>(n, 1));
    s.c.resize(nn * s.view.nch * s.view.nlm);
    s.x.resize(nn * s.view.dim);
    s.dedx.resize(nn * s.view.dim);
    s.norm.resize(nn);
  }
  for (So4Data& s : so4_) {
    const std::size_t nn = static_cast<std::size_t>(std::max<Index>(n, 1));
    s.u.resize(nn * 2 * s.view.n_u);
    s.x.resize(nn * s.view.n_b);
    s.dedx.resize(nn * s.view.n_b);
    s.centre.resize(nn);
  }
  n_alloc_ = n;
}

void GapPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                           const ForceOut& out, ForceRequest req) {
  if (static_cast<Index>(type_z_host_.size()) < sys.n_types)
    throw Error("gap: the potential maps fewer types than the system has");
  const Index n = sys.n_local;
  ensure_capacity(n);
  forces_.prepare(ctx, nl);
  const PairPartialsView g = forces_.partials();
  const Gap2bView v2{n_2b_,          d2b_desc_.data(),  d2b_exp_.data(), d2b_theta_.data(),
                     d2b_x_.data(), d2b_alpha_.data(), d2b_fc_.data()};
  parallel_for(ctx, n, Gap2bKernel{sys, nl, v2, type_z_.data(), e0_.data(), g, e_atom_.data()});
  if (n_3b_ > 0) {
    const Gap3bView v3{n_3b_, cutoff_3b_, a3b_desc_.data(), a3b_theta_.data(), a3b_x_.data(),
                       a3b_alpha_.data(), a3b_fc_.data()};
    parallel_for_team(ctx, n, 32, 0, Gap3bKernel{sys, nl, v3, type_z_.data(), g, e_atom_.data()});
  }
  for (SoapData& s : soap_) {
    GapSoapView v = s.view;
    v.species_z = s.species_z.data();
    v.r_basis = s.r_basis.data();
    v.transform = s.transform.data();
    v.central = s.central.data();
    v.sparse_x = s.sparse_x.data();
    v.sparse_xf = mixed_ ? s.sparse_xf.data() : nullptr;
    v.sparse_alpha = s.alpha.data();
    v.sparse_cutoff = s.sparse_cutoff.data();
    const GapSoapWork w{s.c.data(), s.x.data(), s.dedx.data(), s.norm.data()};
    int lanes = 32;
    while (lanes < v.nch * v.nlm && lanes < 128) lanes *= 2;
    // neighbours per pass of the shared expansion: the team, the slots within 32 KB
    const std::size_t slot_bytes =
        sizeof(double) * static_cast<std::size_t>(density::slot_doubles(gap_soap_shape(v), true));
    int chunk = lanes;
    while (chunk > 1 && chunk * slot_bytes > 32 * 1024) chunk /= 2;
    const int* sot = s.species_of_type.data();
    parallel_for_team(ctx, n, lanes,
                      sizeof(double) * static_cast<std::size_t>(GapSoapScratch(v, chunk, false).total),
                      GapSoapDescriptorKernel{sys, nl, v, w, type_z_.data(), sot, chunk});
    // atoms per tile: up to kGapTile, the tile's scratch within 96 KB (dims of a few thousand)
    int tile = kGapTile;
    while (tile > 1 && gap_tile_scratch_bytes(tile, v.dim) > 96 * 1024) --tile;
    const Index tiles = (n + tile - 1) / tile;
    parallel_for_team(ctx, tiles, 128, gap_tile_scratch_bytes(tile, v.dim),
                      GapDotProductKernel{v, w, n, tile, e_atom_.data()});
    s.partials.resize(nl);
    parallel_for_team(ctx, n, lanes,
                      sizeof(double) * static_cast<std::size_t>(GapSoapScratch(v, chunk, true).total),
                      GapSoapBackwardKernel{sys, nl, v, w, type_z_.data(), sot, chunk,
                                            s.partials.view(), g});
  }
  for (So4Data& s : so4_) {
    GapSo4View v = s.view;
    v.u_block = s.u_block.data();
    v.species_z = s.species_z.data();
    v.w = s.w.data();
    v.term_first = s.term_first.data();
    v.terms = s.terms.data();
    v.adj_first = s.adj_first.data();
    v.adj = s.adj.data();
    v.theta = s.theta.data();
    v.sparse_xt = s.sparse_xt.data();
    v.sparse_alpha = s.alpha.data();
    v.sparse_cutoff = s.sparse_cutoff.data();
    const GapSo4Work w{s.u.data(), s.x.data(), s.dedx.data(), s.centre.data()};
    int lanes = 32;
    while (lanes < 2 * v.n_u && lanes < 128) lanes *= 2;
    parallel_for_team(ctx, n, lanes, sizeof(double) * 2 * static_cast<std::size_t>(v.n_u),
                      GapSo4DescriptorKernel{sys, nl, v, w, type_z_.data()});
    parallel_for_team(ctx, n, 64, sizeof(double) * kGapSo4Chunk,
                      GapArdSeKernel{v, w, e_atom_.data()});
    parallel_for_team(ctx, n, lanes, sizeof(double) * 10 * static_cast<std::size_t>(v.n_u),
                      GapSo4BackwardKernel{sys, nl, v, w, type_z_.data(), g});
  }
  if (req.energy) parallel_for(ctx, n, GapStoreEnergy{e_atom_.data(), out});
  forces_.gather(ctx, sys, nl, out, req.virial);
}

void GapPotential::atom_uncertainty(Context& ctx, const SystemView& sys, const NeighborView& nl,
                                    double* std_out) {
  if (!variance_unsupported_.empty()) throw InputError(model_.path, variance_line_, variance_unsupported_);
  if (static_cast<Index>(type_z_host_.size()) < sys.n_types)
    throw Error("gap: the potential maps fewer types than the system has");
  int m_max = 1;
  for (const GapCoordinates& g : model_.coords) m_max = std::max(m_max, g.n_sparse);
  const Gap2bView v2{n_2b_,          d2b_desc_.data(),  d2b_exp_.data(), d2b_theta_.data(),
                     d2b_x_.data(), d2b_alpha_.data(), d2b_fc_.data()};
  const Index n = sys.n_local;
  if ((!soap_.empty() || !so4_.empty()) && n != n_alloc_)
    throw Error("gap: atom_uncertainty needs the descriptors of a compute() of this system");
  const std::size_t scratch = sizeof(double) * static_cast<std::size_t>(m_max);
  parallel_for_team(ctx, n, 32, scratch,
                    Gap2bVarianceKernel{sys, nl, v2, d2b_linv_.data(), variance_reg2_,
                                        type_z_.data(), std_out});
  if (n_3b_ > 0) {
    const Gap3bView v3{n_3b_, cutoff_3b_, a3b_desc_.data(), a3b_theta_.data(), a3b_x_.data(),
                       a3b_alpha_.data(), a3b_fc_.data()};
    parallel_for_team(ctx, n, 32, scratch,
                      Gap3bVarianceKernel{sys, nl, v3, a3b_linv_.data(), variance_reg2_,
                                          type_z_.data(), std_out});
  }
  // SOAP: the descriptors of the last compute() (the monitor runs right after the forces)
  for (SoapData& s : soap_) {
    GapSoapView v = s.view;
    v.sparse_x = s.sparse_x.data();
    v.sparse_cutoff = s.sparse_cutoff.data();
    parallel_for_team(ctx, n, 32, scratch,
                      GapSoapVarianceKernel{v, s.x.data(), s.norm.data(), s.linv.data(),
                                            variance_reg2_, std_out});
  }
  for (So4Data& s : so4_) {
    GapSo4View v = s.view;
    v.theta = s.theta.data();
    v.sparse_xt = s.sparse_xt.data();
    v.sparse_cutoff = s.sparse_cutoff.data();
    parallel_for_team(ctx, n, 32, scratch,
                      GapSo4VarianceKernel{v, s.x.data(), s.centre.data(), s.linv.data(),
                                           variance_reg2_, std_out});
  }
  parallel_for(ctx, n, GapVarianceToStd{std_out});
}

}  // namespace md
