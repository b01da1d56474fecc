#!/usr/bin/env python3
"""Reference fixtures for the GAP tests (tests/data/gap/<model>.json, schema
mdgpu-reference-fixture/1 via tools/fixture_schema.py): energies, local energies, forces and
virial that quippy-ase computes for the models of tools/gap_make_models.py.

    /work/venvs/gap/bin/python tools/gap_fixtures.py          # all models in tests/data/gap/

Evaluation: quippy.potential.Potential(param_filename=gap.xml) as an ASE calculator (the
bundled `quip` binary crashes). Virial = QUIP's `virial` (W_ab = sum r_a f_b = -dE/de_ab, the
LAMMPS sign). Local energies are QUIP's local_energy. Frames (Al/Cu, seeded rattles):
  fcc       cubic 3x3x3 fcc cell (108 atoms, edge 11.4 A > 2 rc)
  triclinic the same with tilts xy 0.4, xz 0.6, yz -0.5 A (LAMMPS form)
  thin      cubic 2x2x2 cell (32 atoms, edge 7.6 A < 2 rc = 8 A: several images per pair)
Models fitted on one species (tools/gap_make_models.py ONE_SPECIES: 3b1) get the same frames
with every atom Cu (the same random draws, so the positions are the same).
The reference is noisy at ~1e-10 eV (large alternating alphas cancel; see the notes).
"""
import os
import sys

import numpy as np
from ase.build import bulk

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import fixture_schema  # noqa: E402

A0 = 3.8
ONE_SPECIES = {"3b1"}


def frames(one_species=False):
    rng = np.random.default_rng(2026)
    out = []
    for name, rep, tilt in (("fcc", 3, None), ("triclinic", 3, (0.4, 0.6, -0.5)),
                            ("thin", 2, None)):
        at = bulk("Cu", "fcc", a=A0, cubic=True).repeat((rep, rep, rep))
        if tilt is not None:
            xy, xz, yz = tilt
            cell = np.array(at.cell)
            cell[1, 0] += xy
            cell[2, 0] += xz
            cell[2, 1] += yz
            at.set_cell(cell, scale_atoms=True)
        at.set_atomic_numbers(np.where(rng.random(len(at)) < 0.4, 13, 29))
        if one_species:
            at.set_atomic_numbers(np.full(len(at), 29))
        at.positions += rng.normal(scale=0.1, size=at.positions.shape)
        at.wrap()
        out.append((name, at))
    return out


def evaluate(xml, at):
    from quippy.potential import Potential
    at = at.copy()
    pot = Potential(param_filename=xml)
    at.calc = pot
    e = at.get_potential_energy()
    f = at.get_forces()
    ea = at.get_potential_energies()
    v = pot.get_virial(at)
    return e, f, ea, np.asarray(v).reshape(3, 3)


def main():
    import quippy
    models = sys.argv[1:] or sorted(d for d in os.listdir(os.path.join(ROOT, "tests/data/gap"))
                                    if os.path.isfile(os.path.join(ROOT, "tests/data/gap", d, "gap.xml")))
    for m in models:
        rel = "tests/data/gap/{}/gap.xml".format(m)
        fr = []
        one = m in ONE_SPECIES
        for name, at in frames(one):
            e, f, ea, v = evaluate(os.path.join(ROOT, rel), at)
            fr.append({
                "name": name,
                "note": "{} fcc a={} rattled 0.1 A, model {}".format("Cu" if one else "Al/Cu", A0, m),
                "pbc": [True, True, True],
                "origin": [0.0, 0.0, 0.0],
                "cell": np.array(at.cell).tolist(),
                "species": at.get_chemical_symbols(),
                "positions": at.positions.tolist(),
                "energy": float(e),
                "atom_energies": [float(x) for x in ea],
                "forces": f.tolist(),
                "virial": [float(x) for x in v.reshape(-1)],
            })
        doc = {
            "producer": {"script": "tools/gap_fixtures.py", "package": "quippy-ase",
                         "version": getattr(quippy, "__version__", "0.10.3"),
                         "method": "quippy.potential.Potential(param_filename=gap.xml) as ASE "
                                   "calculator: energy, local_energy, forces, virial"},
            "model": {"style": "gap", "type_map": ["Cu"] if one else ["Al", "Cu"],
                      "files": {"xml": rel}},
            "units": "metal",
            "frames": fr,
        }
        out = os.path.join(ROOT, "tests/data/gap/{}.json".format(m))
        fixture_schema.write(out, doc)
        print(out, [round(x["energy"], 6) for x in fr])


if __name__ == "__main__":
    main()
