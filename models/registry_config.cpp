#include "models/registry.hpp"

#include "engine/config.hpp"

namespace md {

const std::vector<PotentialStyle>& potential_styles() {
  static const std::vector<PotentialStyle> styles = {
      {"lj", make_lj, "Lennard-Jones 12-6 (LAMMPS lj/cut), per type pair, mixing, shift"},
      {"deepmd", make_deepmd, "DeePMD se_e2_a energy model from a deepmd-kit v3 .dp file"},
      {"eam", make_eam, "embedded atom, DYNAMO funcfl files (LAMMPS eam)"},
      {"eam/alloy", make_eam_alloy, "embedded atom, DYNAMO setfl files (LAMMPS eam/alloy)"},
      {"eam/fs", make_eam_fs, "embedded atom, Finnis-Sinclair setfl files (LAMMPS eam/fs)"},
      {"zbl", make_zbl, "ZBL screened nuclear repulsion with switching (LAMMPS zbl)"},
      {"table", make_table, "tabulated pairs from LAMMPS table files, linear or spline"},
      {"morse", make_morse, "Morse pair potential (LAMMPS morse), per type pair, shift"},
      {"overlay", make_overlay, "sum of several styles, each on chosen type pairs (hybrid/overlay)"},
      {"gap", make_gap, "GAP kernel regression (QUIP/GAP gap.xml): distance_2b, SOAP"},
      {"snap", make_snap, "SNAP bispectrum ML potential, LAMMPS .snapcoeff/.snapparam (ML-SNAP)"},
      {"flare", make_flare, "FLARE mapped B2 model from mir-flare's lmp.flare (pair_style flare)"},
  };
  return styles;
}

std::unique_ptr<Potential> make_potential(Section& potential, const PotentialSetup& setup) {
  std::vector<std::string> names;
  for (const auto& s : potential_styles()) names.push_back(s.name);
  const std::string style = potential.get_choice("style", names);
  for (const auto& s : potential_styles())
    if (style == s.name) return s.make(potential, setup);
  potential.fail("style", "unknown style");
}

}  // namespace md
