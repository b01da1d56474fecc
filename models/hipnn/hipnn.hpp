// HIP-NN potential (Lubbers, Smith and Barros, J. Chem. Phys. 148, 241715 (2018); hippynn 0.1.3
// maths) on both executors: one-hot species input, interaction layers (per-pair sensitivities
// aggregated per atom by kernels/message_passing.hpp, then the interaction and atom layers per
// atom), hierarchical energy heads, and the backward pass to pair partials -> forces and
// virial. Model units (checked against the run's at load). Built by [potential] style "hipnn"
// (hipnn_config.cpp); kernels in hipnn_kernel.hpp, launches in hipnn.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "models/hipnn/hipnn_io.hpp"

namespace md::hipnn {

enum class Precision { double_, mixed };

struct Options {
  Precision precision = Precision::double_;
  std::vector<int> species_of_type;  // system type -> model species index
  int rows = 16;                     // pairs per tile of the aggregation
};

class HipnnPotential : public Potential {
 public:
  HipnnPotential(Context& ctx, Params params, Options opt);
  ~HipnnPotential() override;
  std::string style() const override { return "hipnn"; }
  double cutoff() const override { return params_.cutoff; }
  // Several ranks: the receptive field of an atom's energy is L interaction layers x rc, so a
  // rank imports 2 L rc + skin (engine/potential.hpp, receptive_import_distance) and computes
  // the layers of its imported atoms redundantly (no per-layer halo exchange between ranks).
  double import_distance(double skin) const override {
    return receptive_import_distance(params_.n_interactions(), params_.cutoff, skin);
  }
  // every imported atom's list (features travel n_interactions hops)
  double import_list_distance(double skin) const override { return import_distance(skin); }
  std::string import_rule(double) const override {
    return "2 x " + std::to_string(params_.n_interactions()) + " interaction layers x cutoff + skin";
  }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const Params& params() const { return params_; }

 private:
  template <class T>
  struct Impl;
  Params params_;
  Options opt_;
  std::unique_ptr<Impl<double>> impl_d_;
  std::unique_ptr<Impl<float>> impl_f_;
};

}  // namespace md::hipnn
