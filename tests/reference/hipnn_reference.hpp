// Independent double-precision HIP-NN energy for tests: plain loops over every atom pair and
// every periodic image within the cutoff (no neighbour list, no kernels), the interaction and
// atom layers and the hierarchical energy heads as hippynn 0.1.3 defines them. Model units.
#pragma once

#include <array>
#include <vector>

#include "models/hipnn/hipnn_io.hpp"

namespace md::ref {

// cell: rows a, b, c (any orientation, periodic in all three directions); species: index into
// the model's species per atom. Returns the total energy; per-atom energies (sum over the
// heads) in atom_energies and the per-head totals in head_energies when given.
double hipnn_energy(const hipnn::Params& model, const std::array<std::array<double, 3>, 3>& cell,
                    const std::vector<std::array<double, 3>>& positions,
                    const std::vector<int>& species, std::vector<double>* atom_energies = nullptr,
                    std::vector<double>* head_energies = nullptr);

}  // namespace md::ref
