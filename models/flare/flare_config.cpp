// [potential] style = "flare": a mir-flare mapped model (lmp.flare, as LAMMPS pair_style flare
// reads it), the FLARE species order (LAMMPS: the type order), and the single-atom energies
// the file does not carry.
//   [potential]
//   style = "flare"
//   file = "lmp.flare"
//   species = ["Cu", "Ag"]                 # FLARE species 0, 1, ...; default: the system types
//   single_atom_energies = { Cu = -0.1 }   # eV per atom, default 0
//   l_inv = "L_inv_lmp.flare"              # optional, with sparse_desc: per-atom uncertainty
//   sparse_desc = "sparse_desc_lmp.flare"
#include <cstdio>
#include <filesystem>

#include "engine/config.hpp"
#include "models/flare/flare.hpp"
#include "models/potential_files.hpp"
#include "models/registry.hpp"

namespace md {

namespace {

std::string resolve_file(Section& s, const std::string& key, const std::string& base_dir) {
  namespace fs = std::filesystem;
  fs::path p(s.get_string(key));
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  if (!fs::exists(p)) s.fail(key, "file \"" + p.string() + "\" not found");
  potential_files_found().push_back(p.string());
  return p.string();
}

}  // namespace

std::unique_ptr<Potential> make_flare(Section& s, const PotentialSetup& setup) {
  if (setup.units.name != "metal")
    s.fail("style", "FLARE models are in metal units (eV, Angstrom); set units = \"metal\"");
  const std::string path = resolve_file(s, "file", setup.input_dir);
  std::vector<std::string> species = setup.type_names;
  if (s.has("species")) species = s.get_strings("species");
  FlareModel m = read_flare_model(path);
  if (static_cast<int>(species.size()) != m.n_species)
    s.fail(s.has("species") ? "species" : "file",
           "the model has " + std::to_string(m.n_species) + " species, the " +
               (s.has("species") ? std::string("list names ") : std::string("system has ")) +
               std::to_string(species.size()) + " (give species = [...] in FLARE's order)");
  m.species_of_type.assign(setup.type_names.size(), -1);
  for (std::size_t t = 0; t < setup.type_names.size(); ++t) {
    for (std::size_t k = 0; k < species.size(); ++k)
      if (species[k] == setup.type_names[t]) m.species_of_type[t] = static_cast<int>(k);
    if (m.species_of_type[t] < 0)
      s.fail(s.has("species") ? "species" : "file",
             "system type \"" + setup.type_names[t] + "\" is not a species of the model");
  }
  m.single_atom_energy.assign(m.n_species, 0.0);
  std::string defaulted;
  if (auto e0 = s.table("single_atom_energies")) {
    for (std::size_t k = 0; k < species.size(); ++k) {
      if (e0->has(species[k]))
        m.single_atom_energy[k] = e0->get_double(species[k]);
      else
        defaulted += (defaulted.empty() ? "" : ", ") + species[k];
    }
    e0->finish();
  } else {
    for (const auto& n : species) defaulted += (defaulted.empty() ? "" : ", ") + n;
  }
  std::string l_inv, sparse;
  if (s.has("l_inv") || s.has("sparse_desc")) {
    l_inv = resolve_file(s, "l_inv", setup.input_dir);
    sparse = resolve_file(s, "sparse_desc", setup.input_dir);
  }
  s.finish();
  if (!defaulted.empty())
    std::fprintf(stderr,
                 "note: flare: single_atom_energies not given for %s: 0 eV (lmp.flare has none; "
                 "energies then differ from the GP's by the sum of e0)\n",
                 defaulted.c_str());
  FlareUncertaintyModel u;
  if (!l_inv.empty()) u = read_flare_uncertainty(l_inv, sparse, m);
  auto pot = std::make_unique<FlarePotential>(setup.ctx, std::move(m));
  if (!l_inv.empty()) pot->set_uncertainty(setup.ctx, u);
  return pot;
}

}  // namespace md
