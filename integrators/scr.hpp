// Stochastic cell rescaling barostat (Bernetti & Bussi, J. Chem. Phys. 153, 114107 (2020)):
// a first-order (overdamped) stochastic equation for the strain, integrated once per step
// at the start of step_one, around any thermostat (nose-hoover, csvr, langevin) that does
// the rest of the step. iso: eps = ln V,
//   d eps = -(beta_T / tau_p) (P0 - P - kT/V) dt + sqrt(2 kT beta_T / (V tau_p)) dW,
// every length scaled by exp(d eps / 3); aniso: eps_d = ln L_d per barostatted dimension
// with mobility beta_T / (3 tau_p) (same volume relaxation as iso; an extension derived from
// the same fluctuation-dissipation argument, as in Del Tatto et al., Appl. Sci. 12, 1139
// (2022)). Positions scale with the cell, velocities inversely. Units: LAMMPS (P in bar or
// reduced, beta_T in 1/pressure). Created by integrators/registry_config.cpp.
#pragma once

#include <memory>

#include "engine/integrator.hpp"
#include "integrators/common.hpp"

namespace md {

struct ScrParams {
  int iso = 1;
  int p_flag[3] = {1, 1, 1};
  Ramp press[3];             // target pressure per dimension (iso: all equal)
  Ramp temp;                 // the thermostat's target temperature
  double compressibility = 0;  // beta_T, 1/pressure
  double tau = 0;              // tau_p, time
  std::uint64_t seed = 0;
  double boltz = 0, nktv2p = 0, mvv2e = 0;
};

struct ScrState {
  double mu[3];  // length scale factors of this step
  double work;   // energy put in by the cell moves (first-order estimate of the potential part)
  double p0;     // current mean target pressure
  Box box_old, box_new;
};

class StochasticCellRescaling : public Integrator {
 public:
  StochasticCellRescaling(Context& ctx, const ScrParams& p, std::unique_ptr<Integrator> thermostat,
                          long run_steps);
  std::string name() const override { return "npt-scr+" + inner_->name(); }
  void step_one(Context& ctx, System& sys, const StepData& d) override;
  void step_two(Context& ctx, System& sys, const StepData& d) override;
  bool needs_virial() const override { return true; }
  bool changes_box() const override { return true; }
  double reservoir_energy(Context& ctx, System& sys) override;
  void save_state(Context& ctx) override;
  void restore_state(Context& ctx) override;
  std::vector<std::uint8_t> serialize(Context& ctx) override;
  void deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) override;

 private:
  ScrParams p_;
  std::unique_ptr<Integrator> inner_;
  long run_steps_, begin_ = -1, saved_begin_ = -1;
  DeviceArray<ScrState> state_, saved_;
  DeviceArray<Sums12> sums_;
  DeviceArray<FVec<12>> sums_work_;  // exact-sum workspace
};

}  // namespace md
