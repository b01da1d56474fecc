// Helpers for the classical potentials' unit tests: build a potential from a TOML
// [potential] table, and a verification-ladder case (check_model) for one. Used by
// tests/test_eam.cpp and tests/test_pair_styles.cpp.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "engine/potential.hpp"
#include "engine/structure.hpp"
#include "io/toml_section.hpp"
#include "model_ladder.hpp"
#include "models/registry.hpp"
#include "support.hpp"

namespace md::test {

inline std::string source_path(const std::string& rel) {
  return std::string(MDGPU_SOURCE_DIR) + "/" + rel;
}

// [potential] table given as TOML text (without the header) -> Potential (metal units).
inline std::unique_ptr<Potential> potential_from_toml(Context& ctx,
                                                      const std::vector<std::string>& types,
                                                      const std::string& body,
                                                      const std::string& input_dir = ".") {
  const toml::table root = toml::parse("[potential]\n" + body, std::string("test.toml"));
  TomlSection top(root, "", "test.toml");
  Section pot = *top.table("potential");
  static const Units metal = Units::metal();
  auto p = make_potential(pot, PotentialSetup{ctx, types, metal, input_dir});
  pot.finish();
  return p;
}

inline Structure with_types(Structure s, const std::vector<std::string>& names,
                            const std::vector<double>& masses) {
  s.type_names = names;
  s.type_masses = masses;
  return s;
}

// A verification-ladder case (tests/model_ladder.hpp) for a potential given as [potential]
// TOML text, metal units, the ladder's default tolerances (relative to max|F| and max|W|).
inline LadderCase toml_case(const std::string& name, const Structure& s, const std::string& body) {
  LadderCase c;
  c.name = name;
  c.structure = s;
  c.make = [body](Context& ctx, const std::vector<std::string>& types) {
    return potential_from_toml(ctx, types, body);
  };
  return c;
}

}  // namespace md::test
