// Registry of potential styles by name ([potential] style = "..."): each style's factory
// reads its own keys from the [potential] table and returns a device-ready Potential.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "engine/units.hpp"

namespace md {

class Section;

struct PotentialSetup {
  Context& ctx;
  const std::vector<std::string>& type_names;  // system types, index = type
  const Units& units;
  std::string input_dir;  // potential files are looked up relative to the input file
};

using PotentialFactory = std::unique_ptr<Potential> (*)(Section&, const PotentialSetup&);

struct PotentialStyle {
  const char* name;
  PotentialFactory make;
  const char* summary;
};

const std::vector<PotentialStyle>& potential_styles();
// Reads `style` and dispatches; unknown styles are an error listing the known ones.
std::unique_ptr<Potential> make_potential(Section& potential, const PotentialSetup& setup);

// Style factories (one per model, in models/<name>/<name>_config.cpp).
std::unique_ptr<Potential> make_lj(Section& s, const PotentialSetup& setup);

}  // namespace md
