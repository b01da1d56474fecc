// HIP-NN model parameters (Lubbers, Smith and Barros, J. Chem. Phys. 148, 241715 (2018)) as
// exported from a hippynn training directory by tools/export_hippynn.py into an mdgpu-hipnn
// HDF5 + JSON file. Lengths and energies in the units the file records (no conversion). Host
// only: read by load_model (hipnn_io.cpp); used by the tests' reference evaluator and the kernels.
#pragma once

#include <string>
#include <vector>

namespace md::hipnn {

// The schema this loader reads: root attribute "json" with "schema": {"name", "version"}.
inline constexpr const char* schema_name = "mdgpu-hipnn";
inline constexpr int schema_version = 1;

// One dense layer y = x w + b; w row-major [n_in][n_out] (torch's weight transposed), b n_out
// values or empty (no bias).
struct Dense {
  int n_in = 0, n_out = 0;
  std::vector<double> w;
  std::vector<double> b;
};

// One atom layer after an interaction: plain z = act(linear(z)); resnet
// z = res(act(linear(z))) + z (linear: n_out -> n_middle, res: n_middle -> n_out).
struct AtomLayer {
  Dense linear;
  Dense res;  // n_in == 0 without resnet
};

// One interaction layer with its atom layers. Sensitivities, for r <= rc:
//   s_nu(r) = exp(-0.5 (1/r - 1/mu_nu)^2 / sigma_nu^-2) cos^2(pi r / (2 rc)).
// Environment env[nu][f] = sum_j s_nu(r_ij) z_j[f]; y = sum_{nu,f} env[nu][f] V[nu][f][:] +
// self(z_i). Plain: z' = act(y); resnet: z' = res(act(y)) + adjust(z) (z when n_in == n_out).
struct Interaction {
  int n_in = 0, n_middle = 0, n_out = 0;
  std::string sensitivity_type;     // "inverse" or "linear" (same formula in hippynn 0.1.3)
  std::vector<double> mu, sigma;    // n_sensitivities each, as stored
  std::vector<double> int_weights;  // V [n_sensitivities][n_in][n_middle]
  Dense self;                       // n_in -> n_middle, with bias
  Dense res;                        // n_middle -> n_out with bias (resnet only)
  Dense adjust;                     // n_in -> n_out, no bias (resnet with n_in != n_out only)
  std::vector<AtomLayer> atom_layers;
};

// Energy head on feature level `level` (0 = the one-hot input): E_i += z^level_i w + b.
struct Head {
  int level = 0;
  Dense dense;  // n_in = feature width of that level, n_out = 1; b empty for a bias-free head
};

struct Params {
  std::string file;             // path it was read from
  std::string hippynn_version;  // of the package that held the model
  std::string length_unit, energy_unit;

  // Species (one-hot position = index here; hippynn's possible_species[1:]).
  std::vector<int> z;
  std::vector<std::string> symbols;

  std::vector<int> feature_sizes;  // n_species, then the width after each interaction layer
  int n_sensitivities = 0;
  int n_atom_layers = 0;
  bool resnet = true;
  // Activation: torch.nn.Softplus(beta = 1, threshold = 20): log(1 + e^x), x above 20.
  double softplus_beta = 1, softplus_threshold = 20;
  double cutoff = 0;  // rc of the cos^2 cutoff and of the pair list (r < rc)

  std::vector<Interaction> interactions;
  std::vector<Head> heads;  // one per feature level used (levels ascending)

  int n_species() const { return static_cast<int>(z.size()); }
  int n_interactions() const { return static_cast<int>(interactions.size()); }
  int max_width() const;  // widest feature or middle layer
  // Species index of an element symbol, -1 when the model has no such species.
  int species_index(const std::string& symbol) const;
};

// Reads an mdgpu-hipnn file. Throws InputError(path, 0, "hipnn model: <key>: <message>") on
// a missing file, key or dataset, a wrong shape, inconsistent widths, an unknown schema name
// or version, or an unsupported layer class, sensitivity, cutoff or activation.
Params load_model(const std::string& path);

// Empty when a run in `run_units` can use the model as stored (metal: eV and Angstrom), else the
// message naming the model file's units. Units are never converted.
std::string units_mismatch(const Params& model, const std::string& run_units);

}  // namespace md::hipnn
