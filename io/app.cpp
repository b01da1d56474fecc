#include "io/app.hpp"

#include <omp.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "engine/error.hpp"
#include "engine/velocity.hpp"
#include "integrators/registry.hpp"
#include "io/extxyz.hpp"
#include "io/lammps_data.hpp"
#include "io/lattice.hpp"
#include "io/thermo_output.hpp"
#include "io/toml_section.hpp"
#include "models/registry.hpp"

namespace md {

namespace fs = std::filesystem;

static std::string resolve_path(const std::string& input_dir, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(input_dir) / p).lexically_normal().string();
}

static Structure read_system(Section& sys, const std::string& input_dir) {
  const bool has_lattice = sys.has("lattice"), has_data = sys.has("data"),
             has_xyz = sys.has("extxyz");
  if (int(has_lattice) + int(has_data) + int(has_xyz) != 1)
    throw InputError(sys.file(), sys.line_of("lattice"),
                     "[system] needs exactly one of lattice, data, extxyz");
  Structure s;
  if (has_lattice) {
    Section lat = *sys.table("lattice");
    LatticeSpec spec;
    spec.kind = lat.get_string("kind");
    spec.a = lat.get_double("a");
    spec.c = lat.get_double("c", 0.0);
    const auto rep = lat.get_ints("repeat", 3);
    for (int d = 0; d < 3; ++d) {
      if (rep[d] < 1 || rep[d] > 100000) lat.fail("repeat", "entries must be between 1 and 100000");
      spec.repeat[d] = static_cast<int>(rep[d]);
    }
    spec.elements = lat.get_strings("elements");
    lat.finish();
    try {
      s = make_lattice(spec);
    } catch (const InputError& e) {
      throw InputError(sys.file(), sys.line_of("lattice"), e.what());
    }
  } else if (has_data) {
    const std::string path = resolve_path(input_dir, sys.get_string("data"));
    std::vector<std::string> names;
    if (sys.has("type_names")) names = sys.get_strings("type_names");
    s = read_lammps_data(path, names);
  } else {
    const std::string path = resolve_path(input_dir, sys.get_string("extxyz"));
    const long frame = static_cast<long>(sys.get_int("frame", -1));
    s = read_extxyz(path, static_cast<int>(frame));
  }
  if (auto masses = sys.table("masses")) {
    for (std::size_t t = 0; t < s.type_names.size(); ++t) {
      if (!masses->has(s.type_names[t])) continue;
      const double m = masses->get_double(s.type_names[t]);
      if (!(m > 0.0)) masses->fail(s.type_names[t], "mass must be positive");
      s.type_masses[t] = m;
    }
    masses->finish();
  }
  if (sys.has("periodic")) {
    const auto p = sys.get_bools("periodic", 3);
    for (int d = 0; d < 3; ++d) s.box.periodic[d] = p[d] ? 1 : 0;
  }
  for (std::size_t t = 0; t < s.type_masses.size(); ++t)
    if (!(s.type_masses[t] > 0.0))
      throw InputError(sys.file(), sys.line_of("masses"),
                       "[system] masses: no mass for type \"" + s.type_names[t] +
                           "\"; give it as masses = { " + s.type_names[t] + " = ... }");
  return s;
}

Job load_job(const std::string& input_file, const RunOverrides& ov) {
  Job job;
  job.input_file = input_file;
  if (!fs::exists(input_file)) throw InputError(input_file, 0, "input file not found");
  toml::table root_table;
  try {
    root_table = toml::parse_file(input_file);
  } catch (const toml::parse_error& e) {
    throw InputError(input_file, static_cast<long>(e.source().begin.line),
                     std::string("malformed TOML: ") + std::string(e.description()));
  }
  const std::string input_dir = fs::path(input_file).parent_path().string();
  Section root(root_table, "", input_file);

  job.units = Units::by_name(root.get_choice("units", {"metal", "lj"}, std::string("metal")));
  std::string backend = root.get_choice("backend", {"auto", "cpu", "cuda"}, std::string("auto"));
  if (!ov.backend.empty()) backend = ov.backend;

  // [system]
  auto sys_sec = root.table("system");
  if (!sys_sec) throw InputError(input_file, 0, "missing [system] section");
  job.initial = read_system(*sys_sec, input_dir);
  sys_sec->finish();

  // [velocity]
  if (auto vel = root.table("velocity")) {
    const double t = vel->get_double("temperature");
    if (!(t >= 0.0)) vel->fail("temperature", "must be non-negative");
    const std::int64_t seed = vel->get_int("seed", 12345);
    if (seed <= 0) vel->fail("seed", "must be a positive integer");
    vel->finish();
    create_velocities(job.initial, job.units, t, static_cast<std::uint64_t>(seed));
  }

  // [neighbor]
  double skin = job.units.skin;
  if (auto nb = root.table("neighbor")) {
    skin = nb->get_double("skin", skin);
    if (!(skin >= 0.0)) nb->fail("skin", "must be non-negative");
    job.check_every = static_cast<long>(nb->get_int("check_every", job.check_every));
    if (job.check_every < 1) nb->fail("check_every", "must be at least 1");
    nb->finish();
  }

  // [run] (ensemble-specific keys are read by the integrator factory below)
  auto run = root.table("run");
  if (!run) throw InputError(input_file, 0, "missing [run] section");
  job.dt = run->get_double("timestep", job.units.dt);
  if (!(job.dt > 0.0)) run->fail("timestep", "must be positive");
  job.steps = static_cast<long>(run->get_int("steps"));
  if (job.steps < 0) run->fail("steps", "must be non-negative");
  if (ov.steps) job.steps = *ov.steps;

  // [output]
  job.thermo_every = 100;
  job.thermo_norm = job.units.name == "lj";
  if (auto out = root.table("output")) {
    if (auto th = out->table("thermo")) {
      job.thermo_every = static_cast<long>(th->get_int("every", job.thermo_every));
      if (job.thermo_every < 0) th->fail("every", "must be non-negative");
      if (th->has("file")) job.thermo_file = resolve_path(input_dir, th->get_string("file"));
      job.thermo_norm = th->get_bool("norm", job.thermo_norm);
      th->finish();
    }
    if (auto tr = out->table("trajectory")) {
      job.traj_every = static_cast<long>(tr->get_int("every"));
      if (job.traj_every < 1) tr->fail("every", "must be at least 1");
      job.traj_file = resolve_path(input_dir, tr->get_string("file"));
      job.traj_velocities = tr->get_bool("velocities", false);
      job.traj_forces = tr->get_bool("forces", false);
      tr->finish();
    }
    if (auto wd = out->table("data")) {
      job.data_file = resolve_path(input_dir, wd->get_string("file"));
      wd->finish();
    }
    out->finish();
  }

  // Device side: executor, state, potential, integrator.
  job.ctx = std::make_unique<Context>(resolve_backend(backend));
  job.system = std::make_unique<System>(*job.ctx, job.initial, job.units);
  auto pot = root.table("potential");
  if (!pot) throw InputError(input_file, 0, "missing [potential] section");
  job.potential = make_potential(
      *pot, PotentialSetup{*job.ctx, job.system->type_names(), job.units, input_dir});
  pot->finish();
  job.integrator =
      make_integrator(*run, IntegratorSetup{*job.ctx, *job.system, job.units, job.dt, job.steps});
  run->finish();
  root.finish();
  job.sim = std::make_unique<Simulation>(*job.ctx, *job.system, *job.potential, *job.integrator,
                                         job.dt, skin);
  return job;
}

static std::vector<double> interleave(const std::vector<double>& a, const std::vector<double>& b,
                                      const std::vector<double>& c) {
  std::vector<double> out(3 * a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    out[3 * i] = a[i];
    out[3 * i + 1] = b[i];
    out[3 * i + 2] = c[i];
  }
  return out;
}

int run_job(Job& job, const RunOverrides& ov) {
  const bool terminal = !ov.quiet;
  Context& ctx = *job.ctx;
  System& sys = *job.system;
  if (terminal) {
    fmt::print("mdgpu: {} atoms, {} types, units {}, potential {}, {} executor", sys.n_local(),
               sys.n_types(), job.units.name, job.potential->style(), backend_name(ctx.backend()));
    if (!ctx.on_cuda()) fmt::print(" ({} OpenMP threads)", omp_get_max_threads());
    fmt::print("\n");
  }
  job.sim->setup();
  if (terminal) {
    const NeighborList& nl = job.sim->neighbors();
    fmt::print("neighbour list: cutoff {:g} + skin {:g}, {} ghosts, up to {} neighbours/atom\n",
               nl.cutoff(), nl.skin(), job.sim->neighbors().read_status().n_ghost, nl.max_neigh());
  }

  ThermoOutput thermo(job.thermo_file, job.thermo_norm, terminal);
  std::ofstream traj;
  if (!job.traj_file.empty()) {
    traj.open(job.traj_file, std::ios::out | std::ios::trunc);
    if (!traj) throw Error("cannot open trajectory file \"" + job.traj_file + "\" for writing");
  }
  Observers obs;
  obs.thermo_every = job.thermo_every;
  obs.on_thermo = [&](const ThermoSample& t) { thermo.write(t); };
  obs.max_check_interval = job.check_every;
  if (traj.is_open()) {
    obs.frame_every = job.traj_every;
    obs.on_frame = [&](const ThermoSample& t, const Structure& s) {
      std::vector<double> forces;
      if (job.traj_forces)
        forces = interleave(ctx.to_host(sys.fx, s.size()), ctx.to_host(sys.fy, s.size()),
                            ctx.to_host(sys.fz, s.size()));
      append_extxyz_frame(traj, s, t.step, t.time, t.pe, job.traj_velocities,
                          job.traj_forces ? &forces : nullptr, nullptr);
      traj.flush();
      if (!traj) throw Error("write to trajectory file \"" + job.traj_file + "\" failed");
    };
  }
  const RunStats st = job.sim->run(job.steps, obs);
  thermo.flush();
  if (!job.data_file.empty())
    write_lammps_data(job.data_file, sys.download(), "units " + job.units.name);

  if (terminal) {
    const double atom_steps = static_cast<double>(sys.n_local()) * static_cast<double>(st.steps);
    const double rate = st.wall_seconds > 0 ? atom_steps / st.wall_seconds : 0.0;
    const double sim_time = static_cast<double>(st.steps) * job.dt;
    const double per_day = st.wall_seconds > 0 ? sim_time / st.wall_seconds * 86400.0 : 0.0;
    fmt::print("Loop time {:.4g} s for {} steps of {} atoms: {:.4g} atom-steps/s, ", st.wall_seconds,
               st.steps, sys.n_local(), rate);
    if (job.units.name == "metal")
      fmt::print("{:.4g} ns/day", per_day / 1000.0);
    else
      fmt::print("{:.4g} tau/day", per_day);
    fmt::print(", {} neighbour rebuilds", st.rebuilds);
    if (st.rollbacks) fmt::print(", {} capacity roll-backs", st.rollbacks);
    fmt::print("\n");
  }
  return 0;
}

}  // namespace md
