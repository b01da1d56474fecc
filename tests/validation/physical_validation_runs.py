#!/usr/bin/env python3
"""Ensemble validation of mdgpu's thermostats and barostats with the PyPI package
`physical-validation` (Merz & Shirts, PLoS ONE 13, e0202764 (2018)).

Usage: python3 physical_validation_runs.py --mdgpu /path/to/mdgpu [--steps N] [--keep DIR]

Not part of ctest (long, needs numpy + physical-validation: `pip install physical-validation`).
System: 256-atom LJ liquid (lj units, rho* = 0.8442 start, rc = 2.5, shifted), dt = 0.004.
For each thermostat (nose-hoover, csvr, langevin):
  * kinetic-energy distribution test (physical_validation.kinetic_energy.distribution, strict
    = False: deviations of the mean and width of the KE distribution from the
    Maxwell-Boltzmann expectation, in standard deviations);
  * ensemble test from two temperatures (T* = 1.20 and 1.26; physical_validation.ensemble.
    check: the slope of ln P1(U)/P2(U) against the expected 1/kT1 - 1/kT2, deviation in
    standard deviations).
For each barostat (mtk iso with nose-hoover, scr iso with csvr) at T* = 1.5:
  * ensemble test from two pressures (P* = 2.0 and 2.2, same T): slope of the volume
    distributions' ratio against the expected -(P1 - P2)/kT.
Prints one line per test; results are recorded in tests/validation/README.md.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

import numpy as np
import physical_validation as pv

A = (4.0 / 0.8442) ** (1.0 / 3.0)
N = 256


def run_mdgpu(mdgpu, d, name, run_lines, steps, every):
    toml = """units = "lj"
[system]
lattice = {{ kind = "fcc", a = {a!r}, repeat = [4, 4, 4], elements = ["A"] }}
masses = {{ A = 1.0 }}
[velocity]
temperature = 1.3
seed = 4321
[potential]
style = "lj"
cutoff = 2.5
shift = true
pairs = [{{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[run]
timestep = 0.004
steps = {steps}
{run}
[output]
thermo = {{ every = {every}, file = "{name}.csv", norm = false }}
""".format(a=A, steps=steps, run=run_lines, every=every, name=name)
    path = os.path.join(d, name + ".toml")
    with open(path, "w") as f:
        f.write(toml)
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    subprocess.run([mdgpu, "run", path, "--backend", "cpu", "--quiet"], cwd=d, env=env,
                   check=True, stdout=subprocess.DEVNULL)
    rows = list(csv.DictReader(open(os.path.join(d, name + ".csv"))))
    rows = rows[len(rows) // 10:]  # drop the first 10 % (equilibration)
    return {k: np.array([float(r[k]) for r in rows]) for k in ("KinEng", "PotEng", "Volume")}


def units():
    # lj units: kB = 1; pressure_conversion makes P*V come out in energy units in pv's pV term
    return pv.data.UnitData(kb=1.0, energy_conversion=1.0, length_conversion=1.0,
                            volume_conversion=1.0, temperature_conversion=1.0,
                            pressure_conversion=1.0 / 6.022140857e-2, time_conversion=1.0,
                            energy_str="eps", length_str="sigma", volume_str="sigma^3",
                            temperature_str="eps/kB", pressure_str="eps/sigma^3", time_str="tau")


def sim_data(obs, ensemble, temperature, pressure=None, ndof_tra=3):
    system = pv.data.SystemData(natoms=N, nconstraints=0, ndof_reduction_tra=ndof_tra,
                                ndof_reduction_rot=0, mass=np.ones(N))
    if ensemble == "NVT":
        ens = pv.data.EnsembleData("NVT", natoms=N, volume=float(obs["Volume"][0]),
                                   temperature=temperature)
        observables = pv.data.ObservableData(kinetic_energy=obs["KinEng"],
                                             potential_energy=obs["PotEng"])
    else:
        ens = pv.data.EnsembleData("NPT", natoms=N, pressure=pressure, temperature=temperature)
        observables = pv.data.ObservableData(kinetic_energy=obs["KinEng"],
                                             potential_energy=obs["PotEng"],
                                             volume=obs["Volume"])
    return pv.data.SimulationData(units=units(), ensemble=ens, system=system,
                                  observables=observables, dt=0.004)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mdgpu", required=True)
    ap.add_argument("--steps", type=int, default=100000)
    ap.add_argument("--keep")
    args = ap.parse_args()
    mdgpu = os.path.abspath(args.mdgpu)
    d = args.keep or tempfile.mkdtemp(prefix="mdgpu_pv_")
    os.makedirs(d, exist_ok=True)
    every = 10
    thermostats = {
        "nose-hoover": ('{{ kind = "nose-hoover", temperature = {T}, tdamp = 0.2 }}', 3),
        "csvr": ('{{ kind = "csvr", temperature = {T}, tdamp = 0.1, seed = {seed} }}', 3),
        "langevin": ('{{ kind = "langevin", temperature = {T}, tdamp = 0.5, seed = {seed} }}', 0),
    }
    for name, (tmpl, ndof_tra) in thermostats.items():
        data = []
        for k, T in enumerate((1.20, 1.26)):
            run = 'ensemble = "nvt"\nthermostat = ' + tmpl.format(T=T, seed=11 + k)
            obs = run_mdgpu(mdgpu, d, "{}_{}".format(name, k), run, args.steps, every)
            data.append(sim_data(obs, "NVT", T, ndof_tra=ndof_tra))
        d_mean, d_width = pv.kinetic_energy.distribution(data[0], strict=False, verbosity=0,
                                                         bootstrap_seed=1)
        q = pv.ensemble.check(data[0], data[1], verbosity=0, bootstrap_seed=1)
        print("{:12s} KE distribution (T=1.20): mean off by {:.2f} sigma, width off by {:.2f} "
              "sigma; ensemble check T 1.20 vs 1.26: {} sigma".format(
                  name, d_mean, d_width, ", ".join("{:.2f}".format(x) for x in q)))
        sys.stdout.flush()
    barostats = {
        "mtk": ('thermostat = { kind = "nose-hoover", temperature = 1.5, tdamp = 0.2 }\n'
                'barostat = {{ kind = "mtk", coupling = "iso", pressure = {P}, pdamp = 1.0 }}'),
        "scr": ('thermostat = { kind = "csvr", temperature = 1.5, tdamp = 0.1, seed = 5 }\n'
                'barostat = {{ kind = "scr", coupling = "iso", pressure = {P}, pdamp = 0.5, '
                'compressibility = 0.05, seed = {seed} }}'),
    }
    for name, tmpl in barostats.items():
        data = []
        for k, P in enumerate((2.0, 2.2)):
            run = 'ensemble = "npt"\n' + tmpl.replace("{P}", str(P)).replace("{seed}", str(21 + k))
            run = run.replace("{{", "{").replace("}}", "}")
            obs = run_mdgpu(mdgpu, d, "{}_{}".format(name, k), run, args.steps, every)
            data.append(sim_data(obs, "NPT", 1.5, pressure=P))
        d_mean, d_width = pv.kinetic_energy.distribution(data[0], strict=False, verbosity=0,
                                                         bootstrap_seed=1)
        q = pv.ensemble.check(data[0], data[1], verbosity=0, bootstrap_seed=1)
        print("{:12s} KE distribution (P=2.0): mean off by {:.2f} sigma, width off by {:.2f} "
              "sigma; ensemble check P 2.0 vs 2.2 at T 1.5: {} sigma".format(
                  name, d_mean, d_width, ", ".join("{:.2f}".format(x) for x in q)))
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
