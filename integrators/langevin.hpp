// Langevin dynamics with the BAOAB splitting of Leimkuhler & Matthews (Appl. Math. Res.
// Express 2013, 34): half kick (B), half drift (A), exact Ornstein-Uhlenbeck velocity update
// over dt with friction 1/damp (O), half drift (A) in step_one; half kick (B) in step_two.
// Noise: Philox keyed by (seed, step, atom id), so trajectories do not depend on thread order.
// The kinetic energy exchanged in the O steps is accumulated (LAMMPS fix langevin tally yes)
// so Econserve = TotEng - that sum is conserved up to the integration error.
#pragma once

#include "engine/integrator.hpp"
#include "integrators/common.hpp"

namespace md {

struct LangevinParams {
  Ramp temp;
  double damp = 0;  // LAMMPS damp: 1 / friction, time units
  std::uint64_t seed = 0;
  double boltz = 0, mvv2e = 0, ftm2v = 0;
};

struct LangevinState {
  double heat;  // kinetic energy added by the O steps so far
};

class Langevin : public Integrator {
 public:
  Langevin(Context& ctx, const LangevinParams& p, long run_steps);
  std::string name() const override { return "nvt-langevin"; }
  void step_one(Context& ctx, System& sys, const StepData& d) override;
  void step_two(Context& ctx, System& sys, const StepData& d) override;
  double reservoir_energy(Context& ctx, System& sys) override;
  void save_state(Context& ctx) override;
  void restore_state(Context& ctx) override;
  std::vector<std::uint8_t> serialize(Context& ctx) override;
  void deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) override;

 private:
  LangevinParams p_;
  long run_steps_, begin_ = -1, saved_begin_ = -1;
  DeviceArray<LangevinState> state_, saved_;
  DeviceArray<DVec<1>> dke_;
  DeviceArray<FVec<1>> dke_work_;  // exact-sum workspace
  DeviceArray<double> dke_atom_;  // per-atom O-step energy change, summed into dke_
};

}  // namespace md
