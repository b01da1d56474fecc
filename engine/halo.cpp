// Single-domain halo exchange (engine/halo.hpp) over the ghost map of the neighbour list.
#include "engine/halo.hpp"

#include "kernels/launch.hpp"

namespace md {

namespace {

template <class T>
struct HaloForward {
  const NeighborStatus* st;
  const int* ghost_owner;
  Index n_local, stride;
  int ncomp;
  T* field;
  MD_HD void operator()(Index g) const {
    if (g >= st->n_ghost) return;
    const Index o = ghost_owner[g];
    for (int c = 0; c < ncomp; ++c) field[c * stride + n_local + g] = field[c * stride + o];
  }
};

// The ghosts of owner a are the contiguous slots ghost_first[a] .. + ghost_count[a] (the
// transpose of ghost_owner, written so by the ghost build), clipped to the slots in use.
template <class T>
struct HaloReverse {
  const NeighborStatus* st;
  const int* ghost_first;
  const int* ghost_count;
  Index n_local, stride;
  int ncomp;
  T* field;
  MD_HD void operator()(Index a) const {
    const int n_ghost = st->n_ghost;
    const int begin = ghost_first[a];
    int end = begin + ghost_count[a];
    end = end < n_ghost ? end : n_ghost;
    for (int c = 0; c < ncomp; ++c) {
      T* f = field + c * stride;
      T acc = f[a];
      for (int g = begin; g < end; ++g) acc += f[n_local + g];
      f[a] = acc;
    }
  }
};

}  // namespace

template <class T>
void halo_forward(Context& ctx, const NeighborView& nl, T* field, int ncomp) {
  parallel_for(ctx, nl.ghost_capacity,
               HaloForward<T>{nl.status, nl.ghost_owner, nl.n_local, halo_stride(nl), ncomp,
                              field});
}

template <class T>
void halo_reverse(Context& ctx, const NeighborView& nl, T* field, int ncomp) {
  parallel_for(ctx, nl.n_local,
               HaloReverse<T>{nl.status, nl.ghost_first, nl.ghost_count, nl.n_local,
                              halo_stride(nl), ncomp, field});
}

template void halo_forward<double>(Context&, const NeighborView&, double*, int);
template void halo_forward<float>(Context&, const NeighborView&, float*, int);
template void halo_forward<int>(Context&, const NeighborView&, int*, int);
template void halo_reverse<double>(Context&, const NeighborView&, double*, int);
template void halo_reverse<float>(Context&, const NeighborView&, float*, int);

}  // namespace md
