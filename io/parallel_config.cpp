#include "io/parallel_config.hpp"

#include <algorithm>
#include <filesystem>
#include <numeric>

#include <fmt/format.h>

#include "engine/comm.hpp"
#include "engine/distributed.hpp"
#include "engine/error.hpp"
#include "engine/safety.hpp"
#include "io/app.hpp"
#include "io/lammps_data.hpp"
#include "io/output_files.hpp"
#include "io/parallel_checkpoint.hpp"
#include "io/report.hpp"
#include "io/signals.hpp"
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
  p.transport = sec->get_string("transport", std::string("auto"));
  if (p.transport != "auto" && p.transport != "host" && p.transport != "direct")
    sec->fail("transport", "must be \"host\", \"direct\" or \"auto\"");
  p.margin = sec->get_double("margin", 0.0);
  if (p.margin < 0)
    sec->fail("margin", "must be non-negative (0: the default, the larger of the skin and the "
                        "cutoff for pair styles, of the skin and half the cutoff otherwise)");
  p.timeout = sec->get_double("timeout", 600.0);
  if (p.timeout < 0)
    sec->fail("timeout", "must be a non-negative number of seconds (the longest wait of a rank in "
                         "one exchange before the job stops; 0: no limit)");
  sec->finish();
  return p;
}

double import_distance(const Potential& pot, double skin) { return pot.import_distance(skin); }

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
  comm.timeout = job.parallel.timeout;  // the watchdog of every collective from here on
  comm.step = -1;
  comm.note = "this run wrote no checkpoint yet";
  const bool terminal = !ov.quiet && comm.rank() == 0;
  // What several ranks support (this slice): refused with the reason, same on every rank.
  const std::string style = job.potential->style();
  if (const std::string why = job.potential->several_ranks_refusal(); !why.empty())
    refuse(job, "[potential] style \"" + style + "\": " + why);
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
  if (job.minimize) refuse(job, "[minimize]");
  if (job.uncertainty) refuse(job, "[uncertainty]");
  if (job.sort_every > 0) refuse(job, "[neighbor] sort_every");
  if (job.cuda_graphs) refuse(job, "[run] cuda_graphs");

  const double skin = job.sim->neighbors().skin();
  const double rlist = job.potential->cutoff() + skin;
  const std::array<int, 3> grid =
      resolve_grid(job.parallel, comm.size(), job.initial.box, rlist, job.input_file);
  const double dist = import_distance(*job.potential, skin);

  // Continue from a checkpoint (the one-rank format, written by any number of ranks): every
  // rank reads and checks it (the same file, so the same verdict), rank 0 warns.
  const bool rank0 = comm.rank() == 0;
  auto warn0 = [&](const std::string& w) {
    if (rank0) run_warning(w);
  };
  std::unique_ptr<Checkpoint> restart;
  std::string used;
  if (!job.restart_file.empty()) {
    restart = std::make_unique<Checkpoint>(load_restart(job.restart_file, used, warn0));
    const std::string w = check_compatible(*restart, used, *job.sim, job.system_hash, job.input_hash);
    if (!w.empty()) warn0(w);
    check_outputs_continue(*restart, used);
    if (restart->step > job.steps)
      throw InputError(used, 0,
                       fmt::format("checkpoint is at step {}, beyond [run] steps = {} (steps "
                                   "counts from the start of the first run)",
                                   restart->step, job.steps));
  }
  // direct: device buffers handed to the transport (the CPU executor; on CUDA the NCCL
  // transport when built with it, else host staging)
  const bool device_ok = job.ctx->backend() == Backend::cpu || nccl_built();
  if (job.parallel.transport == "direct" && !device_ok)
    throw InputError(job.input_file, 0,
                     "[parallel] transport = \"direct\" needs a device transport (NCCL) on the "
                     "CUDA executor, which this build lacks; use \"host\"");
  const Transport transport =
      job.parallel.transport == "host" ? Transport::host
      : (job.parallel.transport == "direct" || device_ok) ? Transport::direct : Transport::host;
  Structure global = job.initial;  // the input's id order; the cell: the checkpoint's
  if (restart) global.box = restart->box;
  DistributedRun run(comm, *job.ctx, global, job.units, *job.potential, *job.integrator,
                     job.dt, skin, grid, dist, job.parallel.margin, transport);
  if (terminal)
    fmt::print("mdgpu: {} atoms on {} ranks ({}), {} transport, grid {} x {} x {}, import "
               "distance {:g} ({}) + margin {:g}, potential {}, {} executor\n",
               job.initial.size(), comm.size(), comm.transport(), transport_name(transport),
               grid[0], grid[1], grid[2], dist,
               job.potential->import_rule(skin), run.margin(), style,
               backend_name(job.ctx->backend()));
  if (restart) {
    job.integrator->deserialize(*job.ctx, restart->integrator_state);
    // every rank holds the whole checkpoint: rank r restores every size()-th atom
    const std::vector<DistributedRun::Atom> all = checkpoint_atoms(*restart, job.initial, used);
    std::vector<DistributedRun::Atom> share;
    for (std::size_t i = static_cast<std::size_t>(comm.rank()); i < all.size();
         i += static_cast<std::size_t>(comm.size()))
      share.push_back(all[i]);
    run.restore(std::move(share), restart->box, restart->box_at_build, restart->step);
    if (terminal) fmt::print("continuing from {} at step {}\n", used, restart->step);
  } else {
    run.setup();
  }
  // [safety] (engine/safety.hpp) with a collective verdict: the overlap check at the start of
  // a new run, the non-finite / left-the-box / displacement checks at sync points (output,
  // checkpoint and check_every steps; the displacement recorded every step, below).
  std::unique_ptr<SafetyMonitor> safety;
  if (job.safety) safety = std::make_unique<SafetyMonitor>(*job.ctx, job.safety_limits, skin);
  if (safety && !restart) {
    try {
      collective_safety(comm, [&]() { safety->check_overlaps(run.system(), run.neighbors(), 0); });
    } catch (const SafetyError& e) {
      if (rank0) std::fprintf(stderr, "mdgpu: error: %s\n", e.what());
      return 1;
    }
  }

  // Outputs on rank 0 (a continued run truncates each to the offset its checkpoint recorded).
  std::unique_ptr<ThermoOutput> thermo;
  std::vector<std::unique_ptr<TrajectoryWriter>> trajs;
  long frame_every = 0;
  if (rank0) {
    const long long thermo_at = resume_offset(restart.get(), job.thermo_file);
    if (thermo_at >= 0) {
      namespace fs = std::filesystem;
      std::error_code ec;
      if (!fs::exists(job.thermo_file) ||
          fs::file_size(job.thermo_file) < static_cast<std::uintmax_t>(thermo_at))
        throw Error("thermo file \"" + job.thermo_file +
                    "\" is missing or shorter than when the checkpoint was written");
      fs::resize_file(job.thermo_file, static_cast<std::uintmax_t>(thermo_at), ec);
      if (ec) throw Error("cannot truncate \"" + job.thermo_file + "\": " + ec.message());
    }
    thermo = std::make_unique<ThermoOutput>(job.thermo_file, job.thermo_norm, terminal,
                                            thermo_at >= 0);
    for (const auto& spec : job.trajectories)
      trajs.push_back(open_trajectory(spec, job.units, resume_offset(restart.get(), spec.file)));
  }
  for (const auto& spec : job.trajectories) frame_every = std::gcd(frame_every, spec.every);

  // Checkpoints: gathered on rank 0 at sync points, written there atomically (+ .prev).
  const std::string run_id = new_run_id();
  long last_checkpoint = -1;
  auto write_ckpt = [&]() {
    comm.step = run.step();  // (after_step reports this sync step after the checkpoint)
    if (thermo) thermo->flush();
    Checkpoint c = capture_distributed_checkpoint(run, comm, job.initial, *job.integrator,
                                                  run.step(), job.dt);
    c.system_hash = job.system_hash;
    c.input_hash = job.input_hash;
    if (rank0) {
      c.outputs.push_back({kCheckpointRunTag + run_id, 0});
      if (!job.thermo_file.empty() && !job.files.is_sink(job.thermo_file))
        record_output(c, job.thermo_file,
                      static_cast<long long>(std::filesystem::file_size(job.thermo_file)), true);
      for (auto& t : trajs) {
        t->sync();
        if (job.files.is_sink(t->spec().file)) continue;
        record_output(c, t->spec().file, t->position(), t->spec().format != "h5md");
      }
    }
    write_checkpoint_on_rank0(comm, job.checkpoint_file, c);  // sets comm.note
    last_checkpoint = run.step();
  };

  // The time loop (engine/distributed.hpp): sync points at output and checkpoint steps and at
  // least every [neighbor] check_every steps. There the ranks combine their flags, a stop
  // signal on any rank included (a host all-reduce; no device transfer on the steps between),
  // so all ranks stop at the same step, write one checkpoint (on_checkpoint) and exit 3.
  const volatile std::sig_atomic_t* stop = nullptr;
  if (ov.handle_signals) {
    install_stop_handlers();
    stop = stop_flag();
  }
  const long first_step = run.step();
  DistributedObservers obs;
  obs.thermo_every = job.thermo_every;
  obs.on_thermo = [&](const ThermoSample& t) {
    if (thermo) thermo->write(t);
  };
  obs.frame_every = frame_every;
  if (frame_every > 0)
    obs.on_frame = [&](const ThermoSample& t, const Structure& s) {  // gathered on rank 0
      for (auto& w : trajs) {
        if (t.step % w->spec().every != 0 && t.step != job.steps) continue;
        w->write(Frame{&s, t.step, t.time, t.pe});
      }
    };
  obs.max_check_interval = job.check_every;
  obs.emit_at_start = !restart;
  obs.checkpoint_every = job.checkpoint_every;
  obs.on_checkpoint = write_ckpt;
  obs.stop = stop;
  comm.step = run.step();
  long last_step_seen = run.step();
  obs.after_step = [&](long step, bool) {
    comm.step = step;  // for the watchdog's message
    // a step not beyond the last one seen: a collective roll-back, the steps since the last
    // sync point are replayed (and their displacements recorded again)
    if (safety && step <= last_step_seen) safety->reset_tracking();
    last_step_seen = step;
  };
  // The per-step displacement record of one rank (io/app.cpp), made by every rank after the
  // list update of each step: the list's displacement is the global maximum over the ranks
  // (engine/neighbor.cpp), so the verdict and its message are the one-rank ones; it is read by
  // SafetyMonitor::check at the sync points below (one device kernel per step, no host read).
  if (safety) run.after_list_update = [&](long step) { safety->track_step(run.neighbors(), step); };
  if (safety)  // at every sync point after the migration, before output
    obs.on_sync = [&]() {
      if (run.step() > first_step)
        collective_safety(comm, [&]() { safety->check(run.system(), run.step()); });
    };
  DistributedStats st;
  try {
    st = run.run(job.steps - run.step(), obs);
  } catch (const SafetyError& e) {  // on every rank (collective_safety), at the same step
    if (thermo) thermo->flush();
    for (auto& w : trajs) w->sync();
    // [safety] last_good: the state of the last sync point (it passed the checks), gathered
    // on rank 0 in input id order like the data file, as one rank writes it.
    const long stopped_at = run.step();
    run.rollback_to_last_sync();
    const Structure good = run.gather();
    if (rank0) {
      write_lammps_data(job.last_good_file, good, "units " + job.units.name);
      std::fprintf(stderr,
                   "mdgpu: error: %s\nmdgpu: all %d ranks stopped at step %ld; the state at "
                   "step %ld (the last good one) was written to %s%s\n",
                   e.what(), comm.size(), stopped_at, run.step(), job.last_good_file.c_str(),
                   last_checkpoint >= 0
                       ? fmt::format("; the last checkpoint (step {}) is {}", last_checkpoint,
                                     job.checkpoint_file).c_str()
                       : "");
    }
    return kExitSafety;
  }
  if (thermo) thermo->flush();
  for (auto& w : trajs) w->sync();
  if (st.stopped) {
    if (rank0)
      std::fprintf(stderr,
                   "mdgpu: stopped by signal %d at step %ld on %d ranks; checkpoint written to "
                   "%s\nmdgpu: continue with (any number of ranks): mpirun -np %d mdgpu run %s "
                   "--restart %s\n",
                   collective_stop_signal(comm, stop), run.step(), comm.size(),
                   job.checkpoint_file.c_str(), comm.size(), job.input_file.c_str(),
                   job.checkpoint_file.c_str());
    else
      collective_stop_signal(comm, stop);
    return kExitStopped;
  }
  if (ov.handle_signals) restore_default_handlers();
  if (job.checkpoint_at_end && last_checkpoint != run.step()) write_ckpt();
  const Structure s = run.gather();
  if (rank0 && !job.data_file.empty())
    write_lammps_data(job.data_file, s, "units " + job.units.name);
  long bytes[2] = {st.rebuild_bytes, st.step_bytes};
  comm.max(bytes, 2);
  double cs = st.comm_seconds;
  comm.max(&cs, 1);
  if (terminal)
    fmt::print("mdgpu: {} steps in {:.3f} s, {} rebuilds; atoms per rank {}..{} owned, up to {} "
               "imported copies; bytes sent by the busiest rank: {} at the last rebuild, {} per "
               "step; up to {:.3f} s in exchanges; {} migrations, {} roll-backs ({} margin), "
               "sync interval {}\n",
               st.steps, st.wall_seconds, st.rebuilds, st.owned_min, st.owned_max,
               st.imported_max, bytes[0], bytes[1], cs, st.migrations, st.rollbacks,
               st.margin_rollbacks, st.check_interval);
  return 0;
}

}  // namespace md
