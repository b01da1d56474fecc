// Bussi-Donadio-Parrinello stochastic velocity rescaling (J. Chem. Phys. 126, 014101 (2007);
// LAMMPS fix temp/csvr): velocity Verlet, then once per step the kinetic energy is drawn
// from its canonical relaxation over the damping time tdamp and all velocities are scaled.
// The energy taken out by the thermostat is accumulated so Econserve = TotEng + that sum is
// conserved. Random numbers: Philox keyed by (seed, step). Created by registry_config.cpp.
#pragma once

#include "engine/integrator.hpp"
#include "integrators/common.hpp"

namespace md {

struct CsvrParams {
  Ramp temp;          // target temperature
  double tdamp = 0;   // relaxation time of the kinetic energy
  std::uint64_t seed = 0;
  double tdof = 0, boltz = 0, mvv2e = 0, ftm2v = 0;
};

struct CsvrState {
  double lambda;  // velocity scale factor of this step
  double energy;  // energy removed by the thermostat so far
  double t_target;
};

class Csvr : public Integrator {
 public:
  Csvr(Context& ctx, const CsvrParams& p, long run_steps);
  std::string name() const override { return "nvt-csvr"; }
  void step_one(Context& ctx, System& sys, const StepData& d) override;
  void step_two(Context& ctx, System& sys, const StepData& d) override;
  double reservoir_energy(Context& ctx, System& sys) override;
  void save_state(Context& ctx) override;
  void restore_state(Context& ctx) override;
  std::vector<std::uint8_t> serialize(Context& ctx) override;
  void deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) override;
  // Target temperature at the current point of the run (host; for barostats sharing it).

 private:
  CsvrParams p_;
  long run_steps_, begin_ = -1, saved_begin_ = -1;
  DeviceArray<CsvrState> state_, saved_;
  DeviceArray<DVec<1>> mvv_;
  DeviceArray<FVec<1>> mvv_work_;  // exact-sum workspace
};

}  // namespace md
