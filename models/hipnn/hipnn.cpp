// HIP-NN potential: uploads the model (flat weights, layer descriptors, sensitivity
// parameters), sizes the feature fields (halo layout) and per-slot adjoints, and enqueues per
// compute: one-hot input and level-0 head; per interaction layer ghost refresh -> sensitivity
// aggregation (ContractOuter) -> interaction + atom layers + head; then backward through the
// layers (per-atom layer backward, pair partials + adjoints, owner sums) and the many-body
// gather. No host transfer or sync per step.
#include "models/hipnn/hipnn.hpp"

#include <algorithm>

#include "engine/error.hpp"
#include "engine/halo.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"
#include "kernels/message_passing.hpp"
#include "kernels/nn.hpp"
#include "models/hipnn/hipnn_kernel.hpp"

namespace md::hipnn {

namespace {

nn::LayerDesc absent() {
  nn::LayerDesc L{};
  L.n_in = 0;
  L.n_out = 0;
  L.shortcut = 0;
  L.act = nn::act_linear;
  L.w = -1;
  L.b = -1;
  L.idt = -1;
  L.dphi = 0;
  return L;
}

// Appends a dense layer (w [n_in][n_out], optional bias) to p.
nn::LayerDesc add_layer(int n_in, int n_out, const std::vector<double>& w,
                        const std::vector<double>& b, int act, std::vector<double>& p) {
  nn::LayerDesc L = absent();
  L.n_in = n_in;
  L.n_out = n_out;
  L.act = act;
  L.w = static_cast<Index>(p.size());
  p.insert(p.end(), w.begin(), w.end());
  if (!b.empty()) {
    L.b = static_cast<Index>(p.size());
    p.insert(p.end(), b.begin(), b.end());
  }
  return L;
}
nn::LayerDesc add_dense(const Dense& d, int act, std::vector<double>& p) {
  if (d.n_in == 0) return absent();
  return add_layer(d.n_in, d.n_out, d.w, d.b, act, p);
}

// Widest environment row: n_sensitivities x the widest interaction input.
int env_width(const Params& m) {
  int w = 1;
  for (const Interaction& it : m.interactions) w = std::max(w, m.n_sensitivities * it.n_in);
  return w;
}

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

}  // namespace

template <class T>
struct HipnnPotential::Impl {
  Impl(Context& ctx, const Params& m, const Options& o)
      : mb(ctx), w(ctx, 0), layers(ctx, 0), inv_mu(ctx, 0), sig_m2(ctx, 0), species(ctx, 0),
        e_atom(ctx, 0), G(ctx, m.max_width()), GZ(ctx, m.max_width()),
        GE(ctx, env_width(m)), adj(ctx, m.max_width()) {
    L_ = m.n_interactions();
    S = m.n_sensitivities;
    n_atom = m.n_atom_layers;
    resnet = m.resnet;
    rc = m.cutoff;
    rows = o.rows > 0 ? o.rows : 16;
    sizes = m.feature_sizes;
    std::vector<double> p;
    std::vector<nn::LayerDesc> desc;
    std::vector<double> im, sm;
    int env_max = 1;
    for (const Interaction& it : m.interactions) {
      std::vector<nn::LayerDesc> b(static_cast<std::size_t>(block_stride(n_atom)), absent());
      b[slot_v] = add_layer(S * it.n_in, it.n_middle, it.int_weights, {}, nn::act_linear, p);
      b[slot_self] = add_dense(it.self, nn::act_linear, p);
      if (resnet) {
        b[slot_res] = add_dense(it.res, nn::act_linear, p);
        b[slot_adjust] = add_dense(it.adjust, nn::act_linear, p);
      }
      for (int k = 0; k < n_atom; ++k) {
        const AtomLayer& al = it.atom_layers[static_cast<std::size_t>(k)];
        b[slot_atom + 2 * k] = add_dense(al.linear, nn::act_softplus, p);
        if (resnet) b[slot_atom + 2 * k + 1] = add_dense(al.res, nn::act_linear, p);
      }
      desc.insert(desc.end(), b.begin(), b.end());
      for (int nu = 0; nu < S; ++nu) {
        im.push_back(1.0 / it.mu[static_cast<std::size_t>(nu)]);
        const double sg = it.sigma[static_cast<std::size_t>(nu)];
        sm.push_back(1.0 / (sg * sg));
      }
      env_max = std::max(env_max, S * it.n_in);
    }
    heads.assign(static_cast<std::size_t>(L_ + 1), absent());
    for (const Head& h : m.heads)
      heads[static_cast<std::size_t>(h.level)] = add_dense(h.dense, nn::act_linear, p);
    ld = std::max(m.max_width(), env_max);
    upload(ctx, cast<T>(p), w);
    upload(ctx, desc, layers);
    upload(ctx, im, inv_mu);
    upload(ctx, sm, sig_m2);
    upload(ctx, o.species_of_type, species);
    for (int t = 0; t <= L_; ++t)
      z.push_back(std::make_unique<mp::FeatureField<T>>(ctx, sizes[static_cast<std::size_t>(t)]));
    for (int t = 0; t < L_; ++t)
      env.push_back(std::make_unique<mp::FeatureField<T>>(ctx, S * sizes[static_cast<std::size_t>(t)]));
  }

  SensitivityPairs<T> pairs(int t) const {
    SensitivityPairs<T> s;
    s.inv_mu = inv_mu.data() + static_cast<Index>(t) * S;
    s.sig_m2 = sig_m2.data() + static_cast<Index>(t) * S;
    s.rc = rc;
    s.n_coeff = S;
    return s;
  }

  static mp::FieldView<T> narrow(mp::FieldView<T> v, int width) {
    v.width = width;
    return v;
  }

  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) {
    const Index n = nl.n_local;
    if (n == 0) return;
    for (auto& f : z) f->resize(nl);
    for (auto& f : env) f->resize(nl);
    for (auto* f : {&G, &GZ, &GE}) f->resize(nl);
    adj.resize(nl);
    if (e_atom.size() != static_cast<std::size_t>(n)) e_atom.resize(static_cast<std::size_t>(n));
    mb.prepare(ctx, nl);
    const int team = 64;
    const std::size_t scratch = atom_scratch_rows(n_atom) * sizeof(T) * static_cast<std::size_t>(ld);
    mp::MpOptions opt;
    opt.team_size = team;
    opt.rows = rows;
    const nn::LayerDesc* dev_layers = layers.data();
    const int stride = block_stride(n_atom);

    parallel_for(ctx, n, OneHotKernel<T>{w.data(), heads[0], sys.type, species.data(), z[0]->view(),
                                         e_atom.data()});
    for (int t = 0; t < L_; ++t) {
      mp::FeatureField<T>& zin = *z[static_cast<std::size_t>(t)];
      halo_forward(ctx, nl, zin.data.data(), zin.width());
      mp::aggregate<mp::ContractOuter>(ctx, sys, nl, rc, pairs(t), zin.view(),
                                       env[static_cast<std::size_t>(t)]->view(), opt);
      parallel_for_team(ctx, n, team, scratch,
                        BlockKernel<T>{w.data(), dev_layers + static_cast<Index>(t) * stride,
                                       heads[static_cast<std::size_t>(t + 1)], resnet, n_atom, ld,
                                       zin.view(), env[static_cast<std::size_t>(t)]->view(),
                                       z[static_cast<std::size_t>(t + 1)]->view(), e_atom.data()});
    }
    parallel_for(ctx, n, EnergyOutKernel<T>{w.data(), heads[static_cast<std::size_t>(L_)], e_atom.data(), out,
                                            req.energy && out.energy != nullptr,
                                            narrow(G.view(), sizes[static_cast<std::size_t>(L_)])});
    mp::FeatureField<T>* g_out = &G;
    mp::FeatureField<T>* g_in = &GZ;
    for (int t = L_ - 1; t >= 0; --t) {
      const int nin = sizes[static_cast<std::size_t>(t)];
      const int nout = sizes[static_cast<std::size_t>(t + 1)];
      const mp::FieldView<T> ge = narrow(GE.view(), S * nin);
      const mp::FieldView<T> gzin = narrow(g_in->view(), nin);
      parallel_for_team(ctx, n, team, scratch,
                        BlockBackwardKernel<T>{w.data(), dev_layers + static_cast<Index>(t) * stride,
                                               heads[static_cast<std::size_t>(t)], resnet, n_atom, ld,
                                               z[static_cast<std::size_t>(t)]->view(),
                                               env[static_cast<std::size_t>(t)]->view(),
                                               narrow(g_out->view(), nout), ge, gzin});
      opt.accumulate = t != L_ - 1;
      mp::SlotView<T> a = adj.view();
      a.width = nin;
      mp::aggregate_backward<mp::ContractOuter>(ctx, sys, nl, rc, pairs(t),
                                                z[static_cast<std::size_t>(t)]->view(), ge,
                                                mb.partials(), a, opt);
      // dE/dz^t through the pairs that read it (not needed for the constant one-hot input).
      if (t > 0) mp::gather_slot_adjoints(ctx, sys, nl, mb.reverse.view(), rc, a, gzin, true, team);
      std::swap(g_out, g_in);
    }
    mb.gather(ctx, sys, nl, out, req.virial);
  }

  ManyBodyForces mb;
  DeviceArray<T> w;
  DeviceArray<nn::LayerDesc> layers;
  DeviceArray<double> inv_mu, sig_m2;
  DeviceArray<int> species;
  DeviceArray<double> e_atom;
  std::vector<nn::LayerDesc> heads;  // per feature level (host copies passed by value)
  std::vector<std::unique_ptr<mp::FeatureField<T>>> z, env;
  mp::FeatureField<T> G, GZ, GE;
  mp::SlotField<T> adj;
  std::vector<int> sizes;
  int L_ = 0, S = 0, n_atom = 0, ld = 0, rows = 16;
  bool resnet = true;
  double rc = 0;
};

HipnnPotential::HipnnPotential(Context& ctx, Params params, Options opt)
    : params_(std::move(params)), opt_(std::move(opt)) {
  if (params_.n_interactions() < 1) throw Error("hipnn: the model has no interaction layer");
  if (opt_.precision == Precision::mixed)
    impl_f_ = std::make_unique<Impl<float>>(ctx, params_, opt_);
  else
    impl_d_ = std::make_unique<Impl<double>>(ctx, params_, opt_);
}

HipnnPotential::~HipnnPotential() = default;

void HipnnPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                             const ForceOut& out, ForceRequest req) {
  if (impl_f_)
    impl_f_->compute(ctx, sys, nl, out, req);
  else
    impl_d_->compute(ctx, sys, nl, out, req);
}

}  // namespace md::hipnn
