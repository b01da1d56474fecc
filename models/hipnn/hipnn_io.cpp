// Loader of mdgpu-hipnn model files (host only): an HDF5 file whose root attribute "json"
// holds the model description written by tools/export_hippynn.py, every array a root-level
// dataset named in it (read through models/model_file_io.hpp). Layout: models/hipnn/README.md.
#include "models/hipnn/hipnn_io.hpp"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "models/model_file_io.hpp"

namespace md::hipnn {

using nlohmann::json;

int Params::species_index(const std::string& symbol) const {
  for (std::size_t k = 0; k < symbols.size(); ++k)
    if (symbols[k] == symbol) return static_cast<int>(k);
  return -1;
}

int Params::max_width() const {
  int w = 0;
  for (int s : feature_sizes) w = std::max(w, s);
  for (const Interaction& it : interactions) w = std::max(w, it.n_middle);
  return w;
}

namespace {

using Dim = unsigned long long;  // one extent of a dataset's shape
using Shape = std::vector<Dim>;

using model_file::Reader;

using model_file::member;  // JSON accessors shared with the other loaders (models/model_file_io.hpp)
using model_file::positive;
using model_file::value;

// A dense layer object {"n_in", "n_out", "w": name, "b": name or null} whose widths must be
// n_in -> n_out; `bias`: whether the layer must have one.
Dense dense(const Reader& r, const json& j, const std::string& where, int n_in, int n_out,
            bool bias) {
  if (!j.is_object()) r.fail(where + ": expected a layer object");
  const int in = positive(r, j, where, "n_in");
  const int out = positive(r, j, where, "n_out");
  if (in != n_in || out != n_out)
    r.fail(where + ": layer widths " + std::to_string(in) + " -> " + std::to_string(out) +
           " inconsistent with the network (expected " + std::to_string(n_in) + " -> " +
           std::to_string(n_out) + ")");
  Dense d;
  d.n_in = n_in;
  d.n_out = n_out;
  d.w = r.named_dataset(j, where, "w", {static_cast<Dim>(n_in), static_cast<Dim>(n_out)});
  const bool has_b = j.contains("b") && !j["b"].is_null();
  if (bias && !has_b) r.fail(where + ".b: missing key");
  if (!bias && has_b) r.fail(where + ".b: this layer has no bias in HIP-NN");
  if (bias) d.b = r.named_dataset(j, where, "b", {static_cast<Dim>(n_out)});
  return d;
}

bool is_null_or_absent(const json& j, const char* key) { return !j.contains(key) || j[key].is_null(); }

}  // namespace

Params load_model(const std::string& path) {
  Reader r(path, "hipnn model");
  r.set_shape_hint(" (inconsistent with the widths in the model description)");
  const json top = r.open("not an HDF5 file or cannot be read");
  Params p;
  p.file = path;

  const json& schema = member(r, top, "json", "schema");
  const std::string name = value<std::string>(r, schema, "schema", "name");
  if (name != schema_name) r.fail("schema.name: \"" + name + "\" is not an mdgpu-hipnn model file");
  const int version = value<int>(r, schema, "schema", "version");
  if (version != schema_version)
    r.fail("schema.version: unknown version " + std::to_string(version) + " (this mdgpu reads " +
           std::to_string(schema_version) + "; re-export with tools/export_hippynn.py)");

  const json& producer = member(r, top, "json", "producer");
  p.hippynn_version = value<std::string>(r, producer, "producer", "hippynn");

  const json& units = member(r, top, "json", "units");
  p.length_unit = value<std::string>(r, units, "units", "length");
  p.energy_unit = value<std::string>(r, units, "units", "energy");

  const std::string nw = "network";
  const json& net = member(r, top, "json", "network");
  const std::string ntype = value<std::string>(r, net, nw, "type");
  if (ntype != "Hipnn")
    r.fail("network.type: \"" + ntype + "\" is not supported (Hipnn only; HipnnVec, HipnnQuad "
           "and HIP-HOP networks are not)");

  const json& species = member(r, net, nw, "species");
  p.z = value<std::vector<int>>(r, species, "network.species", "z");
  p.symbols = value<std::vector<std::string>>(r, species, "network.species", "symbols");
  if (p.z.empty()) r.fail("network.species.z: no species");
  if (p.symbols.size() != p.z.size())
    r.fail("network.species.symbols: one symbol per entry of z expected");
  for (std::size_t k = 0; k < p.z.size(); ++k) {
    if (p.z[k] < 1 || p.z[k] > 118) r.fail("network.species.z: not an atomic number");
    for (std::size_t l = 0; l < k; ++l)
      if (p.z[l] == p.z[k] || p.symbols[l] == p.symbols[k])
        r.fail("network.species: species listed twice");
  }

  p.feature_sizes = value<std::vector<int>>(r, net, nw, "feature_sizes");
  const int n_int = positive(r, net, nw, "n_interaction_layers");
  if (static_cast<int>(p.feature_sizes.size()) != n_int + 1)
    r.fail("network.feature_sizes: expected n_interaction_layers + 1 = " +
           std::to_string(n_int + 1) + " widths");
  for (int s : p.feature_sizes)
    if (s < 1) r.fail("network.feature_sizes: widths must be positive");
  if (p.feature_sizes[0] != p.n_species())
    r.fail("network.feature_sizes: input width " + std::to_string(p.feature_sizes[0]) +
           " differs from the number of species " + std::to_string(p.n_species()));
  p.n_sensitivities = positive(r, net, nw, "n_sensitivities");
  const int n_atom = value<int>(r, net, nw, "n_atom_layers");
  if (n_atom < 0) r.fail("network.n_atom_layers: must not be negative");
  p.n_atom_layers = n_atom;
  p.resnet = value<bool>(r, net, nw, "resnet");

  const json& act = member(r, net, nw, "activation");
  const std::string atype = value<std::string>(r, act, "network.activation", "type");
  if (atype != "softplus")
    r.fail("network.activation.type: unsupported activation \"" + atype + "\" (softplus only)");
  p.softplus_beta = value<double>(r, act, "network.activation", "beta");
  p.softplus_threshold = value<double>(r, act, "network.activation", "threshold");
  if (p.softplus_beta != 1.0 || p.softplus_threshold != 20.0)
    r.fail("network.activation: softplus with beta 1 and threshold 20 only");

  const json& cut = member(r, net, nw, "cutoff");
  const std::string ctype = value<std::string>(r, cut, "network.cutoff", "type");
  if (ctype != "cos2")
    r.fail("network.cutoff.type: \"" + ctype + "\" is not supported (cos2: hippynn's CosCutoff)");
  p.cutoff = value<double>(r, cut, "network.cutoff", "rc");
  if (!(p.cutoff > 0) || !std::isfinite(p.cutoff)) r.fail("network.cutoff.rc: must be positive");

  const json& blocks = member(r, net, nw, "interactions");
  if (!blocks.is_array() || static_cast<int>(blocks.size()) != n_int)
    r.fail("network.interactions: expected a list of n_interaction_layers = " +
           std::to_string(n_int) + " layers");
  const auto ns = static_cast<Dim>(p.n_sensitivities);
  for (int t = 0; t < n_int; ++t) {
    const std::string w = "network.interactions[" + std::to_string(t) + "]";
    const json& b = blocks[static_cast<std::size_t>(t)];
    Interaction it;
    const std::string lclass = value<std::string>(r, b, w, "class");
    if (lclass != "InteractLayer")
      r.fail(w + ".class: interaction layer class \"" + lclass +
             "\" is not supported (InteractLayer only)");
    it.n_in = positive(r, b, w, "n_in");
    it.n_middle = positive(r, b, w, "n_middle");
    it.n_out = positive(r, b, w, "n_out");
    if (it.n_in != p.feature_sizes[t] || it.n_out != p.feature_sizes[t + 1])
      r.fail(w + ": widths " + std::to_string(it.n_in) + " -> " + std::to_string(it.n_out) +
             " inconsistent with network.feature_sizes");
    if (!p.resnet && it.n_middle != it.n_out)
      r.fail(w + ".n_middle: must equal n_out without resnet");

    const std::string sw = w + ".sensitivity";
    const json& sens = member(r, b, w, "sensitivity");
    it.sensitivity_type = value<std::string>(r, sens, sw, "type");
    if (it.sensitivity_type != "inverse" && it.sensitivity_type != "linear")
      r.fail(sw + ".type: \"" + it.sensitivity_type +
             "\" is not supported (inverse or linear: InverseSensitivityModule, "
             "GaussianSensitivityModule)");
    it.mu = r.named_dataset(sens, sw, "mu", {ns});
    it.sigma = r.named_dataset(sens, sw, "sigma", {ns});
    for (double m : it.mu)
      if (m == 0) r.fail(sw + ".mu: zero (1/mu is used)");
    for (double s : it.sigma)
      if (s == 0) r.fail(sw + ".sigma: zero (sigma^-2 is used)");

    it.int_weights = r.named_dataset(b, w, "int_weights",
                             {ns, static_cast<Dim>(it.n_in), static_cast<Dim>(it.n_middle)});
    it.self = dense(r, member(r, b, w, "self"), w + ".self", it.n_in, it.n_middle, true);
    if (p.resnet) {
      it.res = dense(r, member(r, b, w, "res"), w + ".res", it.n_middle, it.n_out, true);
      if (it.n_in != it.n_out)
        it.adjust = dense(r, member(r, b, w, "adjust"), w + ".adjust", it.n_in, it.n_out, false);
      else if (!is_null_or_absent(b, "adjust"))
        r.fail(w + ".adjust: present although n_in == n_out");
    } else if (!is_null_or_absent(b, "res") || !is_null_or_absent(b, "adjust")) {
      r.fail(w + ": res/adjust layers in a network without resnet");
    }

    const json& atom = member(r, b, w, "atom_layers");
    if (!atom.is_array() || static_cast<int>(atom.size()) != p.n_atom_layers)
      r.fail(w + ".atom_layers: expected a list of n_atom_layers = " +
             std::to_string(p.n_atom_layers) + " layers");
    for (int k = 0; k < p.n_atom_layers; ++k) {
      const std::string aw = w + ".atom_layers[" + std::to_string(k) + "]";
      const json& a = atom[static_cast<std::size_t>(k)];
      AtomLayer al;
      al.linear = dense(r, member(r, a, aw, "linear"), aw + ".linear", it.n_out, it.n_middle, true);
      if (p.resnet)
        al.res = dense(r, member(r, a, aw, "res"), aw + ".res", it.n_middle, it.n_out, true);
      else if (!is_null_or_absent(a, "res"))
        r.fail(aw + ".res: present in a network without resnet");
      it.atom_layers.push_back(std::move(al));
    }
    p.interactions.push_back(std::move(it));
  }

  const json& energy = member(r, top, "json", "energy");
  const std::string etype = value<std::string>(r, energy, "energy", "type");
  if (etype != "HEnergy") r.fail("energy.type: \"" + etype + "\" is not supported (HEnergy only)");
  const json& heads = member(r, energy, "energy", "heads");
  if (!heads.is_array() || heads.empty()) r.fail("energy.heads: expected a list of heads");
  int last_level = -1;
  for (std::size_t k = 0; k < heads.size(); ++k) {
    const std::string w = "energy.heads[" + std::to_string(k) + "]";
    Head h;
    h.level = value<int>(r, heads[k], w, "feature_level");
    if (h.level <= last_level || h.level > n_int)
      r.fail(w + ".feature_level: must increase and be at most n_interaction_layers");
    last_level = h.level;
    const bool bias = !is_null_or_absent(heads[k], "b");
    h.dense = dense(r, heads[k], w, p.feature_sizes[static_cast<std::size_t>(h.level)], 1, bias);
    p.heads.push_back(std::move(h));
  }
  return p;
}

std::string units_mismatch(const Params& p, const std::string& run_units) {
  if (run_units == "metal") {
    const bool length_ok = p.length_unit == "Angstrom" || p.length_unit == "Ang" ||
                           p.length_unit == "angstrom" || p.length_unit == "A";
    if (length_ok && p.energy_unit == "eV") return "";
    return "model file " + p.file + " is in " + p.energy_unit + " and " + p.length_unit +
           " (units.energy, units.length), the run in metal units (eV, Angstrom); re-export "
           "the model in eV and Angstrom or change the run's units";
  }
  return "hipnn models run in metal units only (the model file is in " + p.energy_unit + ", " +
         p.length_unit + "); set units = \"metal\"";
}

}  // namespace md::hipnn
