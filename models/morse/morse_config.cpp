// [potential] style = "morse": per-pair D0, alpha, r0, cutoff; global cutoff default; shift.
#include "models/morse/morse.hpp"
#include "models/pair_config_util.hpp"

namespace md {

std::unique_ptr<Potential> make_morse(Section& s, const PotentialSetup& setup) {
  MorseParams p;
  p.n_types = static_cast<int>(setup.type_names.size());
  const std::size_t n = setup.type_names.size();
  p.pair.assign(n * n, MorsePairParams{});
  const bool has_cut = s.has("cutoff");
  const double cut = s.get_double("cutoff", 0.0);
  if (has_cut && !(cut > 0.0)) s.fail("cutoff", "must be positive");
  p.shift = s.get_bool("shift", false);
  std::vector<char> set(n * n, 0);
  for (Section& e : s.tables("pairs")) {
    const auto [i, j] = pair_types(e, setup.type_names);
    MorsePairParams q;
    q.d0 = e.get_double("d0");
    q.alpha = e.get_double("alpha");
    q.r0 = e.get_double("r0");
    if (!(q.d0 >= 0.0)) e.fail("d0", "must be non-negative");
    if (!(q.alpha > 0.0)) e.fail("alpha", "must be positive");
    if (e.has("cutoff")) {
      q.cutoff = e.get_double("cutoff");
    } else if (has_cut) {
      q.cutoff = cut;
    } else {
      e.fail("cutoff", "no cutoff for this pair and no [potential] cutoff default");
    }
    if (!(q.cutoff > 0.0)) e.fail("cutoff", "must be positive");
    q.set = true;
    if (set[i * n + j]) e.fail("types", "pair given twice");
    set[i * n + j] = set[j * n + i] = 1;
    p.pair[i * n + j] = p.pair[j * n + i] = q;
    e.finish();
  }
  require_all_pairs(s, set, setup, "morse");
  return std::make_unique<MorsePotential>(setup.ctx, std::move(p));
}

}  // namespace md
