// Sequencing of the device neighbour build (functors in kernels/neighbor_kernels.hpp).
#include "engine/neighbor.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

#include "engine/error.hpp"
#include "kernels/neighbor_kernels.hpp"

namespace md {

MD_HD CellGrid make_cell_grid(const Box& box, double rlist, Index max_cells) {
  CellGrid g{};
  double w[3];
  box.perpendicular_widths(w);
  for (int d = 0; d < 3; ++d) {
    const double cells = floor(w[d] / rlist);
    g.n_inside[d] = cells < 1.0 ? 1 : (cells > 1e6 ? 1000000 : static_cast<int>(cells));
    g.ghost_frac[d] = box.periodic[d] ? rlist / w[d] : 0.0;
    g.image_range[d] = box.periodic[d] ? static_cast<int>(ceil(g.ghost_frac[d])) : 0;
  }
  // Coarsen until the grid fits: cells only grow, so the 27-cell stencil stays complete.
  for (;;) {
    Index total = 1;
    for (int d = 0; d < 3; ++d) {
      // fractional cell width >= ghost_frac keeps the stencil complete in thin boxes
      const double width = 1.0 / g.n_inside[d] > rlist / w[d] ? 1.0 / g.n_inside[d] : rlist / w[d];
      g.inv_width[d] = 1.0 / width;
      const int inside = static_cast<int>(ceil(1.0 / width - 1e-12));
      g.pad[d] = box.periodic[d] ? static_cast<int>(ceil(g.ghost_frac[d] / width - 1e-12)) : 0;
      g.n[d] = inside + 2 * g.pad[d];
      total *= g.n[d];
    }
    if (total <= max_cells) break;
    int widest = 0;
    for (int d = 1; d < 3; ++d)
      if (g.n_inside[d] > g.n_inside[widest]) widest = d;
    if (g.n_inside[widest] == 1) break;  // at most (1 + 2)^3 cells per unit of ghost_frac
    g.n_inside[widest] = g.n_inside[widest] / 2;
  }
  return g;
}

namespace {
std::uint64_t next_list_id() {
  static std::atomic<std::uint64_t> counter{0};
  return ++counter;
}
}  // namespace

NeighborList::NeighborList(System& sys, double cutoff, double skin)
    : status(sys.ctx(), 1), neigh(sys.ctx(), 0), num_neigh(sys.ctx(), sys.n_local()),
      ghost_owner(sys.ctx(), 0), ghost_image(sys.ctx(), 0), key(sys.ctx(), 0),
      ghost_count(sys.ctx(), sys.n_local()), ghost_offset(sys.ctx(), sys.n_local()),
      scan_work(sys.ctx(), 0), atom_cell(sys.ctx(), 0), cell_count(sys.ctx(), 0),
      cell_start(sys.ctx(), 0), cell_fill(sys.ctx(), 0), cell_atoms(sys.ctx(), 0),
      x0(sys.ctx(), sys.n_local()), y0(sys.ctx(), sys.n_local()), z0(sys.ctx(), sys.n_local()),
      grid_dev(sys.ctx(), 1), box_at_build(sys.ctx(), 1), ctx_(&sys.ctx()), id_(next_list_id()),
      cutoff_(cutoff),
      skin_(skin) {
  if (!(cutoff > 0.0)) throw Error("the interaction cutoff must be positive");
  if (!(skin >= 0.0)) throw Error("[neighbor] skin must be non-negative");
  const double r = list_radius();
  for (int d = 0; d < 3; ++d)
    if (!sys.box().periodic[d] && !(sys.box().l[d] > 0.0))
      throw Error("the box has a non-positive length");

  std::vector<NeighborStatus> st(1, NeighborStatus{});
  ctx_->to_device(st, status);
  // The build reference is read by the displacement check before the first build writes it.
  copy_device(*ctx_, sys.x, x0, static_cast<std::size_t>(sys.n_local()));
  copy_device(*ctx_, sys.y, y0, static_cast<std::size_t>(sys.n_local()));
  copy_device(*ctx_, sys.z, z0, static_cast<std::size_t>(sys.n_local()));

  // Initial capacities from the density; build_now() grows them if they do not suffice.
  const Index n = sys.n_local();
  const Box& box = sys.box();
  grid_ = make_cell_grid(box, r, 8 * n + 64);
  ctx_->to_device(std::vector<Box>{box}, box_at_build);
  double shell = 1.0;
  for (int d = 0; d < 3; ++d) shell *= 1.0 + 2.0 * grid_.ghost_frac[d];
  const Index ghosts = static_cast<Index>(1.1 * static_cast<double>(n) * (shell - 1.0)) + 64;
  sys.reserve_ghosts(ghosts);
  const double density = static_cast<double>(n) / box.volume();
  max_neigh_ = static_cast<int>(1.3 * density * 4.18879 * r * r * r) + 16;
  neigh.resize(static_cast<std::size_t>(n) * max_neigh_);
  ghost_owner.resize(static_cast<std::size_t>(sys.ghost_capacity()));
  ghost_image.resize(3 * static_cast<std::size_t>(sys.ghost_capacity()));
  scan_work.resize(static_cast<std::size_t>(scan_work_size(std::max(n, grid_.total()))));
  ensure_cell_arrays(sys);
}

void NeighborList::ensure_cell_arrays(const System& sys) {
  // Ghost images must fit the packed image keys (pack_image, engine/views.hpp).
  for (int d = 0; d < 3; ++d)
    if (grid_.image_range[d] > kMaxPackedImage / 2)
      throw Error("the cell is thinner than 1/" + std::to_string(kMaxPackedImage / 2) +
                  " of the neighbour list radius along one axis");
  const std::size_t atoms = static_cast<std::size_t>(sys.n_local() + sys.ghost_capacity());
  atom_cell.resize(atoms);
  cell_atoms.resize(atoms);
  key.resize(atoms);
  // Room for box fluctuations: the device grid never exceeds cell_capacity_ (it coarsens).
  cell_capacity_ = std::max(cell_capacity_, grid_.total() + grid_.total() / 4 + 27);
  const std::size_t cells = static_cast<std::size_t>(cell_capacity_);
  cell_count.resize(cells);
  cell_start.resize(cells);
  cell_fill.resize(cells);
  const std::size_t work =
      static_cast<std::size_t>(scan_work_size(std::max<Index>(sys.n_local(), cell_capacity_)));
  if (scan_work.size() < work) scan_work.resize(work);
}

void NeighborList::set_box(const System& sys) {
  grid_ = make_cell_grid(sys.box(), list_radius(), 8 * sys.n_local() + 64);
  ensure_cell_arrays(sys);
  request_rebuild();
}

CellGrid NeighborList::grid() { return ctx_->to_host(grid_dev, 1)[0]; }

void NeighborList::request_rebuild() { parallel_for(*ctx_, 1, RequestRebuild{status.data()}); }

void NeighborList::reset_needed() { parallel_for(*ctx_, 1, ResetNeeded{status.data()}); }

void NeighborList::update(System& sys, bool wrap) {
  Context& ctx = *ctx_;
  const Index n = sys.n_local();
  const Box* box = sys.box_device();
  CellGrid* grid = grid_dev.data();
  NeighborStatus* st = status.data();
  const int cap = static_cast<int>(sys.ghost_capacity());
  const double r = list_radius();

  // 1. displacement check (atoms and cell corners)
  reduce(ctx, n, Displacement2{sys.x.data(), sys.y.data(), sys.z.data(), x0.data(), y0.data(),
                               z0.data()},
         MaxOp{}, 0.0, &st->max_disp2);
  // Several ranks: the one-rank decision is the global maximum (each rank's local atoms are
  // bit copies of their owners'), reduced on the device so no rank reads it on the host.
  if (CrossRankReducer* cr = sys.cross_rank()) cr->max(ctx, &st->max_disp2, 1);
  parallel_for(ctx, 1, DecideRebuild{st, box, box_at_build.data(), skin_});
  // 2. grid for the current cell; wrap owned atoms into it, remember build positions
  parallel_for(ctx, 1, ComputeGrid{st, box, r, cell_capacity_, grid});
  if (wrap)
    parallel_for(ctx, n, WrapAtoms{st, box, sys.x.data(), sys.y.data(), sys.z.data(), x0.data(),
                                   y0.data(), z0.data(), sys.ix.data(), sys.iy.data(),
                                   sys.iz.data()});
  // 3. ghost map: count, scan, write
  parallel_for(ctx, n, CountGhosts{st, box, grid, sys.x.data(), sys.y.data(), sys.z.data(),
                                   ghost_count.data()});
  exclusive_scan_gated(ctx, &st->rebuild, n, ghost_count.data(), ghost_offset.data(),
                       &st->ghost_needed, scan_work.data());
  parallel_for(ctx, n, WriteGhosts{st, box, grid, n, cap, sys.x.data(), sys.y.data(),
                                   sys.z.data(), ghost_offset.data(), ghost_owner.data(),
                                   ghost_image.data(), sys.type.data()});
  parallel_for(ctx, 1, CommitGhostCount{st, cap});
  parallel_for(ctx, n + cap, ComputeSlotKeys{st, n, sys.id.data(), sys.image_key.data(),
                                             ghost_owner.data(), ghost_image.data(), key.data()});
  // 4. ghost positions from their owners (every step)
  refresh_ghosts(sys);
  // 5. cell list (counting sort) and Verlet list
  const Index atoms = n + cap;
  const Index cells = cell_capacity_;
  parallel_for(ctx, cells, GatedFill<int>{st, cell_count.data(), 0});
  parallel_for(ctx, cells, GatedFill<int>{st, cell_fill.data(), 0});
  parallel_for(ctx, atoms, BinAtoms{st, box, grid, n, sys.x.data(), sys.y.data(), sys.z.data(),
                                    atom_cell.data(), cell_count.data()});
  exclusive_scan_gated(ctx, &st->rebuild, cells, cell_count.data(), cell_start.data(),
                       &st->pad0, scan_work.data());
  parallel_for(ctx, atoms, PlaceAtoms{st, n, atom_cell.data(), cell_start.data(),
                                      cell_fill.data(), cell_atoms.data()});
  parallel_for(ctx, cells, SortCells{st, grid, cell_start.data(), cell_count.data(),
                                     cell_atoms.data()});
  parallel_for(ctx, n, BuildVerlet{st, grid, n, max_neigh_, r * r, sys.x.data(), sys.y.data(),
                                   sys.z.data(), atom_cell.data(), cell_start.data(),
                                   cell_count.data(), cell_atoms.data(), key.data(),
                                   neigh.data(), num_neigh.data(), n_list_ < 0 ? n : n_list_,
                                   list_mask_});
  parallel_for(ctx, 1, FinishBuild{st, box, box_at_build.data()});
}

void NeighborList::refresh_ghosts(System& sys) {
  parallel_for(*ctx_, sys.ghost_capacity(),
               RefreshGhosts{status.data(), sys.box_device(), sys.n_local(), ghost_owner.data(),
                             ghost_image.data(), sys.x.data(), sys.y.data(), sys.z.data()});
}

NeighborStatus NeighborList::read_status() { return ctx_->to_host(status, 1)[0]; }

bool NeighborList::overflowed(const NeighborStatus& st, const System& sys) const {
  return st.ghost_needed > sys.ghost_capacity() || st.neigh_needed > max_neigh_;
}

void NeighborList::grow(System& sys, const NeighborStatus& st) {
  if (st.ghost_needed > sys.ghost_capacity()) {
    sys.reserve_ghosts(static_cast<Index>(1.25 * st.ghost_needed) + 32);
    ghost_owner.resize(static_cast<std::size_t>(sys.ghost_capacity()));
    ghost_image.resize(3 * static_cast<std::size_t>(sys.ghost_capacity()));
    ensure_cell_arrays(sys);
  }
  if (st.neigh_needed > max_neigh_) {
    max_neigh_ = static_cast<int>(1.2 * st.neigh_needed) + 8;
    neigh.resize(static_cast<std::size_t>(sys.n_local()) * max_neigh_);
  }
}

void NeighborList::set_max_neigh(System& sys, int max_neigh) {
  if (max_neigh < 1) throw Error("neighbour capacity must be at least 1");
  max_neigh_ = max_neigh;
  neigh.resize(static_cast<std::size_t>(sys.n_local()) * max_neigh_);
  reset_needed();
  request_rebuild();
}

void NeighborList::build_now(System& sys) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    request_rebuild();
    update(sys);
    const NeighborStatus st = read_status();
    if (!overflowed(st, sys)) return;
    grow(sys, st);
  }
  throw Error("neighbour list capacities did not converge (atoms overlapping or box collapsed?)");
}

void NeighborList::reserve(System& sys, Index ghost_capacity, int max_neigh) {
  if (ghost_capacity > sys.ghost_capacity()) {
    sys.reserve_ghosts(ghost_capacity);
    ghost_owner.resize(static_cast<std::size_t>(sys.ghost_capacity()));
    ghost_image.resize(3 * static_cast<std::size_t>(sys.ghost_capacity()));
    ensure_cell_arrays(sys);
  }
  if (max_neigh > max_neigh_) {
    max_neigh_ = max_neigh;
    neigh.resize(static_cast<std::size_t>(sys.n_local()) * max_neigh_);
  }
}

void NeighborList::rebuild_for_new_order(System& sys) {
  const std::size_t n = static_cast<std::size_t>(sys.n_local());
  for (DeviceArray<double>* a : {&keep_x_, &keep_y_, &keep_z_}) a->bind(*ctx_);
  keep_box_.bind(*ctx_);
  keep_box_.resize(1);
  copy_device(*ctx_, sys.x, keep_x_, n);
  copy_device(*ctx_, sys.y, keep_y_, n);
  copy_device(*ctx_, sys.z, keep_z_, n);
  ctx_->copy_d2d(keep_box_.data(), sys.box_device(), sizeof(Box));
  rebuild_from_reference(sys);
  copy_device(*ctx_, keep_x_, sys.x, n);
  copy_device(*ctx_, keep_y_, sys.y, n);
  copy_device(*ctx_, keep_z_, sys.z, n);
  ctx_->copy_d2d(sys.box_device(), keep_box_.data(), sizeof(Box));
  refresh_ghosts(sys);
}

void NeighborList::rebuild_from_reference(System& sys) {
  const std::size_t n = static_cast<std::size_t>(sys.n_local());
  for (int attempt = 0; attempt < 16; ++attempt) {
    ctx_->copy_d2d(sys.box_device(), box_at_build.data(), sizeof(Box));
    copy_device(*ctx_, x0, sys.x, n);
    copy_device(*ctx_, y0, sys.y, n);
    copy_device(*ctx_, z0, sys.z, n);
    request_rebuild();
    update(sys, false);
    const NeighborStatus st = read_status();
    if (!overflowed(st, sys)) return;
    grow(sys, st);
  }
  throw Error("neighbour list capacities did not converge while restoring a checkpoint");
}

NeighborView NeighborList::view() const {
  return NeighborView{num_neigh.size() ? static_cast<Index>(num_neigh.size()) : 0,
                      max_neigh_,
                      neigh.data(),
                      num_neigh.data(),
                      ghost_owner.data(),
                      static_cast<Index>(ghost_owner.size()),
                      ghost_offset.data(),
                      ghost_count.data(),
                      status.data(),
                      id_,
                      key.data()};
}

}  // namespace md
