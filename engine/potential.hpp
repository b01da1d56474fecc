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

// Import distance of a model whose atom energies depend on atoms up to `hops` neighbour hops
// away, each hop shorter than rc (a message-passing model with L interaction layers: hops =
// L; the receptive field of E_i is L rc). The force on an owned atom k is -sum_m dE_m/dr_k
// over the atoms m whose energy depends on r_k: m within `hops` hops of k. Each such E_m and
// its gradient is computed exactly when every atom within `hops` hops of m is present, so
// every atom within 2 hops hops of k, closer than 2 hops rc now; the margin DistributedRun
// adds covers the motion since the migration that fixed the imports (Potential::
// import_distance), the skin is kept to spare. Every value on these chains is then computed
// from the same inputs in the same (canonical slot) order as on one rank; atoms further out
// are imported too but carry wrong (truncated) features that reach no owned force. hops = 1
// is the many-body case (2 rc + skin); a pair style needs only the force's own pairs.
inline double receptive_import_distance(int hops, double rc, double skin) {
  return 2.0 * hops * rc + skin;
}

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
  // owned atoms are computed exactly as on one rank. The imports are chosen at each migration
  // from the positions then, and DistributedRun adds its margin m to this distance: until the
  // next migration no atom moves more than m/2 (the cell's deformation counted: MarginCheck,
  // engine/distributed.cpp), so an atom closer than import_distance to an owned atom at any
  // step was closer than import_distance + m to the sub-domain at the migration, and imported.
  // Default, many-body (EAM, SNAP, DeePMD, ...): E_m depends on the atoms within rc of m; the
  // force on owned atom i is -sum_m dE_m/dr_i over i and the atoms m within rc of i, so it
  // needs every atom k within 2 rc of i now, and k in m's list: that list (radius rc + skin,
  // from the last build, since which no atom moved more than skin/2: the one-rank list
  // property) holds k because k is local to the rank. Nothing else is needed: every model
  // skips the list entries beyond its cutoff without changing the order of the sums that
  // reach a force (EAM, SNAP, GAP and FLARE test r < rc in neighbour loops run in list order
  // or per slot, DeePMD selects the nearest within rc with ties in list order, the gather
  // adds their zero partials), so the lists of imported atoms near the import boundary, which
  // miss entries beyond rc, change no owned force. (An owned atom's own list, within
  // rc + skin + max(m, skin) of the sub-domain at the migration, is complete: its energy and
  // virial, e.g. GAP's three-body energy summed in a list-length lane order, are exact too.)
  // 2 rc would do (run_case.py eam_slabs_nve, snap_zbl_slabs_nve: bitwise at 2 rc; EAM breaks
  // at rc + skin, SNAP + ZBL at 0.75 rc: lattices reach less than 2 rc in two hops); one skin
  // is kept to spare, as pair styles (rc + skin) and message-passing models keep it.
  virtual double import_distance(double skin) const {
    return receptive_import_distance(1, cutoff(), skin);
  }
  // The rule behind import_distance(), for the run's printout ("2 x cutoff + skin").
  virtual std::string import_rule(double /*skin*/) const { return "2 x cutoff + skin"; }
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

}  // namespace md
