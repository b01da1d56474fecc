// [potential] style = "snap": LAMMPS SNAP files (coeff + param, or a .snap include file) and
// the element of each system type (LAMMPS pair_coeff * * ... E1 E2 ...).
#include <algorithm>
#include <filesystem>

#include "engine/config.hpp"
#include "models/potential_files.hpp"
#include "models/overlay/overlay.hpp"
#include "models/registry.hpp"
#include "models/snap/snap.hpp"
#include "models/zbl/zbl.hpp"

namespace md {

namespace {

std::string resolve(Section& s, const std::string& key, const std::string& name,
                    const std::string& base_dir) {
  namespace fs = std::filesystem;
  fs::path p(name);
  if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
  if (!fs::exists(p)) s.fail(key, "file \"" + p.string() + "\" not found");
  potential_files_found().push_back(p.string());
  return p.string();
}

}  // namespace

// The ZBL part of a .snap include (pair_coeff I J zbl Zi Zj) as an overlay term.
std::unique_ptr<Potential> include_zbl(Section& s, const SnapIncludeZbl& zbl,
                                       const PotentialSetup& setup, std::vector<char>& mask) {
  if (setup.units.name != "metal") s.fail("include", "the ZBL part needs metal units");
  const int n = static_cast<int>(setup.type_names.size());
  ZBLParams p;
  p.n_types = n;
  p.inner = zbl.inner;
  p.outer = zbl.outer;
  if (!(p.inner > 0.0 && p.outer > p.inner))
    s.fail("include", "ZBL needs 0 < inner < outer");
  p.z.assign(n, 0.0);
  mask.assign(static_cast<std::size_t>(n) * n, 0);
  for (const auto& pc : zbl.pairs) {
    if (pc.t1 < 1 || pc.t1 > n || pc.t2 < 1 || pc.t2 > n)
      s.fail("include", "ZBL pair_coeff for type " + std::to_string(std::max(pc.t1, pc.t2)) +
                            " but the system has " + std::to_string(n) + " types");
    const double zz[2] = {pc.z1, pc.z2};
    const int tt[2] = {pc.t1 - 1, pc.t2 - 1};
    for (int k = 0; k < 2; ++k) {
      if (p.z[tt[k]] != 0.0 && p.z[tt[k]] != zz[k])
        s.fail("include", "ZBL charges of type " + std::to_string(tt[k] + 1) + " differ");
      p.z[tt[k]] = zz[k];
    }
    mask[tt[0] * n + tt[1]] = mask[tt[1] * n + tt[0]] = 1;
  }
  for (int t = 0; t < n; ++t)
    if (p.z[t] == 0.0) p.z[t] = 1.0;  // type without ZBL pairs: masked out, any charge
  if (std::find(mask.begin(), mask.end(), 0) == mask.end()) mask.clear();
  return std::make_unique<ZBLPotential>(setup.ctx, std::move(p));
}

std::unique_ptr<Potential> make_snap(Section& s, const PotentialSetup& setup) {
  if (setup.units.name != "metal")
    s.fail("style", "SNAP potential files are in metal units (eV, Angstrom); set units = \"metal\"");
  std::string coeff, param;
  std::vector<std::string> elements;
  SnapIncludeZbl zbl;
  if (s.has("include")) {
    if (s.has("coeff") || s.has("param"))
      s.fail("include", "give either include or coeff + param, not both");
    const std::string inc_path = resolve(s, "include", s.get_string("include"), setup.input_dir);
    const SnapInclude inc = read_snap_include(inc_path);
    zbl = inc.zbl;
    const std::string dir = std::filesystem::path(inc_path).parent_path().string();
    coeff = resolve(s, "include", inc.coeff_file, dir);
    param = resolve(s, "include", inc.param_file, dir);
    elements = inc.elements;
  } else {
    coeff = resolve(s, "coeff", s.get_string("coeff"), setup.input_dir);
    param = resolve(s, "param", s.get_string("param"), setup.input_dir);
  }
  if (s.has("elements")) elements = s.get_strings("elements");
  if (elements.empty()) elements = setup.type_names;
  if (elements.size() != setup.type_names.size())
    s.fail(s.has("elements") ? "elements" : "include",
           "expected one element (or \"NULL\") per system type (" +
               std::to_string(setup.type_names.size()) + "), got " +
               std::to_string(elements.size()));
  s.finish();
  SnapModel model = read_snap_model(coeff, param, elements);
  auto snap = std::make_unique<SnapPotential>(setup.ctx, std::move(model));
  if (!zbl.present) return snap;
  // pair_style hybrid/overlay zbl INNER OUTER snap, as LAMMPS
  auto sum = std::make_unique<PotentialSum>();
  std::vector<char> mask;
  std::unique_ptr<Potential> z = include_zbl(s, zbl, setup, mask);
  sum->add(setup.ctx, std::move(z), std::move(mask));
  sum->add(setup.ctx, std::move(snap), {});
  return sum;
}

}  // namespace md
