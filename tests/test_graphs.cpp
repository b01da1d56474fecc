// Step graphs (Simulation::set_cuda_graphs, Context::begin_capture/replay_graph): on the CPU
// executor the capture records each launch as a closure holding copies of its arguments and
// the replay runs those closures, as a cudaGraph replays its captured kernel parameters. A
// replayed run must equal the direct run bitwise for every integrator (the step number and
// ramp targets are read from the device step counter), and a reallocation must re-capture.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <algorithm>

#include "ensemble_support.hpp"
#include "io/checkpoint.hpp"
#include "kernels/launch.hpp"

namespace md {

namespace {

using test::LJEnsemble;

struct RunResult {
  Structure s;
  std::vector<ThermoSample> thermo;
  RunStats stats;
};

// 1372 LJ atoms (several reduction chunks, rebuilds inside quiet steps), `steps` steps with
// thermo every 25 (sync points), graphs on or off. `hook(e, step)` runs after every step.
template <class Hook>
RunResult run_lj(const std::string& run_toml, bool graphs, long steps, Hook hook) {
  LJEnsemble e(7, 0.8442, 1.1, 11);
  e.use(run_toml, 0.004, steps);
  e.sim->set_cuda_graphs(graphs);
  RunResult r;
  Observers obs;
  obs.thermo_every = 25;
  obs.on_thermo = [&](const ThermoSample& t) { r.thermo.push_back(t); };
  obs.after_step = [&](long step) { hook(e, step); };
  r.stats = e.sim->run(steps, obs);
  r.s = e.sys->download();
  r.s.box = e.sys->pull_box();
  return r;
}

RunResult run_lj(const std::string& run_toml, bool graphs, long steps) {
  return run_lj(run_toml, graphs, steps, [](LJEnsemble&, long) {});
}

// Bitwise equality of the final state and of every thermo sample; names the first mismatch.
std::string first_difference(const RunResult& a, const RunResult& b) {
  if (a.s.size() != b.s.size()) return "atom count";
  for (std::size_t i = 0; i < a.s.size(); ++i) {
    if (a.s.x[i] != b.s.x[i] || a.s.y[i] != b.s.y[i] || a.s.z[i] != b.s.z[i])
      return "position of atom " + std::to_string(i);
    if (a.s.vx[i] != b.s.vx[i] || a.s.vy[i] != b.s.vy[i] || a.s.vz[i] != b.s.vz[i])
      return "velocity of atom " + std::to_string(i);
    if (a.s.ix[i] != b.s.ix[i] || a.s.iy[i] != b.s.iy[i] || a.s.iz[i] != b.s.iz[i])
      return "image of atom " + std::to_string(i);
  }
  for (int d = 0; d < 3; ++d)
    if (a.s.box.l[d] != b.s.box.l[d] || a.s.box.lo[d] != b.s.box.lo[d]) return "box";
  if (a.s.box.xy != b.s.box.xy || a.s.box.xz != b.s.box.xz || a.s.box.yz != b.s.box.yz)
    return "box tilt";
  if (a.thermo.size() != b.thermo.size()) return "number of thermo samples";
  for (std::size_t k = 0; k < a.thermo.size(); ++k) {
    const ThermoSample &p = a.thermo[k], &q = b.thermo[k];
    if (p.step != q.step || p.pe != q.pe || p.ke != q.ke || p.press != q.press ||
        p.econserve != q.econserve || p.temp != q.temp)
      return "thermo sample at step " + std::to_string(p.step);
  }
  return "";
}

const char* kEnsembles[] = {
    "ensemble = \"nve\"",
    "ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = [1.1, 1.4], tdamp = 0.3, "
    "seed = 5 }",
    "ensemble = \"nvt\"\nthermostat = { kind = \"csvr\", temperature = [1.1, 1.4], tdamp = 0.1, "
    "seed = 5 }",
    "ensemble = \"nvt\"\nthermostat = { kind = \"nose-hoover\", temperature = [1.1, 1.4], "
    "tdamp = 0.1 }",
    "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.1, tdamp = 0.1 }\n"
    "barostat = { kind = \"mtk\", coupling = \"iso\", pressure = [1.0, 3.0], pdamp = 0.5 }",
    "ensemble = \"npt\"\nthermostat = { kind = \"csvr\", temperature = 1.1, tdamp = 0.1, seed = 5 }\n"
    "barostat = { kind = \"scr\", coupling = \"aniso\", pressure = [1.0, 2.0], pdamp = 0.5, "
    "compressibility = 0.1 }",
};

}  // namespace

TEST_SUITE("graphs") {
  EXEC_TEST_CASE("step graphs: a replayed run equals the direct run bitwise (every integrator, ramps)") {
    for (const char* run : kEnsembles) {
      const RunResult direct = run_lj(run, false, 120);
      const RunResult graph = run_lj(run, true, 120);
      CHECK_MESSAGE(first_difference(direct, graph) == "", run);
      CHECK_MESSAGE(direct.stats.graph_replays == 0, run);
      // 5 sync intervals: per interval the last step (energy needed) is direct; the first
      // steps of the run are direct until a step allocated nothing, then one capture.
      CHECK_MESSAGE(graph.stats.graph_replays >= 100, run << ": " << graph.stats.graph_replays);
      CHECK_MESSAGE(graph.stats.graph_captures >= 1, run);
      CHECK_MESSAGE(graph.stats.graph_captures <= 3, run << ": " << graph.stats.graph_captures);
      CHECK_MESSAGE(direct.stats.rebuilds > 0, run);
      CHECK_MESSAGE(graph.stats.rebuilds == direct.stats.rebuilds, run);
      // The replays ran the whole step: as many launches as the direct steps enqueue.
      const double nodes = static_cast<double>(graph.stats.graph_nodes) /
                           static_cast<double>(graph.stats.graph_replays);
      const double direct_per_step = static_cast<double>(direct.stats.launches) / 120.0;
      MESSAGE(std::string(run) << ": " << direct_per_step << " launches per step direct, "
                  << static_cast<double>(graph.stats.launches) / 120.0 << " with graphs ("
                  << nodes << " per replayed graph)");
      CHECK(graph.stats.launches < direct.stats.launches / 5);
    }
  }

  EXEC_TEST_CASE("step graphs: a neighbour rebuild that reallocates (roll-back) re-captures") {
    const char* run = kEnsembles[1];  // Langevin: noise keyed by the device step
    auto make = [&](bool graphs) {
      LJEnsemble e(7, 0.8442, 1.1, 11);
      e.use(run, 0.004, 120);
      e.sim->set_cuda_graphs(graphs);
      // Too few neighbour slots: the first rebuild inside the run overflows; the next sync
      // point rolls back, grows (reallocates) the list and replays the interval.
      e.sim->neighbors().set_max_neigh(*e.sys, 20);
      RunResult r;
      Observers obs;
      obs.thermo_every = 25;
      obs.on_thermo = [&](const ThermoSample& t) { r.thermo.push_back(t); };
      r.stats = e.sim->run(120, obs);
      r.s = e.sys->download();
      r.s.box = e.sys->pull_box();
      return r;
    };
    const RunResult direct = make(false), graph = make(true);
    CHECK(direct.stats.rollbacks >= 1);
    CHECK(graph.stats.rollbacks == direct.stats.rollbacks);
    CHECK(first_difference(direct, graph) == "");
    CHECK(graph.stats.graph_captures >= 2);  // captured again after the reallocation
    CHECK(graph.stats.graph_replays >= 60);
  }

  EXEC_TEST_CASE("step graphs: a capacity change between sync points re-captures") {
    const char* run = kEnsembles[2];  // CSVR with a ramp
    // At step 37 (not a sync point) the neighbour capacity grows (a reallocation of the list,
    // then a forced rebuild): a replay of the old graph would write through a freed pointer.
    long captures_before = -1;
    Counters at_change{};
    auto grow = [&](LJEnsemble& e, long step) {
      if (step == 37) {
        e.sim->neighbors().reserve(*e.sys, e.sys->ghost_capacity(),
                                   e.sim->neighbors().max_neigh() + 12);
        e.sim->neighbors().request_rebuild();
        at_change = e.ctx.counters();
      }
      if (step == 36) captures_before = e.ctx.counters().graph_captures;
    };
    const RunResult direct = run_lj(run, false, 120, grow);
    const RunResult graph = run_lj(run, true, 120, grow);
    CHECK(first_difference(direct, graph) == "");
    CHECK(captures_before >= 1);
    CHECK(at_change.graph_captures == captures_before);
    CHECK(graph.stats.graph_captures >= 2);
  }

  EXEC_TEST_CASE("step graphs: one launch and no transfers or syncs per replayed step") {
    LJEnsemble e(3, 0.8442, 1.2, 3);
    e.use("ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = 1.2, tdamp = 0.1, "
          "seed = 1 }",
          0.004);
    e.sim->set_cuda_graphs(true);
    Observers obs;
    obs.thermo_every = 50;
    obs.on_thermo = [](const ThermoSample&) {};
    Counters before = e.ctx.counters();
    long replayed = 0, bad = 0;
    obs.after_step = [&](long) {
      const Counters now = e.ctx.counters();
      if (now.graph_replays == before.graph_replays + 1) {
        ++replayed;
        if (now.d2h != before.d2h || now.h2d != before.h2d || now.syncs != before.syncs ||
            now.launches != before.launches + 1 || now.allocations != before.allocations)
          ++bad;
      }
      before = now;
    };
    e.sim->run(200, obs);
    CHECK(replayed >= 190);
    CHECK(bad == 0);
  }

  EXEC_TEST_CASE("sync-point transfers: a frame download is one batched transfer") {
    LJEnsemble e(3, 0.8442, 1.2, 3);
    e.use("ensemble = \"nve\"", 0.004);
    e.sim->run(5, Observers{});
    const Counters before = e.ctx.counters();
    const Structure s = e.sys->download();
    const Counters after = e.ctx.counters();
    CHECK(after.d2h - before.d2h == 1);  // was 11 pageable transfers, one per array
    CHECK(after.d2h_batched - before.d2h_batched == 11);
    CHECK(after.syncs == before.syncs);
    // the batch delivers the same arrays as one to_host per array
    CHECK(s.x == e.ctx.to_host(e.sys->x, s.size()));
    CHECK(s.vz == e.ctx.to_host(e.sys->vz, s.size()));
    CHECK(s.id == e.ctx.to_host(e.sys->id, s.size()));
    CHECK(s.iz == e.ctx.to_host(e.sys->iz, s.size()));
    CHECK(s.type == e.ctx.to_host(e.sys->type, s.size()));
  }

  EXEC_TEST_CASE("step graphs: captures refuse host transfers; a replay repeats the arguments") {
    Context ctx(test::backend());
    DeviceArray<double> a(ctx, 64);
    fill(ctx, a.data(), 64, 1.0);
    ctx.begin_capture();
    CHECK_THROWS_WITH_AS(ctx.to_host(a), doctest::Contains("inside a captured step"), Error);
    ctx.abort_capture();
    CHECK_FALSE(ctx.has_graph());

    ctx.begin_capture();
    fill(ctx, a.data(), 32, 2.0);  // a host value captured by value
    REQUIRE(ctx.end_capture());
    CHECK(ctx.graph_nodes() == 1);
    fill(ctx, a.data(), 64, 3.0);
    ctx.replay_graph();  // writes 2.0 again, to the first 32
    const std::vector<double> h = ctx.to_host(a);
    CHECK(h[0] == 2.0);
    CHECK(h[31] == 2.0);
    CHECK(h[32] == 3.0);

    // An allocation inside a capture spoils it.
    ctx.begin_capture();
    DeviceArray<double> b(ctx, 8);
    fill(ctx, b.data(), 8, 1.0);
    CHECK_FALSE(ctx.end_capture());
    CHECK_FALSE(ctx.has_graph());
  }
}

namespace {
const char* kSortRun =
    "ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = 1.1, tdamp = 0.3, "
    "seed = 9 }";  // noise keyed by atom id: a wrong id permutation changes the trajectory

struct SortedRun {
  std::unique_ptr<LJEnsemble> e;
  std::vector<ThermoSample> thermo;
  RunStats stats;
};

SortedRun start_sorted(long sort_every) {
  SortedRun r;
  r.e = std::make_unique<LJEnsemble>(7, 0.8442, 1.1, 11);
  r.e->use(kSortRun, 0.004);
  r.e->sim->set_sort_every(sort_every);
  return r;
}

void continue_run(SortedRun& r, long steps) {
  Observers obs;
  obs.thermo_every = 25;
  obs.emit_at_start = false;
  obs.on_thermo = [&](const ThermoSample& t) { r.thermo.push_back(t); };
  r.stats = r.e->sim->run(steps, obs);
}
}  // namespace

TEST_SUITE("sort") {
  EXEC_TEST_CASE("spatial sort: a sorted run equals the unsorted one bitwise, outputs in id order") {
    SortedRun plain = start_sorted(0), sorted = start_sorted(50);
    continue_run(plain, 150);
    continue_run(sorted, 150);
    CHECK(plain.e->sim->sorts() == 0);
    CHECK(sorted.e->sim->sorts() == 3);  // steps 50, 100, 150
    // the device order really changed
    const auto ids = sorted.e->ctx.to_host(sorted.e->sys->id);
    CHECK_FALSE(std::is_sorted(ids.begin(), ids.end()));
    CHECK(sorted.e->sim->atoms_permuted());
    // download() gives the input order: same ids and types as the unsorted run
    const Structure a = plain.e->sim->download(), b = sorted.e->sim->download();
    REQUIRE(a.size() == b.size());
    CHECK(a.id == b.id);
    CHECK(a.type == b.type);
    // Canonical neighbour order + exact sums, and the sort rebuilds from the build reference
    // (no extra wrap, same rebuild steps): the sorted run is the unsorted one, bitwise.
    double dx = 0, dv = 0;
    const Box& box = a.box;  // cubic, untilted (NVT)
    auto unwrapped = [&](const Structure& s, std::size_t i, int d) {
      const double r = d == 0 ? s.x[i] : (d == 1 ? s.y[i] : s.z[i]);
      const int img = d == 0 ? s.ix[i] : (d == 1 ? s.iy[i] : s.iz[i]);
      return r + img * box.l[d];
    };
    for (std::size_t i = 0; i < a.size(); ++i) {
      for (int d = 0; d < 3; ++d)
        dx = std::max(dx, std::abs(unwrapped(a, i, d) - unwrapped(b, i, d)));
      dv = std::max({dv, std::abs(a.vx[i] - b.vx[i]), std::abs(a.vy[i] - b.vy[i]),
                     std::abs(a.vz[i] - b.vz[i])});
    }
    MESSAGE("sorted vs unsorted after 150 steps: max |dx| = " << dx << ", max |dv| = " << dv);
    CHECK(dx == 0.0);
    CHECK(dv == 0.0);
    CHECK(a.x == b.x);  // wrapped positions and image flags too
    CHECK(a.ix == b.ix);
    REQUIRE(plain.thermo.size() == sorted.thermo.size());
    for (std::size_t k = 0; k < plain.thermo.size(); ++k) {
      CHECK(plain.thermo[k].pe == sorted.thermo[k].pe);
      CHECK(plain.thermo[k].ke == sorted.thermo[k].ke);
      CHECK(plain.thermo[k].press == sorted.thermo[k].press);
    }
  }

  EXEC_TEST_CASE("spatial sort: sort + checkpoint restart equals the uninterrupted sorted run bitwise") {
    SortedRun whole = start_sorted(50);
    continue_run(whole, 200);
    SortedRun first = start_sorted(50);
    continue_run(first, 100);  // sorted at 50 and at 100, before the checkpoint
    const Checkpoint c = capture_checkpoint(*first.e->sim);
    SortedRun second = start_sorted(50);  // a fresh run from the input, then the checkpoint
    restore_checkpoint(c, *second.e->sim);
    CHECK(second.e->sim->atoms_permuted());
    continue_run(second, 100);
    CHECK(whole.e->sim->sorts() == 4);
    CHECK(second.e->sim->sorts() == 2);
    const Structure a = whole.e->sim->download(), b = second.e->sim->download();
    bool same = a.size() == b.size();
    for (std::size_t i = 0; same && i < a.size(); ++i)
      same = a.id[i] == b.id[i] && a.x[i] == b.x[i] && a.y[i] == b.y[i] && a.z[i] == b.z[i] &&
             a.vx[i] == b.vx[i] && a.vy[i] == b.vy[i] && a.vz[i] == b.vz[i] &&
             a.ix[i] == b.ix[i] && a.type[i] == b.type[i];
    CHECK(same);
    // device order too (the restart continued in the sorted order)
    CHECK(whole.e->ctx.to_host(whole.e->sys->id) == second.e->ctx.to_host(second.e->sys->id));
    REQUIRE(whole.thermo.size() == first.thermo.size() + second.thermo.size());
    for (std::size_t k = 0; k < second.thermo.size(); ++k) {
      const ThermoSample& p = whole.thermo[first.thermo.size() + k];
      const ThermoSample& q = second.thermo[k];
      CHECK(p.step == q.step);
      CHECK(p.pe == q.pe);
      CHECK(p.ke == q.ke);
      CHECK(p.press == q.press);
    }
  }
}

}  // namespace md
