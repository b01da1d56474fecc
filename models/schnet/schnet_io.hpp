// SchNet model parameters (Schütt et al., J. Chem. Phys. 148, 241722 (2018)) as exported from
// a schnetpack 2.x `best_model` by tools/export_schnetpack.py into an mdgpu-schnet HDF5 + JSON
// file. Lengths and energies in the units the file records (no conversion). Host only: read
// by load_model (schnet_io.cpp); used by the tests' reference evaluator and, later, the kernels.
#pragma once

#include <string>
#include <vector>

namespace md::schnet {

// The schema this loader reads: root attribute "json" with "schema": {"name", "version"}.
inline constexpr const char* schema_name = "mdgpu-schnet";
inline constexpr int schema_version = 1;

// Activations a SchNet model file may name. shifted_softplus: softplus(x) - ln 2 with torch's
// softplus (beta 1, linear above x = 20); silu: x sigmoid(x); linear: identity.
enum class Activation { linear, shifted_softplus, silu };

// Activation from its name in the file; throws nothing, returns false when unknown.
bool activation_from_name(const std::string& name, Activation& out);
const char* activation_name(Activation a);

// One dense layer y = act(x w + b); w row-major [n_in][n_out] (torch's weight transposed).
struct Dense {
  int n_in = 0, n_out = 0;
  std::vector<double> w;  // n_in * n_out
  std::vector<double> b;  // n_out, or empty for a layer without bias
  Activation act = Activation::linear;
};

// One SchNet interaction block: h = x in2f; W = filter[1](filter[0](e)) fc(d);
// m_i = sum_j h_j * W_ij; x_i += f2out[1](f2out[0](m_i)).
struct Interaction {
  Dense in2f;       // n_atom_basis -> n_filters, no bias, linear
  Dense filter[2];  // n_rbf -> n_filters (activation), n_filters -> n_filters (linear)
  Dense f2out[2];   // n_filters -> n_atom_basis (activation), n_atom_basis -> n_atom_basis
};

struct Params {
  std::string file;                // path it was read from
  std::string schnetpack_version;  // of the package that held the model
  std::string length_unit, energy_unit;

  // Species the model was exported for (species index = row of `embedding`, `atomref`).
  std::vector<int> z;
  std::vector<std::string> symbols;

  int n_atom_basis = 0, n_filters = 0, n_rbf = 0;
  std::vector<double> embedding;  // [n_species][n_atom_basis]

  std::string cutoff_function;  // "cosine": fc = (cos(pi d / rc) + 1) / 2 for d < rc
  double cutoff = 0;            // rc

  // Gaussian radial basis e_k(d) = exp(-(d - centre_k)^2 / (2 width_k^2)).
  std::vector<double> rbf_centres, rbf_widths;  // n_rbf each, as stored in the model

  std::vector<Interaction> interactions;
  std::vector<Dense> head;  // Atomwise network: per-atom scalar y_i, summed over atoms

  // Offsets added to sum_i y_i: mean (times N when mean_per_atom) and atomref per species.
  double mean = 0;
  bool mean_per_atom = true;
  std::vector<double> atomref;  // n_species (zeros when the model has none)

  int n_species() const { return static_cast<int>(z.size()); }
  int n_interactions() const { return static_cast<int>(interactions.size()); }
  // Species index of an element symbol, -1 when the model has no such species.
  int species_index(const std::string& symbol) const;
};

// Reads an mdgpu-schnet file. Throws InputError(path, 0, "schnet model: <key>: <message>")
// on a missing file, key or dataset, a wrong shape, an unknown schema version or an
// unsupported activation, radial basis or cutoff function.
Params load_model(const std::string& path);

}  // namespace md::schnet
