// Uncertainty monitor: per-atom std from the provider, its max and mean reduced on the device.
#include "engine/uncertainty.hpp"

#include <utility>
#include <vector>

#include "engine/simulation.hpp"
#include "kernels/launch.hpp"

namespace md {

namespace {

// (max, sum) of per-atom values in one pass.
struct MaxSumOp {
  MD_HD DVec<2> operator()(DVec<2> a, const DVec<2>& b) const {
    a.v[0] = a.v[0] > b.v[0] ? a.v[0] : b.v[0];
    a.v[1] += b.v[1];
    return a;
  }
};

struct StdValue {
  const double* s;
  MD_HD DVec<2> operator()(Index i) const {
    DVec<2> r;
    r.v[0] = s[i];
    r.v[1] = s[i];
    return r;
  }
};

// stats = [max, sum / n, max since read, evaluations since read] from the reduction result.
struct FinishStats {
  DVec<2>* red;
  double* stats;
  double inv_n;
  MD_HD void operator()(Index) const {
    stats[0] = red->v[0];
    stats[1] = red->v[1] * inv_n;
    stats[2] = stats[3] > 0.0 && stats[2] > red->v[0] ? stats[2] : red->v[0];
    stats[3] += 1.0;
  }
};

struct ResetSinceRead {
  double* stats;
  MD_HD void operator()(Index) const {
    stats[2] = 0.0;
    stats[3] = 0.0;
  }
};

}  // namespace

UncertaintyMonitor::UncertaintyMonitor(Context& ctx, UncertaintySettings settings)
    : settings_(std::move(settings)), std_(ctx, 0), stats_(ctx, 6) {
  upload(ctx, std::vector<double>(6, 0.0), stats_);
}

void UncertaintyMonitor::evaluate(Context& ctx, UncertaintyProvider& p, const SystemView& sys,
                                  const NeighborView& nl) {
  const Index n = sys.n_local;
  if (n != n_) {
    std_.resize(static_cast<std::size_t>(n > 0 ? n : 1));
    n_ = n;
  }
  if (n == 0) return;
  p.atom_uncertainty(ctx, sys, nl, std_.data());
  DVec<2>* red = reinterpret_cast<DVec<2>*>(stats_.data() + 4);  // stats_[4..5]
  DVec<2> identity;
  identity.v[0] = -1e300;
  identity.v[1] = 0.0;
  reduce(ctx, n, StdValue{std_.data()}, MaxSumOp{}, identity, red);
  parallel_for(ctx, 1, FinishStats{red, stats_.data(), 1.0 / static_cast<double>(n)});
}

UncertaintyMonitor::Reading UncertaintyMonitor::read(Context& ctx) {
  Reading r;
  const std::vector<double> h = ctx.to_host(stats_, 4);
  r.max = h[0];
  r.mean = h[1];
  r.max_since_read = h[2];
  r.evaluations_since_read = static_cast<long>(h[3]);
  if (r.evaluations_since_read > 0 && r.max_since_read > settings_.threshold)
    r.action = settings_.action;
  parallel_for(ctx, 1, ResetSinceRead{stats_.data()});
  return r;
}

void attach_uncertainty(Observers& obs, UncertaintyMonitor& mon, Context& ctx, Simulation& sim,
                        UncertaintyProvider& provider,
                        std::function<void(long, const UncertaintyMonitor::Reading&)> on_reading) {
  std::function<void(long)> prev_forces = obs.after_forces;
  obs.after_forces = [prev_forces, &mon, &ctx, &sim, &provider](long step) {
    if (prev_forces) prev_forces(step);
    if (mon.due(step)) mon.evaluate(ctx, provider, sim.system().view(), sim.neighbors().view());
  };
  std::function<void()> prev_sync = obs.on_sync;
  obs.on_sync = [prev_sync, &mon, &ctx, &sim, on_reading]() {
    if (prev_sync) prev_sync();
    const UncertaintyMonitor::Reading r = mon.read(ctx);
    if (r.evaluations_since_read > 0 && on_reading) on_reading(sim.step(), r);
  };
}

}  // namespace md
