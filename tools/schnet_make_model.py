#!/usr/bin/env python3
"""Make the small SchNet test model with schnetpack's own API (no training data): a
NeuralNetworkPotential for Cu and Au with a SchNet representation (3 interactions, 32
features, 20 Gaussian RBFs, cosine cutoff 4 Å), the default Atomwise energy head (SiLU,
widths halving), Forces with stress (Strain input module), and AddOffsets with a mean and
per-element atomrefs. Weights are schnetpack's own random initialisation under a fixed seed
(untrained: a test model for file format and maths, not a physical potential).
Saved the way users hold a trained model: torch.save of the whole module (`best_model`).

    python tools/schnet_make_model.py tests/data/schnet/best_model

Build in float32 (the user's dtype); evaluation scripts call .double() afterwards.
Units: the model is meant as eV and Å (say so when exporting).
"""

import sys

PARAMS = {
    "elements": ["Cu", "Au"],
    "n_atom_basis": 32,
    "n_interactions": 3,
    "n_rbf": 20,
    "cutoff": 4.0,
    "seed": 20261130,
    "mean": -0.25,          # eV per atom
    "atomref": {"Cu": -3.5, "Au": -3.75},  # eV
}


def build(params=PARAMS):
    import torch
    import schnetpack as spk
    from ase.data import atomic_numbers

    torch.manual_seed(params["seed"])
    rc = params["cutoff"]
    rep = spk.representation.SchNet(
        n_atom_basis=params["n_atom_basis"],
        n_interactions=params["n_interactions"],
        radial_basis=spk.nn.GaussianRBF(n_rbf=params["n_rbf"], cutoff=rc),
        cutoff_fn=spk.nn.CosineCutoff(rc),
    )
    head = spk.atomistic.Atomwise(n_in=params["n_atom_basis"], output_key="energy")
    zmax = 100
    atomref = torch.zeros(zmax)
    for el, e in params["atomref"].items():
        atomref[atomic_numbers[el]] = e
    offsets = spk.transform.AddOffsets("energy", add_mean=True, add_atomrefs=True,
                                       property_mean=torch.tensor([params["mean"]]),
                                       atomrefs=atomref)
    model = spk.model.NeuralNetworkPotential(
        representation=rep,
        input_modules=[spk.atomistic.Strain(), spk.atomistic.PairwiseDistances()],
        output_modules=[head, spk.atomistic.Forces(calc_forces=True, calc_stress=True)],
        postprocessors=[spk.transform.CastTo64(), offsets],
    )
    model.do_postprocessing = True
    return model


def main(argv):
    import torch
    if len(argv) != 2:
        raise SystemExit(__doc__)
    model = build()
    assert next(model.parameters()).dtype == torch.float32
    torch.save(model, argv[1])
    print("schnet_make_model: wrote", argv[1])


if __name__ == "__main__":
    main(sys.argv)
