#include "engine/simulation.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <utility>

#include "engine/error.hpp"
#include "engine/exact_sum.hpp"
#include "kernels/launch.hpp"

namespace md {

namespace {
// The device step counter (StepData::step_dev): set by the host at sync points, advanced by
// the last launch of every step, so a captured step replays with the current step number.
struct SetStepCounter {
  long* step;
  long value;
  MD_HD void operator()(Index) const { *step = value; }
};
struct AdvanceStepCounter {
  long* step;
  MD_HD void operator()(Index) const { *step += 1; }
};

// Spatial sort: the local atoms in the cell order of the last build (cell_atoms lists local
// atoms and ghosts cell by cell): flag the local entries, scan, scatter into the permutation.
struct SortFlag {
  const int* cell_atoms;
  const NeighborStatus* st;
  Index n;
  int* flag;
  MD_HD void operator()(Index k) const {
    flag[k] = (k < n + st->n_ghost && cell_atoms[k] < n) ? 1 : 0;
  }
};
struct SortScatter {
  const int* cell_atoms;
  const int* flag;
  const int* pos;
  int* perm;
  MD_HD void operator()(Index k) const {
    if (flag[k]) perm[pos[k]] = cell_atoms[k];
  }
};
template <class T>
struct GatherBy {
  const T* src;
  T* dst;
  const int* perm;
  MD_HD void operator()(Index i) const { dst[i] = src[perm[i]]; }
};

template <class T>
void permute(Context& ctx, T* a, DeviceArray<T>& tmp, const int* perm, Index n) {
  parallel_for(ctx, n, GatherBy<T>{a, tmp.data(), perm});
  ctx.copy_d2d(a, tmp.data(), static_cast<std::size_t>(n) * sizeof(T));
}
}  // namespace

Simulation::Simulation(Context& ctx, System& sys, Potential& pot, Integrator& integ, double dt,
                       double skin)
    : ctx_(&ctx), sys_(&sys), pot_(&pot), integ_(&integ), dt_(dt), thermo_(ctx),
      energy_(ctx, sys.n_local()), virial_(ctx, 6 * sys.n_local()), step_dev_(ctx, 1), sx_(ctx, 0), sy_(ctx, 0),
      sz_(ctx, 0), svx_(ctx, 0), svy_(ctx, 0), svz_(ctx, 0), sfx_(ctx, 0), sfy_(ctx, 0),
      sfz_(ctx, 0), six_(ctx, 0), siy_(ctx, 0), siz_(ctx, 0), sbox_(ctx, 1) {
  if (!(dt > 0.0) || !std::isfinite(dt)) throw Error("[run] timestep must be positive");
  nlist_ = std::make_unique<NeighborList>(sys, pot.cutoff(), skin);
}

void Simulation::set_sort_every(long steps) {
  if (steps < 0) throw Error("[neighbor] sort_every must be non-negative");
  sort_every_ = steps;
}

void Simulation::remember_input_order() {
  if (input_ids_.empty() && !permuted_)
    input_ids_ = ctx_->to_host(sys_->id, static_cast<std::size_t>(sys_->n_local()));
}

void Simulation::sort_atoms() {
  Context& ctx = *ctx_;
  System& sys = *sys_;
  NeighborList& nl = *nlist_;
  const Index n = sys.n_local();
  const Index m = n + sys.ghost_capacity();
  remember_input_order();
  auto bind = [&](auto& a, std::size_t size) {
    a.bind(ctx);
    if (a.size() < size) a.resize(size);
  };
  bind(sort_flag_, static_cast<std::size_t>(m));
  bind(sort_pos_, static_cast<std::size_t>(m));
  bind(sort_work_, static_cast<std::size_t>(scan_work_size(m)));
  bind(sort_perm_, static_cast<std::size_t>(n));
  bind(sort_total_, 1);
  bind(sort_int_, static_cast<std::size_t>(n));
  bind(sort_real_, static_cast<std::size_t>(n));
  bind(sort_id_, static_cast<std::size_t>(n));
  parallel_for(ctx, m, SortFlag{nl.cell_atoms.data(), nl.status.data(), n, sort_flag_.data()});
  exclusive_scan_gated(ctx, nullptr, m, sort_flag_.data(), sort_pos_.data(), sort_total_.data(),
                       sort_work_.data());
  if (ctx.to_host(sort_total_, 1)[0] != n)  // every local atom once: a complete last build
    throw Error("internal: spatial sort found an incomplete cell list");
  parallel_for(ctx, m, SortScatter{nl.cell_atoms.data(), sort_flag_.data(), sort_pos_.data(),
                                   sort_perm_.data()});
  const int* perm = sort_perm_.data();
  for (DeviceArray<double>* a : {&sys.x, &sys.y, &sys.z, &sys.vx, &sys.vy, &sys.vz, &sys.fx,
                                 &sys.fy, &sys.fz, &nl.x0, &nl.y0, &nl.z0, &energy_})
    permute(ctx, a->data(), sort_real_, perm, n);
  for (int c = 0; c < 6; ++c) permute(ctx, virial_.data() + c * n, sort_real_, perm, n);
  for (DeviceArray<int>* a : {&sys.ix, &sys.iy, &sys.iz, &sys.type, &sys.image_key})
    permute(ctx, a->data(), sort_int_, perm, n);
  permute(ctx, sys.id.data(), sort_id_, perm, n);
  permuted_ = true;
  ++n_sorts_;
  // New ghost map, cells and list for the new order (from the build reference, unwrapped: the
  // same pairs in the same canonical order, the rebuild schedule unchanged); forces from it.
  nl.rebuild_for_new_order(sys);
  compute_forces({true, true});
}

std::vector<std::size_t> Simulation::input_order(const std::vector<std::int64_t>& device_ids) const {
  const std::size_t n = device_ids.size();
  std::vector<std::size_t> order(n);
  if (!permuted_ || input_ids_.size() != n) {
    for (std::size_t i = 0; i < n; ++i) order[i] = i;
    return order;
  }
  std::vector<std::pair<std::int64_t, std::size_t>> by_id(n);
  for (std::size_t i = 0; i < n; ++i) by_id[i] = {device_ids[i], i};
  std::sort(by_id.begin(), by_id.end());
  for (std::size_t j = 0; j < n; ++j) {
    const auto it = std::lower_bound(by_id.begin(), by_id.end(),
                                     std::make_pair(input_ids_[j], std::size_t{0}));
    if (it == by_id.end() || it->first != input_ids_[j])
      throw Error("internal: atom id " + std::to_string(input_ids_[j]) + " missing after a sort");
    order[j] = it->second;
  }
  return order;
}

Structure Simulation::download() const {
  Structure s = sys_->download();
  if (!permuted_) return s;
  const std::vector<std::size_t> order = input_order(s.id);
  auto apply = [&](auto& v) {
    auto copy = v;
    for (std::size_t j = 0; j < order.size(); ++j) v[j] = copy[order[j]];
  };
  apply(s.x);
  apply(s.y);
  apply(s.z);
  apply(s.vx);
  apply(s.vy);
  apply(s.vz);
  apply(s.type);
  apply(s.id);
  apply(s.ix);
  apply(s.iy);
  apply(s.iz);
  return s;
}

void Simulation::compute_forces(ForceRequest req) {
  ForceOut out{sys_->fx.data(), sys_->fy.data(), sys_->fz.data(),
               req.energy ? energy_.data() : nullptr, req.virial ? virial_.data() : nullptr,
               false};
  pot_->compute(*ctx_, sys_->view(), nlist_->view(), out, req);
  energy_current_ = req.energy && req.virial;
}

void Simulation::reserve_workspace() {
  // Reductions over atoms (thermo, integrators, safety, minimiser) reuse one workspace:
  // sized here so that no step reallocates it (counted in Counters::allocations).
  const Index n = std::max<Index>(sys_->n_local(), 1);
  ctx_->reserve_scratch(std::max(reduction_scratch_bytes(*ctx_, n), exact_sum_scratch_bytes(*ctx_, n)));
}

void Simulation::setup() {
  reserve_workspace();
  nlist_->build_now(*sys_);
  compute_forces({true, true});
  setup_done_ = true;
}

void Simulation::resume(long step) {
  reserve_workspace();
  take_snapshot();                        // the restored state
  nlist_->rebuild_from_reference(*sys_);  // sets positions and cell to the build reference
  restore_snapshot();                     // back to the restored state
  sys_->pull_box();
  nlist_->refresh_ghosts(*sys_);
  compute_forces({true, true});
  step_ = step;
  setup_done_ = true;
}

void Simulation::evaluate(bool energy, bool virial) {
  if (!setup_done_) setup();
  nlist_->update(*sys_);
  compute_forces({energy, virial});
}

void Simulation::set_device_step() {
  parallel_for(*ctx_, 1, SetStepCounter{step_dev_.data(), step_});
}

void Simulation::set_cuda_graphs(bool on) {
  cuda_graphs_ = on;
  if (!on) release_graph();
}

void Simulation::release_graph() {
  if (graph_serial_ != 0 && ctx_->graph_serial() == graph_serial_) ctx_->drop_graph();
  graph_serial_ = 0;
  quiet_epoch_ = ~std::uint64_t{0};
}

void Simulation::enqueue_step(bool need_energy) {
  const StepData d{dt_, step_, energy_.data(), virial_.data(), step_dev_.data()};
  integ_->step_one(*ctx_, *sys_, d);
  nlist_->update(*sys_);
  compute_forces({need_energy, need_energy || integ_->needs_virial()});
  integ_->step_two(*ctx_, *sys_, d);
  parallel_for(*ctx_, 1, AdvanceStepCounter{step_dev_.data()});
}

void Simulation::one_step(bool need_energy) {
  const bool steady = cuda_graphs_ && !need_energy;
  const bool have_graph = graph_serial_ != 0 && ctx_->graph_serial() == graph_serial_ &&
                          ctx_->has_graph() && ctx_->memory_epoch() == graph_epoch_;
  if (graph_serial_ != 0 && !have_graph) release_graph();  // memory changed: stale pointers
  if (steady && have_graph) {
    ctx_->replay_graph();
    energy_current_ = false;
    ++step_;
    return;
  }
  // Capture only a step that follows one which allocated nothing (lazily sized arrays are
  // allocated by the first step; an allocation inside the capture would spoil it).
  const std::uint64_t e0 = ctx_->memory_epoch();
  const bool capture = steady && e0 == quiet_epoch_;
  if (capture) ctx_->begin_capture();
  try {
    enqueue_step(need_energy);
  } catch (...) {
    ctx_->abort_capture();
    throw;
  }
  if (capture && ctx_->end_capture()) {
    graph_serial_ = ctx_->graph_serial();
    graph_epoch_ = ctx_->memory_epoch();
  }
  const std::uint64_t e1 = ctx_->memory_epoch();
  quiet_epoch_ = e1 == e0 ? e1 : ~std::uint64_t{0};
  ++step_;
}

ThermoSample Simulation::sample() {
  if (integ_->changes_box()) sys_->pull_box();
  thermo_.enqueue(*ctx_, *sys_, energy_.data(), virial_.data());
  ThermoSample t = thermo_.fetch(*ctx_, *sys_, step_, time());
  t.econserve = t.etotal + integ_->reservoir_energy(*ctx_, *sys_);
  if (!std::isfinite(t.pe) || !std::isfinite(t.ke) || !std::isfinite(t.press))
    throw Error("step " + std::to_string(step_) +
                ": non-finite energy or pressure (atoms overlapping, timestep too large?)");
  return t;
}

ThermoSample Simulation::thermo_now() {
  if (!setup_done_) setup();
  if (!energy_current_) {
    nlist_->refresh_ghosts(*sys_);
    compute_forces({true, true});
  }
  return sample();
}

template <class T>
static void snap_copy(Context& ctx, const DeviceArray<T>& src, DeviceArray<T>& dst, Index n) {
  copy_device(ctx, src, dst, static_cast<std::size_t>(n));
}

void Simulation::take_snapshot() {
  const Index n = sys_->n_local();
  snap_step_ = step_;
  snap_copy(*ctx_, sys_->x, sx_, n);
  snap_copy(*ctx_, sys_->y, sy_, n);
  snap_copy(*ctx_, sys_->z, sz_, n);
  snap_copy(*ctx_, sys_->vx, svx_, n);
  snap_copy(*ctx_, sys_->vy, svy_, n);
  snap_copy(*ctx_, sys_->vz, svz_, n);
  snap_copy(*ctx_, sys_->fx, sfx_, n);
  snap_copy(*ctx_, sys_->fy, sfy_, n);
  snap_copy(*ctx_, sys_->fz, sfz_, n);
  snap_copy(*ctx_, sys_->ix, six_, n);
  snap_copy(*ctx_, sys_->iy, siy_, n);
  snap_copy(*ctx_, sys_->iz, siz_, n);
  ctx_->copy_d2d(sbox_.data(), sys_->box_device(), sizeof(Box));
  integ_->save_state(*ctx_);
}

void Simulation::restore_snapshot() {
  const Index n = sys_->n_local();
  step_ = snap_step_;
  snap_copy(*ctx_, sx_, sys_->x, n);
  snap_copy(*ctx_, sy_, sys_->y, n);
  snap_copy(*ctx_, sz_, sys_->z, n);
  snap_copy(*ctx_, svx_, sys_->vx, n);
  snap_copy(*ctx_, svy_, sys_->vy, n);
  snap_copy(*ctx_, svz_, sys_->vz, n);
  snap_copy(*ctx_, sfx_, sys_->fx, n);
  snap_copy(*ctx_, sfy_, sys_->fy, n);
  snap_copy(*ctx_, sfz_, sys_->fz, n);
  snap_copy(*ctx_, six_, sys_->ix, n);
  snap_copy(*ctx_, siy_, sys_->iy, n);
  snap_copy(*ctx_, siz_, sys_->iz, n);
  ctx_->copy_d2d(sys_->box_device(), sbox_.data(), sizeof(Box));
  if (integ_->changes_box()) sys_->pull_box();
  integ_->restore_state(*ctx_);
  release_graph();  // integrator run constants (ramp start) may have changed
  set_device_step();
}

static bool due(long step, long every) { return every > 0 && step % every == 0; }

RunStats Simulation::run(long nsteps, const Observers& obs) {
  if (nsteps < 0) throw Error("[run] steps must be non-negative");
  if (!setup_done_) setup();
  RunStats stats;
  const auto t0 = std::chrono::steady_clock::now();
  const long first = step_, end = step_ + nsteps;
  const int builds0 = nlist_->read_status().n_builds;
  const Counters c0 = ctx_->counters();
  release_graph();  // integrator parameters may have changed since the last run()
  set_device_step();

  auto emit = [&](bool final_step) {
    const bool thermo = obs.on_thermo && (due(step_, obs.thermo_every) || final_step ||
                                          step_ == first);
    const bool frame = obs.on_frame && (due(step_, obs.frame_every) || (final_step && obs.frame_every > 0));
    if (!thermo && !frame) return;
    const ThermoSample t = sample();
    if (thermo) obs.on_thermo(t);
    if (frame) obs.on_frame(t, download());
  };

  if (obs.emit_at_start) emit(nsteps == 0);
  take_snapshot();
  if (obs.after_step) obs.after_step(step_);  // the starting state (a sync point)
  while (step_ < end) {
    // next synchronisation point
    long next = std::min(end, step_ + std::max(1L, obs.max_check_interval));
    if (obs.thermo_every > 0) next = std::min(next, (step_ / obs.thermo_every + 1) * obs.thermo_every);
    if (obs.frame_every > 0) next = std::min(next, (step_ / obs.frame_every + 1) * obs.frame_every);
    if (obs.checkpoint_every > 0)
      next = std::min(next, (step_ / obs.checkpoint_every + 1) * obs.checkpoint_every);
    if (sort_every_ > 0) next = std::min(next, (step_ / sort_every_ + 1) * sort_every_);
    while (step_ < next) {
      one_step(step_ + 1 == next);
      if (obs.after_forces) obs.after_forces(step_);
      if (obs.stop && *obs.stop) {  // unscheduled sync point: energy/virial are needed
        stats.stopped = true;
        if (!energy_current_) compute_forces({true, true});
        break;
      }
      if (step_ < next && obs.after_step) obs.after_step(step_);
    }
    const NeighborStatus st = nlist_->read_status();
    if (nlist_->overflowed(st, *sys_)) {
      nlist_->grow(*sys_, st);
      restore_snapshot();
      nlist_->build_now(*sys_);
      compute_forces({true, true});  // per-atom energy/virial (barostats) from the full list
      ++stats.rollbacks;
      stats.stopped = false;
      continue;
    }
    if (obs.on_sync) obs.on_sync();
    if (due(step_, sort_every_)) sort_atoms();
    emit(step_ == end);
    take_snapshot();
    if (obs.on_checkpoint && (stats.stopped || due(step_, obs.checkpoint_every)))
      obs.on_checkpoint();
    if (obs.after_step) obs.after_step(step_);  // after the sync work of this step
    if (stats.stopped) break;
  }
  stats.steps = step_ - first;
  stats.rebuilds = nlist_->read_status().n_builds - builds0;
  stats.launches = ctx_->counters().launches - c0.launches;
  stats.allocations = ctx_->counters().allocations - c0.allocations;
  stats.graph_captures = ctx_->counters().graph_captures - c0.graph_captures;
  stats.graph_replays = ctx_->counters().graph_replays - c0.graph_replays;
  stats.graph_nodes = ctx_->counters().graph_nodes - c0.graph_nodes;
  stats.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

}  // namespace md
