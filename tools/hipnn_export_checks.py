#!/usr/bin/env python3
"""Checks that tools/export_hippynn.py refuses what the mdgpu-hipnn format cannot express, on
real hippynn objects (hippynn installed): HipnnVec and HipnnQuad networks, a Tanh activation,
a SensitivityBottleneck sensitivity. Prints one line per case; exit status 1 if any is not
refused by name.

    python tools/hipnn_export_checks.py       # from the repository root
"""
import sys, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, __import__("os").path.dirname(__import__("os").path.abspath(__file__)))
import torch
import export_hippynn
from hippynn.graphs import inputs, networks, targets, GraphModule
net_params = dict(possible_species=[0, 29, 79], n_features=8, n_sensitivities=4, dist_soft_min=1.7,
                  dist_soft_max=3.6, dist_hard_max=4.0, n_interaction_layers=1, n_atom_layers=1)
bad = 0
units = {"length": "Angstrom", "energy": "eV", "source": "test"}
for name, cls, kw in [("HipnnVec", networks.HipnnVec, {}), ("HipnnQuad", networks.HipnnQuad, {}),
                      ("tanh", networks.Hipnn, {"activation": torch.nn.Tanh}),
                      ("bottleneck", networks.Hipnn, {"sensitivity_type": __import__("hippynn.layers.hiplayers.sensitivity", fromlist=["x"]).SensitivityBottleneck})]:
    sp = inputs.SpeciesNode(db_name="Z"); pos = inputs.PositionsNode(db_name="R"); cell = inputs.CellNode(db_name="C")
    try:
        p = dict(net_params, **kw)
        if name == "bottleneck":
            import functools
            p["sensitivity_type"] = functools.partial(kw["sensitivity_type"], n_dist_bare=6)
        net = cls("net", (sp, pos, cell), module_kwargs=p, periodic=True)
        he = targets.HEnergyNode("HEnergy", net)
        gm = GraphModule([sp, pos, cell], [he.mol_energy])
        export_hippynn.export(gm, units, {})
        print(name, "NOT REFUSED")
        bad += 1
    except export_hippynn.Unsupported as e:
        print(name, "refused:", str(e)[:110])
    except Exception as e:
        print(name, "build error:", type(e).__name__, str(e)[:100])
        bad += 1
sys.exit(1 if bad else 0)
