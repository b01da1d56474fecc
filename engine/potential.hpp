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

  // ---- several ranks (engine/distributed.hpp, io/parallel_config.cpp)
  // How far (length) around its sub-domain a rank must import atoms so that the forces on its
  // owned atoms are computed exactly as on one rank, from the positions at the last rebuild
  // (imports are fixed between rebuilds, which come once any atom moved skin/2; skin: the
  // neighbour-list skin). Default, many-body (EAM, SNAP, DeePMD, ...): an atom's energy
  // depends on its neighbours within rc; the force on an owned atom needs the energies of
  // every atom within rc of it, whose environments reach 2 rc: 2 (rc + skin) (2 rc + skin
  // would do, see receptive_import_distance; kept with one skin to spare). Pair styles
  // override with rc + skin, message-passing models with receptive_import_distance.
  virtual double import_distance(double skin) const { return 2.0 * (cutoff() + skin); }
  // The rule behind import_distance(), for the run's printout ("2 x (cutoff + skin)").
  virtual std::string import_rule(double /*skin*/) const { return "2 x (cutoff + skin)"; }
  // Why this potential cannot run on several ranks ("" when it can; io/parallel_config.cpp
  // refuses with this text).
  virtual std::string several_ranks_refusal() const { return ""; }
  // How far (length) around its sub-domain a rank needs the neighbour lists of imported atoms
  // (the run's margin is added). Many-body models: the atoms whose energies depend on an owned
  // atom, its neighbours: cutoff + skin, as a pair style's imports (the outer imports are only
  // neighbours of those and get empty lists). Pair styles: 0 (lists for owned atoms only).
  // Message-passing models: every import (their features travel L hops).
  virtual double import_list_distance(double skin) const { return cutoff() + skin; }
};

// Import distance of a model whose atom energies depend on atoms up to `hops` neighbour hops
// away, each hop shorter than rc (a message-passing model with L interaction layers: hops =
// L; the receptive field of E_i is L rc). The force on an owned atom k is -sum_m dE_m/dr_k
// over the atoms m whose energy depends on r_k: m within `hops` hops of k. Each such E_m and
// its gradient is computed exactly when every atom within `hops` hops of m is present, so
// every atom within 2 hops hops of k, closer than 2 hops rc now. Between rebuilds every atom
// moved at most skin/2 since the rebuild that fixed the imports and k lay in the sub-domain
// then: at that rebuild such an atom lay within 2 hops rc + skin of the sub-domain. Every
// value on these chains is then computed from the same inputs in the same (canonical slot)
// order as on one rank; atoms further out are imported too but carry wrong (truncated)
// features that reach no owned force. hops = 1 is the many-body case (2 rc + skin); a pair
// style needs only the force's own pairs (rc + skin).
inline double receptive_import_distance(int hops, double rc, double skin) {
  return 2.0 * hops * rc + skin;
}

}  // namespace md
