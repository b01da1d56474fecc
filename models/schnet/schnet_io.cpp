// Loader of mdgpu-schnet model files (host only): an HDF5 file whose root attribute "json"
// holds the model description written by tools/export_schnetpack.py, every array named by
// the path of a root-level dataset (as deepmd-kit's .dp files do). Layout: models/schnet/README.md.
#include "models/schnet/schnet_io.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

#include "models/model_file_io.hpp"

namespace md::schnet {

using nlohmann::json;

bool activation_from_name(const std::string& name, Activation& out) {
  if (name == "linear") {
    out = Activation::linear;
  } else if (name == "shifted_softplus") {
    out = Activation::shifted_softplus;
  } else if (name == "silu") {
    out = Activation::silu;
  } else {
    return false;
  }
  return true;
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::linear:
      return "linear";
    case Activation::shifted_softplus:
      return "shifted_softplus";
    case Activation::silu:
      return "silu";
  }
  return "?";
}

int Params::species_index(const std::string& symbol) const {
  for (std::size_t k = 0; k < symbols.size(); ++k)
    if (symbols[k] == symbol) return static_cast<int>(k);
  return -1;
}

namespace {

using Dim = unsigned long long;  // one extent of a dataset's shape
using Shape = std::vector<Dim>;

using model_file::Reader;

using model_file::member;  // JSON accessors shared with the other loaders (models/model_file_io.hpp)
using model_file::positive;
using model_file::value;

Activation activation(const Reader& r, const json& j, const std::string& where) {
  const std::string name = value<std::string>(r, j, where, "activation");
  Activation a;
  if (!activation_from_name(name, a))
    r.fail(where + ".activation: unsupported activation \"" + name +
           "\" (supported: shifted_softplus, silu, linear)");
  return a;
}

// A dense layer object {"w": name, "b": name or null, "activation": name} of known shape.
Dense dense(const Reader& r, const json& j, const std::string& where, int n_in, int n_out, bool bias) {
  Dense d;
  d.n_in = n_in;
  d.n_out = n_out;
  d.act = activation(r, j, where);
  d.w = r.named_dataset(j, where, "w", {static_cast<Dim>(n_in), static_cast<Dim>(n_out)});
  const bool has_b = j.contains("b") && !j["b"].is_null();
  if (bias && !has_b) r.fail(where + ".b: missing key");
  if (!bias && has_b) r.fail(where + ".b: this layer has no bias in SchNet");
  if (bias) d.b = r.named_dataset(j, where, "b", {static_cast<Dim>(n_out)});
  return d;
}

}  // namespace

Params load_model(const std::string& path) {
  Reader r(path, "schnet model");
  const json top = r.open("not an HDF5 file or cannot be read");
  Params p;
  p.file = path;

  const json& schema = member(r, top, "json", "schema");
  const std::string name = value<std::string>(r, schema, "schema", "name");
  if (name != schema_name)
    r.fail("schema.name: \"" + name + "\" is not an mdgpu-schnet model file");
  const int version = value<int>(r, schema, "schema", "version");
  if (version != schema_version)
    r.fail("schema.version: unknown version " + std::to_string(version) + " (this mdgpu reads " +
           std::to_string(schema_version) + "; re-export with tools/export_schnetpack.py)");

  const json& producer = member(r, top, "json", "producer");
  p.schnetpack_version = value<std::string>(r, producer, "producer", "schnetpack");

  const json& units = member(r, top, "json", "units");
  p.length_unit = value<std::string>(r, units, "units", "length");
  p.energy_unit = value<std::string>(r, units, "units", "energy");

  const json& rep = member(r, top, "json", "representation");
  const std::string rtype = value<std::string>(r, rep, "representation", "type");
  if (rtype != "SchNet")
    r.fail("representation.type: \"" + rtype + "\" is not supported (SchNet only)");
  p.n_atom_basis = positive(r, rep, "representation", "n_atom_basis");
  p.n_filters = positive(r, rep, "representation", "n_filters");
  const int n_interactions = positive(r, rep, "representation", "n_interactions");

  const json& species = member(r, rep, "representation", "species");
  p.z = value<std::vector<int>>(r, species, "representation.species", "z");
  p.symbols = value<std::vector<std::string>>(r, species, "representation.species", "symbols");
  if (p.z.empty()) r.fail("representation.species.z: no species");
  if (p.symbols.size() != p.z.size())
    r.fail("representation.species.symbols: one symbol per entry of z expected");
  for (std::size_t k = 0; k < p.z.size(); ++k) {
    if (p.z[k] < 1 || p.z[k] > 118) r.fail("representation.species.z: not an atomic number");
    for (std::size_t l = 0; l < k; ++l)
      if (p.z[l] == p.z[k] || p.symbols[l] == p.symbols[k])
        r.fail("representation.species: species listed twice");
  }
  const auto ns = static_cast<Dim>(p.n_species());
  const auto nf = static_cast<Dim>(p.n_atom_basis);
  p.embedding = r.named_dataset(species, "representation.species", "embedding", {ns, nf});

  const json& cut = member(r, rep, "representation", "cutoff");
  p.cutoff_function = value<std::string>(r, cut, "representation.cutoff", "function");
  if (p.cutoff_function != "cosine")
    r.fail("representation.cutoff.function: \"" + p.cutoff_function +
           "\" is not supported (cosine only)");
  p.cutoff = value<double>(r, cut, "representation.cutoff", "rc");
  if (!(p.cutoff > 0) || !std::isfinite(p.cutoff))
    r.fail("representation.cutoff.rc: must be positive");

  const json& rbf = member(r, rep, "representation", "radial_basis");
  const std::string btype = value<std::string>(r, rbf, "representation.radial_basis", "type");
  if (btype != "gaussian")
    r.fail("representation.radial_basis.type: \"" + btype + "\" is not supported (gaussian only)");
  p.n_rbf = positive(r, rbf, "representation.radial_basis", "n_rbf");
  const auto nk = static_cast<Dim>(p.n_rbf);
  p.rbf_centres = r.named_dataset(rbf, "representation.radial_basis", "centres", {nk});
  p.rbf_widths = r.named_dataset(rbf, "representation.radial_basis", "widths", {nk});
  for (double w : p.rbf_widths)
    if (!(w > 0)) r.fail("representation.radial_basis.widths: must be positive");

  const json& blocks = member(r, rep, "representation", "interactions");
  if (!blocks.is_array() || static_cast<int>(blocks.size()) != n_interactions)
    r.fail("representation.interactions: expected a list of n_interactions = " +
           std::to_string(n_interactions) + " blocks");
  for (int t = 0; t < n_interactions; ++t) {
    const std::string w = "representation.interactions[" + std::to_string(t) + "]";
    const json& b = blocks[static_cast<std::size_t>(t)];
    Interaction it;
    it.in2f = dense(r, member(r, b, w, "in2f"), w + ".in2f", p.n_atom_basis, p.n_filters, false);
    if (it.in2f.act != Activation::linear) r.fail(w + ".in2f.activation: must be linear");
    const json& filter = member(r, b, w, "filter");
    const json& f2out = member(r, b, w, "f2out");
    if (!filter.is_array() || filter.size() != 2) r.fail(w + ".filter: expected 2 layers");
    if (!f2out.is_array() || f2out.size() != 2) r.fail(w + ".f2out: expected 2 layers");
    it.filter[0] = dense(r, filter[0], w + ".filter[0]", p.n_rbf, p.n_filters, true);
    it.filter[1] = dense(r, filter[1], w + ".filter[1]", p.n_filters, p.n_filters, true);
    it.f2out[0] = dense(r, f2out[0], w + ".f2out[0]", p.n_filters, p.n_atom_basis, true);
    it.f2out[1] = dense(r, f2out[1], w + ".f2out[1]", p.n_atom_basis, p.n_atom_basis, true);
    p.interactions.push_back(std::move(it));
  }

  const json& head = member(r, top, "json", "head");
  const std::string htype = value<std::string>(r, head, "head", "type");
  if (htype != "Atomwise") r.fail("head.type: \"" + htype + "\" is not supported (Atomwise only)");
  const std::string agg = value<std::string>(r, head, "head", "aggregation");
  if (agg != "sum") r.fail("head.aggregation: \"" + agg + "\" is not supported (sum only)");
  const json& layers = member(r, head, "head", "layers");
  if (!layers.is_array() || layers.empty()) r.fail("head.layers: expected a list of layers");
  int n_in = p.n_atom_basis;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const std::string w = "head.layers[" + std::to_string(l) + "]";
    const int n_out = positive(r, layers[l], w, "n_out");
    p.head.push_back(dense(r, layers[l], w, n_in, n_out, true));
    n_in = n_out;
  }
  if (n_in != 1) r.fail("head.layers: the last layer must have one output");

  const json& off = member(r, top, "json", "offsets");
  p.mean = value<double>(r, off, "offsets", "mean");
  p.mean_per_atom = value<bool>(r, off, "offsets", "mean_per_atom");
  if (!std::isfinite(p.mean)) r.fail("offsets.mean: not finite");
  p.atomref = r.named_dataset(off, "offsets", "atomref", {ns});
  return p;
}

}  // namespace md::schnet
