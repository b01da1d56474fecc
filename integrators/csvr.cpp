#include "integrators/csvr.hpp"

#include "integrators/nve.hpp"

namespace md {

namespace {

// New kinetic energy from the exact solution of the CSVR stochastic differential equation
// over one step (Bussi et al. 2007, appendix; as LAMMPS FixTempCSVR::resamplekin).
struct CsvrResample {
  double tdof, boltz, c1;  // c1 = exp(-dt/tdamp)
  double mvv2e;
  Ramp temp;        // target temperature, evaluated at the device step
  DeviceRamp ramp;  // also keys the noise
  std::uint64_t seed;
  CsvrState* state;
  const DVec<1>* mvv;
  MD_HD void operator()(Index) const {
    CsvrState& s = *state;
    const double t_target = temp.at(ramp.fraction());
    const double ke_target_per_dof = boltz * t_target;
    const std::uint64_t step = static_cast<std::uint64_t>(ramp.now());
    s.t_target = t_target;
    const double ke_old = 0.5 * mvv->v[0] * mvv2e;
    s.lambda = 1.0;
    if (!(ke_old > 0.0) || tdof < 1.0) return;
    RandomStream r{seed, step, kRandCsvr, 0u};
    const double ke_target = 0.5 * tdof * ke_target_per_dof;
    const double factor = (1.0 - c1) * ke_target / ke_old / tdof;
    const double r1 = r.gaussian();
    const double r2 = sum_of_squared_gaussians(r, tdof - 1.0);
    const double scale = c1 + factor * (r1 * r1 + r2) + 2.0 * r1 * sqrt(c1 * factor);
    s.lambda = sqrt(scale);
    s.energy += ke_old * (1.0 - scale);
  }
};

}  // namespace

Csvr::Csvr(Context& ctx, const CsvrParams& p, long run_steps)
    : p_(p), run_steps_(run_steps), state_(ctx, 1), saved_(ctx, 1), mvv_(ctx, 1),
      mvv_work_(ctx, 1) {
  ctx.to_device(std::vector<CsvrState>{CsvrState{1.0, 0.0, p.temp.start}}, state_);
}

void Csvr::step_one(Context& ctx, System& sys, const StepData& d) {
  if (begin_ < 0) begin_ = d.step;
  parallel_for(ctx, sys.n_local(),
               KickDrift{0.5 * d.dt * p_.ftm2v, d.dt, sys.type.data(), sys.mass_of_type.data(),
                         sys.fx.data(), sys.fy.data(), sys.fz.data(), sys.vx.data(),
                         sys.vy.data(), sys.vz.data(), sys.x.data(), sys.y.data(), sys.z.data()});
}

void Csvr::step_two(Context& ctx, System& sys, const StepData& d) {
  parallel_for(ctx, sys.n_local(),
               Kick{0.5 * d.dt * p_.ftm2v, sys.type.data(), sys.mass_of_type.data(),
                    sys.fx.data(), sys.fy.data(), sys.fz.data(), sys.vx.data(), sys.vy.data(),
                    sys.vz.data()});
  reduce_mvv(ctx, sys, mvv_work_.data(), mvv_.data());
  if (begin_ < 0) begin_ = d.step;
  parallel_for(ctx, 1,
               CsvrResample{p_.tdof, p_.boltz, std::exp(-d.dt / p_.tdamp), p_.mvv2e, p_.temp,
                            DeviceRamp{d.step_dev, begin_, run_steps_}, p_.seed, state_.data(),
                            mvv_.data()});
  parallel_for(ctx, sys.n_local(),
               ScaleVelocities{&state_.data()->lambda, sys.vx.data(), sys.vy.data(),
                               sys.vz.data()});
}

double Csvr::reservoir_energy(Context& ctx, System&) {
  return ctx.to_host(state_, 1)[0].energy;
}

void Csvr::save_state(Context& ctx) {
  save_device_state(ctx, state_, saved_, begin_, saved_begin_);
}

void Csvr::restore_state(Context& ctx) {
  restore_device_state(ctx, state_, saved_, begin_, saved_begin_);
}

std::vector<std::uint8_t> Csvr::serialize(Context& ctx) {
  return serialize_device_state(ctx, "csvr/1", begin_, state_);
}

void Csvr::deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) {
  deserialize_device_state(ctx, bytes, "csvr/1", begin_, state_);
}

}  // namespace md
