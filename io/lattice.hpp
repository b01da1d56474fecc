// Builds perfect crystals (sc, bcc, fcc, hcp, diamond) in LAMMPS' `lattice` conventions:
// cubic cells of side a, hcp in an orthogonal a x sqrt(3)a x c cell. Lengths in the run's
// distance unit. Called by the run setup for a `[system] lattice` input block.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "engine/structure.hpp"

namespace md {

struct LatticeSpec {
  std::string kind;                      // sc, bcc, fcc, hcp, diamond
  double a = 0;                          // lattice constant
  double c = 0;                          // hcp only; 0 -> ideal sqrt(8/3) a
  std::array<int, 3> repeat{{1, 1, 1}};  // unit cells along x, y, z
  // One element for all atoms, or one per basis site (site k gets elements[k]).
  std::vector<std::string> elements;
};

// Atoms are ordered cell by cell (z slowest, then y, then x; basis sites innermost), ids
// 1..N in that order; box from the origin to repeat * cell, orthogonal, fully periodic.
// Types are the distinct element names in order of first appearance, masses from
// element_mass (0 when unknown). Throws InputError naming the `[system] lattice.*` key.
Structure make_lattice(const LatticeSpec& spec);

// Number of basis sites of a lattice kind (1, 2, 4, 4, 8), 0 for an unknown kind.
int lattice_basis_size(const std::string& kind);

}  // namespace md
