// PotentialSum: the neighbour-list filter kernel and the term loop.
#include "models/overlay/overlay.hpp"

#include <algorithm>

#include "kernels/launch.hpp"

namespace md {

namespace {

// Copies atom i's neighbours whose type pair is in the mask, keeping their order.
struct FilterNeighbors {
  NeighborView in;
  const int* type;
  const char* mask;
  int n_types;
  int* neigh;
  int* num_neigh;
  MD_HD void operator()(Index i) const {
    const int ti = type[i];
    const int nn = in.num_neigh[i];
    int kept = 0;
    for (int k = 0; k < nn; ++k) {
      const int j = in.neigh[static_cast<Index>(k) * in.n_local + i];
      if (!mask[ti * n_types + type[j]]) continue;
      neigh[static_cast<Index>(kept) * in.n_local + i] = j;
      ++kept;
    }
    num_neigh[i] = kept;
  }
};

}  // namespace

void PotentialSum::add(Context& ctx, std::unique_ptr<Potential> term, std::vector<char> pair_mask) {
  Term t;
  t.pot = std::move(term);
  t.restricted = !pair_mask.empty() &&
                 std::any_of(pair_mask.begin(), pair_mask.end(), [](char c) { return c == 0; });
  t.mask.bind(ctx);
  t.neigh.bind(ctx);
  t.num_neigh.bind(ctx);
  if (t.restricted) ctx.to_device(pair_mask, t.mask);
  terms_.push_back(std::move(t));
}

std::string PotentialSum::style() const {
  std::string s = "overlay(";
  for (std::size_t k = 0; k < terms_.size(); ++k) s += (k ? "+" : "") + terms_[k].pot->style();
  return s + ")";
}

double PotentialSum::cutoff() const {
  double c = 0;
  for (const Term& t : terms_) c = std::max(c, t.pot->cutoff());
  return c;
}

double PotentialSum::import_distance(double skin) const {
  double d = 0;
  for (const Term& t : terms_) d = std::max(d, t.pot->import_distance(skin));
  return d;
}

double PotentialSum::import_list_distance(double skin) const {
  double d = 0;
  for (const Term& t : terms_) d = std::max(d, t.pot->import_list_distance(skin));
  return d;
}

std::string PotentialSum::import_rule(double skin) const {
  std::string rule;
  double d = -1;
  for (const Term& t : terms_)  // the widest term's rule
    if (t.pot->import_distance(skin) > d) {
      d = t.pot->import_distance(skin);
      rule = t.pot->import_rule(skin) + " of " + t.pot->style();
    }
  return rule;
}

std::string PotentialSum::several_ranks_refusal() const {
  for (const Term& t : terms_)
    if (!t.pot->several_ranks_refusal().empty()) return t.pot->several_ranks_refusal();
  return "";
}

void PotentialSum::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                           const ForceOut& out, ForceRequest req) {
  for (std::size_t k = 0; k < terms_.size(); ++k) {
    Term& t = terms_[k];
    NeighborView view = nl;
    if (t.restricted) {
      // Allocation follows the list capacity (no transfer); contents are rebuilt each call.
      const std::size_t cap = static_cast<std::size_t>(nl.max_neigh) * sys.n_local;
      if (t.neigh.size() < cap) t.neigh.resize(cap);
      if (t.num_neigh.size() < static_cast<std::size_t>(sys.n_local))
        t.num_neigh.resize(static_cast<std::size_t>(sys.n_local));
      parallel_for(ctx, sys.n_local,
                   FilterNeighbors{nl, sys.type, t.mask.data(), sys.n_types, t.neigh.data(),
                                   t.num_neigh.data()});
      view.neigh = t.neigh.data();
      view.num_neigh = t.num_neigh.data();
    }
    ForceOut o = out;
    o.accumulate = out.accumulate || k > 0;
    t.pot->compute(ctx, sys, view, o, req);
  }
}

}  // namespace md
