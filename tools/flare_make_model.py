"""Train small FLARE sparse-GP models with mir-flare's own API and map them for LAMMPS.

Each case trains an SGP (B2 descriptor, Chebyshev radial basis, two species Cu/Ag, per-pair
cutoffs) on ASE EMT labels of rattled CuAg fcc cells, then calls the package's
SGP_Calculator.build_map("lmp.flare"), which writes lmp.flare, L_inv_lmp.flare and
sparse_desc_lmp.flare into tests/data/flare/<case>/. Used by tools/flare_fixtures.py (which
also evaluates the test frames); run that script, not this one, to regenerate fixtures.

Environment: Python 3.10 venv with mir-flare 1.4.0 built offline (tools/flare_requirements.txt).
"""

import os

import numpy as np
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT

from flare.bffs.sgp import SGP_Wrapper
from flare.bffs.sgp.calculator import SGP_Calculator
from flare.bffs.sgp._C_flare import B2, DotProduct, NormalizedDotProduct

SPECIES = ["Cu", "Ag"]
NUMBERS = [29, 47]
# (central, neighbour) cutoffs, Angstrom; lmp.flare keeps 2 decimals, so these are exact there.
CUTOFFS = np.array([[4.5, 4.7], [4.9, 5.1]])
SINGLE_ATOM_ENERGIES = {0: -0.25, 1: -0.4}

# name: kernel, power, cutoff function, n_max, l_max, sigma
CASES = {
    "p2_quadratic": ("NormalizedDotProduct", 2, "quadratic", 3, 3, 2.0),
    "p1_cosine": ("NormalizedDotProduct", 1, "cosine", 3, 3, 2.0),
    "dot_p2_quadratic": ("DotProduct", 2, "quadratic", 3, 2, 0.05),
    "dot_p1_cosine": ("DotProduct", 1, "cosine", 3, 2, 0.5),
}


def training_frames(seed=20261130, count=3):
    """Rattled 2x2x2 fcc CuAg cells (32 atoms) with EMT energies and forces."""
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(count):
        a = bulk("Cu", "fcc", a=3.75, cubic=True).repeat((2, 2, 2))
        nums = rng.choice(NUMBERS, size=len(a))
        a.set_atomic_numbers(nums)
        a.rattle(stdev=0.08 + 0.04 * k, seed=int(rng.integers(1 << 30)))
        a.calc = EMT()
        frames.append((a, a.get_potential_energy(), a.get_forces()))
    return frames


def build_sgp(case):
    kernel_name, power, cutoff_fn, n_max, l_max, sigma = CASES[case]
    if kernel_name == "NormalizedDotProduct":
        kernel = NormalizedDotProduct(sigma, power)
    else:
        kernel = DotProduct(sigma, power)
    rc = float(CUTOFFS.max())
    desc = B2("chebyshev", cutoff_fn, [0.0, rc], [], [len(SPECIES), n_max, l_max], CUTOFFS)
    sgp = SGP_Wrapper(
        kernels=[kernel],
        descriptor_calculators=[desc],
        cutoff=rc,
        sigma_e=0.01,
        sigma_f=0.05,
        sigma_s=0.01,
        species_map={29: 0, 47: 1},
        variance_type="local",
        single_atom_energies=SINGLE_ATOM_ENERGIES,
        energy_training=True,
        force_training=True,
        stress_training=False,
        max_iterations=0,
    )
    rng = np.random.default_rng(11)
    for atoms, energy, forces in training_frames():
        # 12 sparse environments per frame (keeps the uncertainty files small)
        sparse = sorted(int(k) for k in rng.choice(len(atoms), size=12, replace=False))
        sgp.update_db(atoms, forces, custom_range=sparse, energy=energy, mode="specific")
    sgp.sparse_gp.update_matrices_QR()
    # keep the kernel and descriptor referenced for the life of the model (the C++ SGP
    # holds raw pointers to them)
    return sgp, (kernel, desc)


def make_model(case, out_root):
    """Trains the case and writes its mapped files; returns (calculator, keep-alive refs)."""
    sgp, keep = build_sgp(case)
    calc = SGP_Calculator(sgp)
    out = os.path.join(out_root, case)
    os.makedirs(out, exist_ok=True)
    here = os.getcwd()
    os.chdir(out)  # build_map names the uncertainty files by prefixing the file name
    try:
        calc.build_map("lmp.flare", contributor="mdgpu tools/flare_make_model.py")
    finally:
        os.chdir(here)
    return calc, keep


if __name__ == "__main__":
    import sys
    root = sys.argv[1] if len(sys.argv) > 1 else "tests/data/flare"
    for c in CASES:
        make_model(c, root)
        print("wrote", os.path.join(root, c))
