#include "models/registry.hpp"

#include "io/toml_section.hpp"

namespace md {

const std::vector<PotentialStyle>& potential_styles() {
  static const std::vector<PotentialStyle> styles = {
      {"lj", make_lj, "Lennard-Jones 12-6 (LAMMPS lj/cut), per type pair, mixing, shift"},
  };
  return styles;
}

std::unique_ptr<Potential> make_potential(Section& potential, const PotentialSetup& setup) {
  std::vector<std::string> names;
  for (const auto& s : potential_styles()) names.push_back(s.name);
  const std::string style = potential.get_choice("style", names);
  for (const auto& s : potential_styles())
    if (style == s.name) return s.make(potential, setup);
  potential.fail("style", "unknown style");
}

}  // namespace md
