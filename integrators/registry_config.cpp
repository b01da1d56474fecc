#include "integrators/registry.hpp"

#include "integrators/nve.hpp"
#include "io/toml_section.hpp"

namespace md {

std::unique_ptr<Integrator> make_nve(Section&, const IntegratorSetup&) {
  return std::make_unique<NVE>();
}

const std::vector<IntegratorStyle>& integrator_styles() {
  static const std::vector<IntegratorStyle> styles = {
      {"nve", make_nve, "velocity Verlet (LAMMPS fix nve)"},
  };
  return styles;
}

std::unique_ptr<Integrator> make_integrator(Section& run, const IntegratorSetup& setup) {
  std::vector<std::string> names;
  for (const auto& s : integrator_styles()) names.push_back(s.name);
  const std::string ensemble = run.get_choice("ensemble", names, std::string("nve"));
  for (const auto& s : integrator_styles())
    if (ensemble == s.name) return s.make(run, setup);
  run.fail("ensemble", "unknown ensemble");
}

}  // namespace md
