"""mdgpu from Python, notebook style: an ASE calculator, a relaxation, then device-resident MD
with thermo callbacks, a snapshot, a plot and a report.

Run from the repository root after the build (tools/example.sh or tools/test.sh):
    PYTHONPATH=build/python python3 inputs/python/example.py
(or, after `pip install .`, just `python3 inputs/python/example.py`). Writes its files into
the current folder: example_thermo.csv, example_thermo.png, example_run.html.
"""
import numpy as np
from ase.build import bulk
from ase.optimize import BFGS

import mdgpu
from mdgpu.ase import Calculator

# %% The same [potential] keys as in a TOML input (here LAMMPS' Cu_u3.eam, found in
# inputs/potentials/ when it is not in the working folder).
EAM = {"style": "eam", "file": "Cu_u3.eam"}

# %% ASE calculator: energy, forces, stress (eV/A^3), per-atom energies.
atoms = bulk("Cu", "fcc", a=3.615, cubic=True).repeat(4)
atoms.rattle(0.05, seed=1)
atoms.calc = Calculator(potential=EAM)
print(f"E = {atoms.get_potential_energy():.6f} eV, max |F| = "
      f"{np.abs(atoms.get_forces()).max():.4f} eV/A, stress = {atoms.get_stress()}")

# %% Relax with ASE's BFGS: the calculator keeps its device state and neighbour list.
BFGS(atoms, logfile=None).run(fmax=1e-3)
print(f"relaxed: E/N = {atoms.get_potential_energy() / len(atoms):.6f} eV "
      f"({atoms.calc.engine_builds} engine build)")

# %% MD on the device: Python sees only the thermo samples.
sim = mdgpu.Simulation(
    atoms, potential=EAM,
    velocity={"temperature": 1200.0, "seed": 7},
    run={"ensemble": "nvt", "timestep": 0.002, "steps": 2000,
         "thermostat": {"kind": "nose-hoover", "temperature": 600.0}},
    output={"thermo": {"every": 100, "file": "example_thermo.csv"}})
sim.run(callback=lambda s: print(f"step {s['step']:5d}  T {s['temp']:8.2f} K  "
                                 f"PE {s['pe']:.4f} eV  P {s['press']:.1f} bar"))
print("device counters:", sim.counters())

# %% A snapshot as ase.Atoms, a plot and a report.
snap = sim.atoms
print(f"snapshot: {len(snap)} atoms, T(ASE) = {snap.get_temperature():.1f} K")
from mdgpu.plot import plot  # noqa: E402

print("plot:", plot("example_thermo.csv"))
print("report:", sim.report("example_run.html"))
