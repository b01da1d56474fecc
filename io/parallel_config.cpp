#include "io/parallel_config.hpp"

#include <numeric>

#include <fmt/format.h>

#include "engine/comm.hpp"
#include "engine/distributed.hpp"
#include "engine/error.hpp"
#include "io/app.hpp"
#include "io/lammps_data.hpp"
#include "io/thermo_output.hpp"
#include "io/trajectory.hpp"

namespace md {

ParallelSettings read_parallel_section(Section& root) {
  ParallelSettings p;
  auto sec = root.table("parallel");
  if (!sec) return p;
  if (sec->has("grid")) {
    p.file = sec->file();
    p.line = sec->line_of("grid");
    const std::vector<std::int64_t> g = sec->get_ints("grid", 3);
    std::array<int, 3> grid{};
    for (int d = 0; d < 3; ++d) {
      if (g[static_cast<std::size_t>(d)] < 1 || g[static_cast<std::size_t>(d)] > 1000000)
        sec->fail("grid", "needs three positive sub-domain counts [px, py, pz]");
      grid[static_cast<std::size_t>(d)] = static_cast<int>(g[static_cast<std::size_t>(d)]);
    }
    p.grid = grid;
  }
  sec->finish();
  return p;
}

double import_distance(const Potential& pot, double skin) {
  const std::string s = pot.style();
  const bool pair = s == "lj" || s == "morse" || s == "table" || s == "zbl";
  return (pair ? 1.0 : 2.0) * (pot.cutoff() + skin);
}

std::array<int, 3> resolve_grid(const ParallelSettings& p, int ranks, const Box& box,
                                double list_radius, const std::string& input_file) {
  const double min_width = 0.5 * list_radius;
  if (p.grid) {
    const std::array<int, 3> g = *p.grid;
    const long product = static_cast<long>(g[0]) * g[1] * g[2];
    if (product != ranks)
      throw InputError(p.file, p.line,
                       fmt::format("[parallel] grid: {} x {} x {} = {} sub-domains, but the run "
                                   "has {} ranks (the product must equal the rank count)",
                                   g[0], g[1], g[2], product, ranks));
    double w[3];
    box.perpendicular_widths(w);
    for (int d = 0; d < 3; ++d)
      if (g[static_cast<std::size_t>(d)] > 1 && w[d] / g[static_cast<std::size_t>(d)] < min_width)
        throw InputError(p.file, p.line,
                         fmt::format("[parallel] grid: {} sub-domains along axis {} are {:.4g} "
                                     "thick, less than half the neighbour-list radius ({:.4g}); "
                                     "the cell allows at most {} along that axis",
                                     g[static_cast<std::size_t>(d)], "abc"[d],
                                     w[d] / g[static_cast<std::size_t>(d)], min_width,
                                     std::max(1L, static_cast<long>(w[d] / min_width))));
    return g;
  }
  std::string why;
  const std::array<int, 3> g = choose_grid(ranks, box, min_width, &why);
  if (g[0] == 0)
    throw InputError(input_file, 0, fmt::format("{} ranks: {}", ranks, why));
  return g;
}

namespace {
[[noreturn]] void refuse(const Job& job, const std::string& what) {
  throw InputError(job.input_file, 0, what + " is not supported on several ranks yet; run on one rank");
}
}  // namespace

int run_parallel_job(Job& job, const RunOverrides& ov) {
  Comm& comm = world();
  const bool terminal = !ov.quiet && comm.rank() == 0;
  // What several ranks support (this slice): refused with the reason, same on every rank.
  const std::string style = job.potential->style();
  if (style == "schnet" || style == "hipnn")
    throw InputError(job.input_file, 0,
                     "[potential] style \"" + style + "\": message-passing models are refused "
                     "on several ranks for now (their layers need a per-layer halo exchange); "
                     "run on one rank");
  // NPT: the barostats' sums are exact cross-rank sums, so the cell moves by the same bits on
  // every rank; DistributedRun re-reads it at rebuilds (engine/distributed.cpp).
  std::string ens = job.integrator->name();
  if (ens == "npt-mtk") ens = "nvt-nose-hoover";
  if (ens.rfind("npt-scr+", 0) == 0) ens = ens.substr(8);  // scr around a thermostat
  if (ens != "nve" && ens != "nvt-langevin" && ens != "nvt-csvr" && ens != "nvt-nose-hoover")
    refuse(job, "[run] ensemble \"" + job.integrator->name() +
                    "\" (several ranks run nve, nvt and npt with mtk or scr)");
  for (const auto& t : job.trajectories)
    if (t.forces || t.energies || t.uncertainty)
      refuse(job, "[output] trajectory \"" + t.file + "\" with per-atom forces, energies or "
                  "uncertainty (positions and velocities are)");
  if (job.checkpoint_every > 0 || job.checkpoint_at_end) refuse(job, "[output] checkpoint");
  if (!job.restart_file.empty()) refuse(job, "--restart");
  if (job.minimize) refuse(job, "[minimize]");
  if (job.uncertainty) refuse(job, "[uncertainty]");
  if (job.sort_every > 0) refuse(job, "[neighbor] sort_every");
  if (job.cuda_graphs) refuse(job, "[run] cuda_graphs");

  const double skin = job.sim->neighbors().skin();
  const double rlist = job.potential->cutoff() + skin;
  const std::array<int, 3> grid =
      resolve_grid(job.parallel, comm.size(), job.initial.box, rlist, job.input_file);
  const double dist = import_distance(*job.potential, skin);
  DistributedRun run(comm, *job.ctx, job.initial, job.units, *job.potential, *job.integrator,
                     job.dt, skin, grid, dist);
  if (terminal)
    fmt::print("mdgpu: {} atoms on {} ranks ({}), grid {} x {} x {}, import distance {:g} "
               "({}), potential {}, {} executor\n",
               job.initial.size(), comm.size(), comm.transport(), grid[0], grid[1], grid[2],
               dist, dist > rlist * 1.5 ? "2 x (cutoff + skin)" : "cutoff + skin", style,
               backend_name(job.ctx->backend()));
  run.setup();
  std::unique_ptr<ThermoOutput> thermo;
  std::vector<std::unique_ptr<TrajectoryWriter>> trajs;
  long frame_every = 0;
  if (comm.rank() == 0) {
    thermo = std::make_unique<ThermoOutput>(job.thermo_file, job.thermo_norm, terminal);
    for (const auto& spec : job.trajectories) trajs.push_back(open_trajectory(spec, job.units));
  }
  for (const auto& spec : job.trajectories) frame_every = std::gcd(frame_every, spec.every);
  const DistributedStats st = run.run(
      job.steps, job.thermo_every,
      [&](const ThermoSample& t) {
        if (thermo) thermo->write(t);
      },
      frame_every,
      [&](const ThermoSample& t, const Structure& s) {  // frames gathered on rank 0
        for (auto& w : trajs) {
          if (t.step % w->spec().every != 0 && t.step != job.steps) continue;
          w->write(Frame{&s, t.step, t.time, t.pe});
        }
      });
  if (thermo) thermo->flush();
  for (auto& w : trajs) w->sync();
  const Structure s = run.gather();
  if (comm.rank() == 0 && !job.data_file.empty())
    write_lammps_data(job.data_file, s, "units " + job.units.name);
  long bytes[2] = {st.rebuild_bytes, st.step_bytes};
  comm.max(bytes, 2);
  double cs = st.comm_seconds;
  comm.max(&cs, 1);
  if (terminal)
    fmt::print("mdgpu: {} steps in {:.3f} s, {} rebuilds; atoms per rank {}..{} owned, up to {} "
               "imported copies; bytes sent by the busiest rank: {} at the last rebuild, {} per "
               "step; up to {:.3f} s in exchanges\n",
               st.steps, st.wall_seconds, st.rebuilds, st.owned_min, st.owned_max,
               st.imported_max, bytes[0], bytes[1], cs);
  return 0;
}

}  // namespace md
