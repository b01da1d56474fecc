#include "integrators/langevin.hpp"

#include "integrators/nve.hpp"

namespace md {

namespace {

// B A O A for one atom; stores the kinetic energy change of the O step (energy units) per
// atom, summed afterwards by a pure reduction (SumHeat): a reduction transform must not
// write state, as CUB does not promise to apply it exactly once per index.
struct BAOAB {
  double dtf, half_dt, c1;
  double mvv2e, boltz;
  Ramp temp;        // target temperature, evaluated at the device step
  DeviceRamp ramp;  // also keys the noise
  std::uint64_t seed;
  const std::int64_t* id;
  const int* type;
  const double* mass_of_type;
  const double *fx, *fy, *fz;
  double *vx, *vy, *vz, *x, *y, *z;
  double* dke;
  MD_HD void operator()(Index i) const {
    const double m = mass_of_type[type[i]];
    const double dtfm = dtf / m;
    double u = vx[i] + dtfm * fx[i], v = vy[i] + dtfm * fy[i], w = vz[i] + dtfm * fz[i];
    double px = x[i] + half_dt * u, py = y[i] + half_dt * v, pz = z[i] + half_dt * w;
    const double ke0 = u * u + v * v + w * w;
    double g[4];
    gaussian4(seed, id[i], static_cast<std::uint64_t>(ramp.now()), kRandLangevin, g);
    const double t = temp.at(ramp.fraction());
    const double c2_kt = (1.0 - c1 * c1) * boltz * t / mvv2e;  // (1 - c1^2) kT / mvv2e
    const double sigma = sqrt(c2_kt / m);
    u = c1 * u + sigma * g[0];
    v = c1 * v + sigma * g[1];
    w = c1 * w + sigma * g[2];
    px += half_dt * u;
    py += half_dt * v;
    pz += half_dt * w;
    vx[i] = u;
    vy[i] = v;
    vz[i] = w;
    x[i] = px;
    y[i] = py;
    z[i] = pz;
    dke[i] = 0.5 * m * (u * u + v * v + w * w - ke0) * mvv2e;
  }
};

struct SumHeat {
  const double* dke;
  MD_HD DVec<1> operator()(Index i) const {
    DVec<1> r;
    r.v[0] = dke[i];
    return r;
  }
};

struct AccumulateHeat {
  LangevinState* state;
  const DVec<1>* dke;
  MD_HD void operator()(Index) const { state->heat += dke->v[0]; }
};

}  // namespace

Langevin::Langevin(Context& ctx, const LangevinParams& p, long run_steps)
    : p_(p), run_steps_(run_steps), state_(ctx, 1), saved_(ctx, 1), dke_(ctx, 1),
      dke_work_(ctx, 1) {
  ctx.to_device(std::vector<LangevinState>{LangevinState{0.0}}, state_);
}

void Langevin::step_one(Context& ctx, System& sys, const StepData& d) {
  if (begin_ < 0) begin_ = d.step;
  const double c1 = std::exp(-d.dt / p_.damp);
  const Index n = sys.n_local();
  if (dke_atom_.size() < static_cast<std::size_t>(n)) {  // first step only
    dke_atom_.bind(ctx);
    dke_atom_.resize(static_cast<std::size_t>(n));
  }
  parallel_for(ctx, n,
               BAOAB{0.5 * d.dt * p_.ftm2v, 0.5 * d.dt, c1, p_.mvv2e, p_.boltz, p_.temp,
                     DeviceRamp{d.step_dev, begin_, run_steps_}, p_.seed, sys.id.data(),
                     sys.type.data(), sys.mass_of_type.data(), sys.fx.data(), sys.fy.data(),
                     sys.fz.data(), sys.vx.data(), sys.vy.data(), sys.vz.data(), sys.x.data(),
                     sys.y.data(), sys.z.data(), dke_atom_.data()});
  exact_sum<1>(ctx, sys, SumHeat{dke_atom_.data()}, dke_work_.data(), dke_.data());
  parallel_for(ctx, 1, AccumulateHeat{state_.data(), dke_.data()});
}

void Langevin::step_two(Context& ctx, System& sys, const StepData& d) {
  parallel_for(ctx, sys.n_local(),
               Kick{0.5 * d.dt * p_.ftm2v, sys.type.data(), sys.mass_of_type.data(),
                    sys.fx.data(), sys.fy.data(), sys.fz.data(), sys.vx.data(), sys.vy.data(),
                    sys.vz.data()});
}

double Langevin::reservoir_energy(Context& ctx, System&) {
  return -ctx.to_host(state_, 1)[0].heat;
}

void Langevin::save_state(Context& ctx) {
  save_device_state(ctx, state_, saved_, begin_, saved_begin_);
}

void Langevin::restore_state(Context& ctx) {
  restore_device_state(ctx, state_, saved_, begin_, saved_begin_);
}

std::vector<std::uint8_t> Langevin::serialize(Context& ctx) {
  return serialize_device_state(ctx, "langevin/1", begin_, state_);
}

void Langevin::deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) {
  deserialize_device_state(ctx, bytes, "langevin/1", begin_, state_);
}

}  // namespace md
