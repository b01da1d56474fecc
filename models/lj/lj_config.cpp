// [potential] style = "lj": reads per-pair epsilon/sigma/cutoff, mixing and shift.
#include <algorithm>

#include "engine/config.hpp"
#include "models/lj/lj.hpp"
#include "models/registry.hpp"

namespace md {

static int type_index(Section& s, const std::string& key, const std::string& name,
                      const std::vector<std::string>& types) {
  auto it = std::find(types.begin(), types.end(), name);
  if (it == types.end()) s.fail(key, "type \"" + name + "\" is not in the system");
  return static_cast<int>(it - types.begin());
}

std::unique_ptr<Potential> make_lj(Section& s, const PotentialSetup& setup) {
  LJParams p;
  p.n_types = static_cast<int>(setup.type_names.size());
  p.pair.assign(static_cast<std::size_t>(p.n_types) * p.n_types, LJPairParams{});
  const bool has_global_cut = s.has("cutoff");
  const double global_cut = s.get_double("cutoff", 0.0);
  if (has_global_cut && !(global_cut > 0.0)) s.fail("cutoff", "must be positive");
  const std::string mix =
      s.get_choice("mixing", {"geometric", "arithmetic", "sixthpower"}, std::string("geometric"));
  p.mixing = mix == "geometric" ? Mixing::geometric
                                : (mix == "arithmetic" ? Mixing::arithmetic : Mixing::sixthpower);
  p.shift = s.get_bool("shift", false);
  for (Section& e : s.tables("pairs")) {
    const auto names = e.get_strings("types");
    if (names.size() != 2) e.fail("types", "expected two type names");
    const int i = type_index(e, "types", names[0], setup.type_names);
    const int j = type_index(e, "types", names[1], setup.type_names);
    LJPairParams q;
    q.epsilon = e.get_double("epsilon");
    q.sigma = e.get_double("sigma");
    if (!(q.epsilon >= 0.0)) e.fail("epsilon", "must be non-negative");
    if (!(q.sigma > 0.0)) e.fail("sigma", "must be positive");
    if (e.has("cutoff")) {
      q.cutoff = e.get_double("cutoff");
    } else if (has_global_cut) {
      q.cutoff = global_cut;
    } else {
      e.fail("cutoff", "no cutoff for this pair and no [potential] cutoff default");
    }
    if (!(q.cutoff > 0.0)) e.fail("cutoff", "must be positive");
    q.set = true;
    if (p.pair[i * p.n_types + j].set)
      e.fail("types", "pair " + names[0] + "-" + names[1] + " given twice");
    p.pair[i * p.n_types + j] = q;
    p.pair[j * p.n_types + i] = q;
    e.finish();
  }
  p.complete(setup.type_names);
  return std::make_unique<LJPotential>(setup.ctx, std::move(p));
}

}  // namespace md
