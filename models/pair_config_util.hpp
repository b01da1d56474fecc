// Helpers shared by the pair styles' [potential] readers (host only): type-name lookup and
// the check that every type pair that can reach a style has parameters.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "engine/config.hpp"
#include "models/registry.hpp"

namespace md {

inline int pair_type_index(Section& s, const std::string& key, const std::string& name,
                           const std::vector<std::string>& types) {
  auto it = std::find(types.begin(), types.end(), name);
  if (it == types.end()) s.fail(key, "type \"" + name + "\" is not in the system");
  return static_cast<int>(it - types.begin());
}

// Reads `types = ["A", "B"]` of a pairs entry.
inline std::pair<int, int> pair_types(Section& e, const std::vector<std::string>& types) {
  const auto names = e.get_strings("types");
  if (names.size() != 2) e.fail("types", "expected two type names");
  return {pair_type_index(e, "types", names[0], types), pair_type_index(e, "types", names[1], types)};
}

// Throws (naming the pair) when a pair that reaches this style has no parameters. In an
// overlay only the pairs the term applies to must be given (setup.active_pairs).
inline void require_all_pairs(Section& s, const std::vector<char>& set,
                              const PotentialSetup& setup, const std::string& style) {
  const auto& types = setup.type_names;
  const std::size_t n = types.size();
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t j = i; j < n; ++j) {
      const bool needed = !setup.active_pairs || (*setup.active_pairs)[i * n + j];
      if (needed && !set[i * n + j])
        s.fail("pairs", style + ": no parameters for the pair " + types[i] + "-" + types[j] +
                            " (" + style + " does not mix; list every pair)");
    }
}

}  // namespace md
