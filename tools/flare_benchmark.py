"""Time mir-flare's own evaluator (SGP_Calculator: the GP mean, forces, stress and local
uncertainties in the package's C++ through pybind11) on the structure of
inputs/flare/cuag_nvt.toml (L1_0 CuAg, 4x4x4 fcc cells, 256 atoms, a = 3.85 A) with the
p2_quadratic model of tools/flare_make_model.py, for the benchmark row next to mdgpu's
`mdgpu run inputs/flare/cuag_nvt.toml` (its "Loop time ... atom-steps/s" line).

Run (venv of tools/flare_requirements.txt): OMP_NUM_THREADS=1 python tools/flare_benchmark.py
Prints CPU (process) and wall seconds per evaluation and atom-evaluations per second.
"""
import os
import sys
import tempfile
import time

import numpy as np
from ase.build import bulk

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import flare_make_model as fm  # noqa: E402


def main(repeats=5):
    tmp = tempfile.mkdtemp()
    calc, keep = fm.make_model("p2_quadratic", tmp)
    at = bulk("Cu", "fcc", a=3.85, cubic=True).repeat((4, 4, 4))
    # basis sites 0, 1 Cu and 2, 3 Ag in every cell (mdgpu's lattice elements = [Cu, Cu, Ag, Ag])
    at.set_atomic_numbers([29 if k % 4 < 2 else 47 for k in range(len(at))])
    rng = np.random.default_rng(1)
    at.positions += rng.normal(scale=0.05, size=at.positions.shape)
    at.calc = calc
    calc.calculate(at)  # warm-up
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(repeats):
        calc.calculate(at)
    cpu = (time.process_time() - c0) / repeats
    wall = (time.perf_counter() - w0) / repeats
    print("mir-flare SGP_Calculator, {} atoms: {:.3f} s CPU, {:.3f} s wall per evaluation; "
          "{:.0f} atom-evaluations/s (CPU), {:.0f} (wall)".format(
              len(at), cpu, wall, len(at) / cpu, len(at) / wall))
    del calc, keep


if __name__ == "__main__":
    main()
