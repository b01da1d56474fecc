// [potential] style = "deepmd": a deepmd-kit v3 .dp model (se_e2_a energy model).
// Keys: file (found like every potential file, models/potential_files.hpp), precision = "model" |
// "double" | "mixed", types (model type name for each system type; default: the system's type
// names), tabulate = { rmin, step, coarse_step, extrapolate } (tabulated embedding; its
// measured error is printed at load).
#include <algorithm>
#include <cstdio>
#include <map>

#include "engine/config.hpp"
#include "models/deepmd/deepmd.hpp"
#include "models/potential_files.hpp"
#include "models/registry.hpp"

namespace md {

namespace deepmd {
double stored_min_nbor_dist(const std::string& path);  // deepmd_io.cpp

// What the run pipeline needs to warn about atoms with more neighbours than sel (io/app.cpp
// declares this function itself: no header of the deepmd kernels changes).
struct SelCheck {
  std::string file;
  double rcut = 0;
  std::vector<int> sel;                  // per model type
  std::vector<std::string> type_map;     // model type names
  std::vector<int> type_of_system_type;  // system type -> model type
};
static std::map<const Potential*, SelCheck>& sel_checks() {
  static std::map<const Potential*, SelCheck> m;
  return m;
}
const SelCheck* sel_check_of(const Potential* p) {
  const auto it = sel_checks().find(p);
  return it == sel_checks().end() ? nullptr : &it->second;
}
}  // namespace deepmd

std::unique_ptr<Potential> make_deepmd(Section& s, const PotentialSetup& setup) {
  // relative names: next to the input, then $MDGPU_POTENTIALS, then inputs/potentials/
  const std::string path = potential_file_from(s, "file", setup.input_dir);
  const std::string prec =
      s.get_choice("precision", {"model", "double", "mixed"}, std::string("model"));
  std::vector<std::string> names = setup.type_names;
  if (s.has("types")) {
    names = s.get_strings("types");
    if (names.size() != setup.type_names.size())
      s.fail("types", "needs one model type name per system type (" +
                          std::to_string(setup.type_names.size()) + ")");
  }
  deepmd::TableOptions tab;
  bool rmin_given = false;
  if (auto t = s.table("tabulate")) {
    tab.enabled = true;
    rmin_given = t->has("rmin");
    tab.rmin = t->get_double("rmin", tab.rmin);
    if (!(tab.rmin > 0)) t->fail("rmin", "must be positive (Å)");
    tab.step = t->get_double("step", tab.step);
    if (!(tab.step > 0)) t->fail("step", "must be positive");
    tab.coarse_step = t->get_double("coarse_step", 10.0 * tab.step);
    if (!(tab.coarse_step > 0)) t->fail("coarse_step", "must be positive");
    tab.extrapolate = t->get_double("extrapolate", tab.extrapolate);
    if (!(tab.extrapolate >= 1)) t->fail("extrapolate", "must be >= 1");
    if (tab.step < 1e-5 || tab.coarse_step < 1e-5)  // tables of > 1e5 rows per unit of s
      t->fail(tab.step < 1e-5 ? "step" : "coarse_step", "must be at least 1e-5");
    t->finish();
  }
  s.finish();
  if (setup.units.name != "metal")
    s.fail("style", "deepmd models are in metal units (eV, Å); set units = \"metal\"");
  deepmd::Model model = deepmd::load_model(path);  // InputError naming the file
  // The tabulation starts at the closest neighbour distance of the training data when the
  // model stores it (as deepmd-kit's `dp compress` does), unless rmin is given.
  const double min_nbor = deepmd::stored_min_nbor_dist(path);
  if (tab.enabled && !rmin_given && min_nbor > 0 && min_nbor < model.rcut) tab.rmin = min_nbor;
  if (tab.enabled && !(tab.rmin < model.rcut))
    s.fail("tabulate", "rmin must be below the model's rcut (" + std::to_string(model.rcut) + ")");
  deepmd::Options opt;
  opt.tabulate = tab;
  for (const std::string& n : names) {
    auto it = std::find(model.type_map.begin(), model.type_map.end(), n);
    if (it == model.type_map.end()) {
      std::string list;
      for (const auto& t : model.type_map) list += (list.empty() ? "" : ", ") + t;
      s.fail(s.has("types") ? "types" : "file",
             "type \"" + n + "\" is not in the model's type_map (" + list + ")");
    }
    opt.type_of_system_type.push_back(static_cast<int>(it - model.type_map.begin()));
  }
  if (prec == "double")
    opt.precision = deepmd::Precision::double_;
  else if (prec == "mixed")
    opt.precision = deepmd::Precision::mixed;
  else
    opt.precision =
        model.precision == "float32" ? deepmd::Precision::mixed : deepmd::Precision::double_;
  {  // the model, described once at load
    std::string tmap, sel, map;
    for (const auto& t : model.type_map) tmap += (tmap.empty() ? "" : " ") + t;
    for (int v : model.sel) sel += (sel.empty() ? "" : " ") + std::to_string(v);
    for (std::size_t t = 0; t < names.size(); ++t)
      map += (map.empty() ? "" : ", ") + setup.type_names[t] + "->" + names[t];
    std::printf("deepmd model %s: type_map [%s], rcut %g (smoothing from %g), sel [%s], "
                "precision %s (running in %s), system types %s%s\n",
                path.c_str(), tmap.c_str(), model.rcut, model.rcut_smth, sel.c_str(),
                model.precision.c_str(),
                opt.precision == deepmd::Precision::double_ ? "double" : "mixed", map.c_str(),
                min_nbor > 0 ? (", min_nbor_dist " + std::to_string(min_nbor)).c_str() : "");
  }
  deepmd::SelCheck sel{path, model.rcut, model.sel, model.type_map, opt.type_of_system_type};
  auto pot = std::make_unique<deepmd::DeepMDPotential>(setup.ctx, std::move(model), std::move(opt));
  deepmd::sel_checks()[pot.get()] = std::move(sel);
  if (const deepmd::TableInfo* ti = pot->table_info()) std::printf("%s\n", ti->summary().c_str());
  return pot;
}

}  // namespace md
