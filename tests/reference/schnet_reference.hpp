// Independent double-precision SchNet energy for tests: plain loops over every atom pair and
// every periodic image within the cutoff (no neighbour list, no kernels), the interaction
// blocks and the Atomwise head as schnetpack 2.x defines them. Units of the model file.
#pragma once

#include <array>
#include <vector>

#include "models/schnet/schnet_io.hpp"

namespace md::ref {

// cell: rows a, b, c (any orientation, periodic in all three directions); species: index
// into the model's species per atom. Returns the total energy; per-atom head outputs y_i
// (before the offsets) in atom_y when given.
double schnet_energy(const schnet::Params& model, const std::array<std::array<double, 3>, 3>& cell,
                     const std::vector<std::array<double, 3>>& positions,
                     const std::vector<int>& species, std::vector<double>* atom_y = nullptr);

}  // namespace md::ref
