// Python bindings (pybind11) of the run pipeline: mdgpu._mdgpu.Engine builds a Job from
// Python dicts keyed exactly like the TOML input (io/app.cpp load_job_from) and a structure
// given as arrays, then evaluates energy/forces/virial (ASE calculator) or runs the device
// loop (mdgpu.Simulation) with thermo callbacks at output steps. Units are the run's units.
#include <pybind11/functional.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <omp.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <numeric>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "engine/backend.hpp"
#include "engine/error.hpp"
#include "engine/safety.hpp"
#include "engine/structure.hpp"
#include "integrators/minimize.hpp"
#include "io/app.hpp"
#include "io/checkpoint.hpp"
#include "io/lammps_data.hpp"
#include "io/report.hpp"
#include "io/thermo_output.hpp"
#include "io/trajectory.hpp"

namespace py = pybind11;

namespace md {
namespace {

// ------------------------------------------------------------ Python values -> TOML nodes
// Nodes built here carry no source position, so messages read "[potential] key: ..." exactly
// as the CLI's after its "file:line: " prefix.
[[noreturn]] void bad_value(const std::string& path, const std::string& what) {
  throw InputError("", 0, (path.empty() ? std::string("input") : path) + ": " + what);
}

std::string key_name(const std::string& table, const std::string& key) {
  return table.empty() ? key : "[" + table + "] " + key;
}

toml::table to_table(const py::dict& d, const std::string& path);

std::unique_ptr<toml::node> to_node(py::handle v, const std::string& table,
                                    const std::string& key) {
  const std::string here = key_name(table, key);
  if (v.is_none())
    bad_value(here, "None is not a value (leave the key out for its default)");
  // numpy arrays and scalars: their Python equivalents
  if (!py::isinstance<py::str>(v) && py::hasattr(v, "tolist") && py::hasattr(v, "dtype"))
    return to_node(v.attr("tolist")(), table, key);
  if (py::isinstance<py::bool_>(v)) return std::make_unique<toml::value<bool>>(v.cast<bool>());
  if (py::isinstance<py::int_>(v)) {
    try {
      return std::make_unique<toml::value<std::int64_t>>(v.cast<std::int64_t>());
    } catch (const py::cast_error&) {
      bad_value(here, "integer out of the 64-bit range");
    }
  }
  if (py::isinstance<py::float_>(v)) return std::make_unique<toml::value<double>>(v.cast<double>());
  if (py::isinstance<py::str>(v))
    return std::make_unique<toml::value<std::string>>(v.cast<std::string>());
  if (py::isinstance<py::dict>(v)) {
    const std::string sub = table.empty() ? key : table + "." + key;
    return std::make_unique<toml::table>(to_table(v.cast<py::dict>(), sub));
  }
  if (py::isinstance<py::list>(v) || py::isinstance<py::tuple>(v)) {
    auto arr = std::make_unique<toml::array>();
    for (py::handle item : v) {
      std::unique_ptr<toml::node> n = to_node(item, table, key);
      arr->push_back(std::move(*n));
    }
    return arr;
  }
  bad_value(here, "a Python " + std::string(py::str(py::type::of(v).attr("__name__"))) +
                      " cannot be given here (numbers, strings, booleans, lists and dicts "
                      "can, as in the TOML input)");
}

toml::table to_table(const py::dict& d, const std::string& path) {
  toml::table t;
  for (auto kv : d) {
    if (!py::isinstance<py::str>(kv.first))
      bad_value(path.empty() ? "input" : "[" + path + "]",
                "keys must be strings, not " + std::string(py::str(py::repr(kv.first))));
    const std::string key = kv.first.cast<std::string>();
    std::unique_ptr<toml::node> n = to_node(kv.second, path, key);
    t.insert_or_assign(key, std::move(*n));
  }
  return t;
}

// ------------------------------------------------------------ arrays
// Arrays cross through the buffer protocol and numpy.frombuffer, not pybind11's numpy
// headers (pybind11 2.10 predates NumPy 2's descriptor layout).
using Rows = std::vector<double>;  // n x 3, row-major

Rows read_rows3(const py::handle& obj, std::size_t n, const std::string& what) {
  py::object a = py::module_::import("numpy").attr("ascontiguousarray")(obj, "float64");
  py::buffer_info b = a.cast<py::buffer>().request();
  if (b.ndim != 2 || b.shape[1] != 3 || static_cast<std::size_t>(b.shape[0]) != n ||
      b.itemsize != sizeof(double))
    throw InputError("", 0, what + ": expected an array of shape (" + std::to_string(n) + ", 3)");
  const double* p = static_cast<const double*>(b.ptr);
  return Rows(p, p + 3 * n);
}

std::vector<double> column(const Rows& r, std::size_t n, int c) {
  std::vector<double> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = r[3 * i + static_cast<std::size_t>(c)];
  return v;
}

py::object to_numpy(const std::vector<double>& flat, std::size_t cols) {
  py::bytes raw(reinterpret_cast<const char*>(flat.data()), flat.size() * sizeof(double));
  py::object a = py::module_::import("numpy").attr("frombuffer")(raw, "float64").attr("copy")();
  if (cols > 1) a = a.attr("reshape")(static_cast<py::ssize_t>(flat.size() / cols), cols);
  return a;
}

py::object rows3(const std::vector<double>& x, const std::vector<double>& y,
                 const std::vector<double>& z) {
  std::vector<double> flat(3 * x.size());
  for (std::size_t i = 0; i < x.size(); ++i) {
    flat[3 * i] = x[i];
    flat[3 * i + 1] = y[i];
    flat[3 * i + 2] = z[i];
  }
  return to_numpy(flat, 3);
}

Box box_from(const py::tuple& t) {
  // (lo[3], (lx, ly, lz), (xy, xz, yz), periodic[3])
  if (t.size() != 4) throw InputError("", 0, "cell: expected (lo, lengths, tilts, periodic)");
  Box b;
  const auto lo = t[0].cast<std::array<double, 3>>();
  const auto l = t[1].cast<std::array<double, 3>>();
  const auto tilt = t[2].cast<std::array<double, 3>>();
  const auto p = t[3].cast<std::array<bool, 3>>();
  for (int d = 0; d < 3; ++d) {
    b.lo[d] = lo[static_cast<std::size_t>(d)];
    b.l[d] = l[static_cast<std::size_t>(d)];
    b.periodic[d] = p[static_cast<std::size_t>(d)] ? 1 : 0;
  }
  b.xy = tilt[0];
  b.xz = tilt[1];
  b.yz = tilt[2];
  for (int d = 0; d < 3; ++d)
    if (!std::isfinite(b.lo[d]) || !std::isfinite(b.l[d]) || !(b.l[d] > 0))
      throw InputError("", 0, "[system] atoms: the cell length along " +
                                  std::string(1, "xyz"[d]) + " is " + std::to_string(b.l[d]) +
                                  ": it must be finite and positive");
  if (!std::isfinite(b.xy) || !std::isfinite(b.xz) || !std::isfinite(b.yz))
    throw InputError("", 0, "[system] atoms: the cell tilts must be finite");
  return b;
}

py::tuple box_tuple(const Box& b) {
  return py::make_tuple(py::make_tuple(b.lo[0], b.lo[1], b.lo[2]),
                        py::make_tuple(b.l[0], b.l[1], b.l[2]), py::make_tuple(b.xy, b.xz, b.yz),
                        py::make_tuple(bool(b.periodic[0]), bool(b.periodic[1]),
                                       bool(b.periodic[2])));
}

bool same_box(const Box& a, const Box& b) {
  for (int d = 0; d < 3; ++d)
    if (a.lo[d] != b.lo[d] || a.l[d] != b.l[d] || a.periodic[d] != b.periodic[d]) return false;
  return a.xy == b.xy && a.xz == b.xz && a.yz == b.yz;
}

py::dict thermo_dict(const ThermoSample& t) {
  py::dict d;
  d["step"] = t.step;
  d["time"] = t.time;
  d["natoms"] = static_cast<long long>(t.natoms);
  d["temp"] = t.temp;
  d["ke"] = t.ke;
  d["pe"] = t.pe;
  d["etotal"] = t.etotal;
  d["press"] = t.press;
  d["volume"] = t.volume;
  d["econserve"] = t.econserve;
  d["enthalpy"] = t.enthalpy;
  d["ptensor"] = py::make_tuple(t.ptensor[0], t.ptensor[1], t.ptensor[2], t.ptensor[3],
                                t.ptensor[4], t.ptensor[5]);
  d["virial"] = py::make_tuple(t.virial[0], t.virial[1], t.virial[2], t.virial[3], t.virial[4],
                               t.virial[5]);
  d["cell"] = box_tuple(t.box);
  return d;
}

py::dict counters_dict(const Counters& c) {
  py::dict d;
  d["launches"] = c.launches;
  d["allocations"] = c.allocations;
  d["h2d"] = c.h2d;
  d["d2h"] = c.d2h;
  d["transfers"] = c.h2d + c.d2h;
  d["syncs"] = c.syncs;
  d["h2d_bytes"] = c.h2d_bytes;
  d["d2h_bytes"] = c.d2h_bytes;
  return d;
}

// ------------------------------------------------------------ the engine
class Engine {
 public:
  Engine(const py::dict& config, const std::vector<std::string>& type_names,
         const std::vector<double>& type_masses, const std::vector<int>& types,
         const py::object& positions_in, const py::tuple& cell, const py::object& velocities, const std::string& input_file,
         const std::string& restart) {
    const toml::table root = to_table(config, "");
    Structure s;
    s.box = box_from(cell);
    const std::size_t n = types.size();
    if (n == 0) throw InputError("", 0, "[system] atoms: there are no atoms");
    const Rows positions = read_rows3(positions_in, n, "[system] atoms positions");
    if (type_names.size() != type_masses.size())
      throw InputError("", 0, "[system] atoms: one mass per type is needed");
    s.type_names = type_names;
    s.type_masses = type_masses;
    for (std::size_t t = 0; t < type_masses.size(); ++t)
      if (!(type_masses[t] > 0) || !std::isfinite(type_masses[t]))
        throw InputError("", 0, "[system] masses: no mass for type \"" + type_names[t] +
                                    "\"; give it as masses = { " + type_names[t] + " = ... }");
    const auto x = column(positions, n, 0), y = column(positions, n, 1),
               z = column(positions, n, 2);
    for (std::size_t i = 0; i < n; ++i) {
      if (types[i] < 0 || static_cast<std::size_t>(types[i]) >= type_names.size())
        throw InputError("", 0, "[system] atoms: bad type index");
      if (!std::isfinite(x[i]) || !std::isfinite(y[i]) || !std::isfinite(z[i]))
        throw InputError("", 0, "[system] atoms: atom " + std::to_string(i + 1) +
                                    " has a non-finite position");
      s.add_atom(static_cast<std::int64_t>(i) + 1, types[i], x[i], y[i], z[i]);
    }
    if (!velocities.is_none()) {
      const Rows v = read_rows3(velocities, n, "[system] atoms velocities");
      s.has_velocities = true;
      s.vx = column(v, n, 0);
      s.vy = column(v, n, 1);
      s.vz = column(v, n, 2);
    }
    RunOverrides ov;
    ov.quiet = true;
    ov.restart = restart;
    job_ = std::make_unique<Job>(load_job_from(root, input_file, ov, &s));
    if (!restart.empty()) {
      const Checkpoint c = read_checkpoint(restart);
      const std::string warn =
          check_compatible(c, restart, *job_->sim, job_->system_hash, job_->input_hash);
      if (!warn.empty()) std::fprintf(stderr, "mdgpu: warning: %s\n", warn.c_str());
      restore_checkpoint(c, *job_->sim);
      started_ = true;
      continued_ = true;
    }
  }

  // Energy, forces, per-atom energies and virial at `positions` (and `cell` when given):
  // the neighbour list and device state are kept; the list is rebuilt only when atoms moved
  // more than half the skin (decided on the device) or the cell changed.
  py::dict compute(const py::object& positions_in, const py::object& cell) {
    Job& j = *job_;
    Context& ctx = *j.ctx;
    System& sys = *j.system;
    Simulation& sim = *j.sim;
    const std::size_t n = static_cast<std::size_t>(sys.n_local());
    const Rows positions = read_rows3(positions_in, n, "positions");
    if (!started_) start();
    if (!cell.is_none()) {
      const Box b = box_from(cell.cast<py::tuple>());
      if (!same_box(b, sys.box())) {
        sys.set_box(b);
        sim.neighbors().set_box(sys);
      }
    }
    std::vector<double> x = column(positions, n, 0);
    ctx.to_device(x, sys.x);
    x = column(positions, n, 1);
    ctx.to_device(x, sys.y);
    x = column(positions, n, 2);
    ctx.to_device(x, sys.z);
    NeighborList& nl = sim.neighbors();
    for (;;) {
      sim.evaluate(true, true);
      const NeighborStatus st = nl.read_status();
      if (!nl.overflowed(st, sys)) break;
      nl.grow(sys, st);
      nl.build_now(sys);
    }
    const ThermoSample t = sim.thermo_now();
    py::dict r;
    r["energy"] = t.pe;
    r["virial"] = py::make_tuple(t.virial[0], t.virial[1], t.virial[2], t.virial[3],
                                 t.virial[4], t.virial[5]);
    r["volume"] = t.volume;
    r["forces"] = rows3(ctx.to_host(sys.fx, n), ctx.to_host(sys.fy, n), ctx.to_host(sys.fz, n));
    const std::vector<double> e = ctx.to_host(sim.per_atom_energy(), n);
    r["energies"] = to_numpy(e, 1);
    const std::vector<double> w = ctx.to_host(sim.per_atom_virial(), 6 * n);
    std::vector<double> pav(6 * n);
    for (std::size_t i = 0; i < n; ++i)
      for (std::size_t c = 0; c < 6; ++c) pav[6 * i + c] = w[c * n + i];
    r["virials"] = to_numpy(pav, 6);
    return r;
  }

  // Runs `steps` steps on the device; Python is called only at output steps (thermo
  // samples to `callback`, every [output] thermo every steps, and the run's first and last).
  py::dict run(long steps, const py::object& callback, bool record_counters) {
    Job& j = *job_;
    Context& ctx = *j.ctx;
    System& sys = *j.system;
    Simulation& sim = *j.sim;
    if (steps < 0) throw InputError("", 0, "run: steps must be non-negative");
    if (!started_) start();
    open_outputs();
    Observers obs;
    obs.thermo_every = j.thermo_every;
    obs.on_thermo = [&](const ThermoSample& t) {
      if (thermo_) thermo_->write(t);
      trace_.add(t, job_->thermo_norm);  // for report() (io/report.hpp)
      if (!callback.is_none()) callback(thermo_dict(t));
    };
    obs.max_check_interval = j.check_every;
    obs.emit_at_start = !emitted_start_;
    if (!trajs_.empty()) {
      obs.frame_every = frame_every_;
      obs.on_frame = [&](const ThermoSample& t, const Structure& s) {
        const std::size_t n = s.size();
        std::vector<double> fx, fy, fz, e;
        if (want_forces_) {
          fx = ctx.to_host(sys.fx, n);
          fy = ctx.to_host(sys.fy, n);
          fz = ctx.to_host(sys.fz, n);
        }
        if (want_energies_) e = ctx.to_host(sim.per_atom_energy(), n);
        for (auto& w : trajs_) {
          const TrajectorySpec& spec = w->spec();
          if (t.step % spec.every != 0) continue;
          Frame f{&s, t.step, t.time, t.pe};
          if (spec.forces) f.fx = &fx, f.fy = &fy, f.fz = &fz;
          if (spec.energies) f.energy = &e;
          w->write(f);
        }
      };
    }
    obs.checkpoint_every = j.checkpoint_every;
    obs.on_checkpoint = [&]() { write_ckpt(j.checkpoint_file); };
    const long first_step = sim.step();
    long synced = -1;
    if (safety_)
      obs.on_sync = [&]() {
        if (sim.step() > first_step) safety_->track_step(sim.neighbors(), sim.step());
        synced = sim.step();
        safety_->check(sys, sim.step());
      };
    py::list record;
    Counters last = ctx.counters();
    obs.after_step = [&](long step) {
      if (safety_ && step > first_step && step != synced) safety_->track_step(sim.neighbors(), step);
      synced = -1;
      if (record_counters) {
        const Counters c = ctx.counters();
        record.append(py::make_tuple(step, (c.h2d + c.d2h) - (last.h2d + last.d2h),
                                     c.syncs - last.syncs, c.launches - last.launches));
        last = ctx.counters();
      }
      if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    };
    RunStats st;
    try {
      st = sim.run(steps, obs);
    } catch (const SafetyError&) {
      if (thermo_) thermo_->flush();
      for (auto& t : trajs_) t->sync();
      sim.rollback_to_last_sync();
      sys.pull_box();
      write_lammps_data(j.last_good_file, sys.download(), "units " + j.units.name);
      throw;
    }
    emitted_start_ = true;
    if (thermo_) thermo_->flush();
    for (auto& t : trajs_) t->sync();
    if (j.checkpoint_at_end) write_ckpt(j.checkpoint_file);
    if (!j.data_file.empty()) {
      sys.pull_box();
      write_lammps_data(j.data_file, sys.download(), "units " + j.units.name);
    }
    py::dict d;
    d["steps"] = st.steps;
    d["wall_seconds"] = st.wall_seconds;
    d["rebuilds"] = st.rebuilds;
    d["rollbacks"] = st.rollbacks;
    d["launches"] = st.launches;
    d["allocations"] = st.allocations;
    const double atom_steps = static_cast<double>(sys.n_local()) * static_cast<double>(st.steps);
    d["atom_steps_per_second"] = st.wall_seconds > 0 ? atom_steps / st.wall_seconds : 0.0;
    if (record_counters) d["per_step"] = record;
    return d;
  }

  py::dict thermo() {
    if (!started_) start();
    return thermo_dict(job_->sim->thermo_now());
  }

  // The local state on the host: positions (as on the device: wrapped at list rebuilds),
  // velocities, image flags, cell.
  py::dict state() {
    System& sys = *job_->system;
    sys.pull_box();
    const Structure s = sys.download();
    py::dict d;
    d["positions"] = rows3(s.x, s.y, s.z);
    d["velocities"] = rows3(s.vx, s.vy, s.vz);
    std::vector<double> ix(s.ix.begin(), s.ix.end()), iy(s.iy.begin(), s.iy.end()),
        iz(s.iz.begin(), s.iz.end());
    d["images"] = rows3(ix, iy, iz);
    d["cell"] = box_tuple(s.box);
    d["step"] = job_->sim->step();
    return d;
  }

  void write_checkpoint_to(const std::string& path) {
    if (!started_) start();
    write_ckpt(path.empty() ? job_->checkpoint_file : path);
  }

  py::dict minimize() {
    if (!started_) start();
    const MinimizeResult m = fire_minimize(*job_->sim, job_->minimize_options);
    py::dict d;
    d["iterations"] = m.iterations;
    d["evaluations"] = m.evaluations;
    d["stop"] = m.stop;
    d["energy_start"] = m.energy_start;
    d["energy"] = m.energy;
    d["fnorm"] = m.fnorm;
    return d;
  }

  py::dict info() {
    const Job& j = *job_;
    py::dict d;
    d["natoms"] = static_cast<long long>(j.system->n_local());
    d["type_names"] = j.system->type_names();
    d["units"] = j.units.name;
    d["style"] = j.potential->style();
    d["cutoff"] = j.potential->cutoff();
    d["skin"] = j.sim->neighbors().skin();
    d["timestep"] = j.dt;
    d["steps"] = j.steps;
    d["step"] = j.sim->step();
    d["backend"] = std::string(backend_name(j.ctx->backend()));
    d["threads"] = omp_get_max_threads();
    d["thermo_every"] = j.thermo_every;
    d["thermo_file"] = j.thermo_file;
    d["checkpoint_file"] = j.checkpoint_file;
    d["report_file"] = j.report_file;
    d["thermo_norm"] = j.thermo_norm;
    d["minimize"] = j.minimize;
    d["nktv2p"] = j.units.nktv2p;
    d["boltz"] = j.units.boltz;
    d["peak_device_bytes"] = static_cast<long long>(j.ctx->peak_device_bytes());
    return d;
  }

  // The run report of `mdgpu run` (io/report.hpp) for the runs so far: the same page, with
  // the configuration as TOML text instead of the input file. `path` obeys the output-file
  // rules of the run (never an input or another output).
  void report(const std::string& path, const std::string& input_text,
              const std::vector<std::string>& warnings, double wall_seconds, long first_step,
              const std::string& outcome, bool ok) {
    if (path.empty()) throw InputError("", 0, "report: the file name must not be empty");
    // Checked as an extra output unless it is the [output] report file itself.
    if (job_->report_file.empty() ||
        !identify_file(path).same_file(identify_file(job_->report_file))) {
      RunFiles files = job_->files.refreshed();
      files.add(path, "report file", RunFiles::Kind::Replaced);
      files.add(path + ".tmp", "report file's temporary", RunFiles::Kind::Replaced);
      files.verify(job_->input_file);
    }
    RunReport r = begin_run_report(*job_);
    r.title = "mdgpu.Simulation report";
    r.input_name = "the Simulation's sections as TOML";
    r.input_text = input_text;
    r.thermo = trace_;
    end_run_report(r, *job_, first_step, job_->sim->step(), wall_seconds, nullptr, outcome, ok);
    r.warnings.insert(r.warnings.end(), warnings.begin(), warnings.end());
    write_report(path, r);
  }

  py::dict counters() const { return counters_dict(job_->ctx->counters()); }
  long step() const { return job_->sim->step(); }

 private:
  // Neighbour list, forces and the starting checks, as `mdgpu run` does for a new run
  // (FIRE first when the input has [minimize]).
  void start() {
    Job& j = *job_;
    started_ = true;
    j.sim->setup();
    if (j.safety) {
      safety_ = std::make_unique<SafetyMonitor>(*j.ctx, j.safety_limits, j.sim->neighbors().skin());
      safety_->check_overlaps(*j.system, j.sim->neighbors(), j.sim->step());
    }
    if (j.minimize) fire_minimize(*j.sim, j.minimize_options);
  }

  void open_outputs() {
    if (outputs_open_) return;
    outputs_open_ = true;
    Job& j = *job_;
    if (j.safety && !safety_)
      safety_ = std::make_unique<SafetyMonitor>(*j.ctx, j.safety_limits, j.sim->neighbors().skin());
    if (!j.thermo_file.empty()) thermo_ = std::make_unique<ThermoOutput>(j.thermo_file, j.thermo_norm, false);
    for (const auto& spec : j.trajectories) {
      trajs_.push_back(open_trajectory(spec, j.units));
      frame_every_ = std::gcd(frame_every_, spec.every);
      want_forces_ = want_forces_ || spec.forces;
      want_energies_ = want_energies_ || spec.energies;
    }
    if (continued_) emitted_start_ = true;
  }

  void write_ckpt(const std::string& path) {
    Job& j = *job_;
    if (thermo_) thermo_->flush();
    for (auto& t : trajs_) t->sync();
    Checkpoint c = capture_checkpoint(*j.sim);
    c.system_hash = j.system_hash;
    c.input_hash = j.input_hash;
    write_checkpoint(path, c);
  }

  std::unique_ptr<Job> job_;
  bool started_ = false, continued_ = false, outputs_open_ = false, emitted_start_ = false;
  std::unique_ptr<SafetyMonitor> safety_;
  std::unique_ptr<ThermoOutput> thermo_;
  std::vector<std::unique_ptr<TrajectoryWriter>> trajs_;
  long frame_every_ = 0;
  bool want_forces_ = false, want_energies_ = false;
  ThermoTrace trace_;
};

}  // namespace
}  // namespace md

PYBIND11_MODULE(_mdgpu, m) {
  m.doc() = "mdgpu engine bindings (use the mdgpu package: mdgpu.ase.Calculator, mdgpu.Simulation)";
  m.attr("__version__") = MDGPU_VERSION;
  // Bad input: the CLI's message; other run-time failures (non-finite energies, safety
  // checks, device errors) are md::Error.
  static py::exception<md::Error> error(m, "Error", PyExc_RuntimeError);
  static py::exception<md::InputError> input_error(m, "InputError", PyExc_ValueError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const md::InputError& e) {
      input_error(e.what());
    } catch (const md::Error& e) {
      error(e.what());
    }
  });
  py::class_<md::Engine>(m, "Engine")
      .def(py::init<const py::dict&, const std::vector<std::string>&, const std::vector<double>&,
                    const std::vector<int>&,
                    const py::object&, const py::tuple&, const py::object&, const std::string&, const std::string&>(),
           py::arg("config"), py::arg("type_names"), py::arg("type_masses"), py::arg("types"),
           py::arg("positions"), py::arg("cell"), py::arg("velocities") = py::none(),
           py::arg("input_file") = "", py::arg("restart") = "")
      .def("compute", &md::Engine::compute, py::arg("positions"), py::arg("cell") = py::none())
      .def("run", &md::Engine::run, py::arg("steps"), py::arg("callback") = py::none(),
           py::arg("record_counters") = false)
      .def("thermo", &md::Engine::thermo)
      .def("state", &md::Engine::state)
      .def("write_checkpoint", &md::Engine::write_checkpoint_to, py::arg("path") = "")
      .def("minimize", &md::Engine::minimize)
      .def("info", &md::Engine::info)
      .def("counters", &md::Engine::counters)
      .def("report", &md::Engine::report, py::arg("path"), py::arg("input_text"),
           py::arg("warnings"), py::arg("wall_seconds"), py::arg("first_step"),
           py::arg("outcome"), py::arg("ok") = true)
      .def_property_readonly("step", &md::Engine::step);
  // The report page from Python values (mdgpu.report for `python3 -m mdgpu report CSV`):
  // rows as (key, value) pairs, thermo as a time list and the columns PotEng KinEng TotEng
  // Econserve Temp Press Volume (missing ones as NaN).
  m.def("render_report",
        [](const std::string& title, const std::string& input_name, const std::string& input_text,
           const md::RunReport::Rows& system, const md::RunReport::Rows& run,
           const std::string& outcome, bool ok, const std::vector<std::string>& warnings,
           const std::string& units, bool norm, const std::vector<double>& time,
           const std::map<std::string, std::vector<double>>& columns) {
          md::RunReport r;
          md::set_report_units(r, units, norm);
          r.title = title;
          r.input_name = input_name;
          r.input_text = input_text;
          r.system = system;
          r.run = run;
          r.outcome = outcome;
          r.outcome_ok = ok;
          r.warnings = warnings;
          const auto& names = md::ThermoTrace::names();
          for (std::size_t i = 0; i < time.size(); ++i) {
            std::vector<double> v(names.size(), std::nan(""));
            for (std::size_t k = 0; k < names.size(); ++k) {
              auto it = columns.find(names[k]);
              if (it != columns.end() && i < it->second.size()) v[k] = it->second[i];
            }
            r.thermo.add(time[i], v);
          }
          return md::render_report_html(r);
        },
        py::arg("title"), py::arg("input_name"), py::arg("input_text"), py::arg("system"),
        py::arg("run"), py::arg("outcome"), py::arg("ok"), py::arg("warnings"),
        py::arg("units"), py::arg("norm"), py::arg("time"), py::arg("columns"));
  m.def("backends", []() {
    py::dict d;
    d["cuda_compiled"] = md::cuda_compiled();
    d["cuda_devices"] = md::cuda_device_count();
    return d;
  });
}
