// The Potential interface every force field implements (LAMMPS' compute(eflag, vflag)):
// forces always, per-atom energy and per-atom virial only when the caller asks. Energies in
// the unit system's energy, forces energy/length, virial energy (sum of r_ij (x) f_ij).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/neighbor.hpp"
#include "engine/system.hpp"
#include "engine/views.hpp"

namespace md {

class Potential {
 public:
  virtual ~Potential() = default;
  virtual std::string style() const = 0;
  // Largest interaction cutoff (sets the neighbour-list radius with the skin).
  virtual double cutoff() const = 0;
  virtual void compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                       const ForceOut& out, ForceRequest req) = 0;
};

}  // namespace md
