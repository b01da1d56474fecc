"""Reference fixtures for mdgpu's FLARE model (tests/data/flare/<case>.json) from mir-flare.

For each case of tools/flare_make_model.py: train the SGP with the package's API, write the
mapped files (build_map), and evaluate two test frames (a triclinic cell and a cell thinner
than 2 rc, CuAg, rattled) in the package:

* reference numbers ("energy", "atom_energies", "forces", "virial", "atom_virials"): the mapped
  model of lmp.flare as LAMMPS pair_style flare defines it, evaluated with the package's own
  B2 descriptors and their position derivatives (flare Structure / B2 from _C_flare; the
  descriptor is computed with the cutoffs read back from lmp.flare) and the coefficients read
  from lmp.flare: E_i = e0 + B.beta.B/|B|^2 (power 2; power 1: beta.B/|B|; DotProduct:
  unnormalised), F and the virial from dE_i/dB_i . dB_i/dr_j. mir-flare's mapped evaluation
  itself is LAMMPS-only (pair_style flare is not in this environment's LAMMPS).
* "extra": the GP's own prediction (SGP_Calculator: energy, forces, virial) and the maximum
  differences to the mapped numbers, and the package's per-atom uncertainty (variance_type
  "local": stds[:, 0] = sqrt(variance) / sigma), with the variance itself.

Run (venv of tools/flare_requirements.txt):  python tools/flare_fixtures.py
"""

import json
import os
import sys

import numpy as np
from ase.build import bulk

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_schema  # noqa: E402
import flare_make_model as fm  # noqa: E402

from flare.bffs.sgp._C_flare import B2, Structure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "tests", "data", "flare")


def read_lmp_flare(path):
    """The fields of an lmp.flare file (independent of the package's writer)."""
    with open(path) as fh:
        lines = fh.read().split("\n")
    power, kernel = lines[1].split()
    radial = lines[2].split()[0]
    S, N, L, size = (int(x) for x in lines[3].split())
    cutfn = lines[4].split()[0]
    cut = np.array([float(x) for x in lines[5].split()]).reshape(S, S)
    vals = np.array([float(x) for x in " ".join(lines[6:]).split()])
    assert vals.size == S * size, (vals.size, S, size)
    return dict(power=int(power), kernel=kernel, radial=radial, S=S, N=N, L=L, size=size,
                cutoff_function=cutfn, cutoffs=cut, beta=vals.reshape(S, size))


def beta_matrices(m):
    nr = m["S"] * m["N"]
    nd = nr * (nr + 1) // 2 * (m["L"] + 1)
    out = []
    for s in range(m["S"]):
        if m["power"] == 1:
            out.append(m["beta"][s].copy())
            continue
        b = np.zeros((nd, nd))
        iu = np.triu_indices(nd)
        b[iu] = m["beta"][s]
        off = b - np.diag(np.diag(b))
        out.append(np.diag(np.diag(b)) + 0.5 * (off + off.T))
    return out, nd


def mapped_eval(m, betas, cell, codes, positions, e0):
    """Energies, forces, virial (3x3, W_ab = sum r_a f_b) and per-atom virials (half of each
    pair term to each end) of the mapped model, from the package's B2 and its derivatives."""
    rc = float(m["cutoffs"].max())
    desc = B2(m["radial"], m["cutoff_function"], [0.0, rc], [], [m["S"], m["N"], m["L"]],
              m["cutoffs"])
    struc = Structure(cell, list(codes), positions, rc, [desc])
    dv = struc.descriptors[0]
    n = len(codes)
    E = np.zeros(n)
    F = np.zeros((n, 3))
    W = np.zeros((3, 3))
    Wat = np.zeros((n, 3, 3))
    normalized = m["kernel"] == "NormalizedDotProduct"
    for s in range(m["S"]):
        D = np.array(dv.descriptors[s])
        dD = np.array(dv.descriptor_force_dervs[s])
        idx = np.array(dv.atom_indices[s])
        counts = np.array(dv.neighbor_counts[s])
        first = np.array(dv.cumulative_neighbor_counts[s])
        nidx = np.array(dv.neighbor_indices[s])
        ncoord = np.array(dv.neighbor_coordinates[s])
        beta = betas[s]
        for j, i in enumerate(idx):
            B = D[j]
            q = B @ B
            E[i] = e0[s]
            if q < 1e-8:
                continue
            if m["power"] == 2:
                p = beta @ B
                e = B @ p
                if normalized:
                    e /= q
                    w = 2.0 * (p - e * B) / q
                else:
                    w = 2.0 * p
            else:
                e = beta @ B
                if normalized:
                    nb = np.sqrt(q)
                    e /= nb
                    w = beta / nb - e * B / q
                else:
                    w = beta
            E[i] += e
            for k in range(counts[j]):
                row = first[j] + k
                g = dD[3 * row:3 * row + 3] @ w  # dE_i / dr_j
                a = nidx[row]
                F[i] += g
                F[a] -= g
                v = -np.outer(ncoord[row], g)
                W += v
                Wat[i] += 0.5 * v
                Wat[a] += 0.5 * v
    return E, F, W, Wat


def test_frames(seed=7):
    """A triclinic cell (primitive fcc 3x3x3) and a cell thinner than 2 rc (3x3x1 cubic fcc
    with a tilt), CuAg, rattled; rotated into the LAMMPS cell form."""
    rng = np.random.default_rng(seed)
    frames = []
    a1 = bulk("Cu", "fcc", a=3.72).repeat((3, 3, 3))
    a2 = bulk("Cu", "fcc", a=3.78, cubic=True).repeat((3, 3, 1))
    cell2 = np.array(a2.cell)
    cell2[2, 0] += 0.6
    a2.set_cell(cell2, scale_atoms=False)
    for name, at, note in (("triclinic", a1, "primitive fcc 3x3x3, all cell lengths < 2 rc"),
                           ("thin", a2, "3x3x1 cubic fcc with xz tilt: c = 3.78 A < 2 rc")):
        at = at.copy()
        at.set_atomic_numbers(rng.choice(fm.NUMBERS, size=len(at)))
        at.rattle(stdev=0.12, seed=int(rng.integers(1 << 30)))
        rcell, Q = at.cell.standard_form()
        at.set_cell(rcell, scale_atoms=False)
        at.positions = at.positions @ Q.T
        frames.append((name, at, note))
    return frames


def main():
    os.makedirs(OUT, exist_ok=True)
    version = "1.4.0"
    for case in fm.CASES:
        calc, keep = fm.make_model(case, OUT)
        folder = os.path.join(OUT, case)
        m = read_lmp_flare(os.path.join(folder, "lmp.flare"))
        betas, nd = beta_matrices(m)
        e0 = [fm.SINGLE_ATOM_ENERGIES[s] for s in range(m["S"])]
        sigma = float(calc.gp_model.hyps[0])
        frames = []
        for name, at, note in test_frames():
            codes = [fm.NUMBERS.index(z) for z in at.numbers]
            E, F, W, Wat = mapped_eval(m, betas, np.array(at.cell), codes, at.positions, e0)
            at.calc = calc
            calc.calculate(at)
            gp_e = float(calc.results["energy"])
            gp_f = np.array(calc.results["forces"])
            gp_w = -np.array(calc.results["stress"]) * at.get_volume()  # ASE Voigt xx yy zz yz xz xy
            gp_w33 = np.array([[gp_w[0], gp_w[5], gp_w[4]], [gp_w[5], gp_w[1], gp_w[3]],
                               [gp_w[4], gp_w[3], gp_w[2]]])
            std = np.array(calc.results["stds"])[:, 0]
            extra = {
                "gp_energy": gp_e,
                "gp_max_abs_dE": abs(gp_e - E.sum()),
                "gp_max_abs_dF": float(np.abs(gp_f - F).max()),
                "gp_max_rel_dW": float(np.abs(gp_w33 - W).max() / np.abs(W).max()),
                "gp_forces": gp_f.tolist(),
                "std": std.tolist(),
                "variance": (np.sign(std) * (std * sigma) ** 2).tolist(),
                "sigma": sigma,
                "single_atom_energies": {fm.SPECIES[s]: e0[s] for s in range(m["S"])},
            }
            print("{} {}: E {:.6f} eV, GP-mapped dE {:.2e} eV, dF {:.2e} eV/A, dW {:.2e} rel, "
                  "std {:.4f}..{:.4f}".format(case, name, E.sum(), extra["gp_max_abs_dE"],
                                              extra["gp_max_abs_dF"], extra["gp_max_rel_dW"],
                                              std.min(), std.max()))
            frames.append({
                "name": case + "_" + name,
                "note": note,
                "pbc": [True, True, True],
                "origin": [0.0, 0.0, 0.0],
                "cell": np.array(at.cell).tolist(),
                "species": list(at.get_chemical_symbols()),
                "positions": at.positions.tolist(),
                "energy": float(E.sum()),
                "atom_energies": E.tolist(),
                "forces": F.tolist(),
                "virial": W.reshape(-1).tolist(),
                "atom_virials": Wat.reshape(len(at), 9).tolist(),
                "extra": extra,
            })
        doc = {
            "producer": {"script": "tools/flare_fixtures.py", "package": "mir-flare",
                         "version": version,
                         "method": "mapped lmp.flare model on the package's B2 descriptors "
                                   "and derivatives; GP prediction and stds in extra"},
            "model": {"style": "flare", "type_map": fm.SPECIES,
                      "files": {"coeff": "tests/data/flare/{}/lmp.flare".format(case),
                                "l_inv": "tests/data/flare/{}/L_inv_lmp.flare".format(case),
                                "sparse_desc":
                                    "tests/data/flare/{}/sparse_desc_lmp.flare".format(case)},
                      "params": {"kernel": m["kernel"], "power": m["power"],
                                 "cutoff_function": m["cutoff_function"], "n_max": m["N"],
                                 "l_max": m["L"], "cutoffs": m["cutoffs"].tolist(),
                                 "single_atom_energies": {fm.SPECIES[s]: e0[s]
                                                          for s in range(m["S"])}}},
            "units": "metal",
            "frames": frames,
        }
        fixture_schema.write(os.path.join(OUT, case + ".json"), doc)
        del calc, keep
    print("wrote", OUT)


if __name__ == "__main__":
    main()
