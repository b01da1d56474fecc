// [potential] style = "hipnn": a hippynn HIP-NN model exported to an mdgpu-hipnn file
// (tools/export_hippynn.py). Keys: model (the .hipnn.h5 file, found like every potential
// file), precision = "double" | "mixed", types (element symbol of each system type; default:
// the system's type names). The file's units must be the run's (metal: eV and Å), by name.
#include <cstdio>

#include "engine/config.hpp"
#include "engine/error.hpp"
#include "models/hipnn/hipnn.hpp"
#include "models/potential_files.hpp"
#include "models/registry.hpp"

namespace md {

std::unique_ptr<Potential> make_hipnn(Section& s, const PotentialSetup& setup) {
  const std::string path = potential_file_from(s, "model", setup.input_dir);
  const std::string prec = s.get_choice("precision", {"double", "mixed"}, std::string("double"));
  std::vector<std::string> names = setup.type_names;
  if (s.has("types")) {
    names = s.get_strings("types");
    if (names.size() != setup.type_names.size())
      s.fail("types", "needs one element symbol per system type (" +
                          std::to_string(setup.type_names.size()) + ")");
  }
  s.finish();
  hipnn::Params model = hipnn::load_model(path);  // InputError naming the file and key
  const std::string units = hipnn::units_mismatch(model, setup.units.name);
  if (!units.empty()) s.fail("model", "unit mismatch: " + units);
  hipnn::Options opt;
  opt.precision = prec == "mixed" ? hipnn::Precision::mixed : hipnn::Precision::double_;
  for (const std::string& n : names) {
    const int k = model.species_index(n);
    if (k < 0) {
      std::string list;
      for (const auto& t : model.symbols) list += (list.empty() ? "" : ", ") + t;
      s.fail(s.has("types") ? "types" : "model",
             "element \"" + n + "\" is not a species of the model (species: " + list + ")");
    }
    opt.species_of_type.push_back(k);
  }
  {
    std::string map, widths;
    for (std::size_t t = 0; t < names.size(); ++t)
      map += (map.empty() ? "" : ", ") + setup.type_names[t] + "->" + names[t];
    for (int w : model.feature_sizes) widths += (widths.empty() ? "" : " ") + std::to_string(w);
    std::printf("hipnn model %s: %d interaction layers x %d atom layers, widths %s, %d "
                "sensitivities, resnet %s, rc %g, hippynn %s, precision %s, system types %s\n",
                path.c_str(), model.n_interactions(), model.n_atom_layers, widths.c_str(),
                model.n_sensitivities, model.resnet ? "on" : "off", model.cutoff,
                model.hippynn_version.c_str(), prec.c_str(), map.c_str());
  }
  return std::make_unique<hipnn::HipnnPotential>(setup.ctx, std::move(model), std::move(opt));
}

}  // namespace md
