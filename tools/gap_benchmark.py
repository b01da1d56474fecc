#!/usr/bin/env python3
"""CPU comparison of mdgpu's GAP with quippy on one structure and one core.

    OMP_NUM_THREADS=1 /work/venvs/gap/bin/python tools/gap_benchmark.py [build/mdgpu]

quippy: Potential(param_filename=tests/data/gap/soap2/gap.xml) forces on the 256-atom Cu
cell of inputs/gap/cu_gap_soap.toml (rattled 0.05 A), CPU time per evaluation. mdgpu: the
200-step NVE run of that input (one force evaluation per step), CPU time from the process.
Prints atom-evaluations per CPU second for both and the ratio. Both single-threaded.
"""
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def quippy_rate(n_eval=10):
    from ase.build import bulk
    from quippy.potential import Potential
    at = bulk("Cu", "fcc", a=3.8, cubic=True).repeat((4, 4, 4))
    at.rattle(0.05, seed=1)
    at.calc = Potential(param_filename=os.path.join(ROOT, "tests/data/gap/soap2/gap.xml"))
    at.get_forces()
    t0 = time.process_time()
    for _ in range(n_eval):
        at.positions[0, 0] += 1e-4
        at.get_forces()
    return len(at) * n_eval / (time.process_time() - t0)


def mdgpu_rate(binary):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run([binary, "run", os.path.join(ROOT, "inputs/gap/cu_gap_soap.toml"), "--quiet"],
                   check=True, env=env, cwd="/tmp", stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return 256 * 201 / cpu  # 200 steps + the initial evaluation (set-up time included)


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "build/mdgpu")
    q = quippy_rate()
    m = mdgpu_rate(binary)
    print("quippy  %.0f atom-evaluations per CPU second" % q)
    print("mdgpu   %.0f atom-steps per CPU second (cpu executor)" % m)
    print("ratio   %.1f" % (m / q))


if __name__ == "__main__":
    main()
