// SchNet potential: uploads the model (flat weights, layer descriptors), sizes the feature
// fields (halo layout) and per-slot adjoints, and enqueues per compute: embedding, for each
// interaction in2f -> ghost refresh -> filter aggregation -> update; the head (energies and
// dE/dx); then backward through the interactions (update, pair partials + adjoints, owner
// sums, in2f) and the many-body gather. No host transfer or sync per step.
#include "models/schnet/schnet.hpp"

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"
#include "engine/halo.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"
#include "kernels/message_passing.hpp"
#include "kernels/nn.hpp"
#include "models/schnet/schnet_kernel.hpp"

namespace md::schnet {

namespace {

int act_id(Activation a) {
  switch (a) {
    case Activation::shifted_softplus:
      return nn::act_shifted_softplus;
    case Activation::silu:
      return nn::act_silu;
    case Activation::linear:
      return nn::act_linear;
  }
  return nn::act_linear;
}

// Appends a layer's weights, bias and transposed weights.
Layer add_layer(const Dense& d, std::vector<double>& p) {
  nn::LayerDesc L{};
  L.n_in = d.n_in;
  L.n_out = d.n_out;
  L.shortcut = 0;
  L.act = act_id(d.act);
  L.w = static_cast<Index>(p.size());
  p.insert(p.end(), d.w.begin(), d.w.end());
  L.b = -1;
  if (!d.b.empty()) {
    L.b = static_cast<Index>(p.size());
    p.insert(p.end(), d.b.begin(), d.b.end());
  }
  L.idt = -1;
  L.dphi = 0;
  const Index wt = static_cast<Index>(p.size());
  for (int o = 0; o < d.n_out; ++o)
    for (int i = 0; i < d.n_in; ++i) p.push_back(d.w[static_cast<std::size_t>(i) * d.n_out + o]);
  return Layer{L, wt};
}

// The filter network of block b and its r-derivative on the host (exact, double):
// w[f] = W~_f(r), dw[f] = dW~_f/dr.
void filter_host(const Params& m, int b, double r, std::vector<double>& w,
                 std::vector<double>& dw) {
  const Interaction& it = m.interactions[static_cast<std::size_t>(b)];
  const Dense& f1 = it.filter[0];
  const Dense& f2 = it.filter[1];
  std::vector<double> e(m.n_rbf), de(m.n_rbf), y(f1.n_out), dy(f1.n_out);
  for (int k = 0; k < m.n_rbf; ++k) {
    const double c = -0.5 / (m.rbf_widths[k] * m.rbf_widths[k]);
    const double d = r - m.rbf_centres[k];
    e[k] = std::exp(c * d * d);
    de[k] = 2.0 * c * d * e[k];
  }
  for (int o = 0; o < f1.n_out; ++o) {
    double z = f1.b.empty() ? 0.0 : f1.b[o], dz = 0.0;
    for (int k = 0; k < f1.n_in; ++k) {
      z += e[k] * f1.w[static_cast<std::size_t>(k) * f1.n_out + o];
      dz += de[k] * f1.w[static_cast<std::size_t>(k) * f1.n_out + o];
    }
    double dphi;
    y[o] = nn::activate(act_id(f1.act), z, dphi);
    dy[o] = dphi * dz;
  }
  w.assign(f2.n_out, 0.0);
  dw.assign(f2.n_out, 0.0);
  for (int o = 0; o < f2.n_out; ++o) {
    double z = f2.b.empty() ? 0.0 : f2.b[o], dz = 0.0;
    for (int k = 0; k < f2.n_in; ++k) {
      z += y[k] * f2.w[static_cast<std::size_t>(k) * f2.n_out + o];
      dz += dy[k] * f2.w[static_cast<std::size_t>(k) * f2.n_out + o];
    }
    double dphi;
    w[o] = nn::activate(act_id(f2.act), z, dphi);
    dw[o] = dphi * dz;
  }
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

template <class T>
struct SchNetPotential::Impl {
  struct Block {
    Layer in2f, f1, f2, u1, u2;
  };

  Impl(Context& ctx, const Params& m, const Options& o, TableError& terr)
      : mb(ctx),
        w(ctx, 0),
        emb(ctx, 0),
        centre(ctx, 0),
        coeff(ctx, 0),
        tab(ctx, 0),
        atomref(ctx, 0),
        species(ctx, 0),
        head_layers(ctx, 0),
        x(ctx, m.n_atom_basis),
        h(ctx, m.n_filters * m.n_interactions()),
        dphi(ctx, m.n_filters * m.n_interactions()),
        msg(ctx, m.n_filters),
        G(ctx, m.n_filters),
        gx(ctx, m.n_atom_basis),
        dh(ctx, m.n_filters),
        adj(ctx, m.n_filters) {
    F = m.n_atom_basis;
    Nf = m.n_filters;
    K = m.n_rbf;
    rc = m.cutoff;
    std::vector<double> p;
    for (const Interaction& it : m.interactions)
      blocks.push_back(Block{add_layer(it.in2f, p), add_layer(it.filter[0], p),
                             add_layer(it.filter[1], p), add_layer(it.f2out[0], p),
                             add_layer(it.f2out[1], p)});
    std::vector<nn::LayerDesc> hl;
    int dphi_at = 0;
    ld = std::max(F, Nf);
    for (const Dense& d : m.head) {
      nn::LayerDesc L = add_layer(d, p).d;
      L.dphi = dphi_at;
      dphi_at += d.n_out;
      ld = std::max({ld, d.n_in, d.n_out});
      hl.push_back(L);
    }
    head_net = nn::NetDesc{0, static_cast<int>(hl.size()), F, 1, dphi_at, ld};
    if (dphi_at > 2 * ld) throw Error("schnet: head network too deep for the kernel's scratch");
    upload(ctx, cast<T>(p), w);
    upload(ctx, cast<T>(m.embedding), emb);
    upload(ctx, m.rbf_centres, centre);
    std::vector<double> c(m.rbf_widths.size());
    for (std::size_t k = 0; k < c.size(); ++k) c[k] = -0.5 / (m.rbf_widths[k] * m.rbf_widths[k]);
    upload(ctx, c, coeff);
    upload(ctx, m.atomref, atomref);
    upload(ctx, o.species_of_type, species);
    upload(ctx, hl, head_layers);
    mean = m.mean;
    mean_per_atom = m.mean_per_atom;
    pair_ld = std::max(K, Nf);
    const std::size_t per_row = sizeof(mp::PairRow) + 2 * sizeof(T) * Nf + 3 * sizeof(double) +
                                sizeof(T) * (3 * pair_ld + 2 * Nf) + (3 + K) * sizeof(double);
    rows = o.rows > 0 ? o.rows
                      : nn::rows_per_tile(ctx.on_cuda() ? (40u << 10) : (64u << 10), per_row, 32);
    if (o.table_step > 0) {
      table_h = o.table_step;
      n_grid = static_cast<int>(std::ceil(rc / table_h)) + 2;
      std::vector<double> t(static_cast<std::size_t>(m.n_interactions()) * n_grid * Nf * 2);
      std::vector<double> fw, fdw, mw, mdw;
      for (int b = 0; b < m.n_interactions(); ++b) {
        for (int g = 0; g < n_grid; ++g) {
          filter_host(m, b, g * table_h, fw, fdw);
          for (int f = 0; f < Nf; ++f) {
            const std::size_t at = ((static_cast<std::size_t>(b) * n_grid + g) * Nf + f) * 2;
            t[at] = fw[f];
            t[at + 1] = fdw[f];
          }
        }
        // error at the interval midpoints (where a cubic Hermite spline is worst)
        for (int g = 0; g + 1 < n_grid && (g + 0.5) * table_h < rc; ++g) {
          filter_host(m, b, (g + 0.5) * table_h, mw, mdw);
          for (int f = 0; f < Nf; ++f) {
            const std::size_t a0 = ((static_cast<std::size_t>(b) * n_grid + g) * Nf + f) * 2;
            const std::size_t a1 = a0 + 2 * static_cast<std::size_t>(Nf);
            const double v = 0.5 * (t[a0] + t[a1]) + 0.125 * table_h * (t[a0 + 1] - t[a1 + 1]);
            const double dv = 1.5 * (t[a1] - t[a0]) / table_h - 0.25 * (t[a0 + 1] + t[a1 + 1]);
            terr.w = std::max(terr.w, std::abs(v - mw[f]));
            terr.dw = std::max(terr.dw, std::abs(dv - mdw[f]));
            terr.w_scale = std::max(terr.w_scale, std::abs(mw[f]));
          }
        }
      }
      upload(ctx, t, tab);
    }
  }

  TabFilterPairs<T> tab_filter(int b) const {
    TabFilterPairs<T> f;
    f.tab = tab.data() + static_cast<std::size_t>(b) * n_grid * Nf * 2;
    f.h = table_h;
    f.rc = rc;
    f.n_grid = n_grid;
    f.n_filters = Nf;
    f.rows_max = rows;
    f.n_coeff = Nf;
    return f;
  }

  FilterPairs<T> filter(int b) const {
    FilterPairs<T> f;
    f.p = w.data();
    f.f1 = blocks[b].f1;
    f.f2 = blocks[b].f2;
    f.centre = centre.data();
    f.coeff = coeff.data();
    f.rc = rc;
    f.n_rbf = K;
    f.n_filters = Nf;
    f.ld = pair_ld;
    f.rows_max = rows;
    f.n_coeff = Nf;
    return f;
  }

  mp::FieldView<T> h_block(int b) {
    mp::FieldView<T> v = h.view();
    v.v += static_cast<Index>(b) * Nf * v.stride;
    v.width = Nf;
    return v;
  }
  mp::FieldView<T> dphi_block(int b) {
    mp::FieldView<T> v = dphi.view();
    v.v += static_cast<Index>(b) * Nf * v.stride;
    v.width = Nf;
    return v;
  }

  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) {
    const Index n = nl.n_local;
    if (n == 0) return;
    for (auto* f : {&x, &h, &dphi, &msg, &G, &gx, &dh}) f->resize(nl);
    adj.resize(nl);
    mb.prepare(ctx, nl);
    const int team = 64;
    const std::size_t atom_scratch = 5 * sizeof(T) * static_cast<std::size_t>(ld);
    mp::MpOptions opt;
    opt.team_size = team;
    opt.rows = rows;
    const int T_ = static_cast<int>(blocks.size());

    parallel_for(ctx, n * F, EmbedKernel<T>{sys.type, species.data(), emb.data(), x.view(), n});
    for (int b = 0; b < T_; ++b) {
      const Block& B = blocks[b];
      const mp::FieldView<T> hb = h_block(b);
      parallel_for_team(ctx, n, team, atom_scratch,
                        In2fKernel<T>{w.data(), B.in2f, x.view(), hb, ld});
      halo_forward(ctx, nl, hb.v, Nf);
      if (table_h > 0)
        mp::aggregate<mp::ContractDiagonal>(ctx, sys, nl, rc, tab_filter(b), hb, msg.view(), opt);
      else
        mp::aggregate<mp::ContractDiagonal>(ctx, sys, nl, rc, filter(b), hb, msg.view(), opt);
      parallel_for_team(
          ctx, n, team, atom_scratch,
          UpdateKernel<T>{w.data(), B.u1, B.u2, msg.view(), x.view(), dphi_block(b), ld});
    }
    const double mean_atom = mean_per_atom ? mean : mean / static_cast<double>(n);
    parallel_for_team(ctx, n, team, atom_scratch,
                      HeadKernel<T>{w.data(), head_layers.data(), head_net, sys.type,
                                    species.data(), atomref.data(), mean_atom, x.view(), gx.view(),
                                    out, req.energy && out.energy != nullptr, ld});
    for (int b = T_ - 1; b >= 0; --b) {
      const Block& B = blocks[b];
      parallel_for_team(
          ctx, n, team, atom_scratch,
          UpdateBackwardKernel<T>{w.data(), B.u1, B.u2, gx.view(), dphi_block(b), G.view(), ld});
      opt.accumulate = b != T_ - 1;
      if (table_h > 0)
        mp::aggregate_backward<mp::ContractDiagonal>(ctx, sys, nl, rc, tab_filter(b), h_block(b),
                                                     G.view(), mb.partials(), adj.view(), opt);
      else
        mp::aggregate_backward<mp::ContractDiagonal>(ctx, sys, nl, rc, filter(b), h_block(b),
                                                     G.view(), mb.partials(), adj.view(), opt);
      mp::gather_slot_adjoints(ctx, sys, nl, mb.reverse.view(), rc, adj.view(), dh.view(), false,
                               team);
      parallel_for_team(ctx, n, team, atom_scratch,
                        In2fBackwardKernel<T>{w.data(), B.in2f, dh.view(), gx.view(), ld});
    }
    mb.gather(ctx, sys, nl, out, req.virial);
  }

  ManyBodyForces mb;
  DeviceArray<T> w, emb;
  DeviceArray<double> centre, coeff, tab, atomref;
  DeviceArray<int> species;
  DeviceArray<nn::LayerDesc> head_layers;
  nn::NetDesc head_net{};
  std::vector<Block> blocks;
  mp::FeatureField<T> x, h, dphi, msg, G, gx, dh;
  mp::SlotField<T> adj;
  int F = 0, Nf = 0, K = 0, ld = 0, pair_ld = 0, rows = 16, n_grid = 0;
  double table_h = 0;
  double rc = 0, mean = 0;
  bool mean_per_atom = true;
};

SchNetPotential::SchNetPotential(Context& ctx, Params params, Options opt)
    : params_(std::move(params)), opt_(std::move(opt)) {
  if (params_.n_interactions() < 1) throw Error("schnet: the model has no interaction block");
  if (opt_.precision == Precision::mixed)
    impl_f_ = std::make_unique<Impl<float>>(ctx, params_, opt_, table_error_);
  else
    impl_d_ = std::make_unique<Impl<double>>(ctx, params_, opt_, table_error_);
}

SchNetPotential::~SchNetPotential() = default;

void SchNetPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                              const ForceOut& out, ForceRequest req) {
  if (impl_f_)
    impl_f_->compute(ctx, sys, nl, out, req);
  else
    impl_d_->compute(ctx, sys, nl, out, req);
}

}  // namespace md::schnet
