#!/usr/bin/env python3
"""Export a hippynn HIP-NN model (a user's training directory) to an mdgpu-hipnn model file
(HDF5 + JSON, read by models/hipnn/hipnn_io.cpp; layout in models/hipnn/README.md).

    python tools/export_hippynn.py TRAINING_DIR model.hipnn.h5 --energy-unit eV \
        --length-unit Angstrom [--state best_model.pt] [--energy-node NAME]

TRAINING_DIR holds what hippynn's training writes: experiment_structure.pt (the pickled graph)
and best_model.pt (state dict) or best_checkpoint.pt (full checkpoint), as read by
hippynn.experiment.serialization. Needs hippynn installed (the files are pickles of its
classes). Weights are upcast from the model's dtype to float64 (no arithmetic in float32) and
dense weights written transposed to w[n_in][n_out] (y = x w + b). hippynn does not record
units: give them on the command line; they are recorded as given, never converted.
Anything the file format cannot express (HipnnVec/HipnnQuad/HIP-HOP interactions, other
sensitivity or cutoff modules, activations other than torch's Softplus, energy nodes other
than HEnergy, multi-target heads) is refused with a message naming the class.
The ML-IAP deployment file (MLIAPInterface pickled with torch.save) is not read: unpickling
it needs LAMMPS' Python package; export from the training directory it was made from.
"""

import argparse
import hashlib
import json
import math
import os
import sys

SCHEMA = {"name": "mdgpu-hipnn", "version": 1}

SENSITIVITY_FORMULA = ("s_nu(r) = exp(-0.5 (1/r - 1/mu_nu)^2 / sigma_nu^-2) * "
                       "cos(pi r / (2 rc))^2 for r <= rc, else 0")


class Unsupported(Exception):
    pass


def refuse(what):
    raise Unsupported(what + " (mdgpu exports hippynn Hipnn networks with InteractLayer "
                      "interactions, inverse/linear sensitivities with CosCutoff, Softplus "
                      "activation and one HEnergy target)")


def cls(obj):
    return type(obj).__module__ + "." + type(obj).__name__


def softplus_params(act, where):
    """(beta, threshold) of a torch Softplus module, checked numerically."""
    import torch
    import torch.nn.functional as F
    if type(act) is not torch.nn.Softplus:
        refuse("{}: activation {} is not supported (torch.nn.Softplus only)".format(
            where, getattr(act, "__name__", cls(act))))
    beta, threshold = float(act.beta), float(act.threshold)
    if beta != 1.0 or threshold != 20.0:
        refuse("{}: Softplus(beta={}, threshold={}) (beta 1, threshold 20 only)".format(
            where, beta, threshold))
    x = torch.linspace(-40.0, 40.0, 321, dtype=torch.float64)
    if not torch.equal(act(x), F.softplus(x, beta=1.0, threshold=20.0)):
        refuse("{}: activation {} does not behave as Softplus".format(where, cls(act)))
    return beta, threshold


class Writer:
    def __init__(self):
        self.arrays = {}

    def add(self, name, tensor):
        import torch
        a = tensor.detach().cpu().to(dtype=torch.float64).numpy()
        self.arrays[name] = a.copy(order="C")
        return name

    def linear(self, layer, name, where, bias):
        """torch.nn.Linear -> {"n_in", "n_out", "w": [n_in][n_out], "b": [n_out] or None}."""
        import torch
        if type(layer) is not torch.nn.Linear:
            refuse("{}: {} is not a torch.nn.Linear".format(where, cls(layer)))
        out = {"n_in": int(layer.in_features), "n_out": int(layer.out_features)}
        out["w"] = self.add(name + ".w", layer.weight.detach().to(torch.float64).t())
        if layer.bias is not None:
            if not bias:
                refuse(where + ": unexpected bias")
            out["b"] = self.add(name + ".b", layer.bias)
        else:
            if bias:
                refuse(where + ": layer without bias")
            out["b"] = None
        return out


def element_symbol(z):
    from ase.data import chemical_symbols
    if not (1 <= z < len(chemical_symbols)):
        raise SystemExit("export_hippynn: species value {} is not an atomic number".format(z))
    return chemical_symbols[z]


def find_nodes(model, energy_name):
    """(energy node, network node, encoder node, pair indexer node) of a hippynn GraphModule."""
    from hippynn.graphs import get_subgraph
    from hippynn.graphs.nodes import tags
    from hippynn.graphs.nodes.targets import HEnergyNode
    from hippynn.graphs.nodes.networks import Hipnn as HipnnNode

    nodes = get_subgraph(model.nodes_to_compute)
    energies = [n for n in nodes if isinstance(n, tags.Energies)]
    if energy_name is not None:
        energies = [n for n in energies if n.name == energy_name]
        if not energies:
            raise SystemExit("export_hippynn: no energy node named {!r} in the model".format(
                energy_name))
    if not energies:
        refuse("model without an energy node")
    if len(energies) > 1:
        refuse("model with several energy nodes ({}): choose one with --energy-node".format(
            ", ".join(sorted(n.name for n in energies))))
    energy = energies[0]
    if type(energy) is not HEnergyNode:
        refuse("energy node {!r} of class {}".format(energy.name, type(energy).__name__))
    net = energy.parents[0]
    if type(net) is not HipnnNode:
        refuse("network node {!r} of class {}".format(net.name, type(net).__name__))
    encoders = [n for n in nodes if isinstance(n, tags.Encoder)]
    pairs = [n for n in nodes if isinstance(n, tags.PairIndexer)]
    if len(encoders) != 1:
        refuse("{} species encoders in the model (need one)".format(len(encoders)))
    if len(pairs) != 1:
        refuse("{} pair indexers in the model (need one)".format(len(pairs)))
    return energy, net, encoders[0], pairs[0]


def export(model, units, source_info, energy_name=None):
    import hippynn
    import torch
    from hippynn.networks.hipnn import Hipnn
    from hippynn.layers.hiplayers import (GaussianSensitivityModule, InverseSensitivityModule,
                                          InteractLayer)
    from hippynn.layers.hiplayers.sensitivity import CosCutoff
    from hippynn.layers.transform import ResNetWrapper
    from hippynn.layers.targets import HEnergy
    from hippynn.layers.indexers import OneHotSpecies

    energy, net, encoder, pairs = find_nodes(model, energy_name)
    mod = net.torch_module
    if type(mod) is not Hipnn:
        refuse("network module {}".format(cls(mod)))
    enc = encoder.torch_module
    if type(enc) is not OneHotSpecies:
        refuse("species encoder {}".format(cls(enc)))

    # ---- species: one-hot over possible_species[1:] (0 = padding)
    species_set = [int(z) for z in torch.as_tensor(enc.species_set).tolist()]
    if species_set[0] != 0 or len(species_set) < 2 or 0 in species_set[1:]:
        refuse("species set {} (expected 0 for padding, then the species)".format(species_set))
    if mod.species_set is not None and \
            [int(z) for z in torch.as_tensor(mod.species_set).tolist()] != species_set:
        refuse("network species set differs from the encoder's")
    zs = species_set[1:]
    if len(set(zs)) != len(zs):
        refuse("species listed twice in {}".format(species_set))
    symbols = [element_symbol(z) for z in zs]

    sizes = [int(s) for s in mod.feature_sizes]
    if sizes[0] != len(zs):
        refuse("input feature width {} != {} species".format(sizes[0], len(zs)))
    resnet = bool(mod.resnet)
    act_where = "network activation"
    beta, threshold = softplus_params(mod.activation, act_where)
    rc = float(mod.dist_hard_max)
    pair_rc = float(pairs.dist_hard_max)
    if pair_rc != rc:
        refuse("pair indexer cutoff {} differs from the network's dist_hard_max {}".format(
            pair_rc, rc))
    n_sens = int(mod.n_sensitivities)

    w = Writer()
    interactions = []
    middle = []
    for t, block in enumerate(mod.blocks):
        where = "interaction block {}".format(t)
        p = "interaction_{}".format(t)
        n_in, n_out = sizes[t], sizes[t + 1]
        layers = list(block)
        if len(layers) != 1 + int(mod.n_layers_per_block):
            refuse(where + ": {} layers, expected 1 + n_atom_layers".format(len(layers)))
        first = layers[0]
        if resnet:
            if type(first) is not ResNetWrapper:
                refuse(where + ": {} instead of ResNetWrapper".format(cls(first)))
            softplus_params(first.activation, where + " activation")
            base = first.base_layer
        else:
            base = first
        if type(base) is not InteractLayer:
            refuse("{}: interaction layer {}".format(where, type(base).__name__))
        sens = base.sensitivity
        if type(sens) is InverseSensitivityModule:
            stype = "inverse"
        elif type(sens) is GaussianSensitivityModule:
            stype = "linear"
        else:
            refuse("{}: sensitivity {}".format(where, type(sens).__name__))
        if type(sens.cutoff) is not CosCutoff:
            refuse("{}: cutoff {}".format(where, type(sens.cutoff).__name__))
        if float(sens.hard_max_dist) != rc or float(sens.cutoff.hard_max_dist) != rc:
            refuse(where + ": sensitivity cutoff differs from the network's dist_hard_max")
        if int(base.n_dist) != n_sens or tuple(sens.mu.shape) != (1, n_sens) or \
                tuple(sens.sigma.shape) != (1, n_sens):
            refuse(where + ": sensitivity shapes")
        n_mid = int(base.nf_out)
        middle.append(n_mid)
        if int(base.nf_in) != n_in or tuple(base.int_weights.shape) != (n_sens, n_mid, n_in):
            refuse(where + ": interaction weight shape {}".format(tuple(base.int_weights.shape)))
        if not resnet and n_mid != n_out:
            refuse(where + ": width {} != {} without resnet".format(n_mid, n_out))
        it = {
            "class": type(base).__name__,
            "n_in": n_in, "n_middle": n_mid, "n_out": n_out,
            "sensitivity": {"type": stype, "class": type(sens).__name__,
                            "mu": w.add(p + ".sensitivity.mu", sens.mu.detach().reshape(-1)),
                            "sigma": w.add(p + ".sensitivity.sigma",
                                           sens.sigma.detach().reshape(-1))},
            # torch int_weights[nu][o][f] -> file [nu][f][o] (a transpose, no arithmetic)
            "int_weights": w.add(p + ".int_weights",
                                 base.int_weights.detach().to(torch.float64).permute(0, 2, 1)),
            "self": w.linear(base.selfint, p + ".self", where + " selfint", bias=True),
            "res": None, "adjust": None, "atom_layers": [],
        }
        if resnet:
            it["res"] = w.linear(first.res_layer, p + ".res", where + " res_layer", bias=True)
            if first.needs_size_adjust:
                it["adjust"] = w.linear(first.adjust_layer, p + ".adjust",
                                        where + " adjust_layer", bias=False)
            elif n_in != n_out:
                refuse(where + ": widths differ without an adjust layer")
        for k, lay in enumerate(layers[1:]):
            lw = "{} atom layer {}".format(where, k)
            lp = "{}.atom_{}".format(p, k)
            if resnet:
                if type(lay) is not ResNetWrapper:
                    refuse(lw + ": {} instead of ResNetWrapper".format(cls(lay)))
                softplus_params(lay.activation, lw + " activation")
                if lay.needs_size_adjust:
                    refuse(lw + ": size-adjusting atom layer")
                lin = w.linear(lay.base_layer, lp + ".linear", lw, bias=True)
                res = w.linear(lay.res_layer, lp + ".res", lw + " res_layer", bias=True)
            else:
                lin = w.linear(lay, lp + ".linear", lw, bias=True)
                res = None
            if lin["n_in"] != n_out or lin["n_out"] != n_mid:
                refuse(lw + ": widths {} -> {}".format(lin["n_in"], lin["n_out"]))
            it["atom_layers"].append({"linear": lin, "res": res})
        interactions.append(it)

    # ---- energy target: E_i = sum over feature levels of head_l(z^l_i)
    emod = energy.torch_module
    if type(emod) is not HEnergy:
        refuse("energy module {}".format(cls(emod)))
    first_is_interacting = bool(emod.first_is_interacting)
    levels = list(range(1 if first_is_interacting else 0, len(sizes)))
    if len(emod.layers) != len(levels):
        refuse("HEnergy with {} layers for {} feature levels".format(len(emod.layers),
                                                                    len(levels)))
    heads = []
    for k, (level, lay) in enumerate(zip(levels, emod.layers)):
        where = "HEnergy layer {}".format(k)
        if type(lay) is not torch.nn.Linear or lay.out_features != 1:
            refuse(where + ": {} with {} outputs (one energy target only)".format(
                cls(lay), getattr(lay, "out_features", "?")))
        if lay.in_features != sizes[level]:
            refuse(where + ": width {} != feature width {}".format(lay.in_features,
                                                                  sizes[level]))
        head = w.linear(lay, "energy.head_{}".format(k), where, bias=lay.bias is not None)
        head["feature_level"] = level
        heads.append(head)

    doc = {
        "schema": SCHEMA,
        "producer": dict(source_info, script="tools/export_hippynn.py",
                         hippynn=hippynn.__version__, torch=torch.__version__,
                         model_dtype=str(next(mod.parameters()).dtype),
                         energy_node=energy.name, network_node=net.name),
        "units": units,
        "layout": "dense layers: y = x w + b, w[n_in][n_out]; int_weights[nu][n_in][n_middle]; "
                  "float64",
        "network": {
            "type": "Hipnn",
            "class": cls(mod),
            "species": {"z": zs, "symbols": symbols, "possible_species": species_set,
                        "encoding": "one-hot over possible_species[1:]"},
            "feature_sizes": sizes,
            "middle_sizes": middle,
            "n_interaction_layers": len(interactions),
            "n_atom_layers": int(mod.n_layers_per_block),
            "n_sensitivities": n_sens,
            "resnet": resnet,
            "activation": {"type": "softplus", "beta": beta, "threshold": threshold,
                           "formula": "log(1 + exp(x)) for x <= 20, x above"},
            "cutoff": {"type": "cos2", "rc": rc,
                       "formula": "cos(pi r / (2 rc))^2 for r <= rc, else 0"},
            "sensitivity_formula": SENSITIVITY_FORMULA,
            "layer_formula": ("env[nu][f] = sum_j s_nu(r_ij) z_j[f]; "
                              "y = sum_{nu,f} env[nu][f] int_weights[nu][f] + self(z); "
                              "resnet: z' = res(act(y)) + adjust(z) (z when no adjust), atom "
                              "layers z = res(act(linear(z))) + z; "
                              "plain: z' = act(y), atom layers z = act(linear(z))"),
            "interactions": interactions,
        },
        "energy": {
            "type": "HEnergy",
            "class": cls(emod),
            "first_is_interacting": first_is_interacting,
            "heads": heads,
            "formula": "E_i = sum_heads (z^level_i w + b); E = sum_i E_i",
        },
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


def load_training_dir(directory, state=None):
    """(GraphModule with the chosen state loaded, structure path, state path)."""
    import torch
    from hippynn.experiment.serialization import DEFAULT_STRUCTURE_FNAME, load_saved_tensors
    structure_path = os.path.join(directory, DEFAULT_STRUCTURE_FNAME)
    if not os.path.isfile(structure_path):
        raise SystemExit("export_hippynn: {} not found (is {} a hippynn training "
                         "directory?)".format(structure_path, directory))
    if state is None:
        for name in ("best_model.pt", "best_checkpoint.pt"):
            if os.path.isfile(os.path.join(directory, name)):
                state = name
                break
        else:
            raise SystemExit("export_hippynn: neither best_model.pt nor best_checkpoint.pt in "
                             + directory)
    state_path = state if os.path.isabs(state) else os.path.join(directory, state)
    structure, saved = load_saved_tensors(structure_path, state_path, map_location="cpu")
    model = structure["training_modules"].model
    if isinstance(saved, dict) and "model" in saved and "controller" in saved:
        saved = saved["model"]  # a full checkpoint
    model.load_state_dict(saved)
    return model, structure_path, state_path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("training_dir", help="hippynn training directory (experiment_structure.pt "
                    "and best_model.pt or best_checkpoint.pt)")
    ap.add_argument("output", help="mdgpu-hipnn file to write (HDF5)")
    ap.add_argument("--state", help="state file in the directory (default: best_model.pt, "
                    "else best_checkpoint.pt)")
    ap.add_argument("--energy-unit", help="energy unit the model was trained in, e.g. eV")
    ap.add_argument("--length-unit", help="length unit the model was trained in, e.g. Angstrom")
    ap.add_argument("--energy-node", help="name of the energy node (default: the only one)")
    args = ap.parse_args(argv)
    if not (args.energy_unit and args.length_unit):
        raise SystemExit("export_hippynn: hippynn does not record units: give --energy-unit "
                         "and --length-unit (the units of the training data)")
    units = {"length": args.length_unit, "energy": args.energy_unit, "source": "command line"}

    import warnings
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", module="hippynn")
    model, structure_path, state_path = load_training_dir(args.training_dir, args.state)
    source = {"source": os.path.basename(os.path.abspath(args.training_dir)),
              "state_file": os.path.basename(state_path),
              "source_sha256": {os.path.basename(structure_path): sha256(structure_path),
                                os.path.basename(state_path): sha256(state_path)}}
    try:
        doc, arrays = export(model, units, source, args.energy_node)
    except Unsupported as e:
        print("export_hippynn: unsupported model: {}".format(e), file=sys.stderr)
        return 2
    write_h5(args.output, doc, arrays)
    net = doc["network"]
    print("export_hippynn: wrote {} ({} species, {} interaction layers x {} atom layers, "
          "widths {}, resnet {}, rc = {} {}, energy in {})".format(
              args.output, len(net["species"]["z"]), net["n_interaction_layers"],
              net["n_atom_layers"], net["feature_sizes"], net["resnet"], net["cutoff"]["rc"],
              units["length"], units["energy"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
