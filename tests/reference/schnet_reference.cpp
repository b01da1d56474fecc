#include "reference/schnet_reference.hpp"

#include <cmath>
#include <stdexcept>

namespace md::ref {

namespace {

using schnet::Activation;
using schnet::Dense;

double activate(Activation a, double x) {
  switch (a) {
    case Activation::linear:
      return x;
    // torch.nn.functional.softplus (beta 1, threshold 20) minus ln 2
    case Activation::shifted_softplus:
      return (x > 20.0 ? x : std::log1p(std::exp(x))) - std::log(2.0);
    case Activation::silu:
      return x / (1.0 + std::exp(-x));
  }
  return x;
}

// y = act(x w + b) for one row x of length n_in.
std::vector<double> apply(const Dense& d, const double* x) {
  std::vector<double> y(static_cast<std::size_t>(d.n_out), 0.0);
  for (int o = 0; o < d.n_out; ++o) {
    double s = d.b.empty() ? 0.0 : d.b[o];
    for (int k = 0; k < d.n_in; ++k) s += x[k] * d.w[static_cast<std::size_t>(k) * d.n_out + o];
    y[o] = activate(d.act, s);
  }
  return y;
}

struct Pair {
  int i, j;
  double d;
};

std::array<double, 3> cross(const std::array<double, 3>& u, const std::array<double, 3>& v) {
  return {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
}
double dot(const std::array<double, 3>& u, const std::array<double, 3>& v) {
  return u[0] * v[0] + u[1] * v[1] + u[2] * v[2];
}

// Every ordered pair (i, image of j) closer than rc, both directions, self-images included.
std::vector<Pair> all_pairs(const std::array<std::array<double, 3>, 3>& cell,
                            const std::vector<std::array<double, 3>>& x, double rc) {
  const double volume = std::fabs(dot(cell[0], cross(cell[1], cell[2])));
  int m[3];
  for (int d = 0; d < 3; ++d) {
    const auto n = cross(cell[(d + 1) % 3], cell[(d + 2) % 3]);
    const double width = volume / std::sqrt(dot(n, n));  // distance between lattice planes
    m[d] = static_cast<int>(std::ceil(rc / width)) + 1;
  }
  std::vector<Pair> pairs;
  const int n = static_cast<int>(x.size());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j)
      for (int a = -m[0]; a <= m[0]; ++a)
        for (int b = -m[1]; b <= m[1]; ++b)
          for (int c = -m[2]; c <= m[2]; ++c) {
            if (i == j && a == 0 && b == 0 && c == 0) continue;
            double r2 = 0;
            for (int k = 0; k < 3; ++k) {
              const double t = a * cell[0][k] + b * cell[1][k] + c * cell[2][k];
              const double dk = x[j][k] + t - x[i][k];
              r2 += dk * dk;
            }
            const double d = std::sqrt(r2);
            if (d < rc) pairs.push_back({i, j, d});
          }
  return pairs;
}

}  // namespace

double schnet_energy(const schnet::Params& p, const std::array<std::array<double, 3>, 3>& cell,
                     const std::vector<std::array<double, 3>>& positions,
                     const std::vector<int>& species, std::vector<double>* atom_y) {
  const int n = static_cast<int>(positions.size());
  const int nf = p.n_atom_basis, nfil = p.n_filters, nk = p.n_rbf;
  if (species.size() != positions.size()) throw std::invalid_argument("species size");
  for (int s : species)
    if (s < 0 || s >= p.n_species()) throw std::invalid_argument("species index");
  if (p.cutoff_function != "cosine") throw std::invalid_argument("cutoff function");

  // Embedding rows.
  std::vector<double> x(static_cast<std::size_t>(n) * nf);
  for (int i = 0; i < n; ++i)
    for (int f = 0; f < nf; ++f)
      x[static_cast<std::size_t>(i) * nf + f] = p.embedding[species[i] * nf + f];

  // Per pair: Gaussian radial basis and cosine cutoff.
  const std::vector<Pair> pairs = all_pairs(cell, positions, p.cutoff);
  const double pi = std::acos(-1.0);
  std::vector<double> rbf(pairs.size() * nk), fc(pairs.size());
  for (std::size_t q = 0; q < pairs.size(); ++q) {
    const double d = pairs[q].d;
    for (int k = 0; k < nk; ++k) {
      const double coeff = -0.5 / (p.rbf_widths[k] * p.rbf_widths[k]);
      const double diff = d - p.rbf_centres[k];
      rbf[q * nk + k] = std::exp(coeff * diff * diff);
    }
    fc[q] = d < p.cutoff ? 0.5 * (std::cos(d * pi / p.cutoff) + 1.0) : 0.0;
  }

  for (const schnet::Interaction& it : p.interactions) {
    std::vector<double> h(static_cast<std::size_t>(n) * nfil);
    for (int i = 0; i < n; ++i) {
      const auto hi = apply(it.in2f, &x[static_cast<std::size_t>(i) * nf]);
      for (int f = 0; f < nfil; ++f) h[static_cast<std::size_t>(i) * nfil + f] = hi[f];
    }
    std::vector<double> msg(static_cast<std::size_t>(n) * nfil, 0.0);
    for (std::size_t q = 0; q < pairs.size(); ++q) {
      const auto w1 = apply(it.filter[0], &rbf[q * nk]);
      const auto w = apply(it.filter[1], w1.data());
      const std::size_t oi = static_cast<std::size_t>(pairs[q].i) * nfil;
      const std::size_t oj = static_cast<std::size_t>(pairs[q].j) * nfil;
      for (int f = 0; f < nfil; ++f) msg[oi + f] += h[oj + f] * (w[f] * fc[q]);
    }
    for (int i = 0; i < n; ++i) {
      const auto v1 = apply(it.f2out[0], &msg[static_cast<std::size_t>(i) * nfil]);
      const auto v = apply(it.f2out[1], v1.data());
      for (int f = 0; f < nf; ++f) x[static_cast<std::size_t>(i) * nf + f] += v[f];
    }
  }

  double sum_y = 0;
  if (atom_y) atom_y->assign(static_cast<std::size_t>(n), 0.0);
  for (int i = 0; i < n; ++i) {
    std::vector<double> y(x.begin() + static_cast<std::ptrdiff_t>(i) * nf,
                          x.begin() + static_cast<std::ptrdiff_t>(i + 1) * nf);
    for (const Dense& d : p.head) y = apply(d, y.data());
    sum_y += y[0];
    if (atom_y) (*atom_y)[i] = y[0];
  }
  double offsets = p.mean_per_atom ? p.mean * n : p.mean;
  for (int i = 0; i < n; ++i) offsets += p.atomref[species[i]];
  return sum_y + offsets;
}

}  // namespace md::ref
