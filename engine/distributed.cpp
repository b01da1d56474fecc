#include "engine/distributed.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "engine/error.hpp"
#include "engine/exact_sum.hpp"
#include "kernels/launch.hpp"
#include "kernels/neighbor_kernels.hpp"

namespace md {

namespace {
// Default margin: the skin, or a fraction of the cutoff when larger (the cutoff for pair styles,
// whose imported atoms cost no list and no force; half of it otherwise). Atoms may move
// margin/2 between migrations, so a margin of only the skin makes a hot liquid migrate (a sync
// point with a host snapshot and new sub-systems) every few steps; measured on
// inputs/lj_liquid.toml, 2 ranks, 400 steps: margin 0.3 / 1.0 / 2.0 sigma -> 8.3 / 4.2 / 3.6 s
// (141 / 18 / 9 migrations).
double default_margin(double skin, const Potential& pot) {
  const double m = pot.import_list_distance(0.0) > 0 ? 0.5 * pot.cutoff() : pot.cutoff();
  return skin > m ? skin : m;
}
using Clock = std::chrono::steady_clock;

// Positions of the atoms other ranks import: the owner's stored (wrapped) position, copied
// bit for bit; the importer's periodic ghosts of them are then made by its own neighbour list
// exactly as the one-rank ghost refresh makes them.
struct PackPositions {
  const int* idx;
  const double *x, *y, *z;
  double* out;
  MD_HD void operator()(Index k) const {
    const int o = idx[k];
    out[3 * k + 0] = x[o];
    out[3 * k + 1] = y[o];
    out[3 * k + 2] = z[o];
  }
};
struct UnpackImages {
  Index first;
  const double* in;
  double *x, *y, *z;
  MD_HD void operator()(Index k) const {
    x[first + k] = in[3 * k + 0];
    y[first + k] = in[3 * k + 1];
    z[first + k] = in[3 * k + 2];
  }
};
struct AdvanceCounter {
  long* step;
  MD_HD void operator()(Index) const { *step += 1; }
};
struct SetCounter {
  long* step;
  long value;
  MD_HD void operator()(Index) const { *step = value; }
};
// Displacement of an owned atom since the last migration, unwrapped by the image flags (the
// list builds wrap positions) with the current cell's lattice vectors, in the basis nearest
// to the cell at the migration (a cell flip since then transformed the image flags; the
// migration's flags are in that cell's basis: kernels/neighbor_kernels.hpp, nearest_basis).
struct MigrationDisp2 {
  const double *x, *y, *z, *xm, *ym, *zm;
  const int *ix, *iy, *iz, *ixm, *iym, *izm;
  const Box *box, *box_mig;
  MD_HD double operator()(Index i) const {
    int k[3];
    const Box b = nearest_basis(*box, *box_mig, k);
    int n0 = ix[i], n1 = iy[i];
    to_nearest_basis_images(k, n0, n1, iz[i]);
    double t[3];
    b.image_shift(n0 - ixm[i], n1 - iym[i], iz[i] - izm[i], t);
    const double dx = x[i] + t[0] - xm[i], dy = y[i] + t[1] - ym[i], dz = z[i] + t[2] - zm[i];
    return dx * dx + dy * dy + dz * dz;
  }
};
// Sticky margin flag: some owned atom moved more than (margin - d1 - d2)/2 since the last
// migration, d1, d2 the two largest displacements of the cell's corners since then (as
// DecideRebuild, kernels/neighbor_kernels.hpp), the cells compared modulo lattice vectors (a
// flipped cell is the same lattice: margin_delta): the imports may miss a neighbour.
// It also keeps the largest fraction of that allowance used since the migration (`use`,
// sticky; > 1 when violated): the host reads it at sync points to decide whether to migrate
// and how far to run before the next sync point.
struct MarginCheck {
  const double* disp2;
  const Box *box, *box_mig;
  double margin;
  int* flag;
  double* use;
  MD_HD void operator()(Index) const {
    const double delta = margin_delta(*box, *box_mig, margin);
    if (*disp2 > delta * delta) *flag = 1;
    const double u = delta > 0.0 ? sqrt(*disp2) / delta : 1e30;
    if (u > *use) *use = u;
  }
};
struct SetValue {
  double* a;
  double value;
  MD_HD void operator()(Index) const { *a = value; }
};
struct SetFlag {
  int* flag;
  int value;
  MD_HD void operator()(Index) const { *flag = value; }
};

bool due(long step, long every) { return every > 0 && step % every == 0; }

// Sync-point schedule. The first interval of a run (nothing measured yet) is a probe:
constexpr long kProbeSteps = 20;
// Steps until `budget` (a fraction of the margin allowance) is used at `rate` per step, with
// a safety factor 1.5, in [1, cap]; cap when nothing moves.
long sync_interval(double rate, double budget, long cap) {
  if (!(rate > 0.0)) return cap;
  const double n = budget / (1.5 * rate);
  if (n >= static_cast<double>(cap)) return cap;
  return std::max(1L, static_cast<long>(n));
}

// Fractional position of (x, y, z), wrapped into [0, 1) on periodic axes (host decisions).
void wrapped_fractional(const Box& box, double x, double y, double z, double s[3]) {
  box.to_fractional(x, y, z, s);
  for (int d = 0; d < 3; ++d)
    if (box.periodic[d]) s[d] -= std::floor(s[d]);
}

template <class T>
void copy_in(Context& ctx, DeviceArray<T>& dev, const std::vector<T>& host) {
  if (!host.empty()) ctx.copy_h2d(dev.data(), host.data(), host.size() * sizeof(T));
}
}  // namespace

DistributedRun::DistributedRun(Comm& comm, Context& ctx, const Structure& global,
                               const Units& units, Potential& pot, Integrator& integ, double dt,
                               double skin, std::array<int, 3> grid, double import_distance,
                               double margin, Transport transport)
    : comm_(&comm), ctx_(&ctx), units_(units), pot_(&pot), integ_(&integ), dt_(dt), skin_(skin),
      margin_(margin > 0 ? margin : default_margin(skin, pot)), transport_(transport),
      // imports reach the margin further (the margin in use, margin_: atoms move at most
      // margin_/2 between migrations, MarginCheck) and at least a skin (the list reference
      // of a migration lies up to skin/2 from the current positions)
      dec_(global.box, grid, import_distance + std::max(margin_, skin)),
      proto_(global), energy_(ctx, 0), virial_(ctx, 0), pack_(ctx, 1), unpack_(ctx, 1),
      margin_disp2_(ctx, 1), margin_use_(ctx, 1), xm_(ctx, 0), ym_(ctx, 0), zm_(ctx, 0),
      ixm_(ctx, 0), iym_(ctx, 0), izm_(ctx, 0), margin_flag_(ctx, 1), box_mig_(ctx, 1), step_dev_(ctx, 1), send_idx_(ctx, 0),
      thermo_(ctx) {
  if (dec_.ranks() != comm.size())
    throw Error("internal: decomposition grid does not match the number of ranks");
  if (!(margin >= 0.0) || !std::isfinite(margin))
    throw Error("[parallel] margin must be non-negative (0: the default)");
  if (transport == Transport::direct) {
    device_ = make_device_transport(comm, ctx);
    if (!device_)
      throw Error("[parallel] transport = \"direct\" needs a device transport (NCCL), which this "
                  "build does not have for the " + std::string(backend_name(ctx.backend())) +
                  " executor; use transport = \"host\"");
    cross_ = device_.get();
  } else {
    reducer_ = std::make_unique<CommReducer>(comm);
    cross_ = reducer_.get();
  }
  proto_.x.clear();
  proto_.y.clear();
  proto_.z.clear();
  proto_.vx.clear();
  proto_.vy.clear();
  proto_.vz.clear();
  proto_.ix.clear();
  proto_.iy.clear();
  proto_.iz.clear();
  proto_.type.clear();  // proto_.id keeps the input order of the ids
  // Start: rank r takes every size()-th atom of the input; the first rebuild wraps them and
  // sends each to its owner.
  std::vector<Atom> mine;
  const std::size_t n = global.size();
  if (n < static_cast<std::size_t>(comm.size()))
    throw InputError("", 0, std::to_string(comm.size()) + " ranks for " + std::to_string(n) +
                                " atoms: use at most one rank per atom");
  for (std::size_t i = static_cast<std::size_t>(comm.rank()); i < n;
       i += static_cast<std::size_t>(comm.size())) {
    Atom a{};
    a.id = global.id[i];
    a.type = global.type[i];
    a.ix = global.ix.size() == n ? global.ix[i] : 0;
    a.iy = global.iy.size() == n ? global.iy[i] : 0;
    a.iz = global.iz.size() == n ? global.iz[i] : 0;
    a.x = a.x0 = global.x[i];
    a.y = a.y0 = global.y[i];
    a.z = a.z0 = global.z[i];
    if (global.has_velocities) {
      a.vx = global.vx[i];
      a.vy = global.vy[i];
      a.vz = global.vz[i];
    }
    mine.push_back(a);
  }
  initial_ = std::move(mine);
}

DistributedRun::~DistributedRun() = default;

std::vector<DistributedRun::Atom> DistributedRun::owned_atoms() {
  const Index n = n_owned_;
  System& sys = *sys_;
  const std::size_t m = static_cast<std::size_t>(n);
  std::vector<double> x, y, z, vx, vy, vz, x0, y0, z0;
  std::vector<int> type, ix, iy, iz;
  std::vector<std::int64_t> id;
  std::vector<HostCopy> batch;
  add_host_copy(batch, x, sys.x, m);
  add_host_copy(batch, y, sys.y, m);
  add_host_copy(batch, z, sys.z, m);
  add_host_copy(batch, vx, sys.vx, m);
  add_host_copy(batch, vy, sys.vy, m);
  add_host_copy(batch, vz, sys.vz, m);
  add_host_copy(batch, x0, nlist_->x0, m);
  add_host_copy(batch, y0, nlist_->y0, m);
  add_host_copy(batch, z0, nlist_->z0, m);
  add_host_copy(batch, type, sys.type, m);
  add_host_copy(batch, id, sys.id, m);
  add_host_copy(batch, ix, sys.ix, m);
  add_host_copy(batch, iy, sys.iy, m);
  add_host_copy(batch, iz, sys.iz, m);
  if (m) ctx_->copy_d2h_batch(batch);
  std::vector<Atom> out(m);
  for (std::size_t i = 0; i < m; ++i)
    out[i] = Atom{id[i], type[i], ix[i], iy[i], iz[i], x[i],  y[i],  z[i],
                  vx[i], vy[i],   vz[i], x0[i], y0[i], z0[i]};
  return out;
}

Box DistributedRun::box() { return integ_->changes_box() ? sys_->pull_box() : sys_->box(); }

Box DistributedRun::box_at_build() { return ctx_->to_host(nlist_->box_at_build, 1)[0]; }

void DistributedRun::rebuild(std::vector<Atom> candidates, bool from_reference, const Box& box,
                             const Box& box_at_build) {
  const auto t0 = Clock::now();
  Comm& comm = *comm_;
  const int me = comm.rank(), nr = comm.size();
  const long sent0 = comm.bytes_sent;
  // A barostat moves the cell on the device every step (the same bits on every rank: its sums
  // are exact cross-rank sums). The sub-domains are fixed in fractional coordinates; ownership
  // and import margins (plane spacings) take the current cell at each migration. Between
  // migrations the margin check (MarginCheck: atoms and the cell's corners) keeps the imports
  // complete for every list the ranks build.
  if (integ_->changes_box()) {
    dec_ = Decomposition(box, dec_.grid(), dec_.import_distance());
    const std::string thin = dec_.too_thin(0.5 * (pot_->cutoff() + skin_));
    if (!thin.empty())  // found by every rank alike: reported once, all ranks stop
      throw InputError("", 0,
                       "step " + std::to_string(step_) + ": the barostat shrank the cell: " +
                           thin + "; use fewer ranks or a [parallel] grid with fewer "
                           "sub-domains along it");
  }
  const Box& gbox = box;

  // 1. migration: every atom to the owner of its current fractional position (wrapped on the
  // host for the decision only; the atoms travel as they are)
  std::vector<std::vector<std::uint8_t>> out(static_cast<std::size_t>(nr));
  for (const Atom& a : candidates) {
    double s[3];
    gbox.to_fractional(a.x, a.y, a.z, s);
    put(out[static_cast<std::size_t>(dec_.owner(s))], a);
  }
  const auto in = comm.all_to_all(out);
  std::vector<Atom> owned;
  for (const auto& buf : in)
    for (std::size_t at = 0; at < buf.size();) owned.push_back(get<Atom>(buf, at));
  std::sort(owned.begin(), owned.end(), [](const Atom& a, const Atom& b) { return a.id < b.id; });

  // 2. imports: each owned atom goes (once) to every other rank whose expanded sub-domain
  // holds one of its periodic images; ordered by rank, then id
  std::vector<std::vector<std::uint8_t>> imp(static_cast<std::size_t>(nr));
  std::vector<std::vector<int>> idx(static_cast<std::size_t>(nr));
  for (std::size_t k = 0; k < owned.size(); ++k) {
    const Atom& a = owned[k];
    double s[3];
    wrapped_fractional(gbox, a.x, a.y, a.z, s);
    int last = -1;
    dec_.for_each_import(s, me, [&](int r, int, int, int) {
      if (r == me || r == last) return;  // own images: this rank's periodic ghosts
      last = r;
      put(imp[static_cast<std::size_t>(r)], a);
      idx[static_cast<std::size_t>(r)].push_back(static_cast<int>(k));
    });
  }
  const auto imports_in = comm.all_to_all(imp);
  std::vector<Atom> imports;
  recv_count_.assign(static_cast<std::size_t>(nr), 0);
  for (int r = 0; r < nr; ++r) {
    const auto& buf = imports_in[static_cast<std::size_t>(r)];
    for (std::size_t at = 0; at < buf.size();) imports.push_back(get<Atom>(buf, at));
    recv_count_[static_cast<std::size_t>(r)] = static_cast<long>(buf.size() / sizeof(Atom));
  }
  send_count_.assign(static_cast<std::size_t>(nr), 0);
  std::vector<int> all_idx;
  for (int r = 0; r < nr; ++r) {
    const auto& v = idx[static_cast<std::size_t>(r)];
    send_count_[static_cast<std::size_t>(r)] = static_cast<long>(v.size());
    all_idx.insert(all_idx.end(), v.begin(), v.end());
  }

  // 3. the rank's sub-system: owned atoms, then the imported ones, in the global cell; built
  // at the list reference (from_reference) or at the current positions (setup: wrapped)
  long counts[3] = {static_cast<long>(owned.size()), -static_cast<long>(owned.size()),
                    static_cast<long>(imports.size())};
  long empty = owned.empty() && imports.empty() ? 1 : 0;
  comm.max(&empty, 1);
  comm.max(counts, 3);
  if (empty)
    throw Error("a rank has neither owned nor imported atoms (more ranks than the system's "
                "extent allows): use fewer ranks or set [parallel] grid");
  stats_.owned_max = counts[0];
  stats_.owned_min = -counts[1];
  stats_.imported_max = counts[2];
  Structure loc;
  loc.type_names = proto_.type_names;
  loc.type_masses = proto_.type_masses;
  loc.box = from_reference ? box_at_build : box;
  loc.has_velocities = true;
  std::vector<double> cx, cy, cz;  // current positions
  for (const std::vector<Atom>* part : {&owned, &imports})
    for (const Atom& a : *part) {
      loc.id.push_back(a.id);
      loc.type.push_back(a.type);
      loc.x.push_back(from_reference ? a.x0 : a.x);
      loc.y.push_back(from_reference ? a.y0 : a.y);
      loc.z.push_back(from_reference ? a.z0 : a.z);
      cx.push_back(a.x);
      cy.push_back(a.y);
      cz.push_back(a.z);
      loc.vx.push_back(a.vx);
      loc.vy.push_back(a.vy);
      loc.vz.push_back(a.vz);
      loc.ix.push_back(a.ix);
      loc.iy.push_back(a.iy);
      loc.iz.push_back(a.iz);
    }
  nlist_.reset();
  sys_.reset();
  sys_ = std::make_unique<System>(*ctx_, loc, units_);
  n_owned_ = static_cast<Index>(owned.size());
  sys_->set_n_owned(n_owned_);
  const std::size_t nl = loc.x.size();
  energy_.resize(std::max<std::size_t>(nl, 1));
  virial_.resize(6 * std::max<std::size_t>(nl, 1));
  const Index nred = std::max<Index>(static_cast<Index>(nl), 1);
  ctx_->reserve_scratch(
      std::max(reduction_scratch_bytes(*ctx_, nred), exact_sum_scratch_bytes(*ctx_, nred)));
  upload(*ctx_, all_idx, send_idx_);
  long total_send = 0, total_recv = 0;
  send_bytes_.assign(static_cast<std::size_t>(nr), 0);
  recv_bytes_.assign(static_cast<std::size_t>(nr), 0);
  for (int r = 0; r < nr; ++r) {
    const std::size_t u = static_cast<std::size_t>(r);
    total_send += send_count_[u];
    total_recv += recv_count_[u];
    send_bytes_[u] = 3 * send_count_[u] * static_cast<long>(sizeof(double));
    recv_bytes_[u] = 3 * recv_count_[u] * static_cast<long>(sizeof(double));
  }
  total_send_ = total_send;
  total_recv_ = total_recv;
  if (pack_.size() < static_cast<std::size_t>(3 * total_send + 1))
    pack_.resize(static_cast<std::size_t>(3 * total_send + 1));
  if (unpack_.size() < static_cast<std::size_t>(3 * total_recv + 1))
    unpack_.resize(static_cast<std::size_t>(3 * total_recv + 1));
  stage_send_.resize(static_cast<std::size_t>(3 * total_send));
  stage_recv_.resize(static_cast<std::size_t>(3 * total_recv));
  stats_.rebuild_bytes = comm.bytes_sent - sent0;
  stats_.comm_seconds += std::chrono::duration<double>(Clock::now() - t0).count();

  // 4. the list (no collective inside: the System has no CrossRankReducer yet, so each rank
  // grows its capacities on its own). Setup: one wrap of every local atom (owned and imported
  // alike, so the imported positions equal their owners' bit for bit) as the one-rank setup;
  // a capacity retry starts again from the unwrapped state. From the reference: the ghosts,
  // cells and neighbour order of the build that recorded it, then the current positions.
  nlist_ = std::make_unique<NeighborList>(*sys_, pot_->cutoff(), skin_);
  // Lists for the owned atoms and the imported atoms within the model's list distance (+ the
  // margin, as imports) of the sub-domain: the rest are only neighbours of those.
  {
    const double list_distance = pot_->import_list_distance(skin_);
    if (list_distance < dec_.import_distance() - std::max(margin_, skin_)) {
      std::vector<unsigned char> mask(std::max<std::size_t>(imports.size(), 1), 0);
      if (list_distance > 0) {
        const Decomposition near(gbox, dec_.grid(), list_distance + std::max(margin_, skin_));
        for (std::size_t k = 0; k < imports.size(); ++k) {
          const Atom& a = imports[k];
          double s[3];
          wrapped_fractional(gbox, a.x, a.y, a.z, s);
          near.for_each_import(s, -1, [&](int r, int, int, int) {
            if (r == me) mask[k] = 1;
          });
        }
      }
      upload(*ctx_, mask, list_mask_);
      nlist_->set_list_atoms(n_owned_, list_mask_.data());
    }
  }
  System& sys = *sys_;
  nlist_->reserve(sys, ghost_reserve_, neigh_reserve_);
  if (from_reference) {
    nlist_->rebuild_from_reference(sys);
    copy_in(*ctx_, sys.x, cx);
    copy_in(*ctx_, sys.y, cy);
    copy_in(*ctx_, sys.z, cz);
    const Box now = box;
    if (std::memcmp(&now, &box_at_build, sizeof(Box)) != 0) sys.set_box(now);
    nlist_->refresh_ghosts(sys);
  } else {
    for (int attempt = 0;; ++attempt) {
      nlist_->request_rebuild();
      nlist_->update(sys);
      const NeighborStatus st = nlist_->read_status();
      if (!nlist_->overflowed(st, sys)) break;
      if (attempt == 16)
        throw Error("neighbour list capacities did not converge (atoms overlapping?)");
      nlist_->grow(sys, st);
      copy_in(*ctx_, sys.x, cx);
      copy_in(*ctx_, sys.y, cy);
      copy_in(*ctx_, sys.z, cz);
      copy_in(*ctx_, sys.ix, loc.ix);
      copy_in(*ctx_, sys.iy, loc.iy);
      copy_in(*ctx_, sys.iz, loc.iz);
    }
  }
  ghost_reserve_ = std::max(ghost_reserve_, sys.ghost_capacity());
  neigh_reserve_ = std::max(neigh_reserve_, nlist_->max_neigh());
  base_builds_ = nlist_->read_status().n_builds;
  sys.set_cross_rank(cross_);
  reset_margin_reference();
  ++stats_.migrations;
}

void DistributedRun::reset_margin_reference() {
  const std::size_t n = static_cast<std::size_t>(std::max<Index>(n_owned_, 1));
  for (DeviceArray<double>* a : {&xm_, &ym_, &zm_})
    if (a->size() < n) a->resize(n);
  for (DeviceArray<int>* a : {&ixm_, &iym_, &izm_})
    if (a->size() < n) a->resize(n);
  System& sys = *sys_;
  const std::size_t m = static_cast<std::size_t>(n_owned_);
  if (m) {
    copy_device(*ctx_, sys.x, xm_, m);
    copy_device(*ctx_, sys.y, ym_, m);
    copy_device(*ctx_, sys.z, zm_, m);
    copy_device(*ctx_, sys.ix, ixm_, m);
    copy_device(*ctx_, sys.iy, iym_, m);
    copy_device(*ctx_, sys.iz, izm_, m);
  }
  ctx_->copy_d2d(box_mig_.data(), sys.box_device(), sizeof(Box));
  parallel_for(*ctx_, 1, SetFlag{margin_flag_.data(), 0});
  parallel_for(*ctx_, 1, SetValue{margin_use_.data(), 0.0});
  mig_step_ = step_;
}

void DistributedRun::refresh_imports() {
  const auto t0 = Clock::now();
  Comm& comm = *comm_;
  const long sent0 = comm.bytes_sent;
  System& sys = *sys_;
  if (total_send_ > 0)
    parallel_for(*ctx_, static_cast<Index>(total_send_),
                 PackPositions{send_idx_.data(), sys.x.data(), sys.y.data(), sys.z.data(),
                               pack_.data()});
  if (transport_ == Transport::direct) {
    // the device buffers go to the transport as they are (no host copy, no synchronisation)
    device_->all_to_all_v(*ctx_, pack_.data(), send_bytes_, unpack_.data(), recv_bytes_);
  } else {
    if (total_send_ > 0)
      ctx_->copy_d2h(stage_send_.data(), pack_.data(), stage_send_.size() * sizeof(double));
    comm.all_to_all_v(stage_send_.data(), send_bytes_, stage_recv_.data(), recv_bytes_);
    if (total_recv_ > 0)
      ctx_->copy_h2d(unpack_.data(), stage_recv_.data(), stage_recv_.size() * sizeof(double));
  }
  if (total_recv_ > 0)
    parallel_for(*ctx_, static_cast<Index>(total_recv_),
                 UnpackImages{n_owned_, unpack_.data(), sys.x.data(), sys.y.data(), sys.z.data()});
  stats_.step_bytes = comm.bytes_sent - sent0;
  stats_.comm_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
}

void DistributedRun::compute_forces(bool energy) {
  ForceOut out{sys_->fx.data(), sys_->fy.data(), sys_->fz.data(),
               energy ? energy_.data() : nullptr, energy ? virial_.data() : nullptr, false};
  pot_->compute(*ctx_, sys_->view(), nlist_->view(), out, ForceRequest{energy, energy});
  energy_current_ = energy;
}

void DistributedRun::setup() {
  std::vector<Atom> share = std::move(initial_);
  initial_.clear();
  rebuild(std::move(share), false, proto_.box, proto_.box);
  compute_forces(true);
  parallel_for(*ctx_, 1, SetCounter{step_dev_.data(), step_});
  setup_done_ = true;
}

void DistributedRun::restore(std::vector<Atom> share, const Box& box, const Box& box_at_build,
                             long step) {
  initial_.clear();
  rebuild(std::move(share), true, box, box_at_build);
  step_ = mig_step_ = step;
  compute_forces(true);
  parallel_for(*ctx_, 1, SetCounter{step_dev_.data(), step_});
  setup_done_ = true;
  started_ = true;
}

void DistributedRun::restore(const std::vector<Atom>& atoms, const Box& box_at_build,
                             long step) {
  if (atoms.size() != proto_.id.size())
    throw Error("internal: restoring " + std::to_string(atoms.size()) + " atoms of " +
                std::to_string(proto_.id.size()));
  std::vector<Atom> share;
  for (std::size_t i = static_cast<std::size_t>(comm_->rank()); i < atoms.size();
       i += static_cast<std::size_t>(comm_->size()))
    share.push_back(atoms[i]);
  restore(std::move(share), proto_.box, box_at_build, step);
}

ThermoSample DistributedRun::thermo() {
  if (!setup_done_) setup();
  if (!energy_current_) compute_forces(true);
  // ThermoCompute sums the owned atoms exactly and combines the ranks through the System's
  // CrossRankReducer (collective), so every rank gets the one-rank bits.
  if (integ_->changes_box()) sys_->pull_box();
  thermo_.enqueue(*ctx_, *sys_, energy_.data(), virial_.data());
  ThermoSample t = thermo_.fetch(*ctx_, *sys_, step_, static_cast<double>(step_) * dt_);
  // Thermostat reservoirs are global already (their sums run over owned atoms through
  // System::cross_rank, engine/exact_sum.hpp): the same value on every rank.
  t.econserve = t.etotal + integ_->reservoir_energy(*ctx_, *sys_);
  if (!std::isfinite(t.pe) || !std::isfinite(t.ke) || !std::isfinite(t.press))
    throw Error("step " + std::to_string(step_) +
                ": non-finite energy or pressure (atoms overlapping, timestep too large?)");
  return t;
}

void DistributedRun::one_step(bool need_energy) {
  const StepData d1{dt_, step_, energy_.data(), virial_.data(), step_dev_.data()};
  integ_->step_one(*ctx_, *sys_, d1);
  // Imported positions from their owners, then the one-rank list update (its rebuild decision
  // is global through System::cross_rank); all on the device.
  refresh_imports();
  nlist_->update(*sys_);
  if (after_list_update) after_list_update(step_ + 1);
  compute_forces(need_energy || integ_->needs_virial());
  const StepData d2{dt_, step_, energy_.data(), virial_.data(), step_dev_.data()};
  integ_->step_two(*ctx_, *sys_, d2);
  System& sys = *sys_;
  reduce(*ctx_, n_owned_,
         MigrationDisp2{sys.x.data(), sys.y.data(), sys.z.data(), xm_.data(), ym_.data(),
                        zm_.data(), sys.ix.data(), sys.iy.data(), sys.iz.data(), ixm_.data(),
                        iym_.data(), izm_.data(), sys.box_device(), box_mig_.data()},
         MaxOp{}, 0.0, margin_disp2_.data());
  parallel_for(*ctx_, 1, MarginCheck{margin_disp2_.data(), sys.box_device(), box_mig_.data(),
                                     margin_, margin_flag_.data(), margin_use_.data()});
  parallel_for(*ctx_, 1, AdvanceCounter{step_dev_.data()});
  ++step_;
}

void DistributedRun::migrate() {
  const Box b = box(), bb = box_at_build();
  rebuild(owned_atoms(), true, b, bb);
  compute_forces(true);
}

void DistributedRun::take_snapshot() {
  snap_atoms_ = owned_atoms();
  snap_box_ = box();
  snap_box_at_build_ = box_at_build();
  snap_step_ = step_;
  integ_->save_state(*ctx_);
}

void DistributedRun::restore_snapshot() {
  rebuild(snap_atoms_, true, snap_box_, snap_box_at_build_);
  step_ = mig_step_ = snap_step_;
  integ_->restore_state(*ctx_);
  compute_forces(true);
  parallel_for(*ctx_, 1, SetCounter{step_dev_.data(), step_});
}

DistributedStats DistributedRun::run(long nsteps, const DistributedObservers& obs) {
  if (nsteps < 0) throw Error("[run] steps must be non-negative");
  if (!setup_done_) setup();
  started_ = true;
  const auto t0 = Clock::now();
  const long first = step_, end = step_ + nsteps;
  const long rebuilds0 = rebuilds_, migrations0 = stats_.migrations;
  stats_.comm_seconds = 0;
  stats_.rollbacks = stats_.margin_rollbacks = 0;
  stats_.stopped = false;
  parallel_for(*ctx_, 1, SetCounter{step_dev_.data(), step_});
  // Output as Simulation::run emits it.
  auto emit = [&](bool final_step) {
    const bool thermo_due = obs.on_thermo && (due(step_, obs.thermo_every) || final_step ||
                                              step_ == first);
    const bool frame_due =
        obs.on_frame && (due(step_, obs.frame_every) || (final_step && obs.frame_every > 0));
    if (!thermo_due && !frame_due) return;
    const ThermoSample t = thermo();
    if (thermo_due) obs.on_thermo(t);
    if (frame_due) obs.on_frame(t, gather());
  };
  if (obs.emit_at_start) emit(nsteps == 0);
  take_snapshot();
  if (obs.after_step) obs.after_step(step_, true);
  bool stopped = false;
  const long cap = std::max(1L, obs.max_check_interval);
  // The first interval probes how fast atoms use the margin (nothing measured yet).
  long planned = use_rate_ > 0 ? sync_interval(use_rate_, 1.0, cap) : std::min(cap, kProbeSteps);
  while (step_ < end) {
    long next = std::min(end, step_ + std::max(1L, planned));
    if (obs.thermo_every > 0) next = std::min(next, (step_ / obs.thermo_every + 1) * obs.thermo_every);
    if (obs.frame_every > 0) next = std::min(next, (step_ / obs.frame_every + 1) * obs.frame_every);
    if (obs.checkpoint_every > 0)
      next = std::min(next, (step_ / obs.checkpoint_every + 1) * obs.checkpoint_every);
    while (step_ < next) {
      one_step(step_ + 1 == next);
      if (step_ < next && obs.after_step) obs.after_step(step_, false);
    }
    // Sync point: every rank's flags (capacity overflow, margin violation, stop request) and
    // the largest fraction of the margin allowance used (in millionths, rounded up).
    const NeighborStatus st = nlist_->read_status();
    const int margin_bad = ctx_->to_host(margin_flag_, 1)[0];
    const double use_here = ctx_->to_host(margin_use_, 1)[0];
    const bool overflow = nlist_->overflowed(st, *sys_);
    long flags[4] = {overflow ? 1L : 0L, margin_bad ? 1L : 0L,
                     (obs.stop && *obs.stop) ? 1L : 0L,
                     static_cast<long>(std::ceil(std::min(use_here, 1e6) * 1e6))};
    comm_->max(flags, 4);
    const double use = static_cast<double>(flags[3]) * 1e-6;
    // A violation one step after a migration cannot be replayed shorter: an atom (or the
    // cell's shape, compared modulo lattice vectors, so a flip does not count) moved margin/2
    // in one step. Replaying would repeat it forever: every rank stops with the same message.
    if (flags[1] && !flags[0] && step_ - mig_step_ <= 1)
      throw Error("step " + std::to_string(step_) + ": an atom or the cell moved more than " +
                  "half the [parallel] margin (" + std::to_string(margin_) + ") in one step " +
                  "(atoms overlapping, timestep too large?); a larger margin allows more");
    if (flags[0] || flags[1]) {
      // Every rank rolls back to the previous sync point together and replays.
      if (overflow) {
        ghost_reserve_ = std::max(ghost_reserve_, static_cast<Index>(1.25 * st.ghost_needed) + 32);
        neigh_reserve_ = std::max(neigh_reserve_, static_cast<int>(1.2 * st.neigh_needed) + 8);
      }
      if (flags[1]) {
        // The whole allowance went within the interval: at least 1/span of it per step.
        const long span = std::max(1L, step_ - snap_step_);
        use_rate_ = std::max(use_rate_, 1.0 / static_cast<double>(span));
        ++stats_.margin_rollbacks;
      }
      restore_snapshot();  // a migration at the snapshot's step
      ++stats_.rollbacks;
      planned = use_rate_ > 0 ? sync_interval(use_rate_, 1.0, cap) : planned;
      if (obs.after_step) obs.after_step(step_, true);  // the restored sync point
      continue;
    }
    stopped = flags[2] != 0;
    rebuilds_ += st.n_builds - base_builds_;
    base_builds_ = st.n_builds;
    // Migrate only when the allowance left is less than half of what a migration would give
    // (each migration costs a host snapshot, new sub-systems, a list build and a force call);
    // the margin flag and roll-backs stay the guarantee, this schedule only avoids them.
    const long since = step_ - mig_step_;
    if (since > 0) use_rate_ = std::max(use / static_cast<double>(since), 0.5 * use_rate_);
    const long fresh = sync_interval(use_rate_, 1.0, cap);
    // (less than one step's worth left: migrate)
    const long stay = use >= 1.0 || (use_rate_ > 0 && 1.0 - use < 1.5 * use_rate_)
                          ? 0
                          : sync_interval(use_rate_, 1.0 - use, cap);
    if (2 * stay < fresh || stay == 0) {
      migrate();
      planned = fresh;
    } else {
      planned = std::max(1L, stay);
    }
    if (obs.on_sync) obs.on_sync();
    emit(step_ == end);
    take_snapshot();
    if (obs.on_checkpoint && (stopped || due(step_, obs.checkpoint_every))) obs.on_checkpoint();
    if (obs.after_step) obs.after_step(step_, true);
    if (stopped) break;
  }
  DistributedStats out = stats_;
  out.steps = step_ - first;
  out.rebuilds = rebuilds_ - rebuilds0;
  out.migrations = stats_.migrations - migrations0;
  out.check_interval = planned;
  out.stopped = stopped;
  out.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return out;
}

DistributedStats DistributedRun::run(
    long nsteps, long thermo_every, const std::function<void(const ThermoSample&)>& on_thermo,
    long frame_every, const std::function<void(const ThermoSample&, const Structure&)>& on_frame) {
  DistributedObservers obs;
  obs.thermo_every = thermo_every;
  obs.on_thermo = on_thermo;
  obs.frame_every = frame_every;
  obs.on_frame = on_frame;
  obs.emit_at_start = !started_;
  return run(nsteps, obs);
}

std::vector<DistributedRun::Atom> DistributedRun::gather_atoms() {
  std::vector<Atom> mine = owned_atoms();
  std::vector<std::uint8_t> bytes;
  for (const Atom& a : mine) put(bytes, a);
  const auto all = comm_->all_gather(bytes);
  if (comm_->rank() != 0) return {};
  std::unordered_map<std::int64_t, Atom> by_id;
  for (const auto& buf : all)
    for (std::size_t at = 0; at < buf.size();) {
      const Atom a = get<Atom>(buf, at);
      by_id[a.id] = a;
    }
  if (by_id.size() != proto_.id.size())
    throw Error("internal: gathered " + std::to_string(by_id.size()) + " atoms of " +
                std::to_string(proto_.id.size()));
  std::vector<Atom> out;
  out.reserve(proto_.id.size());
  for (std::int64_t id : proto_.id) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) throw Error("internal: atom id " + std::to_string(id) + " lost");
    out.push_back(it->second);
  }
  return out;
}

Structure DistributedRun::gather() {
  const std::vector<Atom> all = gather_atoms();
  Structure s = proto_;
  if (comm_->rank() != 0) {
    s.id.clear();
    return s;
  }
  if (integ_->changes_box()) s.box = sys_->pull_box();
  s.has_velocities = true;
  for (const Atom& a : all) {
    s.type.push_back(a.type);
    s.x.push_back(a.x);
    s.y.push_back(a.y);
    s.z.push_back(a.z);
    s.vx.push_back(a.vx);
    s.vy.push_back(a.vy);
    s.vz.push_back(a.vz);
    s.ix.push_back(a.ix);
    s.iy.push_back(a.iy);
    s.iz.push_back(a.iz);
  }
  return s;
}

}  // namespace md
