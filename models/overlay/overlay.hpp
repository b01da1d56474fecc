// PotentialSum (LAMMPS pair_style hybrid/overlay): several potentials whose forces, energies
// and virials add, each optionally restricted to chosen type pairs, all sharing one
// neighbour list built for the largest cutoff. A restricted term sees a filtered copy of the
// list (only its pairs), refreshed on the device at every force call. Built by
// models/overlay/overlay_config.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"

namespace md {

class PotentialSum : public Potential {
 public:
  PotentialSum() = default;
  // pair_mask: [n_types^2] (1 = the term acts on this pair), empty = all pairs.
  void add(Context& ctx, std::unique_ptr<Potential> term, std::vector<char> pair_mask);
  std::string style() const override;
  double cutoff() const override;
  // The largest of the terms' import distances (each term needs its own; engine/potential.hpp).
  double import_distance(double skin) const override;
  std::string import_rule(double skin) const override;
  std::string several_ranks_refusal() const override;
  // The largest of the terms'.
  double import_list_distance(double skin) const override;
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  std::size_t size() const { return terms_.size(); }
  Potential& term(std::size_t k) { return *terms_[k].pot; }

 private:
  struct Term {
    std::unique_ptr<Potential> pot;
    bool restricted = false;
    DeviceArray<char> mask;
    DeviceArray<int> neigh, num_neigh;  // filtered list
  };
  std::vector<Term> terms_;
};

}  // namespace md
