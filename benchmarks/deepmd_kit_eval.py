#!/usr/bin/env python3
"""Throughput of deepmd-kit's own evaluator on a LAMMPS data file (used by run_benchmarks.py).

Run with the Python of a venv made from tools/deepmd_fixtures_requirements.txt:
  python deepmd_kit_eval.py --model m.dp --data start.data --types O,H [--evals 3]

The .dp model is converted once with deepmd-kit's `dp convert-backend` to its JAX/XLA form
(.hlo) and loaded with deepmd-kit's DeepPot (deepmd.infer). DeepPot.eval() builds its
neighbour list densely (deepmd.dpmodel.utils.nlist.build_neighbor_list: an nloc x nall
distance matrix), which does not fit in memory beyond a few thousand atoms, so the timed
call is the loaded model's call_lower(extended_coord, extended_atype, nlist, mapping) -- the
interface through which deepmd-kit's C++ API and its LAMMPS plugin evaluate a model -- with
periodic ghost atoms and a distance-sorted neighbour list of width sum(sel) made here with
scipy's cKDTree (not timed; printed separately). Timed: the model call for energy, forces on
extended atoms and the virial, until the result is ready. Prints one line
  deepmd-kit: T s for 1 evaluation of M atoms: R atom-evals/s, E0 eV/atom (build nlist B s, ...)
"""

import argparse
import os
import subprocess
import sys
import time

import numpy as np


def read_data(path):
    """Orthogonal or triclinic LAMMPS data file: cell rows, positions, 1-based types."""
    lo, hi, tilt = [0.0] * 3, [0.0] * 3, [0.0, 0.0, 0.0]
    natoms = None
    with open(path) as f:
        lines = f.read().splitlines()
    k = 0
    while k < len(lines):
        tok = lines[k].split("#")[0].split()
        if len(tok) >= 2 and tok[1] == "atoms":
            natoms = int(tok[0])
        for d, name in enumerate(("xlo", "ylo", "zlo")):
            if len(tok) >= 4 and tok[2] == name:
                lo[d], hi[d] = float(tok[0]), float(tok[1])
        if len(tok) >= 6 and tok[3:6] == ["xy", "xz", "yz"]:
            tilt = [float(t) for t in tok[:3]]
        if tok and tok[0] == "Atoms":
            break
        k += 1
    rows = []
    k += 1
    while k < len(lines) and len(rows) < natoms:
        tok = lines[k].split("#")[0].split()
        k += 1
        if len(tok) >= 5:
            rows.append(tok)
    rows.sort(key=lambda t: int(t[0]))
    types = np.array([int(t[1]) for t in rows])
    pos = np.array([[float(t[2]), float(t[3]), float(t[4])] for t in rows])
    cell = np.array([[hi[0] - lo[0], 0, 0], [tilt[0], hi[1] - lo[1], 0],
                     [tilt[1], tilt[2], hi[2] - lo[2]]])
    return cell, pos - np.array(lo), types


def extended_system(cell, pos, atype, rcut, nnei):
    """Ghost images within rcut of the cell, and each atom's nearest nnei neighbours within rcut
    (sorted by distance, -1 padded), as deepmd-kit's lower interface expects."""
    from scipy.spatial import cKDTree
    inv = np.linalg.inv(cell)
    frac = (pos @ inv) % 1.0
    pos = frac @ cell
    # image range per direction: rcut over the distance between opposite faces
    vol = abs(np.linalg.det(cell))
    width = [vol / np.linalg.norm(np.cross(cell[(d + 1) % 3], cell[(d + 2) % 3]))
             for d in range(3)]
    nimg = [int(np.ceil(rcut / w)) for w in width]
    margin = np.array([rcut / w for w in width])  # rcut in fractional units
    ext, ext_t, mapping = [pos], [atype], [np.arange(len(pos))]
    for a in range(-nimg[0], nimg[0] + 1):
        for b in range(-nimg[1], nimg[1] + 1):
            for c in range(-nimg[2], nimg[2] + 1):
                if a == b == c == 0:
                    continue
                f = frac + np.array([a, b, c])
                keep = np.all((f > -margin) & (f < 1.0 + margin), axis=1)  # within rcut
                if keep.any():
                    ext.append(f[keep] @ cell)
                    ext_t.append(atype[keep])
                    mapping.append(np.nonzero(keep)[0])
    ext = np.concatenate(ext)
    ext_t = np.concatenate(ext_t)
    mapping = np.concatenate(mapping)
    tree = cKDTree(ext)
    dist, idx = tree.query(pos, k=nnei + 1, distance_upper_bound=rcut)
    dist, idx = dist[:, 1:], idx[:, 1:]  # drop the atom itself (distance 0)
    idx = np.where(np.isfinite(dist), idx, -1)
    return ext, ext_t, mapping, idx


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="deepmd-kit .dp model")
    ap.add_argument("--data", required=True, help="LAMMPS data file")
    ap.add_argument("--types", required=True, help="model type name of data types 1, 2, ...")
    ap.add_argument("--evals", type=int, default=3, help="timed evaluations (best counts)")
    args = ap.parse_args()

    hlo = os.path.splitext(os.path.abspath(args.model))[0] + ".hlo"
    if not os.path.exists(hlo):
        dp = os.path.join(os.path.dirname(sys.executable), "dp")
        subprocess.run([dp, "convert-backend", args.model, hlo], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import jax
    jax.config.update("jax_enable_x64", True)
    from deepmd.infer import DeepPot

    pot = DeepPot(hlo)
    model = pot.deep_eval.dp
    type_map = pot.get_type_map()
    names = args.types.split(",")
    cell, pos, dtypes = read_data(args.data)
    atype = np.array([type_map.index(names[t - 1]) for t in dtypes])
    nnei = sum(model.get_sel())
    t0 = time.perf_counter()
    ext, ext_t, mapping, nlist = extended_system(cell, pos, atype, pot.get_rcut(), nnei)
    t_nlist = time.perf_counter() - t0
    n = len(pos)
    args_in = (jax.numpy.asarray(ext.reshape(1, -1, 3)), jax.numpy.asarray(ext_t.reshape(1, -1).astype(np.int32)),
               jax.numpy.asarray(nlist.reshape(1, n, nnei).astype(np.int64)),
               jax.numpy.asarray(mapping.reshape(1, -1).astype(np.int64)))

    def evaluate():
        out = model.call_lower(*args_in)
        jax.block_until_ready(out)
        return out

    out = evaluate()  # compile
    best = None
    for _ in range(args.evals):
        t0 = time.perf_counter()
        out = evaluate()
        dt = time.perf_counter() - t0
        best = dt if best is None else min(best, dt)
    energy = float(np.asarray(out["energy_redu"]).reshape(-1)[0])
    force = np.asarray(out["energy_derv_r"]).reshape(-1, 3)
    assert np.all(np.isfinite(force)), "non-finite forces"
    print("deepmd-kit: {:.6g} s for 1 evaluation of {} atoms: {:.6g} atom-evals/s, "
          "{:.17g} eV/atom (build nlist {:.3g} s, best of {})".format(
              best, n, n / best, energy / n, t_nlist, args.evals))


if __name__ == "__main__":
    main()
