// Time integrators split as velocity Verlet: step_one (half kick + drift) before the force
// call, step_two (half kick, thermostat) after it. Their state lives on the device;
// save_state/restore_state support the simulation's roll-back on capacity overflow.
#pragma once

#include <string>

#include "engine/backend.hpp"
#include "engine/system.hpp"

namespace md {

class Integrator {
 public:
  virtual ~Integrator() = default;
  virtual std::string name() const = 0;
  virtual void step_one(Context& ctx, System& sys, double dt) = 0;
  virtual void step_two(Context& ctx, System& sys, double dt) = 0;
  virtual void save_state(Context&) {}
  virtual void restore_state(Context&) {}
};

}  // namespace md
