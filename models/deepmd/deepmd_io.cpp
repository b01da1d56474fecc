// Loader for deepmd-kit v3 .dp model files (host only): an HDF5 file whose root attribute
// "json" holds the serialised model dictionary, with every array replaced by the path of a
// root dataset ("/variable_0003"); see deepmd/dpmodel/utils/serialization.py
// (save_dp_model). Reads the standard energy model with the se_e2_a descriptor; anything
// else is refused with an InputError naming the feature.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "models/deepmd/deepmd.hpp"
#include "models/model_file_io.hpp"

namespace md::deepmd {

using nlohmann::json;
using Dims = std::vector<unsigned long long>;  // a dataset's shape

int activation_from_name(const std::string& name_in) {
  std::string name;
  for (char c : name_in) name += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (name == "linear" || name == "none") return act_linear;
  if (name == "tanh") return act_tanh;
  if (name == "gelu" || name == "gelu_tf") return act_gelu;
  if (name == "relu") return act_relu;
  if (name == "relu6") return act_relu6;
  if (name == "softplus") return act_softplus;
  if (name == "sigmoid") return act_sigmoid;
  if (name == "silu") return act_silu;
  return -1;
}

namespace {

class Reader {
 public:
  explicit Reader(std::string path) : path_(std::move(path)), file_(path_, "deepmd model") {}

  [[noreturn]] void fail(const std::string& msg) const { file_.fail(msg); }
  [[noreturn]] void unsupported(const std::string& feature) const {
    fail("unsupported feature: " + feature +
         " (mdgpu supports the standard energy model "
         "with the se_e2_a descriptor)");
  }

  json open() {
    refuse_other_backends();
    return file_.open("not an HDF5 (.dp) file or cannot be read");
  }

  // Array stored under `name` (a dataset path string in the JSON); shape returned in dims.
  std::vector<double> array(const json& ref, const std::string& what, Dims& dims) {
    if (!ref.is_string()) fail(what + ": expected an array reference");
    const std::string name = ref.get<std::string>();
    model_file::Array a = file_.read(name, what, name, /*integers_ok=*/true);
    dims = a.dims;
    switch (a.status) {
      case model_file::ReadStatus::ok:
        return std::move(a.values);
      case model_file::ReadStatus::not_found:
        fail(what + ": dataset " + name + " not found");
      default:
        fail(what + ": cannot read dataset " + name + " as numbers");
    }
  }
  std::vector<double> array(const json& ref, const std::string& what) {
    Dims dims;
    return array(ref, what, dims);
  }
  // A PyTorch (.pth, a zip archive) or TensorFlow (.pb, a protobuf) model where a .dp is
  // expected: name the conversion.
  void refuse_other_backends() const {
    std::ifstream in(path_, std::ios::binary);
    char head[8] = {0};
    in.read(head, sizeof head);
    const std::string ext = std::filesystem::path(path_).extension().string();
    const bool zip = head[0] == 'P' && head[1] == 'K';
    const char* hdf5 = "\x89HDF\r\n\x1a\n";
    const bool is_hdf5 = std::equal(head, head + 8, hdf5);
    if (!is_hdf5 && (zip || ext == ".pth" || ext == ".pt" || ext == ".pb" || ext == ".savedmodel"))
      fail(std::string("this looks like a ") + (zip || ext == ".pth" || ext == ".pt" ? "PyTorch" : "TensorFlow") +
           " model, not a deepmd-kit .dp file; convert it with "
           "`dp convert-backend " + std::filesystem::path(path_).filename().string() + " model.dp` "
           "and give the .dp file");
  }

 private:
  std::string path_;
  model_file::Reader file_;
};

template <class T>
T get(const Reader& r, const json& j, const char* key, const std::string& where) {
  if (!j.contains(key)) r.fail(where + ": missing key \"" + key + "\"");
  try {
    return j.at(key).get<T>();
  } catch (const std::exception&) {
    r.fail(where + ": key \"" + key + "\" has an unexpected type");
  }
}

bool nonempty(const json& j, const char* key) {
  return j.contains(key) && !j[key].is_null() && !(j[key].is_array() && j[key].empty()) &&
         !(j[key].is_number() && j[key].get<double>() == 0.0) &&
         !(j[key].is_boolean() && !j[key].get<bool>());
}

HostNet read_net(Reader& r, const json& net, const std::string& where) {
  if (net.is_null()) r.unsupported(where + " is absent (excluded type pairs)");
  HostNet out;
  const json& layers = net.at("layers");
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const json& L = layers[l];
    const std::string lw = where + " layer " + std::to_string(l);
    const std::string cls = L.value("@class", "Layer");
    if (cls != "Layer") r.unsupported(lw + " of class " + cls);
    HostLayer h;
    const std::string act = L.value("activation_function", std::string("none"));
    h.act = activation_from_name(act);
    if (h.act < 0) r.unsupported("activation function \"" + act + "\" (" + lw + ")");
    const json& v = L.at("@variables");
    Dims dims;
    h.w = r.array(v.at("w"), lw + " w", dims);
    if (dims.size() != 2) r.fail(lw + ": w is not a matrix");
    h.n_in = static_cast<int>(dims[0]);
    h.n_out = static_cast<int>(dims[1]);
    if (v.contains("b") && !v["b"].is_null()) h.b = r.array(v["b"], lw + " b");
    if (v.contains("idt") && !v["idt"].is_null()) h.idt = r.array(v["idt"], lw + " idt");
    if (!h.b.empty() && h.b.size() != static_cast<std::size_t>(h.n_out)) r.fail(lw + ": b size");
    if (!h.idt.empty() && h.idt.size() != static_cast<std::size_t>(h.n_out))
      r.fail(lw + ": idt size");
    const bool resnet = L.value("resnet", false);
    h.shortcut = !resnet ? 0 : (h.n_out == h.n_in ? 1 : (h.n_out == 2 * h.n_in ? 2 : 0));
    if (!out.layers.empty() && out.layers.back().n_out != h.n_in)
      r.fail(lw + ": input width does not match the previous layer");
    out.layers.push_back(std::move(h));
  }
  if (out.layers.empty()) r.fail(where + ": no layers");
  return out;
}

}  // namespace

// min_nbor_dist stored by `dp freeze` / `dp convert-backend` (top-level or model
// "@variables"), per file loaded; 0 when absent. Read by deepmd_config.cpp.
static std::map<std::string, double>& min_nbor_dists() {
  static std::map<std::string, double> m;
  return m;
}

double stored_min_nbor_dist(const std::string& path) {
  const auto it = min_nbor_dists().find(path);
  return it == min_nbor_dists().end() ? 0.0 : it->second;
}

static Model load_model_checked(const std::string& path);

Model load_model(const std::string& path) {
  try {
    return load_model_checked(path);
  } catch (const json::exception& e) {  // malformed dictionary: name the file
    throw InputError(path, 0, std::string("deepmd model: malformed model dictionary in the "
                                          "\"json\" attribute: ") + e.what());
  }
}

static Model load_model_checked(const std::string& path) {
  Reader r(path);
  const json top = r.open();
  {
    double mnd = 0;
    auto take = [&](const json& x) {
      if (x.is_number()) mnd = x.get<double>();
      else if (x.is_string()) {
        const std::vector<double> a = r.array(x, "min_nbor_dist");
        if (a.size() == 1) mnd = a[0];
      }
    };
    if (top.contains("min_nbor_dist")) take(top["min_nbor_dist"]);
    for (const char* k : {"@variables"})
      if (top.contains(k) && top[k].is_object() && top[k].contains("min_nbor_dist"))
        take(top[k]["min_nbor_dist"]);
    if (top.contains("model") && top["model"].is_object()) {
      const json& mm = top["model"];
      if (mm.contains("min_nbor_dist")) take(mm["min_nbor_dist"]);
      if (mm.contains("@variables") && mm["@variables"].is_object() &&
          mm["@variables"].contains("min_nbor_dist"))
        take(mm["@variables"]["min_nbor_dist"]);
    }
    min_nbor_dists()[path] = std::isfinite(mnd) && mnd > 0 ? mnd : 0.0;
  }
  if (!top.contains("model")) r.fail("no \"model\" entry in the JSON dictionary");
  const json& m = top["model"];
  Model out;
  out.file = path;
  const std::string mclass = m.value("@class", std::string());
  const std::string mtype = m.value("type", std::string());
  if (mclass != "Model" || (mtype != "standard" && mtype != "ener"))
    r.unsupported("model type \"" + mtype + "\"");
  out.type_map = get<std::vector<std::string>>(r, m, "type_map", "model");
  const int nt = out.ntypes();
  if (nt == 0) r.fail("empty type_map");
  if (nonempty(m, "atom_exclude_types")) r.unsupported("atom_exclude_types");
  if (nonempty(m, "pair_exclude_types")) r.unsupported("pair_exclude_types");

  // ---- descriptor
  if (!m.contains("descriptor")) r.fail("no descriptor");
  const json& d = m["descriptor"];
  const std::string dtype = d.value("type", std::string());
  if (dtype != "se_e2_a" && dtype != "se_a") r.unsupported("descriptor type \"" + dtype + "\"");
  if (d.contains("compress")) r.unsupported("compressed (tabulated) descriptor");
  if (nonempty(d, "exclude_types")) r.unsupported("descriptor exclude_types");
  if (nonempty(d, "spin")) r.unsupported("spin");
  out.rcut = get<double>(r, d, "rcut", "descriptor");
  out.rcut_smth = get<double>(r, d, "rcut_smth", "descriptor");
  if (!(out.rcut > 0) || !(out.rcut_smth < out.rcut) || out.rcut_smth < 0)
    r.fail("descriptor: need 0 <= rcut_smth < rcut");
  out.sel = get<std::vector<int>>(r, d, "sel", "descriptor");
  if (static_cast<int>(out.sel.size()) != nt) r.fail("descriptor: sel needs one entry per type");
  for (int s : out.sel)
    if (s < 0) r.fail("descriptor: negative sel");
  out.axis_neuron = get<int>(r, d, "axis_neuron", "descriptor");
  out.type_one_side = d.value("type_one_side", true);
  out.protection = d.value("env_protection", 0.0);
  out.precision = d.value("precision", std::string("float64"));
  if (out.precision != "float64" && out.precision != "float32" && out.precision != "default")
    r.unsupported("descriptor precision \"" + out.precision + "\"");
  if (d.contains("env_mat")) {
    const json& e = d["env_mat"];
    if (e.value("use_exp_switch", false)) r.unsupported("env_mat use_exp_switch");
    out.protection = e.value("protection", out.protection);
  }
  const int nnei = out.nnei();
  Dims dims;
  out.davg = r.array(d.at("@variables").at("davg"), "descriptor davg", dims);
  if (out.davg.size() != static_cast<std::size_t>(nt) * nnei * 4)
    r.fail("descriptor: davg is not [ntypes, sum(sel), 4]");
  out.dstd = r.array(d.at("@variables").at("dstd"), "descriptor dstd", dims);
  if (out.dstd.size() != out.davg.size()) r.fail("descriptor: dstd is not [ntypes, sum(sel), 4]");
  for (double s : out.dstd)
    if (s == 0.0) r.fail("descriptor: dstd has a zero entry");
  const json& emb = d.at("embeddings");
  const int ndim = emb.value("ndim", 1);
  if (ndim != (out.type_one_side ? 1 : 2))
    r.fail("descriptor: embeddings ndim does not match type_one_side");
  const json& nets = emb.at("networks");
  const std::size_t n_emb = out.type_one_side ? nt : static_cast<std::size_t>(nt) * nt;
  if (nets.size() != n_emb) r.fail("descriptor: wrong number of embedding networks");
  for (std::size_t k = 0; k < n_emb; ++k) {
    out.embedding.push_back(read_net(r, nets[k], "embedding net " + std::to_string(k)));
    const HostNet& e = out.embedding.back();
    if (e.n_in() != 1) r.fail("descriptor: embedding nets must take one input");
    if (e.n_out() != out.embedding.front().n_out())
      r.fail("descriptor: embedding nets differ in output width");
  }
  if (out.axis_neuron < 1 || out.axis_neuron > out.m1())
    r.fail("descriptor: axis_neuron must be in 1..neuron[-1]");

  // ---- fitting
  if (!m.contains("fitting")) r.fail("no fitting");
  const json& f = m["fitting"];
  const std::string ftype = f.value("type", std::string("ener"));
  if (ftype != "ener") r.unsupported("fitting type \"" + ftype + "\"");
  if (f.value("var_name", std::string("energy")) != "energy") r.unsupported("fitting var_name");
  if (nonempty(f, "numb_fparam")) r.unsupported("numb_fparam (frame parameters)");
  if (nonempty(f, "numb_aparam")) r.unsupported("numb_aparam (atomic parameters)");
  if (nonempty(f, "dim_case_embd")) r.unsupported("dim_case_embd (multi-task case embedding)");
  if (f.value("mixed_types", false)) r.unsupported("fitting mixed_types");
  if (nonempty(f, "exclude_types")) r.unsupported("fitting exclude_types");
  if (nonempty(f, "spin")) r.unsupported("spin");
  if (f.value("dim_out", 1) != 1) r.unsupported("fitting dim_out != 1");
  const json& fn = f.at("nets").at("networks");
  if (fn.size() != static_cast<std::size_t>(nt)) r.fail("fitting: need one net per type");
  const int dim_descrpt = out.m1() * out.axis_neuron;
  for (int t = 0; t < nt; ++t) {
    out.fitting.push_back(read_net(r, fn[t], "fitting net " + std::to_string(t)));
    if (out.fitting.back().n_in() != dim_descrpt)
      r.fail("fitting: input width is not neuron[-1] * axis_neuron");
    if (out.fitting.back().n_out() != 1) r.fail("fitting: output width is not 1");
  }
  std::vector<double> bias = r.array(f.at("@variables").at("bias_atom_e"), "bias_atom_e", dims);
  if (bias.size() != static_cast<std::size_t>(nt)) r.fail("fitting: bias_atom_e is not [ntypes]");
  std::vector<double> out_bias(nt, 0.0);
  if (m.contains("@variables") && m["@variables"].contains("out_bias") &&
      !m["@variables"]["out_bias"].is_null()) {
    std::vector<double> ob = r.array(m["@variables"]["out_bias"], "out_bias", dims);
    if (dims.size() != 3 || dims[1] != static_cast<unsigned long long>(nt) || dims[2] != 1)
      r.fail("out_bias is not [nkeys, ntypes, 1]");
    for (int t = 0; t < nt; ++t) out_bias[t] = ob[t];  // first key: energy
  }
  for (int t = 0; t < nt; ++t) out.e_shift.push_back(bias[t] + out_bias[t]);
  return out;
}

}  // namespace md::deepmd
