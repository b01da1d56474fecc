#include "reference/hipnn_reference.hpp"

#include <cmath>
#include <stdexcept>

namespace md::ref {

namespace {

using hipnn::Dense;

// torch.nn.Softplus(beta = 1, threshold = 20).
double softplus(double x) { return x > 20.0 ? x : std::log1p(std::exp(x)); }

// y = x w + b for one row x of length n_in (b may be empty).
std::vector<double> apply(const Dense& d, const double* x) {
  std::vector<double> y(static_cast<std::size_t>(d.n_out), 0.0);
  for (int o = 0; o < d.n_out; ++o) {
    double s = 0;
    for (int k = 0; k < d.n_in; ++k) s += x[k] * d.w[static_cast<std::size_t>(k) * d.n_out + o];
    y[static_cast<std::size_t>(o)] = d.b.empty() ? s : s + d.b[static_cast<std::size_t>(o)];
  }
  return y;
}

struct Pair {
  int i, j;
  double r;
};

using Vec = std::array<double, 3>;
Vec cross(const Vec& u, const Vec& v) {
  return {u[1] * v[2] - u[2] * v[1], u[2] * v[0] - u[0] * v[2], u[0] * v[1] - u[1] * v[0]};
}
double dot(const Vec& u, const Vec& v) { return u[0] * v[0] + u[1] * v[1] + u[2] * v[2]; }

// Every ordered pair (i, image of j) with 0 < r < rc, both directions, own images included.
std::vector<Pair> all_pairs(const std::array<Vec, 3>& cell, const std::vector<Vec>& x, double rc) {
  const double volume = std::fabs(dot(cell[0], cross(cell[1], cell[2])));
  int m[3];
  for (int d = 0; d < 3; ++d) {
    const Vec n = cross(cell[(d + 1) % 3], cell[(d + 2) % 3]);
    m[d] = static_cast<int>(std::ceil(rc / (volume / std::sqrt(dot(n, n))))) + 1;
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
              const double dk = x[static_cast<std::size_t>(j)][k] + t -
                                x[static_cast<std::size_t>(i)][k];
              r2 += dk * dk;
            }
            const double r = std::sqrt(r2);
            if (r < rc) pairs.push_back({i, j, r});
          }
  return pairs;
}

}  // namespace

double hipnn_energy(const hipnn::Params& p, const std::array<std::array<double, 3>, 3>& cell,
                    const std::vector<std::array<double, 3>>& positions,
                    const std::vector<int>& species, std::vector<double>* atom_energies,
                    std::vector<double>* head_energies) {
  const int n = static_cast<int>(positions.size());
  if (species.size() != positions.size()) throw std::invalid_argument("species size");
  for (int s : species)
    if (s < 0 || s >= p.n_species()) throw std::invalid_argument("species index");
  const int ns = p.n_sensitivities;
  const double pi = std::acos(-1.0);

  // Feature levels: level 0 is the one-hot species encoding.
  std::vector<std::vector<double>> levels;
  {
    const int nf = p.feature_sizes[0];
    std::vector<double> z(static_cast<std::size_t>(n) * nf, 0.0);
    for (int i = 0; i < n; ++i) z[static_cast<std::size_t>(i) * nf + species[i]] = 1.0;
    levels.push_back(std::move(z));
  }

  const std::vector<Pair> pairs = all_pairs(cell, positions, p.cutoff);
  for (const hipnn::Interaction& it : p.interactions) {
    const std::vector<double>& z = levels.back();
    const int nin = it.n_in, nmid = it.n_middle, nout = it.n_out;
    // Sensitivities per pair (hippynn's operation order), then env[i][nu][f].
    std::vector<double> env(static_cast<std::size_t>(n) * ns * nin, 0.0);
    for (const Pair& q : pairs) {
      const double c = std::cos(pi / 2 * q.r / p.cutoff);
      const double fc = q.r <= p.cutoff ? c * c : 0.0;
      for (int nu = 0; nu < ns; ++nu) {
        const double d = 1.0 / q.r - 1.0 / it.mu[static_cast<std::size_t>(nu)];
        const double sig = it.sigma[static_cast<std::size_t>(nu)];
        const double s = std::exp(-0.5 * (d * d / (1.0 / (sig * sig)))) * fc;
        double* e = &env[(static_cast<std::size_t>(q.i) * ns + nu) * nin];
        const double* zj = &z[static_cast<std::size_t>(q.j) * nin];
        for (int f = 0; f < nin; ++f) e[f] += s * zj[f];
      }
    }
    std::vector<double> next(static_cast<std::size_t>(n) * nout);
    for (int i = 0; i < n; ++i) {
      const double* zi = &z[static_cast<std::size_t>(i) * nin];
      std::vector<double> y = apply(it.self, zi);
      for (int o = 0; o < nmid; ++o) {
        double s = 0;
        for (int nu = 0; nu < ns; ++nu)
          for (int f = 0; f < nin; ++f)
            s += env[(static_cast<std::size_t>(i) * ns + nu) * nin + f] *
                 it.int_weights[(static_cast<std::size_t>(nu) * nin + f) * nmid + o];
        y[static_cast<std::size_t>(o)] += s;
      }
      for (double& v : y) v = softplus(v);
      std::vector<double> out;
      if (p.resnet) {
        out = apply(it.res, y.data());
        const std::vector<double> skip =
            it.adjust.n_in ? apply(it.adjust, zi) : std::vector<double>(zi, zi + nin);
        for (int o = 0; o < nout; ++o) out[static_cast<std::size_t>(o)] += skip[o];
      } else {
        out = y;
      }
      for (const hipnn::AtomLayer& al : it.atom_layers) {
        std::vector<double> h = apply(al.linear, out.data());
        for (double& v : h) v = softplus(v);
        if (p.resnet) {
          std::vector<double> d = apply(al.res, h.data());
          for (int o = 0; o < nout; ++o) out[static_cast<std::size_t>(o)] += d[o];
        } else {
          out = h;
        }
      }
      for (int o = 0; o < nout; ++o) next[static_cast<std::size_t>(i) * nout + o] = out[o];
    }
    levels.push_back(std::move(next));
  }

  if (atom_energies) atom_energies->assign(static_cast<std::size_t>(n), 0.0);
  if (head_energies) head_energies->assign(p.heads.size(), 0.0);
  double total = 0;
  for (std::size_t h = 0; h < p.heads.size(); ++h) {
    const hipnn::Head& head = p.heads[h];
    const int nf = head.dense.n_in;
    for (int i = 0; i < n; ++i) {
      const double e =
          apply(head.dense, &levels[static_cast<std::size_t>(head.level)][static_cast<std::size_t>(i) * nf])[0];
      total += e;
      if (atom_energies) (*atom_energies)[static_cast<std::size_t>(i)] += e;
      if (head_energies) (*head_energies)[h] += e;
    }
  }
  return total;
}

}  // namespace md::ref
