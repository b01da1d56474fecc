#!/usr/bin/env python3
"""Reference fixtures for SchNet (tests/data/schnet): schnetpack itself evaluates the test
model (tests/data/schnet/best_model, made by tools/schnet_make_model.py) in float64 on three
Cu/Au structures and the numbers are written in the shared fixture schema
(mdgpu-reference-fixture/1, writer tools/fixture_schema.py).

    python tools/schnet_fixtures.py            # from the repository root, schnetpack installed

Also writes cuau.schnet.h5 (tools/export_schnetpack.py on best_model) and cuau_values.json (a
few numbers read from the torch module, for the loader test). Energy: the model's output
(postprocessing on: mean·N + atomrefs added). Forces: schnetpack's Forces module (autograd).
Virial: W = -V·stressᵀ with schnetpack's stress (Strain input module, autograd of the energy
with respect to the strain, divided by V); cross-checked here by finite strain. Forces are
cross-checked by central differences of the energy. The checks are printed and stored under
"extra" of each frame.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "data", "schnet")
sys.path.insert(0, HERE)

try:
    import fixture_schema  # tools/fixture_schema.py: the one fixture writer
except ImportError:
    raise SystemExit("schnet_fixtures: needs tools/fixture_schema.py (the shared fixture "
                     "writer); put a checkout that has it on PYTHONPATH")


def structures():
    """(name, note, cell rows in LAMMPS form, symbols, positions), all seeded."""
    rng = np.random.default_rng(12)
    out = []

    # 1. cubic L1_2 Cu3Au, 2x2x2 conventional cells (32 atoms), a = 4.1 A (cell 8.2 > 2 rc).
    a = 4.1
    basis = [(0, 0, 0, "Au"), (0, .5, .5, "Cu"), (.5, 0, .5, "Cu"), (.5, .5, 0, "Cu")]
    pos, sym = [], []
    for i in range(2):
        for j in range(2):
            for k in range(2):
                for bx, by, bz, el in basis:
                    pos.append([(i + bx) * a, (j + by) * a, (k + bz) * a])
                    sym.append(el)
    pos = np.array(pos) + rng.normal(0.0, 0.08, (len(pos), 3))
    cell = np.diag([2 * a] * 3)
    out.append(("cubic_l12", "L1_2 Cu3Au 2x2x2 cells, a = 4.1 A, displaced (sigma 0.08 A)",
                cell, sym, pos))

    # 2. triclinic, random positions (min distance 2.2 A), 30 atoms, widths > 2 rc.
    cell = np.array([[8.9, 0.0, 0.0], [1.1, 8.7, 0.0], [-0.8, 0.9, 8.6]])
    out.append(("triclinic_random", "triclinic cell, 30 atoms at random (min distance 2.2 A)",
                cell, *random_fill(rng, cell, 30, 2.2)))

    # 3. thin along c: 3.1 A < rc, so every atom sees its own images and each pair several times.
    cell = np.array([[8.3, 0.0, 0.0], [0.6, 8.1, 0.0], [0.7, -0.4, 3.1]])
    out.append(("thin_triclinic", "triclinic cell 3.1 A thick along c (< rc = 4 A), 12 atoms at "
                "random (min distance 2.3 A): images interact several times",
                cell, *random_fill(rng, cell, 12, 2.3)))
    return out


def random_fill(rng, cell, n, dmin):
    from ase import Atoms
    pos = []
    while len(pos) < n:
        p = rng.random(3) @ cell
        trial = Atoms("H" * (len(pos) + 1), positions=pos + [p], cell=cell, pbc=True)
        if len(pos) == 0 or trial.get_distances(len(pos), list(range(len(pos) + 1)),
                                                mic=True)[:-1].min() >= dmin:
            # also the atom's own images (thin cells)
            pos.append(p)
    sym = ["Cu" if k % 3 else "Au" for k in range(n)]
    rng.shuffle(sym)
    return sym, np.array(pos)


class Evaluator:
    def __init__(self, model_path):
        import torch
        import schnetpack as spk
        self.torch = torch
        model = torch.load(model_path, map_location="cpu", weights_only=False)
        self.model = model.double()
        self.model.do_postprocessing = True
        self.rc = float(self.model.representation.cutoff_fn.cutoff)
        self.converter = spk.interfaces.AtomsConverter(
            neighbor_list=spk.transform.ASENeighborList(cutoff=self.rc), dtype=torch.float64,
            device="cpu")
        # Per-atom head outputs y_i (before the offsets), captured from the Atomwise network.
        self.captured = {}
        head = [m for m in self.model.output_modules if type(m).__name__ == "Atomwise"][0]
        head.outnet.register_forward_hook(
            lambda mod, inp, out: self.captured.__setitem__("y", out.detach().clone()))

    def __call__(self, atoms):
        inputs = self.converter(atoms)
        out = self.model(inputs)
        e = float(out["energy"].detach().reshape(()))
        f = out["forces"].detach().numpy().reshape(-1, 3).astype(np.float64)
        s = out["stress"].detach().numpy().reshape(3, 3).astype(np.float64)
        y = self.captured["y"].numpy().reshape(-1).astype(np.float64)
        n_pairs = int(inputs["_idx_i"].shape[0])
        return e, f, s, y, n_pairs


def lammps_form(cell):
    c = np.asarray(cell)
    assert c[0, 1] == 0 and c[0, 2] == 0 and c[1, 2] == 0, "cell rows must be in LAMMPS form"
    return c


def main():
    import ase
    from ase import Atoms
    import schnetpack
    import torch

    best = os.path.join(OUT, "best_model")
    model_file = os.path.join(OUT, "cuau.schnet.h5")
    sys.path.insert(0, HERE)
    import export_schnetpack
    import schnet_make_model
    rc_export = export_schnetpack.main([best, model_file, "--species", "Cu,Au",
                                        "--energy-unit", "eV", "--length-unit", "Angstrom"])
    assert rc_export == 0

    ev = Evaluator(best)
    model = ev.model
    offsets = [m for m in model.postprocessors if type(m).__name__ == "AddOffsets"][0]
    atomref = offsets.atomref.detach().numpy()
    mean = float(offsets.mean.detach().reshape(()))

    # A few numbers straight from the torch module for the loader test.
    m32 = torch.load(best, map_location="cpu", weights_only=False)
    rep = m32.representation
    d = lambda t: t.detach().to(torch.float64).numpy().tolist()
    values = {
        "schnetpack": schnetpack.__version__,
        "n_atom_basis": rep.n_atom_basis, "n_filters": rep.n_filters,
        "n_rbf": rep.radial_basis.n_rbf, "n_interactions": len(rep.interactions),
        "cutoff": float(rep.cutoff_fn.cutoff),
        "rbf_centres": d(rep.radial_basis.offsets), "rbf_widths": d(rep.radial_basis.widths),
        "embedding_z79": d(rep.embedding.weight[79]),
        "interaction_last_filter0_weight": d(rep.interactions[-1].filter_network[0].weight),
        "interaction_last_f2out1_bias": d(rep.interactions[-1].f2out[1].bias),
        "head_last_bias": d([m for m in m32.output_modules
                             if type(m).__name__ == "Atomwise"][0].outnet[-1].bias),
        "mean": float(offsets.mean.detach().reshape(())),
        "atomref_cu_au": [float(atomref[29]), float(atomref[79])],
    }
    with open(os.path.join(OUT, "cuau_values.json"), "w") as fh:
        json.dump(values, fh, indent=1)
        fh.write("\n")

    frames = []
    for name, note, cell, sym, pos in structures():
        cell = lammps_form(cell)
        atoms = Atoms(sym, positions=pos, cell=cell, pbc=True)
        atoms.wrap()
        e, f, s, y, n_pairs = ev(atoms)
        vol = abs(np.linalg.det(cell))
        # schnetpack's Strain maps r_a -> r_a + sum_b eps_ab r_b and stress = dE/d eps / V, so
        # V stress_ab = -sum_i f_a r_b; the virial W_ab = sum_i r_a f_b = -V stress_ba.
        virial = -vol * s.T
        z = atoms.get_atomic_numbers()
        e_atom = y + mean + atomref[z]

        # Checks: forces by central differences, virial by finite strain.
        h = 1e-5
        fd_force = 0.0
        for i in range(len(atoms)):
            for k in range(3):
                p = atoms.copy()
                p.positions[i, k] += h
                ep = ev(p)[0]
                p.positions[i, k] -= 2 * h
                em = ev(p)[0]
                fd_force = max(fd_force, abs(-(ep - em) / (2 * h) - f[i, k]))
        fd_vir = 0.0
        for a_ in range(3):
            for b_ in range(3):
                es = []
                for sgn in (1, -1):
                    eps = np.zeros((3, 3))
                    eps[a_, b_] = sgn * h
                    p = atoms.copy()
                    p.set_cell(cell @ (np.eye(3) + eps), scale_atoms=False)
                    p.positions = atoms.positions @ (np.eye(3) + eps)
                    es.append(ev(p)[0])
                fd_vir = max(fd_vir, abs(-(es[0] - es[1]) / (2 * h) - virial[a_, b_]))
        fd_vir_rel = fd_vir / np.abs(virial).max()
        print("{}: {} atoms, {} pairs, E = {!r} eV, sum(e_atom) - E = {:.2e}, |sum F| = {:.2e}, "
              "max|F + dE/dx (central, h=1e-5)| = {:.2e} eV/A, max|W + dE/deps| = {:.2e} eV "
              "(relative {:.2e})".format(name, len(atoms), n_pairs, e, e_atom.sum() - e,
                                         np.abs(f.sum(axis=0)).max(), fd_force, fd_vir,
                                         fd_vir_rel))
        frames.append({
            "name": name, "note": note, "pbc": [True, True, True], "origin": [0.0, 0.0, 0.0],
            "cell": cell.tolist(), "species": list(atoms.get_chemical_symbols()),
            "positions": atoms.positions.tolist(), "energy": e,
            "atom_energies": e_atom.tolist(), "forces": f.tolist(),
            "virial": virial.reshape(-1).tolist(),
            "extra": {"n_pairs": n_pairs, "fd_force_max_error": fd_force,
                      "fd_virial_max_error": fd_vir},
        })

    doc = {
        "producer": {
            "script": "tools/schnet_fixtures.py", "package": "schnetpack",
            "version": schnetpack.__version__,
            "method": "model.double() with do_postprocessing (mean N + atomrefs), "
                      "AtomsConverter + ASENeighborList(cutoff) in float64 (torch {}, ase {}); "
                      "forces and stress by schnetpack's Forces module (autograd; Strain input "
                      "module), virial = -V stress^T; atom_energies = Atomwise per-atom output + "
                      "mean + atomref".format(torch.__version__, ase.__version__),
        },
        "model": {"style": "schnet", "type_map": ["Cu", "Au"],
                  "files": {"model": "tests/data/schnet/cuau.schnet.h5",
                            "best_model": "tests/data/schnet/best_model"},
                  "params": schnet_make_model.PARAMS},
        "units": "metal",
        "frames": frames,
    }
    fixture_schema.write(os.path.join(OUT, "cuau.json"), doc)
    print("schnet_fixtures: wrote", os.path.join(OUT, "cuau.json"))


if __name__ == "__main__":
    main()
