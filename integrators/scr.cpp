#include "integrators/scr.hpp"

#include <cmath>

namespace md {

namespace {

struct ScrCellStep {
  ScrParams p;
  DeviceRamp ramp;  // pressure/temperature targets and the noise key at the device step
  double dt;
  ScrState* state;
  const Sums12* sums;
  Box* box_dev;
  MD_HD void operator()(Index) const {
    ScrState& s = *state;
    const Sums12& sum = *sums;
    const Box b = *box_dev;
    const double frac = ramp.fraction();
    const std::uint64_t step = static_cast<std::uint64_t>(ramp.now());
    const double volume = b.volume();
    const double inv_v = p.nktv2p / volume;
    double pd[3];
    for (int d = 0; d < 3; ++d) pd[d] = (sum.v[d] * p.mvv2e + sum.v[6 + d]) * inv_v;
    const double kt = p.boltz * p.temp.at(frac);
    const double ktv = kt * inv_v;  // kT / V in pressure units
    RandomStream r{p.seed, step, kRandScr, 0u};
    double deps[3] = {0, 0, 0};
    if (p.iso) {
      const double pnow = (pd[0] + pd[1] + pd[2]) / 3.0;
      const double p0 = p.press[0].at(frac);
      const double e = -(p.compressibility / p.tau) * (p0 - pnow - ktv) * dt +
                       sqrt(2.0 * ktv * p.compressibility * dt / p.tau) * r.gaussian();
      deps[0] = deps[1] = deps[2] = e / 3.0;
    } else {
      const double mob = p.compressibility / (3.0 * p.tau);
      for (int d = 0; d < 3; ++d) {
        const double g = r.gaussian();
        if (!p.p_flag[d]) continue;
        deps[d] = -mob * (p.press[d].at(frac) - pd[d] - ktv) * dt + sqrt(2.0 * ktv * mob * dt) * g;
      }
    }
    Box nb = b;
    double p0v = 0.0, dk = 0.0, du = 0.0;
    for (int d = 0; d < 3; ++d) {
      const double mu = exp(deps[d]);
      s.mu[d] = mu;
      const double ctr = b.lo[d] + 0.5 * b.l[d];
      nb.lo[d] = ctr + (b.lo[d] - ctr) * mu;
      nb.l[d] = b.l[d] * mu;
      dk += 0.5 * sum.v[d] * p.mvv2e * (1.0 / (mu * mu) - 1.0);
      du -= sum.v[6 + d] * deps[d];
      p0v += p.press[d].at(frac) / 3.0;
    }
    nb.xy = b.xy * s.mu[0];
    nb.xz = b.xz * s.mu[0];
    nb.yz = b.yz * s.mu[1];
    s.work += dk + du + p0v * (nb.volume() - volume) / p.nktv2p;
    s.p0 = p0v;
    s.box_old = b;
    s.box_new = nb;
    *box_dev = nb;
  }
};

struct ScrAtoms {
  const ScrState* state;
  double *x, *y, *z, *vx, *vy, *vz;
  MD_HD void operator()(Index i) const {
    const ScrState& s = *state;
    double f[3], r[3];
    s.box_old.to_fractional(x[i], y[i], z[i], f);
    s.box_new.to_cartesian(f, r);
    x[i] = r[0];
    y[i] = r[1];
    z[i] = r[2];
    vx[i] /= s.mu[0];
    vy[i] /= s.mu[1];
    vz[i] /= s.mu[2];
  }
};

}  // namespace

StochasticCellRescaling::StochasticCellRescaling(Context& ctx, const ScrParams& p,
                                                 std::unique_ptr<Integrator> thermostat,
                                                 long run_steps)
    : p_(p), inner_(std::move(thermostat)), run_steps_(run_steps), state_(ctx, 1),
      saved_(ctx, 1), sums_(ctx, 1), sums_work_(ctx, 1) {
  if (!(p_.compressibility > 0.0) || !(p_.tau > 0.0))
    throw Error("scr barostat: compressibility and pdamp must be positive");
  const ScrState zero{};
  ctx.to_device(std::vector<ScrState>{zero}, state_);
}

void StochasticCellRescaling::step_one(Context& ctx, System& sys, const StepData& d) {
  if (begin_ < 0) begin_ = d.step;
  reduce_mvv_virial(ctx, sys, d.virial, sums_work_.data(), sums_.data());
  parallel_for(ctx, 1,
               ScrCellStep{p_, DeviceRamp{d.step_dev, begin_, run_steps_}, d.dt, state_.data(),
                           sums_.data(), sys.box_device()});
  parallel_for(ctx, sys.n_local(),
               ScrAtoms{state_.data(), sys.x.data(), sys.y.data(), sys.z.data(), sys.vx.data(),
                        sys.vy.data(), sys.vz.data()});
  inner_->step_one(ctx, sys, d);
}

void StochasticCellRescaling::step_two(Context& ctx, System& sys, const StepData& d) {
  inner_->step_two(ctx, sys, d);
}

double StochasticCellRescaling::reservoir_energy(Context& ctx, System& sys) {
  const ScrState s = ctx.to_host(state_, 1)[0];
  // Effective energy (Bernetti & Bussi 2020): TotEng + P0 V - work of the cell moves, plus
  // the thermostat's reservoir (the potential-energy part of the work is a first-order
  // estimate, -sum_d W_dd d eps_d, so this is conserved only to O(d eps^2) per step).
  const double p0 = begin_ < 0 ? (p_.press[0].start + p_.press[1].start + p_.press[2].start) / 3.0
                               : s.p0;
  return inner_->reservoir_energy(ctx, sys) + p0 * sys.box().volume() / p_.nktv2p - s.work;
}

void StochasticCellRescaling::save_state(Context& ctx) {
  save_device_state(ctx, state_, saved_, begin_, saved_begin_);
  inner_->save_state(ctx);
}

void StochasticCellRescaling::restore_state(Context& ctx) {
  restore_device_state(ctx, state_, saved_, begin_, saved_begin_);
  inner_->restore_state(ctx);
}

std::vector<std::uint8_t> StochasticCellRescaling::serialize(Context& ctx) {
  StateWriter w("scr/1");
  w.put(begin_);
  w.put(ctx.to_host(state_, 1)[0]);
  const auto inner = inner_->serialize(ctx);
  w.put(static_cast<std::uint64_t>(inner.size()));
  for (auto b : inner) w.put(b);
  return w.take();
}

void StochasticCellRescaling::deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) {
  StateReader r(bytes, "scr/1");
  begin_ = r.get<long>();
  const ScrState s = r.get<ScrState>();
  const auto n = r.get<std::uint64_t>();
  std::vector<std::uint8_t> inner(n);
  for (auto& b : inner) b = r.get<std::uint8_t>();
  r.done();
  ctx.to_device(std::vector<ScrState>{s}, state_);
  inner_->deserialize(ctx, inner);
}

}  // namespace md
