// Several-rank checkpoints (see parallel_checkpoint.hpp): gather on rank 0, write there,
// restore on every rank.
#include "io/parallel_checkpoint.hpp"

#include <algorithm>
#include <csignal>
#include <unordered_map>

#include "engine/error.hpp"
#include "engine/safety.hpp"

namespace md {

namespace {
// One owned atom's checkpoint record.
struct Record {
  std::int64_t id;
  int ix, iy, iz;
  double x, y, z, vx, vy, vz, fx, fy, fz, x0, y0, z0;
};
}  // namespace

Checkpoint capture_distributed_checkpoint(DistributedRun& run, Comm& comm, const Structure& input,
                                          Integrator& integ, long step, double dt) {
  System& sys = run.system();
  Context& ctx = sys.ctx();
  NeighborList& nl = run.neighbors();
  const std::size_t m = static_cast<std::size_t>(run.n_owned());
  std::vector<std::int64_t> id;
  std::vector<double> x, y, z, vx, vy, vz, fx, fy, fz, x0, y0, z0;
  std::vector<int> ix, iy, iz;
  std::vector<HostCopy> batch;  // one counted transfer
  add_host_copy(batch, id, sys.id, m);
  add_host_copy(batch, x, sys.x, m);
  add_host_copy(batch, y, sys.y, m);
  add_host_copy(batch, z, sys.z, m);
  add_host_copy(batch, vx, sys.vx, m);
  add_host_copy(batch, vy, sys.vy, m);
  add_host_copy(batch, vz, sys.vz, m);
  add_host_copy(batch, fx, sys.fx, m);
  add_host_copy(batch, fy, sys.fy, m);
  add_host_copy(batch, fz, sys.fz, m);
  add_host_copy(batch, ix, sys.ix, m);
  add_host_copy(batch, iy, sys.iy, m);
  add_host_copy(batch, iz, sys.iz, m);
  add_host_copy(batch, x0, nl.x0, m);
  add_host_copy(batch, y0, nl.y0, m);
  add_host_copy(batch, z0, nl.z0, m);
  if (m) ctx.copy_d2h_batch(batch);
  std::vector<std::uint8_t> bytes;
  bytes.reserve(m * sizeof(Record));
  for (std::size_t i = 0; i < m; ++i)
    put(bytes, Record{id[i], ix[i], iy[i], iz[i], x[i], y[i], z[i], vx[i], vy[i], vz[i], fx[i],
                      fy[i], fz[i], x0[i], y0[i], z0[i]});
  long caps[2] = {static_cast<long>(sys.ghost_capacity()), static_cast<long>(nl.max_neigh())};
  comm.max(caps, 2);
  const Box box_at_build = ctx.to_host(nl.box_at_build, 1)[0];
  const auto all = comm.all_gather(bytes);

  Checkpoint c;
  c.units = sys.units().name;
  c.type_names = sys.type_names();
  c.type_masses = sys.type_masses();
  c.step = step;
  c.dt = dt;
  c.box = sys.pull_box();
  c.cutoff = nl.cutoff();
  c.skin = nl.skin();
  c.box_at_build = box_at_build;
  c.ghost_capacity = caps[0];
  c.max_neigh = static_cast<int>(caps[1]);
  c.integrator = integ.name();
  c.integrator_state = integ.serialize(ctx);  // global: the same bytes on every rank
  c.executor = backend_name(ctx.backend());
  c.device = ctx.device_description();
  if (comm.rank() != 0) return c;

  std::unordered_map<std::int64_t, Record> by_id;
  by_id.reserve(input.id.size());
  for (const auto& buf : all)
    for (std::size_t at = 0; at < buf.size();) {
      const Record r = get<Record>(buf, at);
      by_id[r.id] = r;
    }
  if (by_id.size() != input.id.size())
    throw Error("internal: checkpoint gathered " + std::to_string(by_id.size()) + " atoms of " +
                std::to_string(input.id.size()));
  const std::size_t n = input.id.size();
  for (auto* v : {&c.x, &c.y, &c.z, &c.vx, &c.vy, &c.vz, &c.fx, &c.fy, &c.fz, &c.x0, &c.y0, &c.z0})
    v->reserve(n);
  for (const std::int64_t i : input.id) {
    const auto it = by_id.find(i);
    if (it == by_id.end()) throw Error("internal: atom id " + std::to_string(i) + " lost");
    const Record& r = it->second;
    c.id.push_back(r.id);
    c.x.push_back(r.x);
    c.y.push_back(r.y);
    c.z.push_back(r.z);
    c.vx.push_back(r.vx);
    c.vy.push_back(r.vy);
    c.vz.push_back(r.vz);
    c.fx.push_back(r.fx);
    c.fy.push_back(r.fy);
    c.fz.push_back(r.fz);
    c.ix.push_back(r.ix);
    c.iy.push_back(r.iy);
    c.iz.push_back(r.iz);
    c.x0.push_back(r.x0);
    c.y0.push_back(r.y0);
    c.z0.push_back(r.z0);
  }
  return c;
}

void write_checkpoint_on_rank0(Comm& comm, const std::string& path, const Checkpoint& c) {
  std::string error;
  // Comm::note: where the last checkpoint is, for the watchdog's message ([parallel] timeout)
  const std::string note_before = comm.note;
  const std::string written =
      "the last checkpoint (step " + std::to_string(c.step) + ") is " + path;
  if (comm.rank() == 0) {
    try {
      write_checkpoint(path, c);
      comm.note = written;
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "write failed";
    }
  } else {
    comm.note = "the last checkpoint is " + path + " (step " + std::to_string(c.step) +
                " if rank 0 finished writing it, else the one before)";
  }
  // Every rank learns rank 0's outcome (so all stop with the same message).
  const auto all = comm.all_gather(std::vector<std::uint8_t>(error.begin(), error.end()));
  if (!all[0].empty()) {
    comm.note = note_before;
    throw InputError(path, 0, "checkpoint not written by rank 0: " +
                                  std::string(all[0].begin(), all[0].end()));
  }
  comm.note = written;
}

std::vector<DistributedRun::Atom> checkpoint_atoms(const Checkpoint& c, const Structure& input,
                                                   const std::string& source) {
  std::unordered_map<std::int64_t, int> type_of;
  type_of.reserve(input.id.size());
  for (std::size_t i = 0; i < input.id.size(); ++i) type_of[input.id[i]] = input.type[i];
  std::vector<DistributedRun::Atom> atoms(c.natoms());
  for (std::size_t i = 0; i < c.natoms(); ++i) {
    const auto it = type_of.find(c.id[i]);
    if (it == type_of.end())
      throw InputError(source, 0, "checkpoint does not belong to this input: atom id " +
                                      std::to_string(c.id[i]) + " is not in the input");
    atoms[i] = DistributedRun::Atom{c.id[i], it->second, c.ix[i], c.iy[i], c.iz[i],
                                    c.x[i],  c.y[i],     c.z[i],  c.vx[i], c.vy[i],
                                    c.vz[i], c.x0[i],    c.y0[i], c.z0[i]};
  }
  return atoms;
}

int collective_stop_signal(Comm& comm, const volatile std::sig_atomic_t* flag) {
  long sig = flag ? static_cast<long>(*flag) : 0;
  comm.max(&sig, 1);
  return static_cast<int>(sig);
}

void collective_safety(Comm& comm, const std::function<void()>& check) {
  std::string mine;
  try {
    check();
  } catch (const SafetyError& e) {
    mine = "rank " + std::to_string(comm.rank()) + " (counting its owned and imported atoms): " +
           e.what();
  }
  const auto all = comm.all_gather(std::vector<std::uint8_t>(mine.begin(), mine.end()));
  for (const auto& m : all)
    if (!m.empty()) throw SafetyError(std::string(m.begin(), m.end()));
}

}  // namespace md
