#include "engine/distributed.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <unordered_map>

#include "engine/error.hpp"
#include "kernels/launch.hpp"
#include "kernels/neighbor_kernels.hpp"

namespace md {

namespace {
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
}  // namespace

DistributedRun::DistributedRun(Comm& comm, Context& ctx, const Structure& global,
                               const Units& units, Potential& pot, Integrator& integ, double dt,
                               double skin, std::array<int, 3> grid, double import_distance)
    : comm_(&comm), ctx_(&ctx), units_(units), pot_(&pot), integ_(&integ), dt_(dt), skin_(skin),
      dec_(global.box, grid, import_distance), proto_(global), reducer_(comm),
      energy_(ctx, 0), virial_(ctx, 0), disp2_(ctx, 2), pack_(ctx, 0), unpack_(ctx, 0),
      step_dev_(ctx, 1), send_idx_(ctx, 0), thermo_(ctx) {
  if (dec_.ranks() != comm.size())
    throw Error("internal: decomposition grid does not match the number of ranks");
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
    a.x = global.x[i];
    a.y = global.y[i];
    a.z = global.z[i];
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

std::vector<DistributedRun::Atom> DistributedRun::download_owned() {
  const Index n = n_owned_;
  System& sys = *sys_;
  const std::size_t m = static_cast<std::size_t>(n);
  std::vector<double> x, y, z, vx, vy, vz;
  std::vector<int> type, ix, iy, iz;
  std::vector<std::int64_t> id;
  std::vector<HostCopy> batch;
  add_host_copy(batch, x, sys.x, m);
  add_host_copy(batch, y, sys.y, m);
  add_host_copy(batch, z, sys.z, m);
  add_host_copy(batch, vx, sys.vx, m);
  add_host_copy(batch, vy, sys.vy, m);
  add_host_copy(batch, vz, sys.vz, m);
  add_host_copy(batch, type, sys.type, m);
  add_host_copy(batch, id, sys.id, m);
  add_host_copy(batch, ix, sys.ix, m);
  add_host_copy(batch, iy, sys.iy, m);
  add_host_copy(batch, iz, sys.iz, m);
  if (m) ctx_->copy_d2h_batch(batch);
  std::vector<Atom> out(m);
  for (std::size_t i = 0; i < m; ++i)
    out[i] = Atom{id[i], type[i], ix[i], iy[i], iz[i], x[i], y[i], z[i], vx[i], vy[i], vz[i]};
  return out;
}

void DistributedRun::rebuild(std::vector<Atom> candidates) {
  const auto t0 = Clock::now();
  Comm& comm = *comm_;
  const int me = comm.rank(), nr = comm.size();
  const long sent0 = comm.bytes_sent;
  // A barostat moves the cell on the device every step (the same bits on every rank: its sums
  // are exact cross-rank sums). The sub-domains are fixed in fractional coordinates; ownership,
  // import margins (plane spacings) and the new sub-system take the current cell (one counted
  // read, rebuild steps only). Imports need no margin for the deformation until the next
  // rebuild: the Verlet lists are built here, with this cell and these positions, and stay
  // fixed until then (the one-rank rebuild decision, cell-corner term included, keeps them
  // complete for the cutoff); a rank's lists and ghost images reference only local atoms
  // (owned or imported now), whose positions arrive every step, and ghosts are re-imaged with
  // the current cell. So the import set must be complete only for the lists built now: every
  // atom within D (engine/domain.hpp) of the sub-domain in this cell.
  if (sys_ && integ_->changes_box()) {
    proto_.box = sys_->pull_box();
    dec_ = Decomposition(proto_.box, dec_.grid(), dec_.import_distance());
    const std::string thin = dec_.too_thin(0.5 * (pot_->cutoff() + skin_));
    if (!thin.empty())  // found by every rank alike: reported once, all ranks stop
      throw InputError("", 0,
                       "step " + std::to_string(step_) + ": the barostat shrank the cell: " +
                           thin + "; use fewer ranks or a [parallel] grid with fewer "
                           "sub-domains along it");
  }
  const Box& gbox = proto_.box;

  // 1. migration: every atom to the owner of its fractional position (wrapped on the host for
  // the decision only; the atoms travel as they are, the new owner's list build wraps them)
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
    gbox.to_fractional(a.x, a.y, a.z, s);
    for (int d = 0; d < 3; ++d)
      if (gbox.periodic[d]) s[d] -= std::floor(s[d]);
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

  // 3. the rank's sub-system: owned atoms, then the imported ones, in the global cell
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
  loc.box = gbox;
  loc.has_velocities = true;
  for (const std::vector<Atom>* part : {&owned, &imports})
    for (const Atom& a : *part) {
      loc.id.push_back(a.id);
      loc.type.push_back(a.type);
      loc.x.push_back(a.x);
      loc.y.push_back(a.y);
      loc.z.push_back(a.z);
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
  sys_->set_cross_rank(&reducer_);
  const std::size_t nl = loc.x.size();
  energy_.resize(nl);
  virial_.resize(6 * nl);
  ctx_->reserve_scratch(reduction_scratch_bytes(*ctx_, std::max<Index>(static_cast<Index>(nl), 1)));
  upload(*ctx_, all_idx, send_idx_);
  stats_.rebuild_bytes = comm.bytes_sent - sent0;
  stats_.comm_seconds += std::chrono::duration<double>(Clock::now() - t0).count();

  // 4. the list: one wrap of every local atom (owned and imported alike, so the imported
  // positions equal their owners' bit for bit), periodic ghosts, cells, Verlet list. A
  // capacity retry starts again from the unwrapped state, so each atom is wrapped once.
  nlist_ = std::make_unique<NeighborList>(*sys_, pot_->cutoff(), skin_);
  System& sys = *sys_;
  for (int attempt = 0;; ++attempt) {
    nlist_->request_rebuild();
    nlist_->update(sys);
    const NeighborStatus st = nlist_->read_status();
    if (!nlist_->overflowed(st, sys)) break;
    if (attempt == 16)
      throw Error("neighbour list capacities did not converge (atoms overlapping?)");
    nlist_->grow(sys, st);
    ctx_->to_device(loc.x, sys.x);
    ctx_->to_device(loc.y, sys.y);
    ctx_->to_device(loc.z, sys.z);
    ctx_->to_device(loc.ix, sys.ix);
    ctx_->to_device(loc.iy, sys.iy);
    ctx_->to_device(loc.iz, sys.iz);
  }
  ++rebuilds_;
}

void DistributedRun::refresh_imports() {
  const auto t0 = Clock::now();
  Comm& comm = *comm_;
  const int nr = comm.size();
  const long sent0 = comm.bytes_sent;
  long total_send = 0, total_recv = 0;
  for (int r = 0; r < nr; ++r) {
    total_send += send_count_[static_cast<std::size_t>(r)];
    total_recv += recv_count_[static_cast<std::size_t>(r)];
  }
  if (pack_.size() < static_cast<std::size_t>(3 * total_send + 1))
    pack_.resize(static_cast<std::size_t>(3 * total_send + 1));
  System& sys = *sys_;
  parallel_for(*ctx_, static_cast<Index>(total_send),
               PackPositions{send_idx_.data(), sys.x.data(), sys.y.data(), sys.z.data(),
                             pack_.data()});
  const std::vector<double> packed = ctx_->to_host(pack_, static_cast<std::size_t>(3 * total_send));
  std::vector<std::vector<std::uint8_t>> out(static_cast<std::size_t>(nr));
  std::size_t at = 0;
  for (int r = 0; r < nr; ++r) {
    const std::size_t bytes = static_cast<std::size_t>(3 * send_count_[static_cast<std::size_t>(r)]) * sizeof(double);
    auto& b = out[static_cast<std::size_t>(r)];
    b.resize(bytes);
    if (bytes) std::memcpy(b.data(), packed.data() + at, bytes);
    at += static_cast<std::size_t>(3 * send_count_[static_cast<std::size_t>(r)]);
  }
  const auto in = comm.all_to_all(out);
  std::vector<double> recv(static_cast<std::size_t>(3 * total_recv));
  at = 0;
  for (int r = 0; r < nr; ++r) {
    const auto& b = in[static_cast<std::size_t>(r)];
    if (b.size() != static_cast<std::size_t>(3 * recv_count_[static_cast<std::size_t>(r)]) * sizeof(double))
      throw Error("internal: position exchange size mismatch");
    if (!b.empty()) std::memcpy(recv.data() + at, b.data(), b.size());
    at += b.size() / sizeof(double);
  }
  if (total_recv > 0) {
    ctx_->to_device(recv, unpack_);
    parallel_for(*ctx_, static_cast<Index>(total_recv),
                 UnpackImages{n_owned_, unpack_.data(), sys.x.data(), sys.y.data(), sys.z.data()});
  }
  stats_.step_bytes = comm.bytes_sent - sent0;
  stats_.comm_seconds += std::chrono::duration<double>(Clock::now() - t0).count();
}

bool DistributedRun::rebuild_due() {
  // The one-rank decision (DecideRebuild): max |x - x0|^2 > rebuild_delta^2, the skin less
  // the cell corners' displacements since the build (the same bits on every rank).
  reduce(*ctx_, n_owned_,
         Displacement2{sys_->x.data(), sys_->y.data(), sys_->z.data(), nlist_->x0.data(),
                       nlist_->y0.data(), nlist_->z0.data()},
         MaxOp{}, 0.0, disp2_.data());
  parallel_for(*ctx_, 1, RebuildDelta2{sys_->box_device(), nlist_->box_at_build.data(), skin_,
                                       disp2_.data() + 1});
  std::vector<double> d2 = ctx_->to_host(disp2_, 2);
  if (n_owned_ == 0) d2[0] = 0.0;
  comm_->max(d2.data(), 2);
  return d2[0] > d2[1];
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
  rebuild(std::move(share));
  compute_forces(true);
  parallel_for(*ctx_, 1, SetCounter{step_dev_.data(), step_});
  setup_done_ = true;
}

ThermoSample DistributedRun::thermo() {
  if (!setup_done_) setup();
  if (!energy_current_) compute_forces(true);
  if (integ_->changes_box()) sys_->pull_box();  // the host mirror read by thermo and reservoir
  // ThermoCompute sums the owned atoms exactly and combines the ranks through the System's
  // CrossRankReducer (collective), so every rank gets the one-rank bits.
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

DistributedStats DistributedRun::run(
    long nsteps, long thermo_every, const std::function<void(const ThermoSample&)>& on_thermo,
    long frame_every, const std::function<void(const ThermoSample&, const Structure&)>& on_frame) {
  if (nsteps < 0) throw Error("[run] steps must be non-negative");
  if (!setup_done_) setup();
  const bool first_run = !started_;
  started_ = true;
  const auto t0 = Clock::now();
  const long first = step_, end = step_ + nsteps;
  const long rebuilds0 = rebuilds_;
  stats_.comm_seconds = 0;
  parallel_for(*ctx_, 1, SetCounter{step_dev_.data(), step_});
  // Output as Simulation::run emits it (thermo at the first step, every thermo_every and at
  // the end; frames every frame_every and at the end).
  auto emit = [&](bool thermo_due, bool frame_due) {
    if (!thermo_due && !frame_due) return;
    const ThermoSample t = thermo();
    if (thermo_due) on_thermo(t);
    if (frame_due) on_frame(t, gather());
  };
  auto frame_at = [&](long step) {
    return on_frame && frame_every > 0 && (step % frame_every == 0 || step == end);
  };
  if (first_run) emit(static_cast<bool>(on_thermo), frame_at(step_));
  while (step_ < end) {
    const long next = step_ + 1;
    const bool thermo_due =
        on_thermo && ((thermo_every > 0 && next % thermo_every == 0) || next == end);
    const bool frame_due = frame_at(next);
    const bool out = thermo_due || frame_due;
    const StepData d1{dt_, step_, energy_.data(), virial_.data(), step_dev_.data()};
    integ_->step_one(*ctx_, *sys_, d1);
    // The one-rank list update, decided for all ranks: a rebuild migrates and rebuilds the
    // sub-systems; otherwise imported positions are refreshed and the local update (which
    // cannot decide to rebuild: its atoms moved no more than their owners) refreshes ghosts.
    if (rebuild_due()) {
      rebuild(download_owned());
    } else {
      refresh_imports();
      nlist_->update(*sys_);
    }
    compute_forces(out || integ_->needs_virial());
    const StepData d2{dt_, step_, energy_.data(), virial_.data(), step_dev_.data()};
    integ_->step_two(*ctx_, *sys_, d2);
    parallel_for(*ctx_, 1, AdvanceCounter{step_dev_.data()});
    ++step_;
    emit(thermo_due, frame_due);
  }
  (void)first;
  DistributedStats st = stats_;
  st.steps = nsteps;
  st.rebuilds = rebuilds_ - rebuilds0;
  st.wall_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  return st;
}

Structure DistributedRun::gather() {
  std::vector<Atom> mine = download_owned();
  std::vector<std::uint8_t> bytes;
  for (const Atom& a : mine) put(bytes, a);
  const auto all = comm_->all_gather(bytes);
  Structure s = proto_;
  if (integ_->changes_box()) s.box = sys_->pull_box();
  if (comm_->rank() != 0) {
    s.id.clear();
    return s;
  }
  std::unordered_map<std::int64_t, Atom> by_id;
  for (const auto& buf : all)
    for (std::size_t at = 0; at < buf.size();) {
      const Atom a = get<Atom>(buf, at);
      by_id[a.id] = a;
    }
  if (by_id.size() != proto_.id.size())
    throw Error("internal: gathered " + std::to_string(by_id.size()) + " atoms of " +
                std::to_string(proto_.id.size()));
  s.has_velocities = true;
  for (std::int64_t id : proto_.id) {
    const auto it = by_id.find(id);
    if (it == by_id.end()) throw Error("internal: atom id " + std::to_string(id) + " lost");
    const Atom& a = it->second;
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
