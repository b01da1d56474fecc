// Host-side atomic structure: what readers produce and writers consume, before the state
// is moved to the device. Lengths in the run's distance unit, velocities in distance/time,
// masses in the mass unit. Types are 0-based indices into type_names/type_masses.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/box.hpp"

namespace md {

struct Structure {
  Box box;
  std::vector<std::string> type_names;  // one per type
  std::vector<double> type_masses;      // one per type (0 = unknown, must be given in input)
  std::vector<std::int64_t> id;         // 1-based atom ids as in LAMMPS
  std::vector<int> type;                // 0-based
  std::vector<double> x, y, z;
  bool has_velocities = false;
  std::vector<double> vx, vy, vz;
  std::vector<int> ix, iy, iz;  // image flags (zeros when the source has none)

  std::size_t size() const { return x.size(); }
  // Appends one atom with zero image flags (and zero velocity if has_velocities).
  void add_atom(std::int64_t atom_id, int atom_type, double px, double py, double pz);
};

// Standard atomic masses (amu) by element symbol, 0 when unknown.
double element_mass(const std::string& symbol);

}  // namespace md
