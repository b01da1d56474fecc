// Test helpers: small structures (perturbed lattices in any triclinic box), engine force
// evaluation on the CPU executor, and relative-error comparisons.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/potential.hpp"
#include "engine/structure.hpp"
#include "engine/units.hpp"

namespace md::test {

// fcc lattice of ncell^3 cells in fractional coordinates, each site displaced by up to
// `noise` (fractional units of one lattice cell), mapped into `box`. Types alternate over
// `ntypes`; masses 1.0 (overridable).
Structure perturbed_fcc(const Box& box, int ncell, double noise, std::uint64_t seed,
                        int ntypes = 1);

Box cubic_box(double side);
Box triclinic_box(double lx, double ly, double lz, double xy, double xz, double yz);

struct Forces {
  double energy = 0;
  std::vector<double> fx, fy, fz, e_atom;
  std::array<double, 6> virial{};
};

// Engine forces, energy and virial (CPU executor) for a structure and potential.
Forces engine_forces(Context& ctx, const Structure& s, Potential& pot, const Units& units,
                     double skin = 0.3);

double rel_err(double a, double b, double floor = 1e-300);

inline std::string temp_dir() {
  return std::string(MDGPU_TEST_TMP);
}

}  // namespace md::test
