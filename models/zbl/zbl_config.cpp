// [potential] style = "zbl": inner/outer switching radii and a nuclear charge per type
// (default: the atomic number of the type name when it is an element symbol).
#include "engine/config.hpp"
#include "models/registry.hpp"
#include "models/zbl/zbl.hpp"

namespace md {

int atomic_number(const std::string& symbol) {
  static const char* const kSymbols[] = {
      "H",  "He", "Li", "Be", "B",  "C",  "N",  "O",  "F",  "Ne", "Na", "Mg", "Al", "Si", "P",
      "S",  "Cl", "Ar", "K",  "Ca", "Sc", "Ti", "V",  "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Zn",
      "Ga", "Ge", "As", "Se", "Br", "Kr", "Rb", "Sr", "Y",  "Zr", "Nb", "Mo", "Tc", "Ru", "Rh",
      "Pd", "Ag", "Cd", "In", "Sn", "Sb", "Te", "I",  "Xe", "Cs", "Ba", "La", "Ce", "Pr", "Nd",
      "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb", "Lu", "Hf", "Ta", "W",  "Re",
      "Os", "Ir", "Pt", "Au", "Hg", "Tl", "Pb", "Bi", "Po", "At", "Rn", "Fr", "Ra", "Ac", "Th",
      "Pa", "U",  "Np", "Pu", "Am", "Cm", "Bk", "Cf", "Es", "Fm", "Md", "No", "Lr", "Rf", "Db",
      "Sg", "Bh", "Hs", "Mt", "Ds", "Rg", "Cn", "Nh", "Fl", "Mc", "Lv", "Ts", "Og"};
  int z = 0;
  for (const char* s : kSymbols) {
    ++z;
    if (symbol == s) return z;
  }
  return 0;
}

std::unique_ptr<Potential> make_zbl(Section& s, const PotentialSetup& setup) {
  if (setup.units.name != "metal") s.fail("style", "zbl needs metal units");
  ZBLParams p;
  p.n_types = static_cast<int>(setup.type_names.size());
  p.inner = s.get_double("inner");
  p.outer = s.get_double("outer");
  if (!(p.inner > 0.0)) s.fail("inner", "must be positive");
  if (!(p.outer >= p.inner)) s.fail("outer", "must be at least inner");
  // LAMMPS divides by outer - inner; equal radii would give NaN coefficients.
  if (!(p.outer > p.inner)) s.fail("outer", "must be larger than inner");
  std::optional<Section> zt = s.table("z");
  for (const std::string& name : setup.type_names) {
    double z = atomic_number(name);
    if (zt && zt->has(name)) z = zt->get_double(name);
    if (!(z > 0.0))
      (zt ? *zt : s).fail(zt ? name : "z", "no nuclear charge for type \"" + name +
                                               "\" (not an element symbol); give z = { " + name +
                                               " = ... }");
    p.z.push_back(z);
  }
  if (zt) zt->finish();
  return std::make_unique<ZBLPotential>(setup.ctx, std::move(p));
}

}  // namespace md
