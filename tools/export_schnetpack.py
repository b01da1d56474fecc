#!/usr/bin/env python3
"""Export a schnetpack 2.x SchNet model (the `best_model` file a user holds: torch.save of the
whole NeuralNetworkPotential) to an mdgpu-schnet model file (HDF5 + JSON, read by
models/schnet/schnet_io.cpp; layout in models/schnet/README.md).

    python tools/export_schnetpack.py best_model model.schnet.h5 --species Cu,Au \
        [--energy-unit eV --length-unit Angstrom | --config run_dir/config.yaml]

Needs schnetpack installed (the file is a pickle of its classes). Weights are upcast from the
model's dtype to float64 (no arithmetic in float32) and written transposed to w[n_in][n_out]
(y = x w + b). Units are not stored in a schnetpack model: they come from the training
config (data.distance_unit, data.property_units) or from the command line, and are recorded
as given, never converted. Anything the file format cannot express (PaiNN, SO3net, other
radial bases or cutoff functions, electronic embeddings, other postprocessors, ...) is refused
with a message naming the module.
"""

import argparse
import hashlib
import json
import math
import os
import sys

SCHEMA = {"name": "mdgpu-schnet", "version": 1}


class Unsupported(Exception):
    pass


def refuse(what):
    raise Unsupported(what + " (mdgpu exports schnetpack NeuralNetworkPotential models with a "
                      "SchNet representation, Gaussian RBF, cosine cutoff and an Atomwise "
                      "energy head only)")


def cls(obj):
    return type(obj).__module__ + "." + type(obj).__name__


def activation_name(act, where):
    """Name of a schnetpack Dense activation (a function or module), checked numerically."""
    import torch
    import torch.nn.functional as F
    from schnetpack.nn import activations as spk_act

    name = None
    if act is None or isinstance(act, torch.nn.Identity):
        name = "linear"
    elif act is spk_act.shifted_softplus:
        name = "shifted_softplus"
    elif isinstance(act, spk_act.ShiftedSoftplus):
        # schnetpack's module has feature-wise alpha/beta; only alpha = beta = 1 is ssp.
        if float(act.alpha.reshape(-1)[0]) != 1.0 or float(act.beta.reshape(-1)[0]) != 1.0 \
                or act.alpha.numel() != 1 or act.beta.numel() != 1:
            refuse("{}: ShiftedSoftplus with alpha, beta other than 1".format(where))
        name = "shifted_softplus"
    elif act is F.silu or isinstance(act, torch.nn.SiLU):
        name = "silu"
    if name is None:
        refuse("{}: activation {} is not supported (shifted_softplus, silu, linear)".format(
            where, getattr(act, "__name__", cls(act))))
    # The function must be what the name says (a subclass or a wrapper could differ).
    x = torch.linspace(-30.0, 30.0, 241, dtype=torch.float64)
    expect = {"linear": x, "silu": x * torch.sigmoid(x),
              "shifted_softplus": F.softplus(x) - math.log(2.0)}[name]
    got = x if act is None else act(x)
    if not torch.allclose(got, expect, rtol=1e-14, atol=1e-14):
        refuse("{}: activation {} does not behave as {}".format(where, cls(act), name))
    return name


class Writer:
    def __init__(self):
        self.arrays = {}

    def add(self, name, tensor):
        import numpy as np
        a = tensor.detach().cpu().to(dtype=__import__("torch").float64).numpy()
        self.arrays[name] = np.ascontiguousarray(a)
        return name

    def dense(self, layer, name, where, bias=True):
        import torch
        from schnetpack.nn import Dense
        if not isinstance(layer, Dense):
            refuse("{}: {} is not a schnetpack Dense layer".format(where, cls(layer)))
        out = {"n_in": int(layer.in_features), "n_out": int(layer.out_features)}
        # torch stores weight[out][in]; the file stores w[in][out] (a transpose, no arithmetic).
        out["w"] = self.add(name + ".w", layer.weight.detach().to(torch.float64).t())
        if layer.bias is not None:
            out["b"] = self.add(name + ".b", layer.bias)
        elif bias:
            refuse(where + ": layer without bias")
        else:
            out["b"] = None
        out["activation"] = activation_name(layer.activation, where)
        return out


def element_z(symbol):
    from ase.data import atomic_numbers
    if symbol not in atomic_numbers:
        raise SystemExit("export_schnetpack: unknown element symbol " + repr(symbol))
    return int(atomic_numbers[symbol])


def units_from_config(path, energy_key):
    import yaml
    with open(path) as fh:
        cfg = yaml.safe_load(fh)
    data = (cfg or {}).get("data", {}) or {}
    length = data.get("distance_unit")
    energy = (data.get("property_units") or {}).get(energy_key)
    if not length or not energy:
        raise SystemExit("export_schnetpack: {} has no data.distance_unit or "
                         "data.property_units.{}".format(path, energy_key))
    return str(length), str(energy)


def export(model, species, units, source_info):
    import schnetpack
    import torch
    from schnetpack.atomistic import Atomwise, Forces, PairwiseDistances, Strain
    from schnetpack.transform import AddOffsets, CastTo32, CastTo64
    from schnetpack.representation import SchNet
    from schnetpack.nn import CosineCutoff, GaussianRBF

    if type(model).__name__ != "NeuralNetworkPotential":
        refuse("model class {}".format(cls(model)))
    rep = model.representation
    if type(rep) is not SchNet:
        refuse("representation {}".format(type(rep).__name__))

    # ---- inputs, outputs, postprocessing
    for m in model.input_modules:
        if type(m) not in (PairwiseDistances, Strain):
            refuse("input module {}".format(type(m).__name__))
    heads = []
    for m in model.output_modules:
        if type(m) is Atomwise:
            heads.append(m)
        elif type(m) is Forces:
            pass  # forces/stress by differentiation: mdgpu differentiates the same energy
        else:
            refuse("output module {}".format(type(m).__name__))
    if len(heads) != 1:
        refuse("{} Atomwise output modules (need exactly one, the energy)".format(len(heads)))
    head = heads[0]
    energy_key = head.output_key
    for m in model.output_modules:
        if type(m) is Forces and m.energy_key != energy_key:
            refuse("Forces module differentiates {!r}, not the Atomwise output {!r}".format(
                m.energy_key, energy_key))

    # ---- representation
    if getattr(rep, "electronic_embeddings", None):
        refuse("SchNet electronic embeddings (charge/spin)")
    if getattr(rep, "charged_systems", False):
        refuse("SchNet charged_systems")
    emb = getattr(rep, "embedding", None)
    if type(emb) is not torch.nn.Embedding:
        refuse("SchNet nuclear embedding {}".format(cls(emb)))
    if type(rep.radial_basis) is not GaussianRBF:
        refuse("radial basis {}".format(type(rep.radial_basis).__name__))
    if type(rep.cutoff_fn) is not CosineCutoff:
        refuse("cutoff function {}".format(type(rep.cutoff_fn).__name__))

    w = Writer()
    zs = [element_z(s) for s in species]
    if len(set(zs)) != len(zs):
        raise SystemExit("export_schnetpack: a species is listed twice")
    for s, z in zip(species, zs):
        if z >= emb.num_embeddings:
            raise SystemExit("export_schnetpack: {} (Z = {}) is beyond the model's embedding "
                             "(max_z = {})".format(s, z, emb.num_embeddings))
    n_atom_basis = int(rep.n_atom_basis)
    n_filters = int(rep.n_filters)
    rbf = rep.radial_basis
    rc = float(rep.cutoff_fn.cutoff)
    out_rep = {
        "type": "SchNet",
        "n_atom_basis": n_atom_basis,
        "n_filters": n_filters,
        "n_interactions": len(rep.interactions),
        "shared_interactions": bool(len(rep.interactions) > 1 and
                                    rep.interactions[0] is rep.interactions[1]),
        "activation_note": "interaction activations are per layer below",
        "species": {"z": zs, "symbols": list(species),
                    "embedding": w.add("species.embedding", emb.weight.detach()[zs])},
        "cutoff": {"function": "cosine", "rc": rc,
                   "formula": "0.5 (cos(pi d / rc) + 1) for d < rc, else 0"},
        "radial_basis": {"type": "gaussian", "n_rbf": int(rbf.n_rbf),
                         "centres": w.add("radial_basis.centres", rbf.offsets),
                         "widths": w.add("radial_basis.widths", rbf.widths),
                         "formula": "exp(-0.5 (d - centre_k)^2 / width_k^2)"},
        "interactions": [],
    }
    for t, it in enumerate(rep.interactions):
        where = "interaction {}".format(t)
        if type(it).__name__ != "SchNetInteraction":
            refuse("{}: {}".format(where, cls(it)))
        if len(it.filter_network) != 2 or len(it.f2out) != 2:
            refuse(where + ": filter network or f2out not of two layers")
        p = "interaction_{}".format(t)
        out_rep["interactions"].append({
            "in2f": w.dense(it.in2f, p + ".in2f", where + " in2f", bias=False),
            "filter": [w.dense(it.filter_network[k], "{}.filter_{}".format(p, k),
                               "{} filter layer {}".format(where, k)) for k in range(2)],
            "f2out": [w.dense(it.f2out[k], "{}.f2out_{}".format(p, k),
                              "{} f2out layer {}".format(where, k)) for k in range(2)],
        })

    # ---- head
    if head.aggregation_mode != "sum":
        refuse("Atomwise aggregation_mode {!r} (sum only)".format(head.aggregation_mode))
    if int(head.n_out) != 1:
        refuse("Atomwise with n_out = {}".format(head.n_out))
    layers = []
    for k, layer in enumerate(head.outnet):
        layers.append(w.dense(layer, "head.layer_{}".format(k), "Atomwise layer {}".format(k)))
    out_head = {"type": "Atomwise", "aggregation": "sum", "output_key": energy_key,
                "layers": layers}

    # ---- offsets (postprocessors run only when model.do_postprocessing is set)
    mean = torch.zeros((), dtype=torch.float64)
    mean_per_atom = True
    atomref = torch.zeros(len(zs), dtype=torch.float64)
    applied = bool(model.do_postprocessing)
    notes = []
    for m in model.postprocessors:
        name = type(m).__name__
        if type(m) in (CastTo64, CastTo32):
            notes.append(name + " (no effect in float64)")
            continue
        if type(m) is not AddOffsets:
            refuse("postprocessor {}".format(name))
        if m._property != energy_key:
            refuse("AddOffsets on {!r}, not the energy {!r}".format(m._property, energy_key))
        if not m.is_extensive:
            refuse("AddOffsets with is_extensive = False (the energy is extensive)")
        if not applied:
            notes.append("AddOffsets present but do_postprocessing is off: not applied")
            continue
        if m.add_mean:
            mean = mean + m.mean.detach().to(torch.float64).reshape(())
        if m.add_atomrefs:
            ref = m.atomref.detach().to(torch.float64)
            atomref = atomref + ref[zs]
    out_off = {"mean": float(mean), "mean_per_atom": mean_per_atom,
               "atomref": w.add("offsets.atomref", atomref),
               "applied_by_model": applied, "notes": notes,
               "formula": "E = sum_i y_i + mean (times N when mean_per_atom) + "
                          "sum_i atomref[species_i]"}

    doc = {
        "schema": SCHEMA,
        "producer": dict(source_info, script="tools/export_schnetpack.py",
                         schnetpack=schnetpack.__version__, torch=torch.__version__,
                         model_dtype=str(next(model.parameters()).dtype)),
        "units": units,
        "layout": "dense layers: y = act(x w + b), w[n_in][n_out], float64",
        "representation": out_rep,
        "head": out_head,
        "offsets": out_off,
    }
    return doc, w.arrays


def write_h5(path, doc, arrays):
    import h5py
    with h5py.File(path, "w") as f:
        f.attrs["json"] = json.dumps(doc, indent=1, sort_keys=True)
        for name in sorted(arrays):
            f.create_dataset(name, data=arrays[name])


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="schnetpack best_model (torch.save of the whole model)")
    ap.add_argument("output", help="mdgpu-schnet file to write (HDF5)")
    ap.add_argument("--species", required=True,
                    help="comma-separated element symbols the model was trained on, e.g. Cu,Au")
    ap.add_argument("--energy-unit", help="energy unit of the model output, e.g. eV")
    ap.add_argument("--length-unit", help="length unit of the model input, e.g. Angstrom")
    ap.add_argument("--config", help="schnetpack training config.yaml (units from data.*); "
                    "default: config.yaml beside the model if present")
    ap.add_argument("--energy-key", default=None, help="energy property key (default: the "
                    "Atomwise output key)")
    args = ap.parse_args(argv)

    import torch
    model = torch.load(args.model, map_location="cpu", weights_only=False)
    species = [s.strip() for s in args.species.split(",") if s.strip()]
    if not species:
        raise SystemExit("export_schnetpack: --species is empty")

    energy_key = args.energy_key
    if energy_key is None:
        keys = [m.output_key for m in getattr(model, "output_modules", [])
                if type(m).__name__ == "Atomwise"]
        energy_key = keys[0] if keys else "energy"
    config = args.config
    if config is None:
        beside = os.path.join(os.path.dirname(os.path.abspath(args.model)), "config.yaml")
        config = beside if os.path.exists(beside) else None
    units = None
    if config:
        length, energy = units_from_config(config, energy_key)
        units = {"length": length, "energy": energy, "source": os.path.basename(config)}
    if args.energy_unit or args.length_unit:
        if not (args.energy_unit and args.length_unit):
            raise SystemExit("export_schnetpack: give both --energy-unit and --length-unit")
        given = {"length": args.length_unit, "energy": args.energy_unit}
        if units and (units["length"], units["energy"]) != (given["length"], given["energy"]):
            raise SystemExit("export_schnetpack: units on the command line {} differ from {} "
                             "in {}".format(given, units, config))
        units = dict(given, source="command line")
    if units is None:
        raise SystemExit("export_schnetpack: the model file does not record its units: give "
                         "--energy-unit and --length-unit (or --config config.yaml)")

    try:
        doc, arrays = export(model, species, units,
                             {"source": os.path.basename(args.model),
                              "source_sha256": sha256(args.model)})
    except Unsupported as e:
        print("export_schnetpack: unsupported model: {}".format(e), file=sys.stderr)
        return 2
    write_h5(args.output, doc, arrays)
    print("export_schnetpack: wrote {} ({} species, {} interactions, rc = {} {}, energy in {})"
          .format(args.output, len(species), doc["representation"]["n_interactions"],
                  doc["representation"]["cutoff"]["rc"], units["length"], units["energy"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
