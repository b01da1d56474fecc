// Time integrators split as velocity Verlet: step_one (half kick + drift, barostat box
// update) before the force call, step_two (half kick, thermostat) after it. All state lives
// on the device; the host only enqueues. save_state/restore_state back the simulation's
// roll-back; serialize/deserialize back checkpoints (sync points only, may transfer).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/system.hpp"

namespace md {

// What a step sees. `energy`/`virial` are the per-atom arrays of the most recent force call
// (virial: [6*n] component-major, xx yy zz xy xz yz) — valid every step only when the
// integrator needs_virial(), otherwise only on sync steps.
//
// `step` is the host's copy of the step index; kernels must not take it (or anything computed
// from it, such as a ramp target) by value: they read `step_dev`, the device step counter,
// so that the launches of a steady step are identical from step to step and can be captured
// once and replayed (step graphs, Context::begin_capture). The host value may only set
// run constants (e.g. the step a ramp starts from, at the first step).
struct StepData {
  double dt = 0;
  long step = 0;  // index of the step being taken (the state after it is at step + 1)
  const double* energy = nullptr;
  const double* virial = nullptr;
  const long* step_dev = nullptr;  // device: the index of the step being taken
};

class Integrator {
 public:
  virtual ~Integrator() = default;
  virtual std::string name() const = 0;
  virtual void step_one(Context& ctx, System& sys, const StepData& d) = 0;
  virtual void step_two(Context& ctx, System& sys, const StepData& d) = 0;

  // The virial (pressure) is needed every step (barostats).
  virtual bool needs_virial() const { return false; }
  // The device cell changes during the run (the host mirror is refreshed at sync points).
  virtual bool changes_box() const { return false; }
  // Energy of thermostat/barostat reservoirs (Econserve = TotEng + this), at sync points.
  virtual double reservoir_energy(Context&, System&) { return 0.0; }

  virtual void save_state(Context&) {}
  virtual void restore_state(Context&) {}
  virtual std::vector<std::uint8_t> serialize(Context&) { return {}; }
  virtual void deserialize(Context&, const std::vector<std::uint8_t>&) {}
};

}  // namespace md
