#!/usr/bin/env python3
"""Fits the small GAP models the mdgpu tests use (tests/data/gap/<model>/gap.xml + sparseX
files) with quippy-ase's gap_fit, on EMT (ASE) labels of rattled Cu/Al fcc cells.

    python -m venv /work/venvs/gap && /work/venvs/gap/bin/pip install quippy-ase==0.10.3 ase
    /work/venvs/gap/bin/python tools/gap_make_models.py            # all models (~2-4 min)
    /work/venvs/gap/bin/python tools/gap_make_models.py 2b soap2   # some

Models (two species, Al Z=13 and Cu Z=29; e0 given explicitly so the e0 table is tested):
  2b         distance_2b per species pair (add_species), ard_se
  soap2      2b + soap (n_max 3, l_max 3, per-centre-species descriptors), dot_product zeta 2
  soap4      2b + soap, zeta 4, central_weight 0.7 (tests the central-atom term)
  so4        2b + bispectrum_so4 (j_max 3), ard_se
  3b1        one species (Cu only, its own training set): 2b + angle_3b without species
             filters (Z = Z1 = Z2 = 0 in the XML), cutoff 4.2 > the 2b's 4.0, ard_se
  3b2        two species: 2b + angle_3b per (centre, neighbour pair) species (add_species: six
             descriptors, Z1 != Z2 among them), ard_se
  3b0        two species: 2b + one angle_3b with Z1 = 0 (any), Z2 = 13 (Al), any centre: the
             neighbour pairs with at least one Al (a pair matching both ways counts once)
The sparse sets are small (the stored files stay a few tens of KB each). The fitted numbers
are whatever gap_fit produces: the fixtures (tools/gap_fixtures.py) hold the reference
predictions of these exact files, so a refit requires regenerating the fixtures.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.io import write

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "gap")

TWO_B = ("distance_2b cutoff=4.0 cutoff_transition_width=1.0 covariance_type=ard_se "
         "delta=0.5 theta_uniform=1.0 sparse_method=uniform n_sparse=12 add_species=T")
SOAP = ("soap cutoff=4.0 cutoff_transition_width=1.0 n_max=3 l_max=3 atom_sigma=0.5 "
        "covariance_type=dot_product delta=0.2 n_sparse=16 sparse_method=random add_species=T")
ANGLE_3B = ("angle_3b covariance_type=ard_se delta=0.05 theta_uniform=1.0 n_sparse=20 "
            "sparse_method=random")
MODELS = {
    "2b": "{" + TWO_B + "}",
    "soap2": "{" + TWO_B + " : " + SOAP + " zeta=2}",
    "soap4": "{" + TWO_B + " : " + SOAP + " zeta=4 central_weight=0.7}",
    "so4": "{" + TWO_B + " : bispectrum_so4 cutoff=4.0 cutoff_transition_width=1.0 j_max=3 "
           "z0_ratio=0.3 covariance_type=ard_se delta=0.1 theta_uniform=1.0 n_sparse=16 "
           "sparse_method=random add_species=T}",
    "3b1": "{" + TWO_B + " : " + ANGLE_3B + " cutoff=4.2 cutoff_transition_width=0.8 add_species=F}",
    "3b2": "{" + TWO_B + " : " + ANGLE_3B + " cutoff=4.0 cutoff_transition_width=1.0 add_species=T}",
    "3b0": "{" + TWO_B + " : " + ANGLE_3B + " cutoff=4.0 cutoff_transition_width=1.0 add_species=F "
           "Z1=0 Z2=13}",
}
# models fitted on one species (Cu): the training set's Al atoms become Cu
ONE_SPECIES = {"3b1"}


def training_set(seed=7, n=24, one_species=False):
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        a = 3.75 + 0.2 * rng.random()
        at = bulk("Cu", "fcc", a=a, cubic=True).repeat((2, 1, 1))  # 8 atoms
        z = np.where(rng.random(len(at)) < 0.4, 13, 29)
        at.set_atomic_numbers(np.full(len(at), 29) if one_species else z)
        at.rattle(stdev=0.08 + 0.05 * rng.random(), seed=int(rng.integers(1 << 30)))
        at.calc = EMT()
        e = at.get_potential_energy()
        f = at.get_forces()
        at.calc = None
        at.info["energy"] = e
        at.arrays["forces"] = f
        frames.append(at)
    return frames


def fit(name, gap, train_file, e0="{Al:-0.25:Cu:-0.5}"):
    dest = os.path.join(OUT, name)
    work = tempfile.mkdtemp(prefix="gapfit_")
    args = ["gap_fit", "at_file=" + train_file, "gap=" + gap,
            "e0=" + e0, "default_sigma={0.002 0.02 0.0 0.0}",
            "energy_parameter_name=energy", "force_parameter_name=forces",
            "sparse_jitter=1e-8", "rnd_seed=11", "do_copy_at_file=F",
            "sparse_separate_file=T", "gp_file=gap.xml"]
    print("gap_fit", name, file=sys.stderr)
    subprocess.run(args, cwd=work, check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    for f in os.listdir(work):
        if f.startswith("gap.xml"):
            shutil.copy(os.path.join(work, f), dest)
    shutil.rmtree(work)


def main():
    names = sys.argv[1:] or list(MODELS)
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="gaptrain_")
    train = os.path.join(tmp, "train.xyz")
    write(train, training_set(), format="extxyz")
    train1 = os.path.join(tmp, "train_cu.xyz")
    write(train1, training_set(one_species=True), format="extxyz")
    for n in names:
        if n in ONE_SPECIES:
            fit(n, MODELS[n], train1, e0="{Cu:-0.5}")
        else:
            fit(n, MODELS[n], train)
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
