#include "integrators/nve.hpp"

#include "kernels/launch.hpp"

namespace md {

void NVE::step_one(Context& ctx, System& sys, const StepData& d) {
  const double dt = d.dt;
  const double dtf = 0.5 * dt * sys.units().ftm2v;
  parallel_for(ctx, sys.n_local(),
               KickDrift{dtf, dt, sys.type.data(), sys.mass_of_type.data(), sys.fx.data(),
                         sys.fy.data(), sys.fz.data(), sys.vx.data(), sys.vy.data(),
                         sys.vz.data(), sys.x.data(), sys.y.data(), sys.z.data()});
}

void NVE::step_two(Context& ctx, System& sys, const StepData& d) {
  const double dt = d.dt;
  const double dtf = 0.5 * dt * sys.units().ftm2v;
  parallel_for(ctx, sys.n_local(),
               Kick{dtf, sys.type.data(), sys.mass_of_type.data(), sys.fx.data(), sys.fy.data(),
                    sys.fz.data(), sys.vx.data(), sys.vy.data(), sys.vz.data()});
}

}  // namespace md
