#!/usr/bin/env python3
"""HIP-NN speed: hippynn's own ASE calculator (float64 and float32) against mdgpu's
style "hipnn" on the same structure and cores (energy + forces + stress per evaluation).

    OMP_NUM_THREADS=1 python benchmarks/hipnn_vs_hippynn.py [--mdgpu build/mdgpu] [--steps 200]

Structure: fcc Cu, a = 3.9 Å, 4x4x4 conventional cells (256 atoms), model
tests/data/hipnn/resnet (hippynn training directory) and its export resnet.hipnn.h5. hippynn:
time per calculate() over --evals evaluations with the atoms displaced each time (so the
calculator really recomputes). mdgpu: `mdgpu run` NVE for --steps steps; its reported loop
time divided by the steps (one force evaluation per step plus integration). Prints one
table row per engine.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))


def hippynn_time(dtype_name, evals, atoms):
    import numpy as np
    import torch
    import export_hippynn
    from hippynn.interfaces.ase_interface import HippynnCalculator
    model, _, _ = export_hippynn.load_training_dir(os.path.join(ROOT, "tests/data/hipnn/resnet"))
    energy, _, _, _ = export_hippynn.find_nodes(model, None)
    calc = HippynnCalculator(energy, en_unit=1.0, dist_unit=1.0)
    calc.to(getattr(torch, dtype_name))
    rng = np.random.default_rng(1)
    a = atoms.copy()
    calc.calculate(a)  # warm-up
    t = time.perf_counter()
    for _ in range(evals):
        a.positions += rng.normal(0.0, 1e-3, a.positions.shape)
        calc.calculate(a)
    return (time.perf_counter() - t) / evals


def mdgpu_time(binary, steps):
    toml = """units = "metal"
[system]
lattice = {{ kind = "fcc", a = 3.9, repeat = [4, 4, 4], elements = ["Cu"] }}
[velocity]
temperature = 300.0
seed = 1
[potential]
style = "hipnn"
model = "{model}"
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = 0.001
steps = {steps}
""".format(model=os.path.join(ROOT, "tests/data/hipnn/resnet.hipnn.h5"), steps=steps)
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "bench.toml")
        with open(path, "w") as fh:
            fh.write(toml)
        out = subprocess.run([binary, "run", path], cwd=d, capture_output=True, text=True,
                             check=True).stdout
    m = re.search(r"Loop time ([0-9.eE+-]+) s for (\d+) steps", out)
    return float(m.group(1)) / int(m.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mdgpu", default=os.path.join(ROOT, "build", "mdgpu"))
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--evals", type=int, default=20)
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    import torch
    from ase.build import bulk
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    atoms = bulk("Cu", "fcc", a=3.9, cubic=True).repeat((4, 4, 4))
    n = len(atoms)
    rows = []
    t_md = mdgpu_time(args.mdgpu, args.steps)
    rows.append(("mdgpu hipnn double (CPU executor)", t_md))
    for dt in ("float64", "float32"):
        rows.append(("hippynn ASE calculator " + dt, hippynn_time(dt, args.evals, atoms)))
    print("| engine | ms per evaluation ({} atoms) | atom-steps/s | hippynn / mdgpu |".format(n))
    print("|---|---:|---:|---:|")
    for name, t in rows:
        print("| {} | {:.2f} | {:.0f} | {:.2f} |".format(name, 1e3 * t, n / t, t / t_md))


if __name__ == "__main__":
    main()
