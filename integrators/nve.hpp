// NVE velocity Verlet (LAMMPS fix nve): v += dt/2 F/m (ftm2v), x += dt v; then v += dt/2 F/m.
#pragma once

#include "engine/integrator.hpp"

namespace md {

struct KickDrift {
  double dtf, dtv;  // dtf = dt/2 * ftm2v, dtv = dt
  const int* type;
  const double* mass_of_type;
  const double *fx, *fy, *fz;
  double *vx, *vy, *vz, *x, *y, *z;
  MD_HD void operator()(Index i) const {
    const double dtfm = dtf / mass_of_type[type[i]];
    vx[i] += dtfm * fx[i];
    vy[i] += dtfm * fy[i];
    vz[i] += dtfm * fz[i];
    x[i] += dtv * vx[i];
    y[i] += dtv * vy[i];
    z[i] += dtv * vz[i];
  }
};

struct Kick {
  double dtf;
  const int* type;
  const double* mass_of_type;
  const double *fx, *fy, *fz;
  double *vx, *vy, *vz;
  MD_HD void operator()(Index i) const {
    const double dtfm = dtf / mass_of_type[type[i]];
    vx[i] += dtfm * fx[i];
    vy[i] += dtfm * fy[i];
    vz[i] += dtfm * fz[i];
  }
};

class NVE : public Integrator {
 public:
  std::string name() const override { return "nve"; }
  void step_one(Context& ctx, System& sys, const StepData& d) override;
  void step_two(Context& ctx, System& sys, const StepData& d) override;
};

}  // namespace md
