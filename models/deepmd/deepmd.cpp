// DeePMD potential: uploads the model (weights flattened, layer/net descriptors), sizes the
// per-(slot, atom) slot arrays and the chunked per-atom workspace, and enqueues slot selection
// (per chunk), the fused kernel and the shared many-body force/virial gather
// (kernels/many_body.hpp). No host transfer or sync per step.
#include "models/deepmd/deepmd.hpp"

#include <algorithm>

#include "engine/error.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"
#include "kernels/nn.hpp"
#include "models/deepmd/deepmd_kernel.hpp"

namespace md::deepmd {

struct DeepMDPotential::Device {
  explicit Device(Context& ctx) : forces(ctx) {}
  ManyBodyForces forces;  // per-list-slot partials, reverse slots, gather
  DeviceArray<int> sel_start, model_type, slot_atom, slot_list, cand_a, pad_uniform;
  DeviceArray<double> davg, dstd, e_shift, cand_r2, pd;
  DeviceArray<float> pf;  // weights of float networks
  DeviceArray<LayerDesc> layers;
  DeviceArray<NetDesc> emb, fit;
  DeviceArray<TableDesc> tabd;
  DeviceArray<double> tab;
  int emb_width = 0, fit_width = 0, fit_dphi = 0, emb_dphi = 0;
  TeamLayout lay_d{}, lay_f{};  // team scratch layouts, double and float networks
  Index chunk = 0, n_local = -1;
};

namespace {

int widest(const HostNet& n) {
  int w = 0;
  for (const auto& l : n.layers) w = std::max({w, l.n_in, l.n_out});
  return w;
}

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
  d.width = widest(net);
  return d;
}

// Team scratch of the DescriptorKernel for networks of t_bytes-sized values: row tile chosen
// so the tile-dependent part fits a budget (GPU: 64 KiB of shared memory per team, leaving
// room for several teams per SM; CPU: 256 KiB, an L2-sized working set, and at most one type
// segment -- the whole of it when it fits).
TeamLayout make_layout(const Model& m, int emb_width, int fit_width, int emb_dphi, int fit_dphi,
                       std::size_t t_bytes, bool gpu) {
  const int m1 = m.m1();
  int max_sel = 1;
  for (int v : m.sel) max_sel = std::max(max_sel, v);
  fit_width = std::max(fit_width, m1 * m.axis_neuron);
  const std::size_t per_row = 8 * (4 + 4 + 1 + 2 * static_cast<std::size_t>(m1)) + 4 +
                              t_bytes * (2 * static_cast<std::size_t>(emb_width) + emb_dphi);
  const std::size_t budget = gpu ? (std::size_t(64) << 10) : (std::size_t(256) << 10);
  TeamLayout L{};
  L.rows = nn::rows_per_tile(budget, per_row, max_sel);
  L.ld = emb_width;
  L.fit_ld = fit_width;
  const std::size_t buf = std::max(static_cast<std::size_t>(L.rows) * emb_width,
                                   static_cast<std::size_t>(fit_width));
  const std::size_t dph = std::max(static_cast<std::size_t>(L.rows) * emb_dphi,
                                   static_cast<std::size_t>(fit_dphi));
  std::size_t off = 0;
  auto take = [&](std::size_t bytes) {
    const std::size_t at = off;
    off += (bytes + 15) / 16 * 16;
    return at;
  };
  L.gr = take(8 * 4 * static_cast<std::size_t>(m1));
  L.dgr = take(8 * 4 * static_cast<std::size_t>(m1));
  L.R = take(8 * 4 * static_cast<std::size_t>(L.rows));
  L.dR = take(8 * 4 * static_cast<std::size_t>(L.rows));
  L.tabG = take(8 * static_cast<std::size_t>(L.rows) * m1);
  L.tabdG = take(8 * static_cast<std::size_t>(L.rows) * m1);
  L.flag = take(4 * static_cast<std::size_t>(L.rows));
  L.tu = take(8 * static_cast<std::size_t>(L.rows));
  L.a = take(t_bytes * buf);
  L.b = take(t_bytes * buf);
  L.dphi = take(t_bytes * dph);
  L.bytes = off;
  return L;
}

// Bytes the slot-selection workspace may use: `requested` when nonzero; else on CUDA a
// quarter of the device memory free now, on the CPU executor 512 MiB.
std::size_t workspace_budget(Context& ctx, std::size_t requested) {
  if (requested > 0) return requested;
#if defined(__CUDACC__)
  if (ctx.on_cuda()) {
    std::size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) == cudaSuccess) return free_b / 4;
  }
#else
  (void)ctx;
#endif
  return std::size_t(512) << 20;
}

}  // namespace

DeepMDPotential::DeepMDPotential(Context& ctx, Model model, Options opt)
    : model_(std::move(model)), opt_(std::move(opt)), dev_(std::make_unique<Device>(ctx)) {
  Device& d = *dev_;
  for (auto* a : {&d.sel_start, &d.model_type, &d.slot_atom, &d.slot_list, &d.cand_a,
                  &d.pad_uniform})
    a->bind(ctx);
  for (auto* a : {&d.davg, &d.dstd, &d.e_shift, &d.cand_r2, &d.pd}) a->bind(ctx);
  d.pf.bind(ctx);
  d.layers.bind(ctx);
  d.emb.bind(ctx);
  d.fit.bind(ctx);
  d.tabd.bind(ctx);
  d.tab.bind(ctx);

  std::vector<int> start(1, 0);
  for (int s : model_.sel) start.push_back(start.back() + s);
  ctx.to_device(start, d.sel_start);
  ctx.to_device(opt_.type_of_system_type, d.model_type);
  {  // per (centre type, neighbour type) segment: one davg/dstd row for all its slots?
    const int nt = model_.ntypes(), nnei = model_.nnei();
    std::vector<int> uniform(static_cast<std::size_t>(nt) * nt, 1);
    for (int ti = 0; ti < nt; ++ti)
      for (int t = 0; t < nt; ++t)
        for (int s = start[t] + 1; s < start[t + 1]; ++s)
          for (int c = 0; c < 4; ++c) {
            const std::size_t o = (static_cast<std::size_t>(ti) * nnei + s) * 4 + c;
            if (model_.davg[o] != model_.davg[o - 4] || model_.dstd[o] != model_.dstd[o - 4])
              uniform[static_cast<std::size_t>(ti) * nt + t] = 0;
          }
    ctx.to_device(uniform, d.pad_uniform);
  }
  ctx.to_device(model_.davg, d.davg);
  ctx.to_device(model_.dstd, d.dstd);
  ctx.to_device(model_.e_shift, d.e_shift);

  std::vector<LayerDesc> layers;
  std::vector<double> p;
  std::vector<NetDesc> emb, fit;
  for (const HostNet& n : model_.embedding) {
    emb.push_back(add_net(n, layers, p));
    d.emb_width = std::max(d.emb_width, widest(n));
    d.emb_dphi = std::max(d.emb_dphi, emb.back().dphi_size);
  }
  for (const HostNet& n : model_.fitting) {
    fit.push_back(add_net(n, layers, p));
    d.fit_width = std::max(d.fit_width, widest(n));
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
  const bool on_gpu = ctx.on_cuda();
  d.lay_d = make_layout(model_, d.emb_width, d.fit_width, d.emb_dphi, d.fit_dphi, sizeof(double),
                        on_gpu);
  d.lay_f = make_layout(model_, d.emb_width, d.fit_width, d.emb_dphi, d.fit_dphi, sizeof(float),
                        on_gpu);
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
  const bool mixed = opt_.precision == Precision::mixed;
  if (d.n_local != n) {  // (re)size once per system size: setup, not the step loop
    d.slot_atom.resize(static_cast<std::size_t>(nnei) * n);
    d.slot_list.resize(static_cast<std::size_t>(nnei) * n);
    // slot-selection workspace (candidates per atom): all atoms at once when that fits the
    // budget, else chunks
    const std::size_t per_atom = (sizeof(double) + sizeof(int)) * static_cast<std::size_t>(nnei);
    const std::size_t budget = workspace_budget(ctx, opt_.workspace_bytes);
    d.chunk = std::max<Index>(1, std::min<Index>(n, static_cast<Index>(budget / per_atom)));
    d.cand_r2.resize(static_cast<std::size_t>(nnei) * d.chunk);
    d.cand_a.resize(static_cast<std::size_t>(nnei) * d.chunk);
    d.n_local = n;
  }
  d.forces.prepare(ctx, nl);  // partials sized for the list; reverse slots rebuilt with it
  const PairPartialsView g = d.forces.partials();

  SlotKernel sk{};
  sk.ntypes = model_.ntypes();
  sk.nnei = nnei;
  sk.rcut = model_.rcut;
  sk.sel_start = d.sel_start.data();
  sk.model_type = d.model_type.data();
  sk.sys = sys;
  sk.nl = nl;
  sk.slot_atom = d.slot_atom.data();
  sk.slot_list = d.slot_list.data();
  sk.partials = g;
  sk.cand_r2 = d.cand_r2.data();
  sk.cand_a = d.cand_a.data();
  sk.cstride = ctx.on_cuda() ? d.chunk : 1;
  sk.astride = ctx.on_cuda() ? 1 : nnei;
  for (Index b = 0; b < n; b += d.chunk) {
    sk.begin = b;
    parallel_for(ctx, std::min(d.chunk, n - b), sk);
  }

  auto fill = [&](auto& k) {
    k.ntypes = model_.ntypes();
    k.nnei = nnei;
    k.m1 = model_.m1();
    k.m2 = model_.axis_neuron;
    k.type_one_side = model_.type_one_side ? 1 : 0;
    k.fit_dphi = d.fit_dphi;
    k.emb_dphi = d.emb_dphi;
    k.rcut = model_.rcut;
    k.rcut_smth = model_.rcut_smth;
    k.protection = model_.protection;
    k.sel_start = d.sel_start.data();
    k.davg = d.davg.data();
    k.dstd = d.dstd.data();
    k.e_shift = d.e_shift.data();
    k.model_type = d.model_type.data();
    k.pad_uniform = d.pad_uniform.data();
    k.layers = d.layers.data();
    k.emb = d.emb.data();
    k.fit = d.fit.data();
    k.tabd = opt_.tabulate.enabled ? d.tabd.data() : nullptr;
    k.tab = opt_.tabulate.enabled ? d.tab.data() : nullptr;
    k.sys = sys;
    k.nl = nl;
    k.slot_atom = d.slot_atom.data();
    k.slot_list = d.slot_list.data();
    k.partials = g;
    k.energy = out.energy;
    k.eflag = req.energy;
    k.accumulate = out.accumulate;
  };
  if (mixed) {
    DescriptorKernel<float> k{};
    fill(k);
    k.lay = d.lay_f;
    k.p = d.pf.data();
    launch_descriptor(ctx, k, n);
  } else {
    DescriptorKernel<double> k{};
    fill(k);
    k.lay = d.lay_d;
    k.p = d.pd.data();
    launch_descriptor(ctx, k, n);
  }
  d.forces.gather(ctx, sys, nl, out, req.virial);
}

}  // namespace md::deepmd
