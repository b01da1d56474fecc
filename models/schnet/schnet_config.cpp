// [potential] style = "schnet": a schnetpack 2.x SchNet model exported to an mdgpu-schnet file
// (tools/export_schnetpack.py). Keys: model (the .schnet.h5 file, found like every potential
// file), precision = "double" | "mixed", tabulate = true (filter networks as cubic Hermite
// tables of r, table_step = 0.002 by default), types (element symbol of each system type;
// default: the system's type names). The file's units must be the run's (eV, Å), by name.
#include <algorithm>
#include <cstdio>

#include "engine/config.hpp"
#include "engine/error.hpp"
#include "models/potential_files.hpp"
#include "models/registry.hpp"
#include "models/schnet/schnet.hpp"

namespace md {

namespace {

bool is_angstrom(const std::string& u) {
  return u == "Angstrom" || u == "angstrom" || u == "Ang" || u == "A" || u == "\xC3\x85";
}

}  // namespace

std::unique_ptr<Potential> make_schnet(Section& s, const PotentialSetup& setup) {
  const std::string path = potential_file_from(s, "model", setup.input_dir);
  const std::string prec = s.get_choice("precision", {"double", "mixed"}, std::string("double"));
  double table_step = 0;
  if (s.has("tabulate")) {
    const bool on = s.get_bool("tabulate");
    table_step = s.get_double("table_step", 0.002);
    if (!(table_step > 0) || table_step > 0.1) s.fail("table_step", "must be in (0, 0.1] (length)");
    if (!on) table_step = 0;
  } else if (s.has("table_step")) {
    s.fail("table_step", "needs tabulate = true");
  }
  std::vector<std::string> names = setup.type_names;
  if (s.has("types")) {
    names = s.get_strings("types");
    if (names.size() != setup.type_names.size())
      s.fail("types", "needs one element symbol per system type (" +
                          std::to_string(setup.type_names.size()) + ")");
  }
  s.finish();
  schnet::Params model = schnet::load_model(path);  // InputError naming the file and key
  // Units: by name, never converted.
  if (setup.units.name != "metal")
    s.fail("style", "schnet model " + path + " is in " + model.energy_unit + " and " +
                        model.length_unit + "; the run's units are \"" + setup.units.name +
                        "\" (only metal units, eV and Angstrom, are supported)");
  if (model.energy_unit != "eV" || !is_angstrom(model.length_unit))
    s.fail("model", "unit mismatch: the model file " + path + " records energy \"" +
                        model.energy_unit + "\" and length \"" + model.length_unit +
                        "\", the run's units are metal (eV, Angstrom); re-export the model in "
                        "eV and Angstrom");
  schnet::Options opt;
  opt.precision = prec == "mixed" ? schnet::Precision::mixed : schnet::Precision::double_;
  opt.table_step = table_step;
  for (const std::string& n : names) {
    const int k = model.species_index(n);
    if (k < 0) {
      std::string list;
      for (const auto& t : model.symbols) list += (list.empty() ? "" : ", ") + t;
      s.fail(s.has("types") ? "types" : "model",
             "element \"" + n + "\" is not in the model's embedding (species: " + list + ")");
    }
    opt.species_of_type.push_back(k);
  }
  {
    std::string map;
    for (std::size_t t = 0; t < names.size(); ++t)
      map += (map.empty() ? "" : ", ") + setup.type_names[t] + "->" + names[t];
    std::printf(
        "schnet model %s: %d interactions, %d features, %d filters, %d RBFs, rc %g, "
        "schnetpack %s, precision %s, system types %s\n",
        path.c_str(), model.n_interactions(), model.n_atom_basis, model.n_filters, model.n_rbf,
        model.cutoff, model.schnetpack_version.c_str(), prec.c_str(), map.c_str());
  }
  auto pot = std::make_unique<schnet::SchNetPotential>(setup.ctx, std::move(model), std::move(opt));
  if (table_step > 0) {
    const schnet::TableError& te = pot->table_error();
    std::printf(
        "schnet filter tables: step %g, max |W~ table - W~| %.3g (max |W~| %.3g), "
        "max |dW~/dr table - dW~/dr| %.3g at interval midpoints\n",
        table_step, te.w, te.w_scale, te.dw);
  }
  return pot;
}

}  // namespace md
