#!/usr/bin/env python3
"""SchNet speed: mdgpu's CPU executor vs schnetpack's own ASE calculator (SpkCalculator) on
the same structure and the same number of cores, float64 and float32 (mdgpu: precision
"double" and "mixed", each exact and with tabulate = true). Prints atom-steps/s (wall and
per CPU second: the machine may be shared), the ratios and mdgpu's peak device bytes/atom.

    /work/venvs/ml/bin/python benchmarks/schnet_bench.py --mdgpu build/mdgpu \
        --model tests/data/schnet/best_model --exported tests/data/schnet/cuau.schnet.h5 \
        --repeat 3 --steps 20 --threads 1

Structure: L1_2 Cu3Au, a = 4.0 A, repeat^3 cubic cells (4 repeat^3 atoms), 300 K velocities.
schnetpack: ASE VelocityVerlet (NVE, 1 fs) with SpkCalculator (ASENeighborList, rc of the
model), torch.set_num_threads(threads); timed over `steps` steps after one warm-up step.
mdgpu: `mdgpu run` of the same cell and ensemble (NVE, 1 fs, skin 1 A) with
OMP_NUM_THREADS=threads; its own "Loop time" line (atom-steps/s) and peak device memory.
Both evaluate energy and forces every step. Needs schnetpack (>= 2.2) in the running Python.
"""

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time


def structure(repeat):
    from ase.build import bulk
    atoms = bulk("Cu", "fcc", a=4.0, cubic=True).repeat((repeat, repeat, repeat))
    atoms.set_chemical_symbols(["Au" if i % 4 == 0 else "Cu" for i in range(len(atoms))])
    return atoms


def bench_schnetpack(model, rc, atoms, dtype, steps, threads):
    import torch
    import schnetpack as spk
    from ase import units
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet

    torch.set_num_threads(threads)
    atoms = atoms.copy()
    calc = spk.interfaces.SpkCalculator(
        model=model, neighbor_list=spk.transform.ASENeighborList(cutoff=rc),
        energy_key="energy", force_key="forces", energy_unit="eV", position_unit="Angstrom",
        device="cpu", dtype=dtype)
    atoms.calc = calc
    MaxwellBoltzmannDistribution(atoms, temperature_K=300, rng=__import__("numpy").random.default_rng(1))
    md = VelocityVerlet(atoms, timestep=1.0 * units.fs)
    md.run(1)
    t0, c0 = time.perf_counter(), time.process_time()
    md.run(steps)
    dt, dc = time.perf_counter() - t0, time.process_time() - c0
    return len(atoms) * steps / dt, len(atoms) * steps / dc


def bench_mdgpu(exe, exported, repeat, precision, steps, threads, tabulate=False):
    with tempfile.TemporaryDirectory() as d:
        inp = os.path.join(d, "bench.toml")
        with open(inp, "w") as f:
            f.write(f"""units = "metal"
[system]
lattice = {{ kind = "fcc", a = 4.0, repeat = [{repeat}, {repeat}, {repeat}], elements = ["Au", "Cu", "Cu", "Cu"] }}
[velocity]
temperature = 300.0
seed = 1
[potential]
style = "schnet"
model = "{os.path.abspath(exported)}"
precision = "{precision}"
tabulate = {"true" if tabulate else "false"}
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = 0.001
steps = {steps}
[output]
thermo = {{ every = {steps} }}
""")
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        out = subprocess.run([os.path.abspath(exe), "run", inp], capture_output=True, text=True, env=env, cwd=d)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        if out.returncode != 0:
            raise SystemExit("mdgpu failed:\n" + out.stdout + out.stderr)
        rate = float(re.search(r"([0-9.eE+]+) atom-steps/s", out.stdout).group(1))
        loop = float(re.search(r"Loop time ([0-9.eE+]+) s", out.stdout).group(1))
        per_atom = int(re.search(r"\((\d+) bytes/atom\)", out.stdout).group(1))
        # CPU rate: the whole process's CPU time (setup included: a lower bound on the loop's)
        return rate, rate * loop / cpu, per_atom


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mdgpu", default="build/mdgpu")
    ap.add_argument("--model", default="tests/data/schnet/best_model")
    ap.add_argument("--exported", default="tests/data/schnet/cuau.schnet.h5")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--mdgpu-steps", type=int, default=200)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    import json

    import h5py
    import torch
    with h5py.File(a.exported) as f:
        rc = json.loads(f.attrs["json"])["representation"]["cutoff"]["rc"]
    atoms = structure(a.repeat)
    print(f"SchNet benchmark: {len(atoms)} atoms (L1_2 Cu3Au), {a.threads} thread(s), model "
          f"{a.exported} (rc {rc} A)", flush=True)
    rows = []
    for label, dtype, prec in (("float64", torch.float64, "double"), ("float32", torch.float32, "mixed")):
        spk_rate, spk_cpu = bench_schnetpack(a.model, rc, atoms, dtype, a.steps, a.threads)
        for tab in (False, True):
            md_rate, md_cpu, per_atom = bench_mdgpu(a.mdgpu, a.exported, a.repeat, prec,
                                                    a.mdgpu_steps, a.threads, tab)
            name = prec + (", tabulate" if tab else "")
            print(f"| {label} | schnetpack SpkCalculator {spk_rate:.4g} atom-steps/s (per CPU "
                  f"second {spk_cpu:.4g}) | mdgpu cpu ({name}) {md_rate:.4g} atom-steps/s (per "
                  f"CPU second {md_cpu:.4g}) | ratio wall {md_rate / spk_rate:.3g}, CPU "
                  f"{md_cpu / spk_cpu:.3g} | peak device {per_atom} bytes/atom |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
