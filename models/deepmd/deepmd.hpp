// DeePMD (Deep Potential, Zhang et al. PRL 120, 143001 (2018)) energy models with the
// se_e2_a descriptor, loaded from deepmd-kit v3 .dp files. Energies in eV, lengths in Å
// (deepmd-kit models are trained in metal units). Built by the [potential] style "deepmd"
// factory (deepmd_config.cpp); the loader is deepmd_io.cpp; kernels in deepmd_kernel.hpp.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "models/deepmd/deepmd_net.hpp"

namespace md::deepmd {

// Host copy of one dense layer / network, as in deepmd-kit's serialised "Layer" dicts.
struct HostLayer {
  int n_in = 0, n_out = 0;
  int shortcut = 0;  // 0 none, 1 identity, 2 doubled input
  int act = act_linear;
  std::vector<double> w, b, idt;  // w row-major [n_in x n_out]; b, idt may be empty
};
struct HostNet {
  std::vector<HostLayer> layers;
  int n_in() const { return layers.empty() ? 0 : layers.front().n_in; }
  int n_out() const { return layers.empty() ? 0 : layers.back().n_out; }
};

// The supported model: standard energy model, se_e2_a descriptor, per-type energy fitting.
struct Model {
  std::string file;
  std::vector<std::string> type_map;  // model type names
  std::string precision;              // descriptor precision as declared ("float64", ...)
  double rcut = 0, rcut_smth = 0, protection = 0;
  std::vector<int> sel;  // per type
  int axis_neuron = 0;
  bool type_one_side = true;
  std::vector<double> davg, dstd;  // [ntypes * nnei * 4]
  std::vector<double> e_shift;     // per type: bias_atom_e + out_bias
  std::vector<HostNet> embedding;  // type_one_side: [ntypes] by neighbour type; else
                                   // [ntypes^2], index centre + ntypes * neighbour
  std::vector<HostNet> fitting;    // [ntypes]
  int ntypes() const { return static_cast<int>(type_map.size()); }
  int nnei() const {
    int s = 0;
    for (int v : sel) s += v;
    return s;
  }
  int m1() const { return embedding.empty() ? 0 : embedding.front().n_out(); }
};

// Reads a .dp file (HDF5 + JSON). Throws InputError(path, 0, message naming the feature)
// for models using anything not supported.
Model load_model(const std::string& path);

// Activation id from deepmd-kit's name; -1 when unsupported.
int activation_from_name(const std::string& name);

enum class Precision { double_, mixed };

// Tabulated embedding (model compression, after deepmd-kit's `dp compress`; scheme in
// models/deepmd/README.md). s = (R_raw[0] - davg)/dstd is the embedding input.
struct TableOptions {
  bool enabled = false;
  double rmin = 0.5;         // Å: fine table covers neighbours at r >= rmin
  double step = 0.01;        // fine grid step in s
  double coarse_step = 0.1;  // coarse grid step in s (deepmd-kit: 10 * step)
  double extrapolate = 5.0;  // coarse grid up to extrapolate * (fine upper bound)
  int samples = 16;          // error check: points per interval (dense sample)
};

// What build_table made and how accurate it is (max over all nets and outputs, on `samples`
// equally spaced points per interval plus the end point, against the exact net).
struct TableInfo {
  int nets = 0, intervals = 0;           // tabulated nets; fine + coarse intervals, all nets
  std::size_t bytes = 0;                 // coefficient storage
  double s_lo = 0, s_hi = 0, s_hi2 = 0;  // union of the nets' ranges: fine [lo, hi), coarse to hi2
  double max_g = 0;                      // max |G| over the sample (scale)
  double err_fine = 0, derr_fine = 0;    // max |G_table - G|, |dG_table/ds - dG/ds|, fine grid
  double err_coarse = 0, derr_coarse = 0;  // the same on the coarse grid
  std::string summary() const;             // one log line
};

struct Table {
  std::vector<TableDesc> desc;  // per embedding net
  std::vector<double> coef;
  TableInfo info;
};

// Piecewise quintic Hermite tables of the model's embedding nets (value, first and second
// derivative exact at the nodes, hence continuous), and their measured error.
Table build_table(const Model& model, const TableOptions& opt);

// Exact net output y and dy/ds, d2y/ds2 for a one-input net (host, forward-mode derivatives).
void net_eval_host(const HostNet& net, double s, std::vector<double>& y, std::vector<double>& dy,
                   std::vector<double>& d2y);

struct Options {
  Precision precision = Precision::double_;
  TableOptions tabulate;
  std::vector<int> type_of_system_type;                  // system type -> model type
  // Slot-selection workspace budget in bytes; 0: automatic (CUDA: a quarter of the free device
  // memory; CPU executor: 512 MiB).
  std::size_t workspace_bytes = 0;
};

class DeepMDPotential : public Potential {
 public:
  DeepMDPotential(Context& ctx, Model model, Options opt);
  ~DeepMDPotential() override;
  std::string style() const override { return "deepmd"; }
  double cutoff() const override { return model_.rcut; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const Model& model() const { return model_; }
  Precision precision() const { return opt_.precision; }
  // Null unless the embedding is tabulated.
  const TableInfo* table_info() const { return opt_.tabulate.enabled ? &table_info_ : nullptr; }

  struct Device;  // device arrays (deepmd.cpp)

 private:
  Model model_;
  Options opt_;
  TableInfo table_info_;
  std::unique_ptr<Device> dev_;
};

}  // namespace md::deepmd
