// [potential] style = "eam" | "eam/alloy" | "eam/fs": reads the files and maps system types
// to the file's elements (LAMMPS pair_coeff * * file El1 El2 ..., "NULL" = not this potential).
#include <algorithm>

#include "engine/config.hpp"
#include "models/eam/eam.hpp"
#include "models/potential_files.hpp"
#include "models/registry.hpp"

namespace md {

// eam (funcfl): `file` for every type, or `files = { TypeName = "file" | "NULL", ... }`.
std::unique_ptr<Potential> make_eam(Section& s, const PotentialSetup& setup) {
  if (setup.units.name != "metal")
    s.fail("style", "EAM potential files are in metal units (eV, Angstrom); set units = \"metal\"");
  const auto& types = setup.type_names;
  const int nt = static_cast<int>(types.size());
  std::vector<std::string> names(nt);
  if (s.has("file") == s.has("files"))
    s.fail("file", "give either file (one funcfl file for all types) or files (one per type)");
  if (s.has("file")) {
    const std::string path = potential_file_from(s, "file", setup.input_dir);
    std::fill(names.begin(), names.end(), path);
  } else {
    Section f = *s.table("files");
    for (int t = 0; t < nt; ++t) {
      const std::string name = f.get_string(types[t]);
      names[t] = name == "NULL" ? "" : potential_file_named(f, types[t], name, setup.input_dir);
    }
    f.finish();
  }
  std::vector<FuncflFile> files;
  std::vector<std::string> paths;
  std::vector<int> map(nt, -1);
  for (int t = 0; t < nt; ++t) {
    if (names[t].empty()) continue;
    auto it = std::find(paths.begin(), paths.end(), names[t]);
    if (it == paths.end()) {
      files.push_back(read_funcfl(names[t]));
      paths.push_back(names[t]);
      it = paths.end() - 1;
    }
    map[t] = static_cast<int>(it - paths.begin());
  }
  if (files.empty()) s.fail("files", "no type is mapped to a file");
  return std::make_unique<EAMPotential>(setup.ctx, "eam", eam_tables_funcfl(files, map));
}

static std::unique_ptr<Potential> make_setfl(Section& s, const PotentialSetup& setup, bool fs) {
  if (setup.units.name != "metal")
    s.fail("style", "EAM potential files are in metal units (eV, Angstrom); set units = \"metal\"");
  const auto& types = setup.type_names;
  const std::string path = potential_file_from(s, "file", setup.input_dir);
  const SetflFile file = read_setfl(path, fs);
  std::vector<std::string> elements = types;
  if (s.has("elements")) elements = s.get_strings("elements");
  if (elements.size() != types.size())
    s.fail("elements", "expected one element (or \"NULL\") per system type (" +
                           std::to_string(types.size()) + ")");
  std::vector<int> map(types.size(), -1);
  bool any = false;
  for (std::size_t t = 0; t < types.size(); ++t) {
    if (elements[t] == "NULL") continue;
    auto it = std::find(file.elements.begin(), file.elements.end(), elements[t]);
    if (it == file.elements.end()) {
      std::string list;
      for (const auto& e : file.elements) list += (list.empty() ? "" : " ") + e;
      s.fail(s.has("elements") ? "elements" : "file",
             "element \"" + elements[t] + "\" (type " + types[t] + ") is not in " + path +
                 " (elements: " + list + "); map types with elements = [...]");
    }
    map[t] = static_cast<int>(it - file.elements.begin());
    any = true;
  }
  if (!any) s.fail("elements", "every type is NULL");
  return std::make_unique<EAMPotential>(setup.ctx, fs ? "eam/fs" : "eam/alloy",
                                        eam_tables_setfl(file, map));
}

std::unique_ptr<Potential> make_eam_alloy(Section& s, const PotentialSetup& setup) {
  return make_setfl(s, setup, false);
}

std::unique_ptr<Potential> make_eam_fs(Section& s, const PotentialSetup& setup) {
  return make_setfl(s, setup, true);
}

}  // namespace md
