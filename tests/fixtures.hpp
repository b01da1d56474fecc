// Reader of the reference fixtures (schema "mdgpu-reference-fixture/1", tests/data/README.md):
// structure, energy, per-atom energies, forces, virial and per-atom virials as a reference
// package computed them (metal units: eV, Å). Used by the SNAP and DeePMD tests and every
// future model's reference test.
#pragma once

#include <array>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/structure.hpp"
#include "support.hpp"

namespace md::test {

struct FixtureFrame {
  std::string name;
  Structure structure;  // types in the fixture's type_map order; masses from the element
  double energy = 0;
  std::vector<double> atom_energies;           // empty when the package gave none
  std::vector<std::array<double, 3>> forces;
  std::array<double, 6> virial{};              // xx yy zz xy xz yz (energy units)
  std::array<double, 9> virial_3x3{};          // as stored, row-major
  std::vector<std::array<double, 6>> atom_virials;  // empty when none; xx yy zz xy xz yz
  nlohmann::json extra;
};

struct Fixture {
  std::string path;
  nlohmann::json producer, model;  // script/package/version; style/type_map/files/params
  std::vector<std::string> type_map;
  std::vector<FixtureFrame> frames;
};

// Reads a fixture file (path relative to the repository root, or absolute). Atoms outside
// the cell along a periodic direction are wrapped into it (the others are kept bit for bit).
Fixture load_fixture(const std::string& path);

// Worst deviations of engine results from a fixture frame: |dE|/|E|, max |dE_i| (when the
// frame has per-atom energies), max |dF| component, max |dW| / max |W| (six components), and
// the largest reference force component (the scale the force error is read against).
struct FixtureErrors {
  double energy_rel = 0, atom_energy_abs = 0, force_abs = 0, virial_rel = 0, fmax = 0;
};
FixtureErrors compare_to_fixture(const Forces& f, const FixtureFrame& frame);

}  // namespace md::test
