// Launches of the many-body layer (kernels/many_body.hpp): the gated reverse-slot build
// (count -> exclusive scan -> fill -> per-row sort), the gather and the typed-slot build.
#include "kernels/many_body.hpp"

#include <algorithm>

#include "engine/error.hpp"

namespace md {

namespace {

// state[0] = 1 when the map must be rebuilt: forced, or the list rebuilt since the last build.
struct ReverseGate {
  const NeighborStatus* st;
  int* state;
  int force;
  MD_HD void operator()(Index) const {
    state[0] = (force || st == nullptr || st->n_builds != state[1]) ? 1 : 0;
  }
};

struct ReverseCommit {
  const NeighborStatus* st;
  int* state;
  MD_HD void operator()(Index) const {
    if (state[0] && st) state[1] = st->n_builds;
  }
};

struct ReverseCount {
  const int* gate;
  NeighborView nl;
  int* count;
  MD_HD void operator()(Index i) const {
    if (!*gate) return;
    const int nn = nl.num_neigh[i];
    for (int k = 0; k < nn; ++k)
      atomic_add(&count[nl.owner(nl.neigh[static_cast<Index>(k) * nl.n_local + i])], 1);
  }
};

// Hands out row positions by counting each row's cursor back down from its count c to zero
// (position first[a+1] - c_before: ascending in arrival order, so a sequential fill is already
// sorted), leaving the cursors zero for the next build (zeroed only at allocation).
struct ReverseFill {
  const int* gate;
  NeighborView nl;
  const int* first;
  int* cursor;
  Index* slot;
  MD_HD void operator()(Index i) const {
    if (!*gate) return;
    const int nn = nl.num_neigh[i];
    for (int k = 0; k < nn; ++k) {
      const Index s = static_cast<Index>(k) * nl.n_local + i;
      const int a = nl.owner(nl.neigh[s]);
      slot[first[a + 1] - atomic_add(&cursor[a], -1)] = s;
    }
  }
};

// Orders row a canonically (insertion sort: rows are about max_neigh long, rebuilds are rare),
// so the map depends neither on the order in which the atomics handed out positions nor on
// the storage order of the atoms: entry (i, k), whose neighbour j is an image of a, is keyed
// by atom i seen from a, (id of i, image of i - image of j) (views.hpp SlotKey); a tie (no
// keys, or equal keys) falls back to the slot order (i, k).
struct ReverseSortRows {
  const int* gate;
  Index n_local;
  const int* neigh;
  const SlotKey* key;  // may be null: (i, k) order
  const int* first;
  Index* slot;
  MD_HD SlotKey seen_from_owner(Index s) const {
    SlotKey k = key[static_cast<int>(s) % static_cast<int>(n_local)];
    k.image -= key[neigh[s]].image;
    return k;
  }
  MD_HD bool before(Index s, Index t) const {
    if (key) {
      const SlotKey ks = seen_from_owner(s), kt = seen_from_owner(t);
      if (key_less(ks, kt)) return true;
      if (key_less(kt, ks)) return false;
    }
    // slots < 2^31 (checked at allocation): 32-bit remainders
    const int n = static_cast<int>(n_local);
    const int is = static_cast<int>(s) % n, it = static_cast<int>(t) % n;
    return is < it || (is == it && s < t);
  }
  MD_HD void operator()(Index a) const {
    if (!*gate) return;
    Index* row = slot + first[a];
    const int m = first[a + 1] - first[a];
    for (int p = 1; p < m; ++p) {
      const Index v = row[p];
      int q = p - 1;
      while (q >= 0 && before(v, row[q])) {
        row[q + 1] = row[q];
        --q;
      }
      row[q + 1] = v;
    }
  }
};

}  // namespace

void PairPartials::resize(const NeighborView& nl) {
  plane_ = static_cast<Index>(nl.max_neigh) * nl.n_local;
  const std::size_t need = 3 * static_cast<std::size_t>(plane_);
  if (data.size() != need) data.resize(need);
}

ReverseSlots::ReverseSlots(Context& ctx)
    : first(ctx, 0), slot(ctx, 0), cursor(ctx, 0), state(ctx, 2), scan_work(ctx, 0) {
  fill(ctx, state.data(), 2, -1);
}

void ReverseSlots::update(Context& ctx, const NeighborView& nl) {
  const Index n = nl.n_local;
  bool force = false;
  if (nl.list_id != list_id_ || nl.neigh != neigh_ || n != n_local_ ||
      nl.max_neigh != max_neigh_) {
    if (static_cast<double>(nl.max_neigh) * static_cast<double>(n) >= 2147483647.0)
      throw Error("many-body layer: more than 2^31 neighbour slots (max_neigh x atoms)");
    force = true;
    list_id_ = nl.list_id;
    neigh_ = nl.neigh;
    n_local_ = n;
    max_neigh_ = nl.max_neigh;
    first.resize(static_cast<std::size_t>(n) + 1);
    cursor.resize(static_cast<std::size_t>(std::max<Index>(n, 1)));
    slot.resize(static_cast<std::size_t>(std::max<Index>(static_cast<Index>(nl.max_neigh) * n, 1)));
    scan_work.resize(static_cast<std::size_t>(scan_work_size(std::max<Index>(n, 1))));
    fill(ctx, cursor.data(), n, 0);  // stays zero between builds (see ReverseFill)
  }
  // Eight launches; on steps without a list rebuild each returns at once.
  int* gate = state.data();
  parallel_for(ctx, 1, ReverseGate{nl.status, state.data(), force ? 1 : 0});
  parallel_for(ctx, n, ReverseCount{gate, nl, cursor.data()});
  exclusive_scan_gated(ctx, gate, n, cursor.data(), first.data(), first.data() + n,
                       scan_work.data());
  parallel_for(ctx, n, ReverseFill{gate, nl, first.data(), cursor.data(), slot.data()});
  parallel_for(ctx, n, ReverseSortRows{gate, n, nl.neigh, nl.key, first.data(), slot.data()});
  parallel_for(ctx, 1, ReverseCommit{nl.status, state.data()});
}

void gather_pair_forces(Context& ctx, const SystemView& sys, const NeighborView& nl,
                        const ReverseSlotsView& rev, const PairPartialsView& g,
                        const ForceOut& out, bool vflag) {
  parallel_for(ctx, nl.n_local, GatherPairForces{sys, nl, rev, g, out, vflag});
}

void TypedSlots::build(Context& ctx, const SystemView& sys, const NeighborView& nl,
                       const TypedSlotSpec& spec, int width, const PairPartialsView* clear) {
  n_local_ = nl.n_local;
  width_ = width;
  const std::size_t need = static_cast<std::size_t>(width) * static_cast<std::size_t>(n_local_);
  if (k.size() < need) k.resize(need);
  const PairPartialsView none{nullptr, 0};
  parallel_for(ctx, nl.n_local,
               BuildTypedSlots{spec, sys, nl, width, k.data(), clear ? *clear : none});
}

}  // namespace md
