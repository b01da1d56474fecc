// Registry of integrators by `[run] ensemble` name. Each factory reads its own keys from
// the [run] table (e.g. thermostat/barostat parameters) and returns a device-ready Integrator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/integrator.hpp"
#include "engine/units.hpp"

namespace md {

class Section;

struct IntegratorSetup {
  Context& ctx;
  System& system;
  const Units& units;
  double dt;
  long steps;  // run length (for start/stop ramps)
};

using IntegratorFactory = std::unique_ptr<Integrator> (*)(Section&, const IntegratorSetup&);

struct IntegratorStyle {
  const char* name;
  IntegratorFactory make;
  const char* summary;
};

const std::vector<IntegratorStyle>& integrator_styles();
// Reads `ensemble` (default "nve") and dispatches.
std::unique_ptr<Integrator> make_integrator(Section& run, const IntegratorSetup& setup);

std::unique_ptr<Integrator> make_nve(Section& run, const IntegratorSetup& setup);
// [run] thermostat = {...} (nvt) and thermostat + barostat = {...} (npt); see inputs/README.md.
std::unique_ptr<Integrator> make_nvt(Section& run, const IntegratorSetup& setup);
std::unique_ptr<Integrator> make_npt(Section& run, const IntegratorSetup& setup);

}  // namespace md
