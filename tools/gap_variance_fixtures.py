#!/usr/bin/env python3
"""Reference fixture for GAP's per-atom predictive variance (tests/data/gap/<model>_variance.json,
schema mdgpu-reference-fixture/1 via tools/fixture_schema.py): quippy-ase's
`local_gap_variance` (calc_args="local_gap_variance", default gap_variance_regularisation
0.001) in each frame's `extra`, with energy, forces and virial of the same call.

    /work/venvs/gap/bin/python tools/gap_variance_fixtures.py [2b soap2 soap4 3b1 3b2 3b0 so4]

Frames: the ones of tools/gap_fixtures.py (fcc 108, triclinic 108, thin 32 atoms; Al/Cu).
Convention checked in numpy by tools/gap_variance_reference.py (distance_2b, angle_3b, soap, bispectrum_so4).
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import fixture_schema  # noqa: E402
from gap_fixtures import A0, ONE_SPECIES, frames  # noqa: E402

REGULARISATION = 0.001  # quippy's default gap_variance_regularisation


def evaluate(xml, at):
    from quippy.potential import Potential
    at = at.copy()
    pot = Potential(param_filename=xml, calc_args="local_gap_variance")
    at.calc = pot
    e = at.get_potential_energy()
    f = at.get_forces()
    v = pot.get_virial(at)
    var = np.array(pot.extra_results["atoms"]["local_gap_variance"], dtype=float)
    return e, f, np.asarray(v).reshape(3, 3), var


def main():
    import quippy
    models = sys.argv[1:] or ["2b", "soap2", "soap4", "3b1", "3b2", "3b0", "so4"]
    for m in models:
        rel = "tests/data/gap/{}/gap.xml".format(m)
        one = m in ONE_SPECIES
        fr = []
        for name, at in frames(one):
            e, f, v, var = evaluate(os.path.join(ROOT, rel), at)
            fr.append({
                "name": name,
                "note": "{} fcc a={} rattled 0.1 A, model {}".format("Cu" if one else "Al/Cu", A0, m),
                "pbc": [True, True, True],
                "origin": [0.0, 0.0, 0.0],
                "cell": np.array(at.cell).tolist(),
                "species": at.get_chemical_symbols(),
                "positions": at.positions.tolist(),
                "energy": float(e),
                "forces": f.tolist(),
                "virial": [float(x) for x in v.reshape(-1)],
                "extra": {"local_gap_variance": [float(x) for x in var],
                          "gap_variance_regularisation": REGULARISATION},
            })
        doc = {
            "producer": {"script": "tools/gap_variance_fixtures.py", "package": "quippy-ase",
                         "version": getattr(quippy, "__version__", "0.10.3"),
                         "method": "quippy.potential.Potential(param_filename=gap.xml, "
                                   "calc_args=\"local_gap_variance\") as ASE calculator: "
                                   "extra_results['atoms']['local_gap_variance'] per atom (eV^2)"},
            "model": {"style": "gap", "type_map": ["Cu"] if one else ["Al", "Cu"],
                      "files": {"xml": rel}},
            "units": "metal",
            "frames": fr,
        }
        out = os.path.join(ROOT, "tests/data/gap/{}_variance.json".format(m))
        fixture_schema.write(out, doc)
        print(out, ["%.4e..%.4e" % (min(x["extra"]["local_gap_variance"]),
                                    max(x["extra"]["local_gap_variance"])) for x in fr])


if __name__ == "__main__":
    main()
