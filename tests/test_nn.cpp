// kernels/nn.hpp: activations and derivatives vs numpy/scipy values (tests/data/nn, made by
// tools/nn_reference.py) and finite differences; a random net's forward pass vs a plain host
// implementation and its backward pass vs finite differences; the team shape equals the
// per-thread shape (also in strict lane mode and with float weights and double accumulation).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "kernels/nn.hpp"

using namespace md;
using nlohmann::json;

namespace {

const json& reference() {
  static const json j = [] {
    std::ifstream f(std::string(MDGPU_SOURCE_DIR) + "/tests/data/nn/activations.json");
    REQUIRE(f.good());
    return json::parse(f);
  }();
  return j;
}

struct Named {
  const char* name;
  int act;
};
const Named kActivations[] = {
    {"linear", nn::act_linear},
    {"tanh", nn::act_tanh},
    {"gelu_tanh", nn::act_gelu_tanh},
    {"gelu_erf", nn::act_gelu_erf},
    {"relu", nn::act_relu},
    {"relu6", nn::act_relu6},
    {"softplus_log", nn::act_softplus_log},
    {"softplus", nn::act_softplus},
    {"shifted_softplus", nn::act_shifted_softplus},
    {"sigmoid", nn::act_sigmoid},
    {"silu", nn::act_silu},
};

// A random net: layer widths, activations and shortcuts chosen to exercise every branch.
struct RandomNet {
  std::vector<nn::LayerDesc> layers;
  std::vector<double> p;
  nn::NetDesc net{};

  void add(int n_in, int n_out, int act, int shortcut, bool bias, bool idt, std::mt19937& rng) {
    std::normal_distribution<double> w(0.0, 1.0 / std::sqrt(static_cast<double>(n_in)));
    std::uniform_real_distribution<double> u(-0.5, 0.5);
    nn::LayerDesc L{};
    L.n_in = n_in;
    L.n_out = n_out;
    L.act = act;
    L.shortcut = shortcut;
    L.w = static_cast<Index>(p.size());
    for (int k = 0; k < n_in * n_out; ++k) p.push_back(w(rng));
    L.b = -1;
    if (bias) {
      L.b = static_cast<Index>(p.size());
      for (int k = 0; k < n_out; ++k) p.push_back(u(rng));
    }
    L.idt = -1;
    if (idt) {
      L.idt = static_cast<Index>(p.size());
      for (int k = 0; k < n_out; ++k) p.push_back(0.1 + u(rng) * 0.1);
    }
    L.dphi = net.dphi_size;
    net.dphi_size += n_out;
    net.width = std::max({net.width, n_in, n_out});
    layers.push_back(L);
    net.n_layers = static_cast<int>(layers.size());
    net.n_out = n_out;
  }

  explicit RandomNet(unsigned seed) {
    std::mt19937 rng(seed);
    net.first_layer = 0;
    net.n_in = 3;
    add(3, 8, nn::act_tanh, 0, true, false, rng);
    add(8, 16, nn::act_silu, 2, true, true, rng);        // doubled-input shortcut, timestep
    add(16, 16, nn::act_gelu_erf, 1, true, false, rng);  // identity shortcut
    add(16, 12, nn::act_shifted_softplus, 0, false, false, rng);
    add(12, 12, nn::act_sigmoid, 1, true, true, rng);
    add(12, 5, nn::act_softplus, 0, true, false, rng);
    add(5, 2, nn::act_linear, 0, true, false, rng);
  }
};

// Plain host forward pass (vectors, no shared code but the activation values).
std::vector<double> host_forward(const RandomNet& rn, std::vector<double> x) {
  for (const nn::LayerDesc& L : rn.layers) {
    std::vector<double> y(L.n_out);
    for (int o = 0; o < L.n_out; ++o) {
      double z = L.b >= 0 ? rn.p[L.b + o] : 0.0;
      for (int i = 0; i < L.n_in; ++i) z += x[i] * rn.p[L.w + i * L.n_out + o];
      double d;
      double v = nn::activate(L.act, z, d);
      if (L.idt >= 0) v *= rn.p[L.idt + o];
      if (L.shortcut == 1) v += x[o];
      if (L.shortcut == 2) v += x[o % L.n_in];
      y[o] = v;
    }
    x = y;
  }
  return x;
}

// Rows of several items evaluated in the team shape: outputs and dE/dinput for the seed
// dE/dy_o = 1 + 0.25 o.
template <class T, class A>
struct TeamRows {
  nn::NetDesc net;
  const nn::LayerDesc* layers;
  const T* p;
  int rows, ld, dl;
  const T* in;  // [items][rows][n_in]
  T* out;       // [items][rows][n_out]
  T* grad;      // [items][rows][n_in]

  void operator()(const Team& t) const {
    T* a = t.scratch_as<T>(0);
    T* b = a + rows * ld;
    T* dphi = b + rows * ld;
    const Index base_in = t.item * rows * net.n_in, base_out = t.item * rows * net.n_out;
    team_for(t, rows * net.n_in, [&](int k) {
      a[(k / net.n_in) * ld + k % net.n_in] = in[base_in + k];
    });
    team_barrier(t);
    T* y = nn::team_forward<T, A>(t, net, layers, p, rows, a, b, ld, dphi, dl);
    T* g = y == a ? b : a;
    nn::team_for_rows(t, rows, net.n_out, [&](int r, int o) {
      out[base_out + r * net.n_out + o] = y[r * ld + o];
      g[r * ld + o] = T(1) + T(0.25) * T(o);
    });
    team_barrier(t);
    const T* h = nn::team_backward<T, A>(t, net, layers, p, rows, dphi, dl, g, y, ld);
    nn::team_for_rows(t, rows, net.n_in,
                      [&](int r, int i) { grad[base_in + r * net.n_in + i] = h[r * ld + i]; });
    team_barrier(t);
  }
};

template <class T, class A>
void run_team(bool shuffle, const RandomNet& rn, const std::vector<T>& p, int items, int rows,
              const std::vector<T>& in, std::vector<T>& out, std::vector<T>& grad) {
  Context ctx(Backend::cpu);
  ctx.set_lane_shuffle(shuffle);
  const int ld = rn.net.width, dl = rn.net.dphi_size;
  out.assign(static_cast<std::size_t>(items) * rows * rn.net.n_out, T(0));
  grad.assign(in.size(), T(0));
  TeamRows<T, A> f{rn.net, rn.layers.data(), p.data(), rows, ld, dl,
                   in.data(), out.data(), grad.data()};
  parallel_for_team(ctx, items, 64, sizeof(T) * static_cast<std::size_t>(rows) * (2 * ld + dl), f);
}

}  // namespace

TEST_SUITE("nn") {
  TEST_CASE("activations and derivatives equal the numpy/scipy reference and finite differences") {
    const json& ref = reference();
    const auto xs = ref["x"].get<std::vector<double>>();
    for (const Named& a : kActivations) {
      CAPTURE(a.name);
      const auto val = ref["value"][a.name].get<std::vector<double>>();
      const auto der = ref["derivative"][a.name].get<std::vector<double>>();
      REQUIRE(val.size() == xs.size());
      for (std::size_t k = 0; k < xs.size(); ++k) {
        const double x = xs[k];
        CAPTURE(x);
        double d;
        const double y = nn::activate(a.act, x, d);
        CHECK(std::abs(y - val[k]) <= 1e-14 * std::max(1.0, std::abs(val[k])));
        CHECK(std::abs(d - der[k]) <= 1e-14 * std::max(1.0, std::abs(der[k])));
        float df;
        const float yf = nn::activate(a.act, static_cast<float>(x), df);
        CHECK(std::abs(yf - val[k]) <= 2e-6 * std::max(1.0, std::abs(val[k])));
        CHECK(std::abs(df - der[k]) <= 2e-6 * std::max(1.0, std::abs(der[k])));
        // central differences away from the kinks (0 and 6) and torch's softplus switch at 20
        const bool kink = std::abs(x) < 1e-2 || std::abs(x - 6.0) < 1e-2 || std::abs(x - 20.0) < 1e-2;
        if (!kink) {
          const double h = 1e-5;
          double dd;
          const double fd =
              (nn::activate(a.act, x + h, dd) - nn::activate(a.act, x - h, dd)) / (2 * h);
          CHECK(std::abs(fd - d) < 1e-8 * std::max(1.0, std::abs(x)));
        }
      }
    }
  }

  TEST_CASE("a random net: forward equals a plain host implementation, backward finite differences") {
    const RandomNet rn(20261130u);
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(-1.5, 1.5);
    const int nl = rn.net.n_layers;
    REQUIRE(nl == 7);
    for (int trial = 0; trial < 5; ++trial) {
      std::vector<double> x{u(rng), u(rng), u(rng)};
      std::vector<double> a(rn.net.width), b(rn.net.width), dphi(rn.net.dphi_size);
      std::copy(x.begin(), x.end(), a.begin());
      const double* y = nn::forward(rn.net, rn.layers.data(), rn.p.data(), a.data(), b.data(),
                                    dphi.data());
      const std::vector<double> yh = host_forward(rn, x);
      for (int o = 0; o < rn.net.n_out; ++o) CHECK(std::abs(y[o] - yh[o]) <= 1e-14 * std::max(1.0, std::abs(yh[o])));
      // backward for E = sum_o c_o y_o vs central differences of the host forward
      std::vector<double> g(rn.net.width), h(rn.net.width);
      for (int o = 0; o < rn.net.n_out; ++o) g[o] = 1.0 + 0.25 * o;
      const double* dx =
          nn::backward(rn.net, rn.layers.data(), rn.p.data(), dphi.data(), g.data(), h.data());
      for (int i = 0; i < 3; ++i) {
        const double step = 1e-5;
        std::vector<double> xp = x, xm = x;
        xp[i] += step;
        xm[i] -= step;
        const std::vector<double> yp = host_forward(rn, xp), ym = host_forward(rn, xm);
        double fd = 0.0;
        for (int o = 0; o < rn.net.n_out; ++o) fd += (1.0 + 0.25 * o) * (yp[o] - ym[o]) / (2 * step);
        CAPTURE(i);
        CHECK(std::abs(dx[i] - fd) < 1e-8 * std::max(1.0, std::abs(fd)));
      }
    }
  }

  TEST_CASE("team shape equals the per-thread shape (plain and strict lane order, float + double accumulation)") {
    const RandomNet rn(99u);
    const int items = 5, rows = 7, n_in = rn.net.n_in, n_out = rn.net.n_out;
    std::mt19937 rng(3);
    std::uniform_real_distribution<double> u(-2.0, 2.0);
    std::vector<double> in(static_cast<std::size_t>(items) * rows * n_in);
    for (double& v : in) v = u(rng);
    // per-thread reference
    std::vector<double> out_ref(static_cast<std::size_t>(items) * rows * n_out), grad_ref(in.size());
    for (int r = 0; r < items * rows; ++r) {
      std::vector<double> a(rn.net.width), b(rn.net.width), dphi(rn.net.dphi_size);
      for (int i = 0; i < n_in; ++i) a[i] = in[r * n_in + i];
      double* y = nn::forward(rn.net, rn.layers.data(), rn.p.data(), a.data(), b.data(), dphi.data());
      double* g = y == a.data() ? b.data() : a.data();
      for (int o = 0; o < n_out; ++o) {
        out_ref[r * n_out + o] = y[o];
        g[o] = 1.0 + 0.25 * o;
      }
      const double* h = nn::backward(rn.net, rn.layers.data(), rn.p.data(), dphi.data(), g, y);
      for (int i = 0; i < n_in; ++i) grad_ref[r * n_in + i] = h[i];
    }
    for (bool shuffle : {false, true}) {
      CAPTURE(shuffle);
      std::vector<double> out, grad;
      run_team<double, double>(shuffle, rn, rn.p, items, rows, in, out, grad);
      CHECK(out == out_ref);
      CHECK(grad == grad_ref);
      // float weights and activations, double dot products
      const std::vector<float> pf(rn.p.begin(), rn.p.end()), inf(in.begin(), in.end());
      std::vector<float> outf, gradf;
      run_team<float, double>(shuffle, rn, pf, items, rows, inf, outf, gradf);
      double eo = 0, eg = 0;
      for (std::size_t k = 0; k < outf.size(); ++k) eo = std::max(eo, std::abs(outf[k] - out_ref[k]));
      for (std::size_t k = 0; k < gradf.size(); ++k) eg = std::max(eg, std::abs(gradf[k] - grad_ref[k]));
      CHECK(eo < 1e-5);
      CHECK(eg < 1e-5);
      CHECK(eo > 0.0);  // it really ran in float
    }
  }
}
