// DeePMD potential: uploads the model (weights flattened, layer/net descriptors), sizes the
// per-(slot, atom) partial-force arrays and the chunked per-atom workspace, and enqueues the
// fused kernel (per chunk) and the force/virial gather. No host transfer or sync per step.
#include "models/deepmd/deepmd.hpp"

#include <algorithm>

#include "engine/error.hpp"
#include "kernels/launch.hpp"
#include "models/deepmd/deepmd_kernel.hpp"

namespace md::deepmd {

struct DeepMDPotential::Device {
  DeviceArray<int> sel_start, model_type, slot_atom, wsi;
  DeviceArray<double> davg, dstd, e_shift, slot_g, wsd, pd;
  DeviceArray<double> wst;     // network workspace, double networks
  DeviceArray<float> pf, wsf;  // weights and network workspace, float networks
  DeviceArray<LayerDesc> layers;
  DeviceArray<NetDesc> emb, fit;
  DeviceArray<TableDesc> tabd;
  DeviceArray<double> tab;
  int max_width = 0, fit_dphi = 0, emb_dphi = 0;
  Index chunk = 0, n_local = -1;
};

namespace {

// Appends a network's layers and weights; returns its descriptor.
NetDesc add_net(const HostNet& net, std::vector<LayerDesc>& layers, std::vector<double>& p) {
  NetDesc d{};
  d.first_layer = static_cast<int>(layers.size());
  d.n_layers = static_cast<int>(net.layers.size());
  d.n_in = net.n_in();
  d.n_out = net.n_out();
  Index dphi = 0;
  for (const HostLayer& h : net.layers) {
    LayerDesc L{};
    L.n_in = h.n_in;
    L.n_out = h.n_out;
    L.shortcut = h.shortcut;
    L.act = h.act;
    L.w = static_cast<Index>(p.size());
    p.insert(p.end(), h.w.begin(), h.w.end());
    L.b = -1;
    if (!h.b.empty()) {
      L.b = static_cast<Index>(p.size());
      p.insert(p.end(), h.b.begin(), h.b.end());
    }
    L.idt = -1;
    if (!h.idt.empty()) {
      L.idt = static_cast<Index>(p.size());
      p.insert(p.end(), h.idt.begin(), h.idt.end());
    }
    L.dphi = dphi;
    dphi += h.n_out;
    layers.push_back(L);
  }
  d.dphi_size = static_cast<int>(dphi);
  return d;
}

int widest(const HostNet& n) {
  int w = 0;
  for (const auto& l : n.layers) w = std::max({w, l.n_in, l.n_out});
  return w;
}

}  // namespace

DeepMDPotential::DeepMDPotential(Context& ctx, Model model, Options opt)
    : model_(std::move(model)), opt_(std::move(opt)), dev_(std::make_unique<Device>()) {
  Device& d = *dev_;
  for (auto* a : {&d.sel_start, &d.model_type, &d.slot_atom, &d.wsi}) a->bind(ctx);
  for (auto* a : {&d.davg, &d.dstd, &d.e_shift, &d.slot_g, &d.wsd, &d.pd, &d.wst}) a->bind(ctx);
  d.pf.bind(ctx);
  d.wsf.bind(ctx);
  d.layers.bind(ctx);
  d.emb.bind(ctx);
  d.fit.bind(ctx);
  d.tabd.bind(ctx);
  d.tab.bind(ctx);

  std::vector<int> start(1, 0);
  for (int s : model_.sel) start.push_back(start.back() + s);
  ctx.to_device(start, d.sel_start);
  ctx.to_device(opt_.type_of_system_type, d.model_type);
  ctx.to_device(model_.davg, d.davg);
  ctx.to_device(model_.dstd, d.dstd);
  ctx.to_device(model_.e_shift, d.e_shift);

  std::vector<LayerDesc> layers;
  std::vector<double> p;
  std::vector<NetDesc> emb, fit;
  for (const HostNet& n : model_.embedding) {
    emb.push_back(add_net(n, layers, p));
    d.max_width = std::max(d.max_width, widest(n));
    d.emb_dphi = std::max(d.emb_dphi, emb.back().dphi_size);
  }
  for (const HostNet& n : model_.fitting) {
    fit.push_back(add_net(n, layers, p));
    d.max_width = std::max(d.max_width, widest(n));
    d.fit_dphi = std::max(d.fit_dphi, fit.back().dphi_size);
  }
  ctx.to_device(layers, d.layers);
  ctx.to_device(emb, d.emb);
  ctx.to_device(fit, d.fit);
  if (opt_.tabulate.enabled) {
    Table t = build_table(model_, opt_.tabulate);
    table_info_ = t.info;
    ctx.to_device(t.desc, d.tabd);
    ctx.to_device(t.coef, d.tab);
  }
  if (opt_.precision == Precision::double_) {
    ctx.to_device(p, d.pd);
  } else {
    std::vector<float> pf(p.begin(), p.end());
    ctx.to_device(pf, d.pf);
  }
}

DeepMDPotential::~DeepMDPotential() = default;

void DeepMDPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                              const ForceOut& out, ForceRequest req) {
  Device& d = *dev_;
  const Index n = sys.n_local;
  const int nnei = model_.nnei();
  const int m1 = model_.m1();
  const Index ws_d = 10 * static_cast<Index>(m1) + nnei;
  const Index ws_t = 2 * static_cast<Index>(d.max_width) + d.fit_dphi + d.emb_dphi;
  const bool mixed = opt_.precision == Precision::mixed;
  if (d.n_local != n) {  // (re)size once per system size: setup, not the step loop
    const std::size_t per_atom = sizeof(double) * ws_d + sizeof(int) * nnei +
                                 (mixed ? sizeof(float) : sizeof(double)) * ws_t;
    d.chunk =
        std::max<Index>(1, std::min<Index>(n, static_cast<Index>(opt_.workspace_bytes / per_atom)));
    d.slot_atom.resize(static_cast<std::size_t>(nnei) * n);
    d.slot_g.resize(3 * static_cast<std::size_t>(nnei) * n);
    d.wsd.resize(static_cast<std::size_t>(ws_d * d.chunk));
    d.wsi.resize(static_cast<std::size_t>(nnei) * d.chunk);
    if (mixed)
      d.wsf.resize(static_cast<std::size_t>(ws_t * d.chunk));
    else
      d.wst.resize(static_cast<std::size_t>(ws_t * d.chunk));
    d.n_local = n;
  }

  auto fill = [&](auto& k) {
    k.ntypes = model_.ntypes();
    k.nnei = nnei;
    k.m1 = m1;
    k.m2 = model_.axis_neuron;
    k.type_one_side = model_.type_one_side ? 1 : 0;
    k.max_width = d.max_width;
    k.fit_dphi = d.fit_dphi;
    k.emb_dphi = d.emb_dphi;
    k.ws_d = ws_d;
    k.ws_t = ws_t;
    k.rcut = model_.rcut;
    k.rcut_smth = model_.rcut_smth;
    k.protection = model_.protection;
    k.sel_start = d.sel_start.data();
    k.davg = d.davg.data();
    k.dstd = d.dstd.data();
    k.e_shift = d.e_shift.data();
    k.model_type = d.model_type.data();
    k.layers = d.layers.data();
    k.emb = d.emb.data();
    k.fit = d.fit.data();
    k.tabd = opt_.tabulate.enabled ? d.tabd.data() : nullptr;
    k.tab = opt_.tabulate.enabled ? d.tab.data() : nullptr;
    k.sys = sys;
    k.nl = nl;
    k.slot_atom = d.slot_atom.data();
    k.slot_g = d.slot_g.data();
    k.wsd = d.wsd.data();
    k.wsi = d.wsi.data();
    k.energy = out.energy;
    k.eflag = req.energy;
    k.accumulate = out.accumulate;
  };
  if (mixed) {
    DescriptorKernel<float> k{};
    fill(k);
    k.p = d.pf.data();
    k.wst = d.wsf.data();
    for (Index b = 0; b < n; b += d.chunk) {
      k.begin = b;
      launch_descriptor(ctx, k, std::min(d.chunk, n - b));
    }
  } else {
    DescriptorKernel<double> k{};
    fill(k);
    k.p = d.pd.data();
    k.wst = d.wst.data();
    for (Index b = 0; b < n; b += d.chunk) {
      k.begin = b;
      launch_descriptor(ctx, k, std::min(d.chunk, n - b));
    }
  }
  GatherKernel g{};
  g.ntypes = model_.ntypes();
  g.nnei = nnei;
  g.rcut = model_.rcut;
  g.sel_start = d.sel_start.data();
  g.model_type = d.model_type.data();
  g.sys = sys;
  g.nl = nl;
  g.slot_atom = d.slot_atom.data();
  g.slot_g = d.slot_g.data();
  g.out = out;
  g.vflag = req.virial;
  parallel_for(ctx, n, g);
}

}  // namespace md::deepmd
