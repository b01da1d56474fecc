#!/usr/bin/env python3
"""Train the small SchNet example model of inputs/schnet/ with schnetpack's own API on EMT
(ase.calculators.emt) Cu/Au labels, then export it with tools/export_schnetpack.py.

    /work/venvs/ml/bin/python tools/schnet_train_example.py OUT_DIR

Data: fcc Cu-Au cells of 32 atoms (L1_2 Cu3Au and random occupations, Au fraction 0-1),
lattice constant 3.6-3.95 A (EMT L1_2 Cu3Au: 3.71 A), Gaussian displacements sigma 0.03-0.15 A; energies and forces
from EMT (an analytic toy potential: the model learns EMT, not real Cu-Au). Seeded: the
same data on every run (training itself is deterministic on one thread).
Model: SchNet, 2 interactions, 24 features/filters, 16 Gaussian RBFs, cosine cutoff 4.5 A,
default Atomwise head (SiLU), AddOffsets with per-element atomrefs fitted by least squares.
Trained in float32 with Adam on per-atom energy + force MSE (plain torch loop over
schnetpack's AtomsConverter inputs). Writes OUT_DIR/best_model (torch.save of the whole
NeuralNetworkPotential, as schnetpack's trainer does), OUT_DIR/cuau_emt.schnet.h5 (export),
and prints the test-set errors (energy meV/atom, force meV/A) against EMT.
"""

import os
import subprocess
import sys
import time

import numpy as np

SEED = 20261130
RC = 4.5
ELEMENTS = ["Cu", "Au"]


def make_data(n, rng):
    from ase.build import bulk
    from ase.calculators.emt import EMT

    frames = []
    for k in range(n):
        a = rng.uniform(3.6, 3.95)
        atoms = bulk("Cu", "fcc", a=a, cubic=True).repeat((2, 2, 2))
        if k % 4 == 0:  # L1_2 Cu3Au: Au on the cube corners
            sym = ["Au" if i % 4 == 0 else "Cu" for i in range(len(atoms))]
        else:
            frac = rng.uniform(0.0, 1.0)
            sym = ["Au" if rng.random() < frac else "Cu" for _ in range(len(atoms))]
        atoms.set_chemical_symbols(sym)
        atoms.positions += rng.normal(0.0, rng.uniform(0.03, 0.15), atoms.positions.shape)
        atoms.calc = EMT()
        e = atoms.get_potential_energy()
        f = atoms.get_forces()
        atoms.calc = None
        frames.append((atoms, e, f))
    return frames


def build_model(atomref):
    import torch
    import schnetpack as spk
    from ase.data import atomic_numbers

    torch.manual_seed(SEED)
    rep = spk.representation.SchNet(
        n_atom_basis=24, n_interactions=2,
        radial_basis=spk.nn.GaussianRBF(n_rbf=16, cutoff=RC),
        cutoff_fn=spk.nn.CosineCutoff(RC))
    head = spk.atomistic.Atomwise(n_in=24, output_key="energy")
    refs = torch.zeros(100)
    for el, e in atomref.items():
        refs[atomic_numbers[el]] = e
    offsets = spk.transform.AddOffsets("energy", add_mean=False, add_atomrefs=True,
                                       atomrefs=refs)
    model = spk.model.NeuralNetworkPotential(
        representation=rep,
        input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[head, spk.atomistic.Forces(calc_forces=True, calc_stress=False)],
        postprocessors=[spk.transform.CastTo64(), offsets])
    return model


def main(argv):
    if len(argv) != 2:
        raise SystemExit(__doc__)
    out = argv[1]
    os.makedirs(out, exist_ok=True)
    import torch
    import schnetpack as spk

    torch.set_num_threads(1)
    rng = np.random.default_rng(SEED)
    train = make_data(240, rng)
    test = make_data(40, rng)

    # atomrefs: least squares of E on the element counts
    counts = np.array([[sum(1 for s in a.get_chemical_symbols() if s == el) for el in ELEMENTS]
                       for a, _, _ in train], dtype=float)
    energies = np.array([e for _, e, _ in train])
    ref, *_ = np.linalg.lstsq(counts, energies, rcond=None)
    atomref = {el: float(r) for el, r in zip(ELEMENTS, ref)}
    print("atomrefs (eV):", atomref)

    model = build_model(atomref)
    conv = spk.interfaces.AtomsConverter(
        neighbor_list=spk.transform.ASENeighborList(cutoff=RC), dtype=torch.float32)

    def batches(frames, size):
        out_b = []
        for s in range(0, len(frames), size):
            chunk = frames[s:s + size]
            inp = conv([a for a, _, _ in chunk])
            shift = np.array([sum(atomref[x] for x in a.get_chemical_symbols()) for a, _, _ in chunk])
            e = torch.tensor(np.array([e for _, e, _ in chunk]) - shift, dtype=torch.float32)
            f = torch.tensor(np.concatenate([f for _, _, f in chunk]), dtype=torch.float32)
            nat = torch.tensor([len(a) for a, _, _ in chunk], dtype=torch.float32)
            out_b.append((inp, e, f, nat))
        return out_b

    train_b = batches(train, 8)
    test_b = batches(test, 8)

    def run(b, grad):
        inp = {k: v.detach().clone() for k, v in b[0].items()}
        res = model(inp)
        de = (res["energy"] - b[1]) / b[3]
        df = res["forces"] - b[2]
        return de, df

    model.do_postprocessing = False
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.97)
    epochs = int(os.environ.get("SCHNET_EPOCHS", "60"))
    best = None
    for ep in range(epochs):
        order = np.random.default_rng(SEED + ep).permutation(len(train_b))
        for k in order:
            opt.zero_grad()
            de, df = run(train_b[k], True)
            loss = (de ** 2).mean() + 10.0 * (df ** 2).mean()
            loss.backward()
            opt.step()
        sched.step()
        if ep % 10 == 9 or ep == epochs - 1:
            se = sf = 0.0
            ne = nf = 0
            for b in test_b:
                de, df = run(b, False)
                se += float((de ** 2).sum())
                sf += float((df ** 2).sum())
                ne += de.numel()
                nf += df.numel()
            rmse_e, rmse_f = (se / ne) ** 0.5, (sf / nf) ** 0.5
            print(f"epoch {ep + 1} ({time.process_time():.0f} s CPU): test RMSE energy {1000 * rmse_e:.2f} meV/atom, "
                  f"force {1000 * rmse_f:.1f} meV/A", flush=True)
            if best is None or rmse_f < best[1]:
                best = (rmse_e, rmse_f, ep + 1)
                model.do_postprocessing = True
                torch.save(model, os.path.join(out, "best_model"))
                model.do_postprocessing = False
    print(f"best_model: epoch {best[2]}, test RMSE energy {1000 * best[0]:.2f} meV/atom, "
          f"force {1000 * best[1]:.1f} meV/A (vs EMT, 40 held-out cells of 32 atoms)")
    here = os.path.dirname(os.path.abspath(__file__))
    subprocess.run([sys.executable, os.path.join(here, "export_schnetpack.py"),
                    os.path.join(out, "best_model"), os.path.join(out, "cuau_emt.schnet.h5"),
                    "--species", ",".join(ELEMENTS), "--energy-unit", "eV",
                    "--length-unit", "Angstrom"], check=True)


if __name__ == "__main__":
    main(sys.argv)
