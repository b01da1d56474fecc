#!/usr/bin/env python3
"""Create small DeePMD se_e2_a models with deepmd-kit and evaluate them (the mdgpu fixtures).

Writes tests/data/deepmd/*.dp (genuine deepmd-kit v3 .dp files, written by deepmd-kit's own
save_dp_model, in the layout `dp convert-backend` produces), tests/data/deepmd/<model>.json
(structures with deepmd-kit's energies, forces and virials, in the reference-fixture schema of
tests/data/README.md) and tests/data/deepmd/activations.json.

How the reference numbers are made (see tests/data/deepmd/README.md):
* the model is built from deepmd-kit's numpy backend classes (deepmd.dpmodel: DescrptSeA,
  EnergyFittingNet inside the standard EnergyModel) from a training-input dict with random
  weights; davg/dstd, bias_atom_e and out_bias are set to random values so every term is
  exercised; the model is then serialised with deepmd-kit's save_dp_model;
* the model is re-loaded from the .dp file with deepmd-kit's loader;
* energies: deepmd-kit's numpy backend (deepmd.infer.DeepPot on the .dp file);
* forces and virial: JAX autodiff (jax.grad, float64) of deepmd-kit's own atomic model
  (the numpy-backend code run on jax.numpy arrays) on deepmd-kit's own extended
  coordinates and formatted neighbour list (DefaultNeighborList + format_nlist). The
  numpy backend returns NaN forces in deepmd-kit 3.2.0, and the JAX backend's model call
  fails to trace type_one_side=false models, hence this route. Every structure is
  cross-checked: JAX energy == DeepPot energy and forces vs central differences of
  DeepPot energies (differences printed and asserted).

Requirements (fixture generation only; CI does not need them): see
tools/deepmd_fixtures_requirements.txt. Usage:
    python3 -m venv /tmp/dpvenv && /tmp/dpvenv/bin/pip install -r tools/deepmd_fixtures_requirements.txt
    /tmp/dpvenv/bin/python tools/deepmd_fixtures.py [--out tests/data/deepmd] [--inputs inputs/deepmd]
"""
import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_schema  # noqa: E402  (the one reference-fixture schema, tests/data/README.md)

import deepmd  # noqa: E402
from deepmd.dpmodel.model.model import get_model
from deepmd.dpmodel.model.base_model import BaseModel as NPBaseModel
from deepmd.dpmodel.utils.serialization import save_dp_model, load_dp_model
from deepmd.dpmodel.utils.default_neighbor_list import DefaultNeighborList
from deepmd.dpmodel.utils.network import get_activation_fn
from deepmd.infer import DeepPot
from deepmd.jax.env import jax, jnp  # enables float64 in JAX

jax.config.update("jax_enable_x64", True)

# ------------------------------------------------------------------ models

MODELS = {
    # one element, type_one_side, resnet_dt (idt), doubling shortcuts 8->16->32, fitting
    # identity shortcuts 32->32 with idt; rcut_smth well inside rcut; sel larger than any
    # neighbour count (padding).
    "cu_tanh": dict(
        type_map=["Cu"],
        descriptor=dict(type="se_e2_a", rcut=4.0, rcut_smth=1.5, sel=[28], neuron=[8, 16, 32],
                        axis_neuron=4, resnet_dt=True, type_one_side=True,
                        activation_function="tanh", seed=11),
        fitting_net=dict(neuron=[32, 32, 32], resnet_dt=True, activation_function="tanh",
                         seed=12),
    ),
    # two elements, type_one_side = false (a net per centre/neighbour type pair), gelu
    # embedding (deepmd's tanh-approximation gelu), tanh fitting, no resnet_dt.
    "water_gelu_pair": dict(
        type_map=["O", "H"],
        descriptor=dict(type="se_e2_a", rcut=4.0, rcut_smth=0.5, sel=[16, 32], neuron=[4, 8, 16],
                        axis_neuron=3, resnet_dt=False, type_one_side=False,
                        activation_function="gelu", seed=21),
        fitting_net=dict(neuron=[16, 16], resnet_dt=False, activation_function="tanh", seed=22),
    ),
    # two elements, type_one_side = true, softplus embedding, sigmoid fitting, idt.
    "water_softplus": dict(
        type_map=["O", "H"],
        descriptor=dict(type="se_e2_a", rcut=3.8, rcut_smth=2.0, sel=[14, 28], neuron=[6, 12],
                        axis_neuron=2, resnet_dt=True, type_one_side=True,
                        activation_function="softplus", seed=31),
        fitting_net=dict(neuron=[12, 12], resnet_dt=True, activation_function="sigmoid",
                         seed=32),
    ),
    # one element, relu embedding with an identity shortcut 10->10, linear fitting nets.
    "cu_relu_linear": dict(
        type_map=["Cu"],
        descriptor=dict(type="se_e2_a", rcut=4.2, rcut_smth=3.0, sel=[30], neuron=[5, 10, 10],
                        axis_neuron=5, resnet_dt=False, type_one_side=False,
                        activation_function="relu", seed=41),
        fitting_net=dict(neuron=[20, 20], resnet_dt=False, activation_function="linear",
                         seed=42),
    ),
}

# A cheap model for the 10,000-step NVE test (no fixture numbers needed).
NVE_MODEL = dict(
    type_map=["Cu"],
    descriptor=dict(type="se_e2_a", rcut=3.3, rcut_smth=2.0, sel=[20], neuron=[4, 8],
                    axis_neuron=2, resnet_dt=True, type_one_side=True,
                    activation_function="tanh", seed=51),
    fitting_net=dict(neuron=[8, 8], resnet_dt=True, activation_function="tanh", seed=52),
)

# Models that must be refused by mdgpu, each naming one unsupported feature.
UNSUPPORTED = {
    "unsupported_fparam": ("cu_tanh", lambda p: p["fitting_net"].update(numb_fparam=1)),
    "unsupported_exclude_types": (
        "water_softplus", lambda p: p["descriptor"].update(exclude_types=[[0, 1]])),
    "unsupported_se_r": ("cu_tanh", lambda p: p.update(descriptor=dict(
        type="se_e2_r", rcut=4.0, rcut_smth=1.5, sel=[24], neuron=[4, 8], seed=1))),
}


def build_model(params, rng, randomize_stats=True):
    model = get_model(json.loads(json.dumps(params)))
    d = model.serialize()
    if randomize_stats:
        desc = d["descriptor"]
        davg = desc["@variables"]["davg"]
        dstd = desc["@variables"]["dstd"]
        # per type, the same for every slot of the type (as deepmd-kit's statistics are:
        # per-slot values would make the energy jump when two neighbours
        # swap order), with zero mean and one common std for the x/y/z columns (as
        # deepmd-kit's EnvMatStatSe: anything else breaks rotational invariance)
        nt, nnei, nc = davg.shape
        avg = np.zeros((nt, 1, nc))
        avg[:, 0, 0] = rng.uniform(0.0, 0.3, size=nt)
        std = np.ones((nt, 1, nc))
        std[:, 0, 0] = rng.uniform(0.4, 1.6, size=nt)
        std[:, 0, 1:] = rng.uniform(0.4, 1.6, size=(nt, 1))
        desc["@variables"]["davg"] = np.repeat(avg, nnei, axis=1)
        desc["@variables"]["dstd"] = np.repeat(std, nnei, axis=1)
        fit = d["fitting"]
        # random initial nets give forces of ~1e-3 eV/A; scale the linear output layers so
        # forces are O(0.1-1) eV/A and the absolute force tolerance means something
        for net in fit["nets"]["networks"]:
            net["layers"][-1]["@variables"]["w"] = net["layers"][-1]["@variables"]["w"] * 40.0
        fit["@variables"]["bias_atom_e"] = rng.uniform(-3.0, -1.0,
                                                       size=fit["@variables"]["bias_atom_e"].shape)
        d["@variables"]["out_bias"] = rng.uniform(-0.5, 0.5, size=d["@variables"]["out_bias"].shape)
    return d


def save_model(path, model_dict, params):
    # The dict layout `dp convert-backend` writes (backend, model, model_def_script, @variables).
    save_dp_model(path, {"backend": "DPModel", "model": model_dict,
                         "model_def_script": params, "@variables": {}})


# ------------------------------------------------------------------ structures

def lammps_cell(lx, ly, lz, xy=0.0, xz=0.0, yz=0.0):
    """Rows a, b, c of a LAMMPS-convention cell (a along x, b in the xy plane)."""
    return np.array([[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]], dtype=float)


def fcc_structure(cell_rows, ncell, a0, noise, rng):
    basis = np.array([[0, 0, 0], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    frac = []
    for i in range(ncell):
        for j in range(ncell):
            for k in range(ncell):
                for b in basis:
                    frac.append((np.array([i, j, k]) + b) / ncell)
    frac = np.array(frac)
    pos = frac @ cell_rows + rng.normal(scale=noise, size=(len(frac), 3))
    return pos


def random_structure(cell_rows, n, dmin, rng):
    pos = []
    inv = np.linalg.inv(cell_rows)
    while len(pos) < n:
        p = rng.uniform(size=3) @ cell_rows
        ok = True
        for q in pos:
            dd = p - q
            f = dd @ inv
            f -= np.round(f)
            if np.linalg.norm(f @ cell_rows) < dmin:
                ok = False
                break
        if ok:
            pos.append(p)
    return np.array(pos)


def structures_for(name, type_map, rng):
    out = []
    if type_map == ["Cu"]:
        c = lammps_cell(7.22, 7.22, 7.22)
        out.append(("fcc_cubic", c, fcc_structure(c, 2, 3.61, 0.08, rng), np.zeros(32, int)))
        t = lammps_cell(7.3, 6.9, 7.1, 1.3, -0.9, 0.7)
        out.append(("fcc_triclinic", t, fcc_structure(t, 2, 3.61, 0.1, rng), np.zeros(32, int)))
        s = lammps_cell(5.6, 5.3, 5.9, 0.8, 0.4, -1.1)
        out.append(("sparse_triclinic", s, random_structure(s, 9, 2.0, rng), np.zeros(9, int)))
    else:
        c = lammps_cell(6.2, 6.2, 6.2)
        pos = random_structure(c, 24, 0.95, rng)
        out.append(("cubic", c, pos, np.array([0] * 8 + [1] * 16)))
        t = lammps_cell(6.4, 6.0, 6.6, 1.1, -0.8, 0.9)
        pos = random_structure(t, 24, 0.95, rng)
        types = rng.permutation(np.array([0] * 8 + [1] * 16))
        out.append(("triclinic", t, pos, types))
        s = lammps_cell(7.5, 7.0, 7.2, -1.0, 0.5, 0.3)
        pos = random_structure(s, 10, 1.6, rng)
        out.append(("sparse_triclinic", s, pos, np.array([0, 1, 1, 0, 1, 1, 1, 0, 1, 1])))
    return out


# ------------------------------------------------------------------ evaluation

def neighbour_counts(coord, cell, atype, rcut, ntypes):
    """Largest per-type neighbour count within rcut (all periodic images)."""
    inv = np.linalg.inv(cell)
    rng_img = [int(np.ceil(rcut / (abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[(d + 1) % 3], cell[(d + 2) % 3]))))) + 1 for d in range(3)]
    counts = np.zeros((len(coord), ntypes), int)
    for i in range(len(coord)):
        for j in range(len(coord)):
            for a in range(-rng_img[0], rng_img[0] + 1):
                for b in range(-rng_img[1], rng_img[1] + 1):
                    for c in range(-rng_img[2], rng_img[2] + 1):
                        if i == j and a == b == c == 0:
                            continue
                        d = coord[j] + np.array([a, b, c]) @ cell - coord[i]
                        if np.linalg.norm(d) <= rcut:
                            counts[i, atype[j]] += 1
    return counts


def jax_forces_virial(model, coord, cell, atype):
    """JAX autodiff of deepmd-kit's atomic model on deepmd-kit's extended system."""
    c = coord[None]
    b = cell[None]
    at = atype[None]
    ext, eat, nl, mp = DefaultNeighborList().build(c, at, b, model.get_rcut(), model.get_sel())
    ext = ext.reshape(1, -1, 3)
    nl = model.format_nlist(ext, eat, nl)
    am = model.atomic_model

    def etot(ec):
        r = am.forward_common_atomic(ec, jnp.asarray(eat), jnp.asarray(nl),
                                     mapping=jnp.asarray(mp))
        return r["energy"].sum()

    e, g = jax.value_and_grad(etot)(jnp.asarray(ext))
    g = np.asarray(g)[0]
    ec = np.asarray(ext)[0]
    f = np.zeros_like(coord)
    np.add.at(f, mp[0], -g)
    # virial W = sum over extended atoms of r (x) f  (LAMMPS/deepmd sign convention)
    vir = (ec[:, :, None] * (-g)[:, None, :]).sum(0)
    return float(e), f, vir


def evaluate(path, params, name, rng, nfd=3):
    dp = DeepPot(path)
    loaded = load_dp_model(path)
    model = NPBaseModel.deserialize(loaded["model"])
    type_map = params["type_map"]
    sel = params["descriptor"]["sel"]
    rcut = params["descriptor"]["rcut"]
    result = []
    for sname, cell, pos, atype in structures_for(name, type_map, rng):
        counts = neighbour_counts(pos, cell, atype, rcut, len(type_map))
        assert (counts <= np.array(sel)[None, :]).all(), (name, sname, counts.max(0), sel)
        e_np = float(dp.eval(pos.reshape(1, -1), cell.reshape(1, 9), list(atype))[0].ravel()[0])
        e_jax, f, vir = jax_forces_virial(model, pos, cell, atype)
        assert abs(e_np - e_jax) < 1e-10 * max(1, abs(e_np)), (e_np, e_jax)
        # central differences of deepmd-kit's numpy-backend energies (cross-check only)
        h = 1e-4
        fd_err = 0.0
        for i in range(min(nfd, len(pos))):
            for d in range(3):
                p1 = pos.copy(); p1[i, d] += h
                p2 = pos.copy(); p2[i, d] -= h
                e1 = dp.eval(p1.reshape(1, -1), cell.reshape(1, 9), list(atype))[0].ravel()[0]
                e2 = dp.eval(p2.reshape(1, -1), cell.reshape(1, 9), list(atype))[0].ravel()[0]
                fd_err = max(fd_err, abs(-(e1 - e2) / (2 * h) - f[i, d]))
        assert fd_err < 1e-6, (name, sname, fd_err)
        print(f"  {name}/{sname}: N={len(pos)} E={e_np:.10f} max|F|={np.abs(f).max():.4f} "
              f"max neighbours/type={counts.max(0).tolist()} sel={sel} FD-check={fd_err:.1e}")
        result.append({
            "name": sname,
            "cell": cell.tolist(),
            "types": [type_map[t] for t in atype],
            "coord": pos.tolist(),
            "energy": e_np,
            "forces": f.tolist(),
            "virial": vir.ravel().tolist(),
            "max_neighbours_per_type": counts.max(0).tolist(),
        })
    return result


def activation_table():
    xs = np.linspace(-6.0, 6.0, 49)
    tab = {"x": xs.tolist()}
    for act in ["tanh", "gelu", "relu", "relu6", "softplus", "sigmoid", "silu", "linear"]:
        tab[act] = np.asarray(get_activation_fn(act)(xs.copy())).tolist()
    return tab


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "tests", "data", "deepmd"))
    ap.add_argument("--inputs", default=os.path.join(here, "..", "inputs", "deepmd"))
    ap.add_argument("--nve-only", action="store_true", help="write only cu_nve.dp")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    save_model(os.path.join(args.out, "cu_nve.dp"),
               build_model(NVE_MODEL, np.random.default_rng(5)), NVE_MODEL)
    if args.nve_only:
        if args.inputs:
            save_model(os.path.join(args.inputs, "cu_small.dp"),
                       build_model(NVE_MODEL, np.random.default_rng(5)), NVE_MODEL)
        return 0
    rng = np.random.default_rng(20261124)
    for name, params in MODELS.items():
        d = build_model(params, rng)
        path = os.path.join(args.out, name + ".dp")
        save_model(path, d, params)
        print(f"{name}: {os.path.getsize(path)} bytes")
        # one fixture file per model in the reference-fixture schema (tests/data/README.md)
        fixture_schema.write(os.path.join(args.out, name + ".json"), fixture_schema.deepmd_doc(
            deepmd.__version__, name, params, evaluate(path, params, name, rng)))
    for name, (base, mutate) in UNSUPPORTED.items():
        params = json.loads(json.dumps(MODELS[base]))
        mutate(params)
        d = build_model(params, rng, randomize_stats=False)
        save_model(os.path.join(args.out, name + ".dp"), d, params)
    act = {"producer": {"script": "tools/deepmd_fixtures.py", "package": "deepmd-kit",
                        "version": deepmd.__version__,
                        "method": "deepmd.dpmodel get_activation_fn at 49 points"},
           "activations": activation_table()}
    with open(os.path.join(args.out, "activations.json"), "w") as f:
        json.dump(act, f, indent=1, sort_keys=True)
        f.write("\n")
    # example models for inputs/deepmd: the NVE-test model (stable around fcc Cu at 300 K)
    # and a two-element model for benchmarks (random weights, no repulsive core: it is not
    # stable in MD, use it for force evaluation only)
    if args.inputs:
        os.makedirs(args.inputs, exist_ok=True)
        save_model(os.path.join(args.inputs, "cu_small.dp"),
                   build_model(NVE_MODEL, np.random.default_rng(5)), NVE_MODEL)
        d = build_model(MODELS["water_gelu_pair"], np.random.default_rng(7))
        save_model(os.path.join(args.inputs, "water_small.dp"), d, MODELS["water_gelu_pair"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
