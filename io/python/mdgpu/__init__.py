"""mdgpu from Python: the engine of `mdgpu run` with ASE structures.

* ``mdgpu.ase.Calculator(potential={...})``: an ASE calculator (energy, forces, stress,
  per-atom energies and stresses).
* ``mdgpu.Simulation(atoms, potential={...}, run={...}, output={...})``: the device-resident
  time loop; ``sim.run(steps, callback=f)`` calls ``f(sample)`` at thermo output steps only.

Every section is configured with the keys of the TOML input (inputs/README.md): pass a dict,
or a TOML string holding that table's keys. Bad input raises ``mdgpu.InputError`` (a
ValueError) with the message `mdgpu run` prints (without its "file:line: " prefix); other
run-time failures raise ``mdgpu.Error`` (a RuntimeError).
"""
import os

import numpy as np

from . import _mdgpu
from ._mdgpu import Error, InputError

__version__ = _mdgpu.__version__
__all__ = ["Simulation", "Error", "InputError", "section", "counters_between_outputs"]

try:
    import tomllib as _toml
except ImportError:  # Python < 3.11
    try:
        import tomli as _toml
    except ImportError:
        _toml = None


def section(name, value):
    """A TOML section given as a dict or as TOML text (that table's keys) -> dict."""
    if value is None:
        return None
    if isinstance(value, str):
        if _toml is None:
            raise InputError(f"[{name}]: TOML strings need Python >= 3.11 (tomllib) or tomli")
        try:
            table = _toml.loads(value)
        except _toml.TOMLDecodeError as e:
            raise InputError(f"[{name}]: malformed TOML: {e}") from None
        # "[potential]\nstyle = ..." as well as "style = ..."
        if list(table) == [name] and isinstance(table[name], dict):
            table = table[name]
        return table
    if isinstance(value, dict):
        return dict(value)
    raise InputError(f"[{name}]: expected a dict or a TOML string with the keys of the "
                     f"[{name}] section, not a {type(value).__name__}")


def _config(units, backend, **sections):
    cfg = {}
    if units is not None:
        cfg["units"] = units
    if backend is not None:
        cfg["backend"] = backend
    for name, value in sections.items():
        v = section(name, value)
        if v is not None:
            cfg[name] = v
    return cfg


class Simulation:
    """A run of the engine on an ase.Atoms structure.

    ``potential``, ``run``, ``output``, ``neighbor``, ``velocity``, ``safety``, ``minimize``:
    the TOML sections of the same names (dicts or TOML strings). ``run`` defaults to NVE
    with the units' timestep; its ``steps`` is the default length of ``run()`` and the ramp
    length of thermostats. Output file names are relative to the working folder.
    ``restart``: a checkpoint file (as ``mdgpu run --restart``).

    Velocities: taken from ``atoms`` (ASE units, converted) when it has momenta and no
    ``velocity`` section is given.
    """

    def __init__(self, atoms, potential, run=None, output=None, neighbor=None, velocity=None,
                 safety=None, minimize=None, units="metal", backend=None, restart=None,
                 name=None, outputs=None, ensemble=None):
        from ._structure import ASE_VELOCITY_TO_METAL, Geometry, species

        if outputs is not None:
            if output is not None:
                raise InputError("give output or outputs, not both")
            output = outputs
        run = section("run", run) or {}
        if ensemble is not None:
            run["ensemble"] = ensemble
        run.setdefault("steps", 0)
        self._atoms0 = atoms.copy()
        self._geometry = Geometry(atoms)
        names, masses, types = species(atoms)
        vel = None
        if velocity is None and np.any(atoms.get_momenta()):
            vel = atoms.get_velocities()
            if units == "metal":
                vel = vel * ASE_VELOCITY_TO_METAL
            vel = self._geometry.to_engine(vel)
        cfg = _config(units, backend, potential=potential, run=run, output=output,
                      neighbor=neighbor, velocity=velocity, safety=safety, minimize=minimize)
        if "potential" not in cfg:
            raise InputError("missing [potential] section")
        input_file = "" if name is None else os.path.abspath(name)
        self.units = units
        self.samples = []
        self._engine = _mdgpu.Engine(cfg, names, masses, types,
                                     self._geometry.to_engine(atoms.get_positions()),
                                     self._geometry.box, vel, input_file, restart or "")
        self._steps = int(run["steps"])
        self._cfg = cfg
        self._wall = 0.0
        self._steps_run = 0
        self._first_step = self._engine.step

    @property
    def step(self):
        return self._engine.step

    def info(self):
        """Units, potential style, cutoff, skin, timestep, executor, thermo settings."""
        return self._engine.info()

    def run(self, steps=None, callback=None, record_counters=False):
        """Runs ``steps`` steps (default: up to [run] steps) on the device. ``callback(sample)``
        is called at thermo output steps ([output] thermo every; the first and last step of
        the run) with a dict: step time natoms temp ke pe etotal press volume econserve
        enthalpy ptensor virial cell. Returns run statistics; with ``record_counters`` also
        ``per_step``: (step, transfers, syncs, launches) after every step."""
        if steps is None:
            steps = max(0, self._steps - self.step)

        def cb(sample):
            self.samples.append(sample)
            if callback is not None:
                callback(sample)

        report = self._engine.info()["report_file"]  # output={"report": FILE}
        first = self.step
        try:
            stats = self._engine.run(int(steps), cb, bool(record_counters))
        except Error as e:  # a failed safety check, non-finite energies: report what was reached
            if report:
                self._steps_run += self.step - first
                self._engine.report(report, _toml_text(self._cfg), [], self._wall,
                                    self._first_step, f"failed at step {self.step}: {e}", False)
            raise
        self._wall += stats["wall_seconds"]
        self._steps_run += stats["steps"]
        if report:  # as [output] report of `mdgpu run`, after every run()
            self.report(report)
        return stats

    def report(self, path, warnings=None):
        """A self-contained HTML report of the runs so far, the page `mdgpu run` writes for
        ``[output] report`` (io/report.cpp): the system, steps, wall time and throughput,
        the thermo plots (inline SVG, from the thermo samples of the runs), the warnings
        (``warnings`` added) and the sections as TOML. ``path`` must not be an input or
        another output of this run. Also written after every ``run()`` when
        ``output={"report": FILE}``. Returns ``path``."""
        self._engine.report(os.fspath(path), _toml_text(self._cfg),
                            [str(w) for w in (warnings or [])], self._wall,
                            self._first_step, f"{self._steps_run} steps run", True)
        return os.fspath(path)

    def thermo(self):
        """The thermodynamic state now (one sample)."""
        return self._engine.thermo()

    def minimize(self):
        """FIRE with the [minimize] options (before the dynamics when [minimize] is given)."""
        return self._engine.minimize()

    def counters(self):
        """Device counters of this run's executor: launches, allocations, h2d, d2h,
        transfers, syncs and bytes."""
        return self._engine.counters()

    def write_checkpoint(self, path=None):
        """A checkpoint as `mdgpu run` writes ([output] checkpoint file when no path)."""
        self._engine.write_checkpoint(path or "")

    @property
    def atoms(self):
        """An ase.Atoms snapshot of the current state (positions, velocities, cell)."""
        from ._structure import ASE_VELOCITY_TO_METAL

        st = self._engine.state()
        g = self._geometry
        a = self._atoms0.copy()
        a.calc = None
        a.set_cell(g.cell_from_engine(st["cell"], self._atoms0.cell[:]))
        a.set_positions(g.from_engine(st["positions"]))
        v = g.from_engine(st["velocities"])
        if self.units == "metal":
            v = v / ASE_VELOCITY_TO_METAL
        a.set_velocities(v)
        return a


def _toml_text(cfg):
    """The configuration as TOML text (for reports)."""
    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return repr(v)
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, dict):
            return "{ " + ", ".join(f"{k} = {value(x)}" for k, x in v.items()) + " }"
        if hasattr(v, "tolist"):
            return value(v.tolist())
        return "[" + ", ".join(value(x) for x in v) + "]"

    lines = [f"{k} = {value(v)}" for k, v in cfg.items() if not isinstance(v, dict)]
    for k, v in cfg.items():
        if isinstance(v, dict):
            lines.append(f"\n[{k}]")
            lines += [f"{kk} = {value(x)}" for kk, x in v.items()]
    return "\n".join(lines) + "\n"


def counters_between_outputs(per_step, output_steps):
    """Transfers and syncs on steps that are not output steps (from run(record_counters=True)):
    the device contract says both are 0."""
    transfers = syncs = 0
    for step, t, s, _ in per_step:
        if step not in output_steps:
            transfers += t
            syncs += s
    return transfers, syncs
