// Independent O(N^2) Lennard-Jones reference for tests: loops over every atom pair and
// every periodic image within the cutoff (no neighbour list, no ghosts, no mixing code),
// summing energy, forces and the virial tensor. Shares no code with models/lj.
#pragma once

#include <array>
#include <vector>

#include "engine/structure.hpp"

namespace md::ref {

struct LJPair {
  double epsilon, sigma, cutoff;
};

struct Result {
  double energy = 0;
  std::vector<double> fx, fy, fz, e_atom;
  std::array<double, 6> virial{};  // xx yy zz xy xz yz
};

// pair[ti * ntypes + tj]; shift subtracts E(rc) per pair like LAMMPS pair_modify shift.
Result lj_bruteforce(const Structure& s, const std::vector<LJPair>& pair, bool shift);

}  // namespace md::ref
