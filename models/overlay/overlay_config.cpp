// [potential] style = "overlay": [[potential.terms]] tables, each a complete style
// description plus an optional apply_to = ["A-B", "A-*", ...] restricting it to type pairs.
#include <algorithm>

#include "engine/config.hpp"
#include "models/overlay/overlay.hpp"
#include "models/registry.hpp"

namespace md {

static std::vector<char> read_apply_to(Section& t, const std::vector<std::string>& types) {
  const std::size_t n = types.size();
  std::vector<char> mask(n * n, 0);
  for (const std::string& entry : t.get_strings("apply_to")) {
    const std::size_t dash = entry.find('-');
    if (dash == std::string::npos || entry.find('-', dash + 1) != std::string::npos)
      t.fail("apply_to", "\"" + entry + "\" is not a type pair \"A-B\" (\"*\" matches any type)");
    const std::string a = entry.substr(0, dash), b = entry.substr(dash + 1);
    auto match = [&](const std::string& name, std::size_t k) {
      if (name != "*" && std::find(types.begin(), types.end(), name) == types.end())
        t.fail("apply_to", "type \"" + name + "\" is not in the system");
      return name == "*" || types[k] == name;
    };
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t j = 0; j < n; ++j)
        if (match(a, i) && match(b, j)) mask[i * n + j] = mask[j * n + i] = 1;
  }
  return mask;
}

std::unique_ptr<Potential> make_overlay(Section& s, const PotentialSetup& setup) {
  auto sum = std::make_unique<PotentialSum>();
  for (Section& t : s.tables("terms")) {
    if (t.has("style") && t.get_string("style") == "overlay")
      t.fail("style", "an overlay term cannot itself be an overlay");
    std::vector<char> mask;
    PotentialSetup sub = setup;
    if (t.has("apply_to")) {
      mask = read_apply_to(t, setup.type_names);
      sub.active_pairs = &mask;
    }
    std::unique_ptr<Potential> pot = make_potential(t, sub);
    t.finish();
    sum->add(setup.ctx, std::move(pot), std::move(mask));
  }
  if (sum->size() == 0) s.fail("terms", "an overlay needs at least one term");
  return sum;
}

}  // namespace md
