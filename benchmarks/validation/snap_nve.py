#!/usr/bin/env python3
"""NVE energy conservation of SNAP: W_2940_2017_2 (2J = 8) + ZBL, bcc W, 10,000 steps.

Usage:
  python3 benchmarks/validation/snap_nve.py --mdgpu /path/to/mdgpu [--steps 10000]
         [--cells 4] [--threads 1]

Runs two NVE trajectories with mdgpu (CPU executor), as LAMMPS' W_2940_2017_2.snap sets the
potential up (pair_style hybrid/overlay zbl 4.0 4.8 snap): bcc W (a = 3.1803 A, cells^3 x 2
atoms), velocities drawn at twice the target temperature on the perfect lattice so that
equipartition brings the crystal to about 300 K and 3000 K, dt = 0.5 fs, skin 1.0 A.
Total energy is sampled every 100 steps. Reported per run: mean temperature over the second
half, the peak-to-peak spread of E_tot per atom, and the least-squares drift of E_tot per
atom per ps. Bounds (fixed before the runs, see benchmarks/README.md):
  peak-to-peak <= 2e-4 eV/atom,  |drift| <= 1e-5 eV/atom/ps.
Exit status 0 when both runs are within the bounds (the drift is only meaningful for long
runs: over a few hundred steps the fit follows the fluctuations). Python standard library only.
Takes about 10-20 minutes per run on one core of the machine in benchmarks/README.md.
"""

import argparse
import csv
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

PEAK_BOUND = 2e-4   # eV/atom
DRIFT_BOUND = 1e-5  # eV/atom/ps

TOML = """\
units = "metal"
[system]
lattice = {{ kind = "bcc", a = 3.1803, repeat = [{n}, {n}, {n}], elements = ["W"] }}
[velocity]
temperature = {t0}
seed = 4928459
[potential]
style = "overlay"
[[potential.terms]]
style = "zbl"
inner = 4.0
outer = 4.8
[[potential.terms]]
style = "snap"
coeff = "{pot}.snapcoeff"
param = "{pot}.snapparam"
elements = ["W"]
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = 0.0005
steps = {steps}
[output]
thermo = {{ every = 100, file = "thermo.csv", norm = false }}
"""


def slope(x, y):
    mx, my = sum(x) / len(x), sum(y) / len(y)
    sxy = sum((a - mx) * (b - my) for a, b in zip(x, y))
    sxx = sum((a - mx) ** 2 for a in x)
    return sxy / sxx


def run(mdgpu, target, args, tmp):
    d = os.path.join(tmp, "T{}".format(target))
    os.makedirs(d)
    pot = os.path.join(REPO, "inputs", "snap", "W_2940_2017_2")
    with open(os.path.join(d, "in.toml"), "w") as f:
        f.write(TOML.format(n=args.cells, t0=2.0 * target, pot=pot, steps=args.steps))
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    out = subprocess.run([mdgpu, "run", "in.toml", "--backend", "cpu", "--quiet"], cwd=d, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        sys.exit("mdgpu failed:\n" + out.stdout[-3000:])
    with open(os.path.join(d, "thermo.csv")) as f:
        rows = list(csv.DictReader(f))
    natoms = 2 * args.cells ** 3
    t = [float(r["Time"]) for r in rows]
    e = [float(r["TotEng"]) / natoms for r in rows]
    temp = [float(r["Temp"]) for r in rows]
    half = len(rows) // 2
    res = {"target": target, "natoms": natoms, "steps": int(rows[-1]["Step"]),
           "tmean": sum(temp[half:]) / len(temp[half:]), "e0": e[0],
           "peak": max(e) - min(e), "drift": slope(t, e)}
    res["ok"] = res["peak"] <= PEAK_BOUND and abs(res["drift"]) <= DRIFT_BOUND
    loop = [l for l in out.stdout.splitlines() if l.startswith("Loop time")]
    res["loop"] = loop[-1] if loop else ""
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mdgpu", required=True)
    ap.add_argument("--steps", type=int, default=10000)
    ap.add_argument("--cells", type=int, default=4)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--temperatures", default="300,3000")
    args = ap.parse_args()
    mdgpu = os.path.abspath(args.mdgpu)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        for target in [float(x) for x in args.temperatures.split(",")]:
            r = run(mdgpu, target, args, tmp)
            ok = ok and r["ok"]
            print("T = {target:g} K: {natoms} atoms, {steps} steps of 0.5 fs, <T> = {tmean:.0f} K, "
                  "E0 = {e0:.6f} eV/atom, peak-to-peak {peak:.2e} eV/atom (bound {pb:.0e}), "
                  "drift {drift:+.2e} eV/atom/ps (bound {db:.0e}) -> {v}".format(
                      pb=PEAK_BOUND, db=DRIFT_BOUND, v="ok" if r["ok"] else "OUT OF BOUND", **r))
            if r["loop"]:
                print("  " + r["loop"], flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
