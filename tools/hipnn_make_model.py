#!/usr/bin/env python3
"""Make the small HIP-NN test models with hippynn's own API and training loop: Cu/Au networks
(possible_species [0, 29, 79]) trained for a few epochs on EMT energies and forces of
random fcc Cu/Au cells, saved as the hippynn training directories users hold
(experiment_structure.pt, best_checkpoint.pt, best_model.pt; the other files the training
writes -- logs, metrics, plots -- are not kept).

    python tools/hipnn_make_model.py tests/data/hipnn          # writes <dir>/resnet, <dir>/plain

Two variants (VARIANTS below), both with 2 interaction layers of 2 atom layers each:
  resnet: resnet=True (hippynn's default), 16 features, "inverse" sensitivities (8), rc 4 Å;
  plain:  resnet=False, feature widths [16, 12], "linear" sensitivities (hippynn's
          GaussianSensitivityModule; same 1/r formula in 0.1.3), 3 atom layers, rc 4 Å.
The training is short (a test model for the file format and the maths, not a physical
potential); it runs in float32 (the user's dtype) on the CPU with one thread and fixed seeds.
Units: eV and Å (EMT's); say so when exporting.
"""

import os
import shutil
import sys
import tempfile

SPECIES = [0, 29, 79]  # hippynn's possible_species: 0 = padding, then Cu, Au
SYMBOLS = {29: "Cu", 79: "Au"}

VARIANTS = {
    "resnet": {
        "network": {
            "possible_species": SPECIES,
            "n_features": 16,
            "n_sensitivities": 8,
            "dist_soft_min": 1.7,
            "dist_soft_max": 3.6,
            "dist_hard_max": 4.0,
            "n_interaction_layers": 2,
            "n_atom_layers": 2,
            "sensitivity_type": "inverse",
            "resnet": True,
        },
        "seed": 20261130,
    },
    "plain": {
        "network": {
            "possible_species": SPECIES,
            "n_features": [16, 12],
            "n_sensitivities": 6,
            "dist_soft_min": 1.8,
            "dist_soft_max": 3.5,
            "dist_hard_max": 4.0,
            "n_interaction_layers": 2,
            "n_atom_layers": 3,
            "sensitivity_type": "linear",
            "resnet": False,
        },
        "seed": 20261131,
    },
}

TRAINING = {"n_structures": 40, "max_epochs": 12, "batch_size": 8, "learning_rate": 1e-3,
            "data_seed": 7}
KEEP = ("experiment_structure.pt", "best_checkpoint.pt", "best_model.pt")


def emt_data(seed, n):
    """n random 2x2x2 fcc Cu/Au cells (32 atoms): lattice 3.7-4.1 Å, random species,
    positions rattled by 0.1 Å; EMT energies and forces (float64, eV and eV/Å)."""
    import numpy as np
    from ase.build import bulk
    from ase.calculators.emt import EMT

    rng = np.random.default_rng(seed)
    species, coords, cells, energies, forces = [], [], [], [], []
    for _ in range(n):
        a = rng.uniform(3.7, 4.1)
        atoms = bulk("Cu", "fcc", a=a, cubic=True).repeat((2, 2, 2))
        atoms.set_atomic_numbers(rng.choice([29, 79], size=len(atoms), p=[0.6, 0.4]))
        atoms.positions += rng.normal(0.0, 0.1, atoms.positions.shape)
        atoms.calc = EMT()
        energies.append(atoms.get_potential_energy())
        forces.append(atoms.get_forces())
        species.append(atoms.numbers.copy())
        coords.append(atoms.positions.copy())
        cells.append(atoms.cell.array.copy())
    n_atoms = len(species[0])
    e = np.array(energies)
    return {
        "species": np.array(species, dtype=np.int64),
        "coordinates": np.array(coords, dtype=np.float32),
        "cell": np.array(cells, dtype=np.float32),
        "energy": e.astype(np.float32),
        "energyperatom": (e / n_atoms).astype(np.float32),
        "force": np.array(forces, dtype=np.float32),
    }


def train(variant, outdir):
    import numpy as np
    import torch

    torch.set_default_dtype(torch.float32)
    torch.set_num_threads(1)
    import hippynn
    from hippynn.graphs import inputs, networks, targets, physics, loss
    from hippynn.experiment.assembly import assemble_for_training
    from hippynn.experiment import SetupParams, setup_and_train
    from hippynn.experiment.controllers import PatienceController
    from hippynn.databases import Database
    from hippynn.pretraining import hierarchical_energy_initialization

    params = VARIANTS[variant]
    torch.manual_seed(params["seed"])
    np.random.seed(params["seed"])

    species = inputs.SpeciesNode(db_name="species")
    positions = inputs.PositionsNode(db_name="coordinates")
    cell = inputs.CellNode(db_name="cell")
    network = networks.Hipnn("HIPNN", (species, positions, cell),
                             module_kwargs=dict(params["network"]), periodic=True)
    henergy = targets.HEnergyNode("HEnergy", network)
    sys_energy = henergy.mol_energy
    sys_energy.db_name = "energy"
    force = physics.GradientNode("force", (sys_energy, positions), sign=-1)
    force.db_name = "force"
    en_peratom = physics.PerAtom("T/Atom", sys_energy)
    en_peratom.db_name = "energyperatom"

    rmse_energy = loss.MSELoss(en_peratom.pred, en_peratom.true) ** (1 / 2)
    force_rmse = loss.MSELoss(force.pred, force.true) ** (1 / 2)
    train_loss = 10.0 * rmse_energy + force_rmse
    validation_losses = {"TpA-RMSE": rmse_energy, "ForceRMSE": force_rmse, "Loss": train_loss}
    training_modules, db_info = assemble_for_training(train_loss, validation_losses)

    arrays = emt_data(TRAINING["data_seed"], TRAINING["n_structures"])
    database = Database(arrays, seed=TRAINING["data_seed"], test_size=0.1, valid_size=0.1,
                        pin_memory=False, **db_info)
    hierarchical_energy_initialization(henergy, database, peratom=False,
                                       energy_name="energy", decay_factor=1e-2)

    optimizer = torch.optim.Adam(training_modules.model.parameters(),
                                 lr=TRAINING["learning_rate"])
    controller = PatienceController(optimizer=optimizer, scheduler=None,
                                    batch_size=TRAINING["batch_size"],
                                    eval_batch_size=TRAINING["batch_size"],
                                    max_epochs=TRAINING["max_epochs"], termination_patience=50,
                                    stopping_key="Loss")
    os.makedirs(outdir, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        with hippynn.tools.active_directory(work, create=False):
            setup_and_train(training_modules=training_modules, database=database,
                            setup_params=SetupParams(controller=controller, device="cpu"))
        for name in KEEP:
            shutil.copyfile(os.path.join(work, name), os.path.join(outdir, name))
    print("hipnn_make_model: wrote", outdir, "(hippynn {})".format(hippynn.__version__))


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    for variant in VARIANTS:
        train(variant, os.path.join(argv[1], variant))


if __name__ == "__main__":
    main(sys.argv)
