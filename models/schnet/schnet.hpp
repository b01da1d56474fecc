// SchNet potential (Schütt et al., J. Chem. Phys. 148, 241722 (2018); schnetpack 2.x maths) on
// both executors: embedding, T interaction blocks (per-pair filter networks aggregated per atom
// by kernels/message_passing.hpp), Atomwise head, and the backward pass to pair partials ->
// forces and virial. Energies and lengths in the model file's units (checked against the run's
// at load). Built by the [potential] style "schnet" (schnet_config.cpp); kernels in
// schnet_kernel.hpp, launches in schnet.cpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "models/schnet/schnet_io.hpp"

namespace md::schnet {

enum class Precision { double_, mixed };

struct Options {
  Precision precision = Precision::double_;
  std::vector<int> species_of_type;  // system type -> model species index
  int rows = 0;                      // pairs per tile (0: chosen from the widths)
  double table_step = 0;             // > 0: filter networks tabulated on this r grid (length)
};

// Largest difference between the tabulated and the exact filter (W~ and dW~/dr) at the
// midpoints of the table intervals, over blocks and filters (SchNetPotential::table_error).
struct TableError {
  double w = 0, dw = 0, w_scale = 0;
};

class SchNetPotential : public Potential {
 public:
  SchNetPotential(Context& ctx, Params params, Options opt);
  ~SchNetPotential() override;
  std::string style() const override { return "schnet"; }
  double cutoff() const override { return params_.cutoff; }
  // Several ranks: the receptive field of an atom's energy is T interaction blocks x rc, so a
  // rank imports 2 T rc + skin (engine/potential.hpp, receptive_import_distance) and computes
  // the layers of its imported atoms redundantly (no per-layer halo exchange between ranks).
  double import_distance(double skin) const override {
    return receptive_import_distance(params_.n_interactions(), params_.cutoff, skin);
  }
  // every imported atom's list (features travel n_interactions hops)
  double import_list_distance(double skin) const override { return import_distance(skin); }
  std::string import_rule(double) const override {
    return "2 x " + std::to_string(params_.n_interactions()) + " interactions x cutoff + skin";
  }
  // The mean offset of a model with mean_per_atom = false is divided by the local atom count,
  // which on a rank is not the system's.
  std::string several_ranks_refusal() const override {
    return params_.mean_per_atom ? "" : "schnet model with offsets.mean_per_atom = false (the "
                                        "mean energy offset is shared over the whole system)";
  }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const Params& params() const { return params_; }
  const Options& options() const { return opt_; }
  const TableError& table_error() const { return table_error_; }

 private:
  template <class T>
  struct Impl;
  Params params_;
  Options opt_;
  TableError table_error_;
  std::unique_ptr<Impl<double>> impl_d_;
  std::unique_ptr<Impl<float>> impl_f_;
};

}  // namespace md::schnet
