// Loader of mdgpu-schnet model files (host only): an HDF5 file whose root attribute "json"
// holds the model description written by tools/export_schnetpack.py, every array named by
// the path of a root-level dataset (as deepmd-kit's .dp files do). Layout: models/schnet/README.md.
#include "models/schnet/schnet_io.hpp"

#include <hdf5.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"

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

struct H5File {
  hid_t id = -1;
  ~H5File() {
    if (id >= 0) H5Fclose(id);
  }
};

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)) {}

  [[noreturn]] void fail(const std::string& msg) const {
    throw InputError(path_, 0, "schnet model: " + msg);
  }

  json open() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by us
    if (H5Fis_hdf5(path_.c_str()) <= 0) fail("not an HDF5 file or cannot be read");
    file_.id = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file_.id < 0) fail("cannot open the HDF5 file");
    if (H5Aexists(file_.id, "json") <= 0) fail("no \"json\" attribute at the file root");
    const hid_t attr = H5Aopen(file_.id, "json", H5P_DEFAULT);
    const hid_t type = H5Aget_type(attr);
    std::string text;
    const bool is_string = H5Tget_class(type) == H5T_STRING;
    if (is_string && H5Tis_variable_str(type) > 0) {
      char* s = nullptr;
      const hid_t mem = H5Tcopy(H5T_C_S1);
      H5Tset_size(mem, H5T_VARIABLE);
      H5Tset_cset(mem, H5Tget_cset(type));
      if (H5Aread(attr, mem, &s) >= 0 && s) {
        text = s;
        H5free_memory(s);
      }
      H5Tclose(mem);
    } else if (is_string) {
      std::string buf(H5Tget_size(type), '\0');
      if (H5Aread(attr, type, buf.data()) >= 0) text = buf.c_str();
    }
    H5Tclose(type);
    H5Aclose(attr);
    if (!is_string) fail("the \"json\" attribute is not a string");
    try {
      return json::parse(text);
    } catch (const std::exception& e) {
      fail(std::string("the \"json\" attribute is not valid JSON: ") + e.what());
    }
  }

  // The dataset named by j[key] (a string), as doubles, with exactly the shape `shape`.
  std::vector<double> array(const json& j, const std::string& where, const char* key,
                            const std::vector<hsize_t>& shape) {
    const std::string what = where + "." + key;
    if (!j.contains(key)) fail(what + ": missing key");
    if (!j[key].is_string()) fail(what + ": expected the name of a dataset");
    const std::string name = j[key].get<std::string>();
    if (name.empty() || H5Lexists(file_.id, name.c_str(), H5P_DEFAULT) <= 0)
      fail(what + ": dataset \"" + name + "\" not found");
    const hid_t ds = H5Dopen2(file_.id, name.c_str(), H5P_DEFAULT);
    if (ds < 0) fail(what + ": \"" + name + "\" is not a dataset");
    const hid_t space = H5Dget_space(ds);
    const int rank = H5Sget_simple_extent_ndims(space);
    std::vector<hsize_t> dims(static_cast<std::size_t>(rank > 0 ? rank : 0), 0);
    if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
    const hid_t type = H5Dget_type(ds);
    const bool is_float = H5Tget_class(type) == H5T_FLOAT;
    H5Tclose(type);
    std::vector<double> v;
    herr_t status = -1;
    if (is_float && dims == shape) {
      std::size_t count = 1;
      for (hsize_t d : dims) count *= static_cast<std::size_t>(d);
      v.resize(count);
      status =
          count == 0 ? 0 : H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    }
    H5Sclose(space);
    H5Dclose(ds);
    if (!is_float) fail(what + ": dataset \"" + name + "\" is not floating point");
    if (dims != shape)
      fail(what + ": dataset \"" + name + "\" has shape " + shape_text(dims) + ", expected " +
           shape_text(shape));
    if (status < 0) fail(what + ": cannot read dataset \"" + name + "\"");
    for (double x : v)
      if (!std::isfinite(x)) fail(what + ": dataset \"" + name + "\" has a non-finite value");
    return v;
  }

 private:
  static std::string shape_text(const std::vector<hsize_t>& d) {
    std::string s = "[";
    for (std::size_t k = 0; k < d.size(); ++k) s += (k ? ", " : "") + std::to_string(d[k]);
    return s + "]";
  }
  std::string path_;
  H5File file_;
};

const json& member(const Reader& r, const json& j, const std::string& where, const char* key) {
  if (!j.is_object()) r.fail(where + ": expected an object");
  if (!j.contains(key)) r.fail(where + "." + key + ": missing key");
  return j[key];
}

template <class T>
T value(const Reader& r, const json& j, const std::string& where, const char* key) {
  const json& v = member(r, j, where, key);
  try {
    return v.get<T>();
  } catch (const std::exception&) {
    r.fail(where + "." + key + ": unexpected type");
  }
}

int positive(const Reader& r, const json& j, const std::string& where, const char* key) {
  const int v = value<int>(r, j, where, key);
  if (v < 1) r.fail(where + "." + key + ": must be positive");
  return v;
}

Activation activation(const Reader& r, const json& j, const std::string& where) {
  const std::string name = value<std::string>(r, j, where, "activation");
  Activation a;
  if (!activation_from_name(name, a))
    r.fail(where + ".activation: unsupported activation \"" + name +
           "\" (supported: shifted_softplus, silu, linear)");
  return a;
}

// A dense layer object {"w": name, "b": name or null, "activation": name} of known shape.
Dense dense(Reader& r, const json& j, const std::string& where, int n_in, int n_out, bool bias) {
  Dense d;
  d.n_in = n_in;
  d.n_out = n_out;
  d.act = activation(r, j, where);
  d.w = r.array(j, where, "w", {static_cast<hsize_t>(n_in), static_cast<hsize_t>(n_out)});
  const bool has_b = j.contains("b") && !j["b"].is_null();
  if (bias && !has_b) r.fail(where + ".b: missing key");
  if (!bias && has_b) r.fail(where + ".b: this layer has no bias in SchNet");
  if (bias) d.b = r.array(j, where, "b", {static_cast<hsize_t>(n_out)});
  return d;
}

}  // namespace

Params load_model(const std::string& path) {
  Reader r(path);
  const json top = r.open();
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
  const auto ns = static_cast<hsize_t>(p.n_species());
  const auto nf = static_cast<hsize_t>(p.n_atom_basis);
  p.embedding = r.array(species, "representation.species", "embedding", {ns, nf});

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
  const auto nk = static_cast<hsize_t>(p.n_rbf);
  p.rbf_centres = r.array(rbf, "representation.radial_basis", "centres", {nk});
  p.rbf_widths = r.array(rbf, "representation.radial_basis", "widths", {nk});
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
  p.atomref = r.array(off, "offsets", "atomref", {ns});
  return p;
}

}  // namespace md::schnet
