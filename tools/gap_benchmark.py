#!/usr/bin/env python3
"""CPU comparison of mdgpu's GAP with quippy on one structure and one core.

    OMP_NUM_THREADS=1 /work/venvs/gap/bin/python tools/gap_benchmark.py [build/mdgpu] [model]

model: soap2 (default; input inputs/gap/cu_gap_soap.toml) or 3b1 (2b + angle_3b;
inputs/gap/cu_gap_3b.toml). quippy: Potential(param_filename=tests/data/gap/<model>/gap.xml)
forces on the 256-atom Cu cell of the input (rattled 0.05 A), CPU time per evaluation. mdgpu:
the 200-step NVE run of that input (one force evaluation per step), CPU time from the process.
Prints atom-evaluations per CPU second for both and the ratio. Both single-threaded.
"""
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INPUTS = {"soap2": "inputs/gap/cu_gap_soap.toml", "3b1": "inputs/gap/cu_gap_3b.toml"}


def quippy_rate(model, n_eval=10):
    from ase.build import bulk
    from quippy.potential import Potential
    at = bulk("Cu", "fcc", a=3.8, cubic=True).repeat((4, 4, 4))
    at.rattle(0.05, seed=1)
    at.calc = Potential(param_filename=os.path.join(ROOT, "tests/data/gap", model, "gap.xml"))
    at.get_forces()
    t0 = time.process_time()
    for _ in range(n_eval):
        at.positions[0, 0] += 1e-4
        at.get_forces()
    return len(at) * n_eval / (time.process_time() - t0)


def mdgpu_rate(binary, model):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary, "run", os.path.join(ROOT, INPUTS[model]), "--quiet"],
                   check=True, env=env, cwd="/tmp", stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return 256 * 201 / cpu  # 200 steps + the initial evaluation (set-up time included)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/mdgpu")
    model = sys.argv[2] if len(sys.argv) > 2 else "soap2"
    q = quippy_rate(model)
    m = mdgpu_rate(binary, model)
    print("model   %s" % model)
    print("quippy  %.0f atom-evaluations per CPU second" % q)
    print("mdgpu   %.0f atom-steps per CPU second (cpu executor)" % m)
    print("ratio   %.1f" % (m / q))


if __name__ == "__main__":
    main()
