// Tabulated embedding nets for the DeePMD se_e2_a kernel (model compression): host-side
// construction of piecewise quintic Hermite tables of each embedding net G(s) and the
// measurement of their error against the exact net. Dimensionless (s is the normalised
// environment value). Called once at load by DeepMDPotential's constructor (deepmd.cpp).
//
// Scheme (after deepmd-kit's model compression: docs/freeze/compress.md and
// deepmd/utils/tabulate.py, DPTabulate): the range of s = (R_raw[0] - davg)/dstd seen by a
// net, R_raw[0] = w(r)/r in [0, w(rmin)/rmin], is rounded outwards to integers [lo, hi] and
// covered by a fine grid of step `step`; a coarse grid of `coarse_step` continues to
// extrapolate * hi (closer neighbours than rmin). On every interval each output is the
// quintic matching value, first and second derivative of the net at both ends, so the
// table and its first two derivatives are continuous. Unlike deepmd-kit, s outside the table
// is not clamped: the kernel evaluates the exact net there.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "engine/error.hpp"
#include "models/deepmd/deepmd.hpp"

namespace md::deepmd {

namespace {

// phi''(z) for deepmd-kit's activations (derivatives of the definitions in deepmd_net.hpp).
double activation_d2(int kind, double z) {
  switch (kind) {
    case act_tanh: {
      const double t = std::tanh(z);
      return -2.0 * t * (1.0 - t * t);
    }
    case act_gelu: {
      // y = z (1 + tanh(v)) / 2, v = k (z + c z^3)
      const double k = 0.7978845608028654, c = 0.044715;
      const double t = std::tanh(k * (z + c * z * z * z));
      const double v1 = k * (1.0 + 3.0 * c * z * z), v2 = 6.0 * k * c * z;
      const double sech2 = 1.0 - t * t;
      return sech2 * v1 + 0.5 * z * sech2 * (v2 - 2.0 * t * v1 * v1);
    }
    case act_softplus: {
      const double s = 1.0 / (1.0 + std::exp(-z));
      return s * (1.0 - s);
    }
    case act_sigmoid: {
      const double s = 1.0 / (1.0 + std::exp(-z));
      return s * (1.0 - s) * (1.0 - 2.0 * s);
    }
    case act_silu: {
      const double s = 1.0 / (1.0 + std::exp(-z));
      return 2.0 * s * (1.0 - s) + z * s * (1.0 - s) * (1.0 - 2.0 * s);
    }
    default:  // linear, relu, relu6: piecewise linear
      return 0.0;
  }
}

}  // namespace

void net_eval_host(const HostNet& net, double s, std::vector<double>& y, std::vector<double>& dy,
                   std::vector<double>& d2y) {
  std::vector<double> x{s}, dx{1.0}, d2x{0.0};
  for (const HostLayer& L : net.layers) {
    y.assign(L.n_out, 0.0);
    dy.assign(L.n_out, 0.0);
    d2y.assign(L.n_out, 0.0);
    for (int o = 0; o < L.n_out; ++o) {
      double z = L.b.empty() ? 0.0 : L.b[o], dz = 0.0, d2z = 0.0;
      for (int i = 0; i < L.n_in; ++i) {
        const double w = L.w[static_cast<std::size_t>(i) * L.n_out + o];
        z += x[i] * w;
        dz += dx[i] * w;
        d2z += d2x[i] * w;
      }
      double d1;
      double v = activate(L.act, z, d1);
      double dv = d1 * dz;
      double d2v = activation_d2(L.act, z) * dz * dz + d1 * d2z;
      if (!L.idt.empty()) {
        v *= L.idt[o];
        dv *= L.idt[o];
        d2v *= L.idt[o];
      }
      if (L.shortcut != 0) {
        const int i = L.shortcut == 1 ? o : o % L.n_in;
        v += x[i];
        dv += dx[i];
        d2v += d2x[i];
      }
      y[o] = v;
      dy[o] = dv;
      d2y[o] = d2v;
    }
    x = y;
    dx = dy;
    d2x = d2y;
  }
}

Table build_table(const Model& model, const TableOptions& opt) {
  const std::string what = "[potential] tabulate";
  if (!(opt.rmin > 0.0 && opt.rmin < model.rcut))
    throw InputError(model.file, 0,
                     what + ": rmin must lie in (0, rcut = " + std::to_string(model.rcut) + ")");
  if (!(opt.step > 0.0) || !(opt.coarse_step > 0.0) || !(opt.extrapolate >= 1.0) || opt.samples < 1)
    throw InputError(model.file, 0,
                     what + ": needs step > 0, coarse_step > 0, extrapolate >= 1, samples >= 1");
  const int nt = model.ntypes(), nnei = model.nnei(), m1 = model.m1();
  // A net with relu/relu6 is piecewise linear in s with kinks between the nodes: a smooth
  // quintic table is wrong near every kink (measured: 1e-3 in G, 1e-3 eV/Å in forces).
  for (const HostNet& net : model.embedding)
    for (const HostLayer& L : net.layers)
      if (L.act == act_relu || L.act == act_relu6)
        throw InputError(model.file, 0,
                         what + ": the embedding net uses " +
                             (L.act == act_relu ? "relu" : "relu6") +
                             ", which is not smooth; tabulation is supported for smooth "
                             "activations only (tanh, gelu, softplus, sigmoid, silu, linear)");
  std::vector<int> start(1, 0);
  for (int v : model.sel) start.push_back(start.back() + v);

  // largest R_raw[0] = w(r) / (r + protection) for r >= rmin (w / r decreases with r)
  double dw;
  const double r0max =
      smooth_switch(opt.rmin, model.rcut_smth, model.rcut, dw) / (opt.rmin + model.protection);

  Table tb;
  TableInfo& info = tb.info;
  info.s_lo = INFINITY;
  info.s_hi = info.s_hi2 = -INFINITY;
  std::vector<double> y, dy, d2y;
  const int ne = static_cast<int>(model.embedding.size());
  for (int e = 0; e < ne; ++e) {
    const HostNet& net = model.embedding[e];
    const int t = model.type_one_side ? e : e / nt;  // neighbour type of this net
    TableDesc d{};
    d.offset = -1;
    double lower = INFINITY, upper = -INFINITY;
    for (int ti = 0; ti < nt; ++ti) {
      if (!model.type_one_side && ti != e % nt) continue;
      for (int s = start[t]; s < start[t + 1]; ++s) {
        const std::size_t o = (static_cast<std::size_t>(ti) * nnei + s) * 4;
        for (double r0 : {0.0, r0max}) {
          const double v = (r0 - model.davg[o]) / model.dstd[o];
          lower = std::min(lower, v);
          upper = std::max(upper, v);
        }
      }
    }
    if (!(lower <= upper) || net.n_in() != 1 || net.n_out() != m1) {
      tb.desc.push_back(d);  // no slots of this type: never evaluated
      continue;
    }
    d.lo = std::floor(lower);
    d.step0 = opt.step;
    d.n0 = std::max(1, static_cast<int>(std::ceil((std::ceil(upper) - d.lo) / opt.step - 1e-9)));
    d.hi = d.lo + d.n0 * d.step0;
    d.step1 = opt.coarse_step;
    d.n1 = 0;
    if (d.hi > 0.0 && opt.extrapolate > 1.0)
      d.n1 = static_cast<int>(std::ceil((opt.extrapolate - 1.0) * d.hi / opt.coarse_step - 1e-9));
    d.hi2 = d.hi + d.n1 * d.step1;
    d.offset = static_cast<Index>(tb.coef.size());

    // nodes x_0 .. x_{n0+n1}: value, first and second derivative of every output
    const int nk = d.n0 + d.n1;
    auto node = [&](int k) { return k <= d.n0 ? d.lo + k * d.step0 : d.hi + (k - d.n0) * d.step1; };
    std::vector<double> v(static_cast<std::size_t>(nk + 1) * m1), g1(v.size()), g2(v.size());
    for (int k = 0; k <= nk; ++k) {
      net_eval_host(net, node(k), y, dy, d2y);
      for (int m = 0; m < m1; ++m) {
        v[static_cast<std::size_t>(k) * m1 + m] = y[m];
        g1[static_cast<std::size_t>(k) * m1 + m] = dy[m];
        g2[static_cast<std::size_t>(k) * m1 + m] = d2y[m];
      }
    }
    // quintic Hermite on [0, h]: c0..c2 from the left end, c3..c5 solve for the right end
    // (the coefficient formulas of deepmd-kit's compression documentation)
    tb.coef.resize(tb.coef.size() + static_cast<std::size_t>(nk) * m1 * 6);
    double* c = tb.coef.data() + d.offset;
    for (int k = 0; k < nk; ++k) {
      const double h = k < d.n0 ? d.step0 : d.step1;
      for (int m = 0; m < m1; ++m, c += 6) {
        const std::size_t a = static_cast<std::size_t>(k) * m1 + m, b = a + m1;
        const double dv = v[b] - v[a];
        c[0] = v[a];
        c[1] = g1[a];
        c[2] = 0.5 * g2[a];
        c[3] = (20.0 * dv - (8.0 * g1[b] + 12.0 * g1[a]) * h - (3.0 * g2[a] - g2[b]) * h * h) /
               (2.0 * h * h * h);
        c[4] =
            (-30.0 * dv + (14.0 * g1[b] + 16.0 * g1[a]) * h + (3.0 * g2[a] - 2.0 * g2[b]) * h * h) /
            (2.0 * h * h * h * h);
        c[5] = (12.0 * dv - 6.0 * (g1[b] + g1[a]) * h + (g2[b] - g2[a]) * h * h) /
               (2.0 * h * h * h * h * h);
      }
    }
    tb.desc.push_back(d);

    // error: `samples` points per interval and the last node's left neighbourhood
    std::vector<double> gt(m1), dgt(m1);
    for (int k = 0; k < nk; ++k) {
      const double h = k < d.n0 ? d.step0 : d.step1;
      const bool fine = k < d.n0;
      for (int j = 0; j <= opt.samples; ++j) {
        double s = node(k) + h * j / opt.samples;
        if (j == opt.samples) {
          if (k != nk - 1) continue;
          s = std::nextafter(d.hi2, -INFINITY);
        }
        if (!table_eval(d, tb.coef.data(), m1, s, gt.data(), dgt.data())) continue;
        net_eval_host(net, s, y, dy, d2y);
        for (int m = 0; m < m1; ++m) {
          info.max_g = std::max(info.max_g, std::abs(y[m]));
          const double ev = std::abs(gt[m] - y[m]), ed = std::abs(dgt[m] - dy[m]);
          double& E = fine ? info.err_fine : info.err_coarse;
          double& D = fine ? info.derr_fine : info.derr_coarse;
          E = std::max(E, ev);
          D = std::max(D, ed);
        }
      }
    }
    ++info.nets;
    info.intervals += nk;
    info.s_lo = std::min(info.s_lo, d.lo);
    info.s_hi = std::max(info.s_hi, d.hi);
    info.s_hi2 = std::max(info.s_hi2, d.hi2);
  }
  info.bytes = tb.coef.size() * sizeof(double);
  return tb;
}

std::string TableInfo::summary() const {
  char buf[512];
  std::snprintf(buf, sizeof buf,
                "deepmd: tabulated embedding: %d nets, s in [%g, %g) and coarse to %g, %d "
                "intervals, %.1f KiB; max |G_table - G_net| = %.2e (fine), %.2e (coarse) with "
                "max |G| = %.3g; max |dG/ds error| = %.2e (fine), %.2e (coarse)",
                nets, s_lo, s_hi, s_hi2, intervals, bytes / 1024.0, err_fine, err_coarse, max_g,
                derr_fine, derr_coarse);
  return buf;
}

}  // namespace md::deepmd
