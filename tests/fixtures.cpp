#include "fixtures.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>

namespace md::test {

namespace {

std::array<double, 3> vec3(const nlohmann::json& j) {
  REQUIRE(j.size() == 3);
  return {j[0].get<double>(), j[1].get<double>(), j[2].get<double>()};
}

// 3x3 row-major -> xx yy zz xy xz yz (the upper triangle, as the engine stores W).
std::array<double, 6> voigt(const std::array<double, 9>& m) {
  return {m[0], m[4], m[8], m[1], m[2], m[5]};
}

std::array<double, 9> mat9(const nlohmann::json& j) {
  REQUIRE(j.size() == 9);
  std::array<double, 9> m{};
  for (int k = 0; k < 9; ++k) m[k] = j[k].get<double>();
  return m;
}

}  // namespace

Fixture load_fixture(const std::string& rel) {
  Fixture fx;
  fx.path = !rel.empty() && rel[0] == '/' ? rel : std::string(MDGPU_SOURCE_DIR) + "/" + rel;
  std::ifstream in(fx.path);
  REQUIRE_MESSAGE(in.good(), "missing fixture " << fx.path);
  const nlohmann::json doc = nlohmann::json::parse(in);
  REQUIRE(doc.at("schema").get<std::string>() == "mdgpu-reference-fixture/1");
  REQUIRE(doc.at("units").get<std::string>() == "metal");
  fx.producer = doc.at("producer");
  fx.model = doc.at("model");
  fx.type_map = fx.model.at("type_map").get<std::vector<std::string>>();
  for (const auto& f : doc.at("frames")) {
    FixtureFrame fr;
    fr.name = f.at("name").get<std::string>();
    Structure& s = fr.structure;
    const auto a = vec3(f.at("cell")[0]), b = vec3(f.at("cell")[1]), c = vec3(f.at("cell")[2]);
    const bool lammps_form = a[1] == 0.0 && a[2] == 0.0 && b[2] == 0.0;
    REQUIRE_MESSAGE(lammps_form,
                    fr.name << ": cell rows must be in LAMMPS form (a along x, b in xy)");
    const auto origin = vec3(f.at("origin"));
    for (int d = 0; d < 3; ++d) s.box.lo[d] = origin[d];
    s.box.l[0] = a[0];
    s.box.l[1] = b[1];
    s.box.l[2] = c[2];
    s.box.xy = b[0];
    s.box.xz = c[0];
    s.box.yz = c[1];
    const auto pbc = f.at("pbc");
    for (int d = 0; d < 3; ++d) s.box.periodic[d] = pbc[d].get<bool>() ? 1 : 0;
    s.type_names = fx.type_map;
    for (const auto& t : fx.type_map) {
      const double m = element_mass(t);
      s.type_masses.push_back(m > 0 ? m : 1.0);
    }
    const auto& species = f.at("species");
    const auto& pos = f.at("positions");
    REQUIRE(species.size() == pos.size());
    for (std::size_t i = 0; i < pos.size(); ++i) {
      auto r = vec3(pos[i]);
      double fr3[3];
      s.box.to_fractional(r[0], r[1], r[2], fr3);
      bool outside = false;
      for (int d = 0; d < 3; ++d)
        if (s.box.periodic[d] && (fr3[d] < 0.0 || fr3[d] >= 1.0)) {
          fr3[d] -= std::floor(fr3[d]);
          outside = true;
        }
      if (outside) s.box.to_cartesian(fr3, r.data());
      const std::string sp = species[i].get<std::string>();
      int t = 0;
      while (t < static_cast<int>(fx.type_map.size()) && fx.type_map[t] != sp) ++t;
      REQUIRE_MESSAGE(t < static_cast<int>(fx.type_map.size()), "species " << sp << " not in type_map");
      s.add_atom(static_cast<std::int64_t>(i) + 1, t, r[0], r[1], r[2]);
    }
    fr.energy = f.at("energy").get<double>();
    for (const auto& v : f.at("forces")) fr.forces.push_back(vec3(v));
    REQUIRE(fr.forces.size() == s.size());
    fr.virial_3x3 = mat9(f.at("virial"));
    fr.virial = voigt(fr.virial_3x3);
    if (f.contains("atom_energies")) fr.atom_energies = f.at("atom_energies").get<std::vector<double>>();
    if (f.contains("atom_virials"))
      for (const auto& v : f.at("atom_virials")) fr.atom_virials.push_back(voigt(mat9(v)));
    if (f.contains("extra")) fr.extra = f.at("extra");
    fx.frames.push_back(std::move(fr));
  }
  REQUIRE(!fx.frames.empty());
  return fx;
}

FixtureErrors compare_to_fixture(const Forces& f, const FixtureFrame& frame) {
  FixtureErrors e;
  e.energy_rel = std::abs(f.energy - frame.energy) / std::abs(frame.energy);
  for (std::size_t i = 0; i < frame.forces.size(); ++i) {
    const auto& r = frame.forces[i];
    e.fmax = std::max({e.fmax, std::abs(r[0]), std::abs(r[1]), std::abs(r[2])});
    e.force_abs = std::max({e.force_abs, std::abs(f.fx[i] - r[0]), std::abs(f.fy[i] - r[1]),
                            std::abs(f.fz[i] - r[2])});
    if (!frame.atom_energies.empty())
      e.atom_energy_abs = std::max(e.atom_energy_abs, std::abs(f.e_atom[i] - frame.atom_energies[i]));
  }
  double scale = 0, worst = 0;
  for (int c = 0; c < 6; ++c) {
    scale = std::max(scale, std::abs(frame.virial[c]));
    worst = std::max(worst, std::abs(f.virial[c] - frame.virial[c]));
  }
  e.virial_rel = worst / scale;
  return e;
}

}  // namespace md::test
