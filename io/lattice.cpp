// Perfect-crystal builder: unit-cell basis sites (fractional coordinates as in LAMMPS'
// lattice.cpp conventions) repeated over a periodic orthogonal box. Lengths in the run's
// distance unit. Called by the run setup; validated input errors name the config key.

#include "io/lattice.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

#include "engine/error.hpp"

namespace md {

namespace {

struct Site {
  double f[3];  // fractional coordinates in the unit cell
};

// Basis sites for each kind; empty for an unknown kind.
std::vector<Site> basis_sites(const std::string& kind) {
  if (kind == "sc") return {{{0, 0, 0}}};
  if (kind == "bcc") return {{{0, 0, 0}}, {{0.5, 0.5, 0.5}}};
  if (kind == "fcc") return {{{0, 0, 0}}, {{0.5, 0.5, 0}}, {{0.5, 0, 0.5}}, {{0, 0.5, 0.5}}};
  if (kind == "hcp") {
    return {{{0, 0, 0}}, {{0.5, 0.5, 0}}, {{0.5, 5.0 / 6.0, 0.5}}, {{0, 1.0 / 3.0, 0.5}}};
  }
  if (kind == "diamond") {
    return {{{0, 0, 0}},          {{0, 0.5, 0.5}},      {{0.5, 0, 0.5}},      {{0.5, 0.5, 0}},
            {{0.25, 0.25, 0.25}}, {{0.25, 0.75, 0.75}}, {{0.75, 0.25, 0.75}}, {{0.75, 0.75, 0.25}}};
  }
  return {};
}

[[noreturn]] void reject(const std::string& key, const std::string& message) {
  throw InputError("", 0, "[system] lattice." + key + ": " + message);
}

}  // namespace

int lattice_basis_size(const std::string& kind) {
  return static_cast<int>(basis_sites(kind).size());
}

Structure make_lattice(const LatticeSpec& spec) {
  const std::vector<Site> basis = basis_sites(spec.kind);
  if (basis.empty()) {
    reject("kind",
           fmt::format("unknown lattice \"{}\" (expected sc, bcc, fcc, hcp, diamond)", spec.kind));
  }
  if (!(spec.a > 0) || !std::isfinite(spec.a)) {
    reject("a", fmt::format("lattice constant must be positive and finite, got {}", spec.a));
  }
  const bool hcp = spec.kind == "hcp";
  if (!std::isfinite(spec.c) || spec.c < 0) {
    reject("c", fmt::format("must be positive (or 0 for the ideal hcp ratio), got {}", spec.c));
  }
  if (!hcp && spec.c != 0) {
    reject("c", fmt::format("only used by hcp, but lattice.kind is \"{}\"", spec.kind));
  }
  for (int d = 0; d < 3; ++d) {
    if (spec.repeat[d] < 1) {
      reject("repeat", fmt::format("must be at least 1 in each direction, got [{}, {}, {}]",
                                   spec.repeat[0], spec.repeat[1], spec.repeat[2]));
    }
  }
  const std::size_t nbasis = basis.size();
  if (spec.elements.size() != 1 && spec.elements.size() != nbasis) {
    reject("elements", fmt::format("expected 1 name or {} names (one per {} basis site), got {}",
                                   nbasis, spec.kind, spec.elements.size()));
  }
  for (const std::string& name : spec.elements) {
    if (name.empty() || name.find_first_of(" \t\r\n") != std::string::npos) {
      reject("elements", fmt::format("invalid element name \"{}\"", name));
    }
  }

  // Cell edge lengths.
  double cell[3] = {spec.a, spec.a, spec.a};
  if (hcp) {
    cell[1] = std::sqrt(3.0) * spec.a;
    cell[2] = spec.c > 0 ? spec.c : std::sqrt(8.0 / 3.0) * spec.a;
  }

  Structure s;
  // Types: distinct names in order of first appearance; site_type[k] for basis site k.
  std::vector<int> site_type(nbasis);
  for (std::size_t k = 0; k < nbasis; ++k) {
    const std::string& name = spec.elements.size() == 1 ? spec.elements[0] : spec.elements[k];
    int t = 0;
    while (t < static_cast<int>(s.type_names.size()) && s.type_names[t] != name) ++t;
    if (t == static_cast<int>(s.type_names.size())) {
      s.type_names.push_back(name);
      s.type_masses.push_back(element_mass(name));
    }
    site_type[k] = t;
  }

  for (int d = 0; d < 3; ++d) {
    s.box.lo[d] = 0.0;
    s.box.l[d] = spec.repeat[d] * cell[d];
    s.box.periodic[d] = 1;
  }

  const std::int64_t natoms = static_cast<std::int64_t>(spec.repeat[0]) * spec.repeat[1] *
                              spec.repeat[2] * static_cast<std::int64_t>(nbasis);
  s.id.reserve(natoms);
  s.type.reserve(natoms);
  s.x.reserve(natoms);
  s.y.reserve(natoms);
  s.z.reserve(natoms);
  std::int64_t next_id = 1;
  for (int k = 0; k < spec.repeat[2]; ++k) {
    for (int j = 0; j < spec.repeat[1]; ++j) {
      for (int i = 0; i < spec.repeat[0]; ++i) {
        for (std::size_t m = 0; m < nbasis; ++m) {
          const double* f = basis[m].f;
          s.add_atom(next_id++, site_type[m], (i + f[0]) * cell[0], (j + f[1]) * cell[1],
                     (k + f[2]) * cell[2]);
        }
      }
    }
  }
  return s;
}

}  // namespace md
