// The halo: per-atom fields on ghost atoms. halo_forward copies each owner's values onto its
// ghost slots (atom n_local + g <- ghost_owner[g]); halo_reverse adds the ghosts' values back
// onto their owners (deterministic: each owner sums its own ghosts in slot order, no atomics).
// One domain today; MPI/NCCL ranks later behind the same calls. Called by models (EAM F',
// message-passing features); a model never reads another atom's data through owner(j).
#pragma once

#include "engine/backend.hpp"
#include "engine/neighbor.hpp"

namespace md {

// A halo field of ncomp components is component-major over all atom slots:
// field[c * halo_stride(nl) + a], a in [0, n_local + ghost_capacity).
inline Index halo_stride(const NeighborView& nl) { return nl.n_local + nl.ghost_capacity; }

// Ghost slots in use (device n_ghost) get their owner's values; slots beyond are untouched.
// T: double, float or int.
template <class T>
void halo_forward(Context& ctx, const NeighborView& nl, T* field, int ncomp);

// field[owner] += sum of field[ghost] over the owner's ghosts (in ghost-slot order); ghost
// values are left as they are. T: double or float.
template <class T>
void halo_reverse(Context& ctx, const NeighborView& nl, T* field, int ncomp);

}  // namespace md
