// Initial velocities (setup, host side): Maxwell-Boltzmann at temperature T drawn from a
// counter-based RNG keyed by (seed, atom id) so the draw is independent of atom order,
// total momentum removed, then scaled so the kinetic temperature (dof = 3N - 3) equals T.
#pragma once

#include <cstdint>

#include "engine/structure.hpp"
#include "engine/units.hpp"

namespace md {

void create_velocities(Structure& s, const Units& units, double temperature, std::uint64_t seed);
// Kinetic temperature of a host structure (dof = 3N - 3), for checks.
double kinetic_temperature(const Structure& s, const Units& units);

}  // namespace md
