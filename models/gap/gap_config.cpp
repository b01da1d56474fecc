// [potential] style = "gap": a QUIP/GAP gap.xml (its sparseX files next to it) and the element
// of each system type (default: the type names). Every system species must be covered by a
// descriptor of the model; e0 is taken per atomic number. variance_regularisation (default
// 0.001, quippy's gap_variance_regularisation) enters the predictive variance of [uncertainty].
#include "engine/config.hpp"
#include "engine/error.hpp"
#include "models/gap/gap.hpp"
#include "models/potential_files.hpp"
#include "models/registry.hpp"
#include "models/zbl/zbl.hpp"

namespace md {

namespace {

bool covers(const GapModel& m, int z) {
  for (const GapCoordinates& g : m.coords) {
    if (g.kind == GapDescriptorKind::Distance2b) {
      if (g.d2b.z1 == 0 || g.d2b.z2 == 0 || g.d2b.z1 == z || g.d2b.z2 == z) return true;
    } else if (g.kind == GapDescriptorKind::Angle3b) {
      const GapAngle3b& a = g.a3b;
      if (a.z == 0 || a.z == z || a.z1 == 0 || a.z1 == z || a.z2 == 0 || a.z2 == z) return true;
    } else if (g.kind == GapDescriptorKind::BispectrumSo4) {
      if (g.so4.z_centre == 0 || g.so4.z_centre == z) return true;
      for (int s : g.so4.species_z)
        if (s == 0 || s == z) return true;
    } else {
      if (g.soap.z_centre == 0 || g.soap.z_centre == z) return true;
      for (int s : g.soap.species_z)
        if (s == 0 || s == z) return true;
    }
  }
  return false;
}

}  // namespace

std::unique_ptr<Potential> make_gap(Section& s, const PotentialSetup& setup) {
  if (setup.units.name != "metal")
    s.fail("style", "GAP models are in eV and Angstrom; set units = \"metal\"");
  const std::string name = s.get_string("xml");
  std::vector<std::string> tried;
  const std::string path = find_potential_file(name, setup.input_dir, &tried);
  if (path.empty()) s.fail("xml", "file \"" + name + "\" not found");
  std::vector<std::string> elements = setup.type_names;
  if (s.has("elements")) elements = s.get_strings("elements");
  if (elements.size() != setup.type_names.size())
    s.fail("elements", "expected one element per system type (" +
                           std::to_string(setup.type_names.size()) + "), got " +
                           std::to_string(elements.size()));
  bool mixed = false;
  if (s.has("precision")) mixed = s.get_choice("precision", {"double", "mixed"}) == "mixed";
  double reg = 0.001;  // quippy's default gap_variance_regularisation
  if (s.has("variance_regularisation")) {
    reg = s.get_double("variance_regularisation");
    if (!(reg > 0.0)) s.fail("variance_regularisation", "must be > 0 (quippy's default: 0.001)");
  }
  s.finish();
  GapModel model = read_gap_model(path);
  std::vector<int> type_z;
  for (std::size_t t = 0; t < elements.size(); ++t) {
    const int z = atomic_number(elements[t]);
    const char* key = s.has("elements") ? "elements" : "style";
    if (z <= 0)
      s.fail(key, "type " + setup.type_names[t] + ": \"" + elements[t] +
                      "\" is not an element symbol (give elements = [...])");
    if (!covers(model, z))
      s.fail(key, "species " + elements[t] + " (Z = " + std::to_string(z) +
                      ") is not in the GAP model " + path + " (no descriptor covers it)");
    type_z.push_back(z);
  }
  return std::make_unique<GapPotential>(setup.ctx, std::move(model), std::move(type_z), mixed,
                                        reg);
}

}  // namespace md
