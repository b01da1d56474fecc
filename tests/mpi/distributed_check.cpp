// The zero-round-trip contract of a decomposed run, per rank (issue 16): run under
// `mpirun -np N` (or alone: one rank), CPU executor. For each case it runs DistributedRun on
// all ranks and the one-rank Simulation on every rank (the reference), and checks
//  * steady steps (no sync point) make zero counted host transfers and synchronisations with
//    the "direct" transport; counts at sync points and with the "host" transport reported;
//  * a capacity overflow on one rank rolls every rank back and the run still ends bitwise
//    equal to one rank; a small margin makes margin roll-backs, still bitwise equal.
// Prints one line per case and rank; exit 0 when every check passed, 1 otherwise, 77 when
// launched without MPI support for several ranks. Called by tests/CMakeLists.txt (label mpi).
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/comm.hpp"
#include "engine/distributed.hpp"
#include "engine/domain.hpp"
#include "engine/simulation.hpp"
#include "engine/velocity.hpp"
#include "integrators/csvr.hpp"
#include "integrators/nve.hpp"
#include "io/lattice.hpp"
#include "models/lj/lj.hpp"

using namespace md;

namespace {

int failures = 0;

void check(Comm& comm, bool ok, const std::string& what) {
  if (!ok) {
    ++failures;
    std::printf("rank %d: FAIL: %s\n", comm.rank(), what.c_str());
    std::fflush(stdout);
  }
}

Structure lj_crystal(int cells, double temperature, std::uint64_t seed) {
  LatticeSpec spec;
  spec.kind = "fcc";
  spec.a = std::cbrt(4.0 / 0.8442);
  spec.repeat = {cells, cells, cells};
  spec.elements = {"A"};
  Structure s = make_lattice(spec);
  s.type_masses = {1.0};
  create_velocities(s, Units::lj(), temperature, seed);
  return s;
}

std::unique_ptr<LJPotential> lj(Context& ctx) {
  LJParams p;
  p.n_types = 1;
  p.shift = true;
  p.pair = {LJPairParams{1.0, 1.0, 2.5, true}};
  return std::make_unique<LJPotential>(ctx, p);
}

std::unique_ptr<Integrator> integrator(Context& ctx, const std::string& kind, long steps,
                                       std::size_t atoms) {
  if (kind == "nve") return std::make_unique<NVE>();
  const Units u = Units::lj();
  CsvrParams p;
  p.temp = Ramp{1.2, 1.2};
  p.tdamp = 0.5;
  p.seed = 12345;
  p.tdof = 3.0 * static_cast<double>(atoms) - 3.0;
  p.boltz = u.boltz;
  p.mvv2e = u.mvv2e;
  p.ftm2v = u.ftm2v;
  return std::make_unique<Csvr>(ctx, p, steps);
}

struct Case {
  std::string name;
  std::string ensemble = "nve";
  Transport transport = Transport::direct;
  long steps = 300;
  long thermo_every = 100;
  long check_interval = 1000;
  double margin = 0;            // 0: the skin
  int shrink_neigh_rank = -1;   // this rank starts with a too small neighbour capacity
  bool expect_rollback = false, expect_margin_rollback = false;
  bool expect_no_margin_rollback = false;
};

void run_case(Comm& comm, const Case& c) {
  const double dt = 0.005, skin = 0.3;
  const Structure s = lj_crystal(6, 1.44, 87287);  // 864 atoms
  // the one-rank reference (every rank runs it)
  Context ctx1(Backend::cpu);
  auto pot1 = lj(ctx1);
  auto integ1 = integrator(ctx1, c.ensemble, c.steps, s.size());
  System sys1(ctx1, s, Units::lj());
  Simulation sim(ctx1, sys1, *pot1, *integ1, dt, skin);
  sim.setup();
  Observers o1;
  o1.thermo_every = c.thermo_every;
  o1.on_thermo = [](const ThermoSample&) {};
  sim.run(c.steps, o1);
  const Structure ref = sim.download();

  Context ctx(Backend::cpu);
  auto pot = lj(ctx);
  auto integ = integrator(ctx, c.ensemble, c.steps, s.size());
  Box b = s.box;
  double w[3];
  b.perpendicular_widths(w);
  std::string why;
  const std::array<int, 3> grid = choose_grid(comm.size(), b, 0.5 * (2.5 + skin), &why);
  DistributedRun run(comm, ctx, s, Units::lj(), *pot, *integ, dt, skin, grid, 2.5 + skin,
                     c.margin, c.transport);
  run.setup();
  // the margin check lets atoms move margin/2 between migrations: the imports must cover it
  check(comm, run.decomposition().import_distance() >= 2.5 + skin + std::max(run.margin(), skin),
        c.name + ": imports cover the margin");
  if (comm.rank() == c.shrink_neigh_rank) run.neighbors().set_max_neigh(run.system(), 4);

  // per-step counter differences: steady steps vs sync points
  Counters last = ctx.counters();
  long steady = 0, steady_transfers = 0, steady_syncs = 0, sync_points = 0;
  long sync_transfers = 0, sync_syncs = 0, max_sync_transfers = 0;
  DistributedObservers obs;
  obs.thermo_every = c.thermo_every;
  obs.on_thermo = [](const ThermoSample&) {};
  obs.max_check_interval = c.check_interval;
  obs.after_step = [&](long, bool at_sync) {
    const Counters now = ctx.counters();
    const long transfers = (now.h2d - last.h2d) + (now.d2h - last.d2h);
    const long syncs = now.syncs - last.syncs;
    if (at_sync) {
      ++sync_points;
      sync_transfers += transfers;
      sync_syncs += syncs;
      max_sync_transfers = std::max(max_sync_transfers, transfers);
    } else {
      ++steady;
      steady_transfers += transfers;
      steady_syncs += syncs;
    }
    last = now;
  };
  const DistributedStats st = run.run(c.steps, obs);
  const Structure got = run.gather();

  std::printf("%-22s rank %d/%d %-6s: %ld steady steps: %ld host transfers, %ld syncs "
              "(%.2f per step); %ld sync points: %ld transfers (max %ld), %ld syncs; %ld list "
              "builds, %ld migrations, %ld roll-backs (%ld margin), interval %ld; %ld bytes per "
              "step\n",
              c.name.c_str(), comm.rank(), comm.size(), transport_name(c.transport), steady,
              steady_transfers, steady_syncs,
              steady ? static_cast<double>(steady_transfers) / steady : 0.0, sync_points,
              sync_transfers, max_sync_transfers, sync_syncs, st.rebuilds, st.migrations,
              st.rollbacks, st.margin_rollbacks, st.check_interval, st.step_bytes);
  std::fflush(stdout);
  if (c.transport == Transport::direct) {
    check(comm, steady > 0, c.name + ": some steady steps");
    check(comm, steady_transfers == 0, c.name + ": zero host transfers on steady steps");
    check(comm, steady_syncs == 0, c.name + ": zero synchronisations on steady steps");
  }
  long rollbacks = st.rollbacks, margin_rollbacks = st.margin_rollbacks;
  comm.max(&rollbacks, 1);
  comm.max(&margin_rollbacks, 1);
  check(comm, rollbacks == st.rollbacks, c.name + ": every rank rolled back together");
  if (c.expect_rollback) check(comm, rollbacks > 0, c.name + ": a roll-back happened");
  if (c.expect_margin_rollback)
    check(comm, margin_rollbacks > 0, c.name + ": a margin roll-back happened");
  if (c.expect_no_margin_rollback)
    check(comm, margin_rollbacks == 0, c.name + ": the sync-point schedule avoided margin roll-backs");
  check(comm, st.steps == c.steps, c.name + ": all steps run");
  // LJ reads no imported atom's list: imported atoms get empty lists, owned ones full ones.
  {
    const std::vector<int> nn = ctx.to_host(run.neighbors().num_neigh,
                                            static_cast<std::size_t>(run.system().n_local()));
    bool owned_listed = run.n_owned() == 0, imports_empty = true;
    for (Index i = 0; i < run.system().n_local(); ++i) {
      if (i < run.n_owned() && nn[static_cast<std::size_t>(i)] > 0) owned_listed = true;
      if (i >= run.n_owned() && nn[static_cast<std::size_t>(i)] != 0) imports_empty = false;
    }
    check(comm, owned_listed && imports_empty,
          c.name + ": lists for owned atoms only (a pair style)");
  }
  if (comm.rank() == 0) {
    bool same = got.size() == ref.size();
    for (std::size_t i = 0; same && i < ref.size(); ++i)
      same = got.id.size() == ref.size() &&
             std::memcmp(&got.x[i], &ref.x[i], sizeof(double)) == 0 &&
             std::memcmp(&got.y[i], &ref.y[i], sizeof(double)) == 0 &&
             std::memcmp(&got.z[i], &ref.z[i], sizeof(double)) == 0 &&
             std::memcmp(&got.vx[i], &ref.vx[i], sizeof(double)) == 0 &&
             std::memcmp(&got.vy[i], &ref.vy[i], sizeof(double)) == 0 &&
             std::memcmp(&got.vz[i], &ref.vz[i], sizeof(double)) == 0 && got.ix[i] == ref.ix[i] &&
             got.iy[i] == ref.iy[i] && got.iz[i] == ref.iz[i];
    check(comm, same, c.name + ": final state bitwise equal to one rank");
  }
}

}  // namespace

int main(int argc, char** argv) {
  init_world(&argc, &argv);
  Comm& comm = world();
  int rc = 0;
  try {
    std::vector<Case> cases;
    Case a;
    a.name = "steady/direct";
    a.steps = 300;
    a.check_interval = 50;
    cases.push_back(a);
    Case h = a;
    h.name = "steady/host";
    h.transport = Transport::host;
    cases.push_back(h);
    Case t = a;
    t.name = "csvr/direct";
    t.ensemble = "csvr";
    cases.push_back(t);
    Case o;
    o.name = "overflow/rank1";
    o.steps = 200;
    o.check_interval = 5;
    o.shrink_neigh_rank = comm.size() > 1 ? 1 : 0;
    o.expect_rollback = true;
    cases.push_back(o);
    Case m;
    m.name = "margin/small";
    m.steps = 200;
    m.thermo_every = 200;
    m.check_interval = 1000;
    m.margin = 0.15;
    m.expect_rollback = m.expect_margin_rollback = true;
    cases.push_back(m);
    Case d;
    d.name = "schedule/default";  // a hot melt, one sync point at the end unless scheduled
    d.steps = 300;
    d.thermo_every = 300;
    d.check_interval = 1000;
    d.expect_no_margin_rollback = true;
    cases.push_back(d);
    for (const Case& c : cases) run_case(comm, c);
    long f = failures;
    comm.max(&f, 1);
    rc = f ? 1 : 0;
    if (comm.rank() == 0) std::printf("distributed_check: %s\n", rc ? "FAILED" : "passed");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d: error: %s\n", comm.rank(), e.what());
    comm.abort(e.what(), 1);
  }
  finalize_world();
  return rc;
}
