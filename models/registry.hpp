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
  // Set by an overlay for a term restricted to some type pairs ([n_types^2], 1 = active):
  // styles need parameters only for active pairs. Null: all pairs.
  const std::vector<char>* active_pairs = nullptr;
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
std::unique_ptr<Potential> make_deepmd(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_eam(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_eam_alloy(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_eam_fs(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_zbl(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_table(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_morse(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_overlay(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_snap(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_gap(Section& s, const PotentialSetup& setup);
std::unique_ptr<Potential> make_flare(Section& s, const PotentialSetup& setup);

}  // namespace md
