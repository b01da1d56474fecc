#!/usr/bin/env python3
"""Reference fixtures for HIP-NN (tests/data/hipnn): hippynn itself evaluates the two test
models (tests/data/hipnn/{resnet,plain}, training directories made by
tools/hipnn_make_model.py) in float64 on three Cu/Au structures; the numbers are written in the
shared fixture schema (mdgpu-reference-fixture/1, writer tools/fixture_schema.py).

    python tools/hipnn_fixtures.py            # from the repository root, hippynn installed
    python tools/hipnn_fixtures.py plain      # one variant's fixture only (no export, no values)

Also writes {resnet,plain}.hipnn.h5 (tools/export_hippynn.py on each directory) and
hipnn_values.json (a few numbers read from the torch modules, for the loader test).
Evaluation: hippynn's ASE calculator (hippynn.interfaces.ase_interface.HippynnCalculator on
the model's HEnergy node, en_unit = dist_unit = 1: the model's own eV and Å) moved to float64.
Energy and forces: the calculator's (forces by autograd). Virial: W = -V * stress with the
calculator's stress (StressForceNode: dE/d(strain) / V, positions and cell both strained as
r -> r (1 + strain)); cross-checked here by finite strain. Per-atom energies: the HEnergy
per-atom output (sum of the per-layer heads, captured with forward hooks), which sum to E;
the per-layer totals go under "extra". Forces (atoms 0 and N/2 of each frame) and the
virial (all components, finite strain) are cross-checked by central differences.
"""

import json
import os
import sys
import warnings

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "data", "hipnn")
sys.path.insert(0, HERE)

import fixture_schema  # tools/fixture_schema.py: the one fixture writer

VARIANTS = ("resnet", "plain")


def structures():
    """(name, note, cell rows in LAMMPS form, symbols, positions), all seeded."""
    rng = np.random.default_rng(13)
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
    out.append(("cubic_l12", "L1_2 Cu3Au 2x2x2 cells, a = 4.1 A, displaced (sigma 0.08 A)",
                np.diag([2 * a] * 3), sym, pos))

    # 2. triclinic, random positions (min distance 2.2 A), 30 atoms, widths > 2 rc.
    cell = np.array([[8.9, 0.0, 0.0], [1.1, 8.7, 0.0], [-0.8, 0.9, 8.6]])
    out.append(("triclinic_random", "triclinic cell, 30 atoms at random (min distance 2.2 A)",
                cell, *random_fill(rng, cell, 30, 2.2)))

    # 3. thin along c: 3.1 A < rc, so every atom sees its own images and each pair several times.
    cell = np.array([[8.3, 0.0, 0.0], [0.6, 8.1, 0.0], [0.7, -0.4, 3.1]])
    out.append(("thin_triclinic", "triclinic cell 3.1 A thick along c (< rc = 4 A), 10 atoms at "
                "random (min distance 2.1 A, own images included): images interact several times",
                cell, *random_fill(rng, cell, 10, 2.1)))
    return out


def random_fill(rng, cell, n, dmin):
    """n random positions at least dmin apart, periodic images (also an atom's own) included."""
    inv = np.linalg.inv(cell)
    shifts = np.array([[a, b, c] for a in range(-2, 3) for b in range(-2, 3)
                       for c in range(-2, 3)]) @ cell
    pos = []
    while len(pos) < n:
        p = rng.random(3) @ cell
        ok = True
        for q in pos + [p]:
            d = np.linalg.norm(p - q + shifts, axis=1)
            if q is p:
                d = d[np.linalg.norm(shifts, axis=1) > 0]
            if d.min() < dmin:
                ok = False
                break
        if ok:
            pos.append(p)
    sym = ["Cu" if k % 3 else "Au" for k in range(n)]
    rng.shuffle(sym)
    del inv
    return sym, np.array(pos)


def brute_force_pairs(cell, x, rc):
    """Number of ordered pairs (i, image of j) with 0 < r < rc over all images."""
    vol = abs(np.linalg.det(cell))
    m = []
    for d in range(3):
        nrm = np.cross(cell[(d + 1) % 3], cell[(d + 2) % 3])
        m.append(int(np.ceil(rc / (vol / np.linalg.norm(nrm)))) + 1)
    count = 0
    for a in range(-m[0], m[0] + 1):
        for b in range(-m[1], m[1] + 1):
            for c in range(-m[2], m[2] + 1):
                t = a * cell[0] + b * cell[1] + c * cell[2]
                d = np.linalg.norm(x[None, :, :] + t - x[:, None, :], axis=2)
                count += int(((d > 0) & (d < rc)).sum())
    return count


class Evaluator:
    """hippynn's ASE calculator on a training directory's model, float64, eV and Å."""

    def __init__(self, directory):
        import torch
        import export_hippynn
        from hippynn.interfaces.ase_interface import HippynnCalculator
        self.torch = torch
        model, _, _ = export_hippynn.load_training_dir(directory)
        energy, net, _, _ = export_hippynn.find_nodes(model, None)
        self.energy_node, self.net = energy, net
        self.calc = HippynnCalculator(energy, en_unit=1.0, dist_unit=1.0)
        self.calc.to(torch.float64)
        self.rc = float(net.torch_module.dist_hard_max)
        # Per-layer per-atom energies and the pair count, captured by forward hooks.
        self.captured = {}
        for k, lay in enumerate(energy.torch_module.layers):
            lay.register_forward_hook(
                lambda mod, inp, out, k=k: self.captured.__setitem__(k, out.detach().clone()))
        net.torch_module.register_forward_hook(
            lambda mod, inp, out: self.captured.__setitem__("pairs", int(inp[1].shape[0])))

    def __call__(self, atoms):
        self.captured.clear()
        a = atoms.copy()
        a.calc = self.calc
        self.calc.calculate(a)
        r = self.calc.results
        e = float(r["potential_energy"])
        f = np.asarray(r["forces"], dtype=np.float64).reshape(-1, 3)
        s = np.asarray(r["stress"], dtype=np.float64).reshape(3, 3)
        n_heads = len(self.energy_node.torch_module.layers)
        per_layer = np.stack([self.captured[k].numpy().reshape(-1) for k in range(n_heads)])
        return e, f, s, per_layer, self.captured["pairs"]

    def energy(self, atoms):
        return self(atoms)[0]


def check_derivatives(ev, atoms, cell, f, virial):
    """Central differences (h = 1e-5) of the energy: forces of atoms 0 and N/2 (the engine's
    test ladder checks every model force by finite differences itself) and all nine virial
    components by finite strain."""
    h = 1e-5
    fd_force = 0.0
    for i in (0, len(atoms) // 2):
        for k in range(3):
            p = atoms.copy()
            p.positions[i, k] += h
            ep = ev.energy(p)
            p.positions[i, k] -= 2 * h
            em = ev.energy(p)
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
                es.append(ev.energy(p))
            fd_vir = max(fd_vir, abs(-(es[0] - es[1]) / (2 * h) - virial[a_, b_]))
    return fd_force, fd_vir


def module_values(directory):
    """A few numbers straight from the torch modules (float32 upcast), for the loader test."""
    import torch
    import export_hippynn
    model, _, _ = export_hippynn.load_training_dir(directory)
    energy, net, _, _ = export_hippynn.find_nodes(model, None)
    mod = net.torch_module
    d = lambda t: t.detach().to(torch.float64).reshape(-1).numpy().tolist()
    first = mod.blocks[-1][0]
    base = first.base_layer if mod.resnet else first
    return {
        "feature_sizes": [int(s) for s in mod.feature_sizes],
        "n_sensitivities": int(mod.n_sensitivities),
        "n_atom_layers": int(mod.n_layers_per_block),
        "resnet": bool(mod.resnet),
        "rc": float(mod.dist_hard_max),
        "last_mu": d(base.sensitivity.mu),
        "last_sigma": d(base.sensitivity.sigma),
        # torch's int_weights[nu][o][f] as stored by torch (flattened)
        "last_int_weights_shape": list(base.int_weights.shape),
        "last_int_weights": d(base.int_weights),
        "last_selfint_bias": d(base.selfint.bias),
        "head0_weight": d(energy.torch_module.layers[0].weight),
        "last_head_bias": d(energy.torch_module.layers[-1].bias),
    }


def main():
    import ase
    from ase import Atoms
    import hippynn
    import torch
    import export_hippynn
    import hipnn_make_model

    warnings.filterwarnings("ignore")
    torch.set_num_threads(1)
    only = sys.argv[1:]
    for variant in only:
        if variant not in VARIANTS:
            raise SystemExit("hipnn_fixtures: unknown variant " + variant)
    values = {"hippynn": hippynn.__version__}
    for variant in ([] if only else VARIANTS):
        directory = os.path.join(OUT, variant)
        rc = export_hippynn.main([directory, os.path.join(OUT, variant + ".hipnn.h5"),
                                  "--energy-unit", "eV", "--length-unit", "Angstrom"])
        assert rc == 0
        values[variant] = module_values(directory)
    if not only:
        with open(os.path.join(OUT, "hipnn_values.json"), "w") as fh:
            json.dump(values, fh, indent=1)
            fh.write("\n")

    for variant in only or VARIANTS:
        ev = Evaluator(os.path.join(OUT, variant))
        frames = []
        for name, note, cell, sym, pos in structures():
            assert cell[0, 1] == 0 and cell[0, 2] == 0 and cell[1, 2] == 0, "LAMMPS form"
            atoms = Atoms(sym, positions=pos, cell=cell, pbc=True)
            atoms.wrap()
            e, f, s, per_layer, n_pairs = ev(atoms)
            vol = abs(np.linalg.det(cell))
            # r -> r (1 + strain) (row vectors): dE/d strain_ab = -sum_i r_a f_b = -W_ab.
            virial = -vol * s
            e_atom = per_layer.sum(axis=0)
            n_brute = brute_force_pairs(np.asarray(cell), atoms.positions, ev.rc)
            assert n_pairs == n_brute, (n_pairs, n_brute)
            fd_force, fd_vir = check_derivatives(ev, atoms, cell, f, virial)
            print(flush=True)
            print("{} {}: {} atoms, {} pairs (brute force {}), E = {!r} eV, sum(e_atom) - E = "
                  "{:.2e}, |sum F| = {:.2e}, max|F + dE/dx (central, h=1e-5)| = {:.2e} eV/A, "
                  "max|W + dE/deps| = {:.2e} eV (relative {:.2e})".format(
                      variant, name, len(atoms), n_pairs, n_brute, e, e_atom.sum() - e,
                      np.abs(f.sum(axis=0)).max(), fd_force, fd_vir,
                      fd_vir / np.abs(virial).max()))
            frames.append({
                "name": name, "note": note, "pbc": [True, True, True],
                "origin": [0.0, 0.0, 0.0], "cell": np.asarray(cell).tolist(),
                "species": list(atoms.get_chemical_symbols()),
                "positions": atoms.positions.tolist(), "energy": e,
                "atom_energies": e_atom.tolist(), "forces": f.tolist(),
                "virial": virial.reshape(-1).tolist(),
                "extra": {"n_pairs": n_pairs,
                          "layer_energies": [float(x) for x in per_layer.sum(axis=1)],
                          "fd_force_max_error": fd_force, "fd_virial_max_error": fd_vir},
            })
        doc = {
            "producer": {
                "script": "tools/hipnn_fixtures.py", "package": "hippynn",
                "version": hippynn.__version__,
                "method": "hippynn's ASE calculator (HippynnCalculator on the HEnergy node, "
                          "en_unit = dist_unit = 1) in float64 (torch {}, ase {}); forces and "
                          "stress by its StressForceNode (autograd), virial = -V stress; "
                          "atom_energies = HEnergy per-atom output (sum of the layer heads); "
                          "extra.layer_energies = per-head totals".format(torch.__version__,
                                                                        ase.__version__),
            },
            "model": {"style": "hipnn", "type_map": ["Cu", "Au"],
                      "files": {"model": "tests/data/hipnn/{}.hipnn.h5".format(variant),
                                "training_dir": "tests/data/hipnn/{}".format(variant)},
                      "params": dict(hipnn_make_model.VARIANTS[variant],
                                     training=hipnn_make_model.TRAINING)},
            "units": "metal",
            "frames": frames,
        }
        path = os.path.join(OUT, variant + ".json")
        fixture_schema.write(path, doc)
        print("hipnn_fixtures: wrote", path)


if __name__ == "__main__":
    main()
