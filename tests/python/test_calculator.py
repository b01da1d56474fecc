"""mdgpu.ase.Calculator: energies, forces, per-atom energies and the virial equal `mdgpu run`
(0 steps, thermo CSV and LAMMPS dump) bitwise on the CPU executor for LJ, EAM, SNAP and
DeePMD on cubic and triclinic cells; general (rotated) cells give the rotated forces and
stress; the device state is reused when positions change; ASE's BFGS relaxes a perturbed
crystal; ase.md.VelocityVerlet with it conserves energy."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import pycommon  # noqa: E402
from pycommon import INPUTS  # noqa: E402

LJ = {"style": "lj", "pairs": [{"types": ["Ar", "Ar"], "epsilon": 0.0104, "sigma": 3.4,
                                "cutoff": 8.5}]}
EAM = {"style": "eam", "file": os.path.join(INPUTS, "potentials", "Cu_u3.eam")}
SNAP = {"style": "snap", "coeff": os.path.join(INPUTS, "snap", "Ta06A.snapcoeff"),
        "param": os.path.join(INPUTS, "snap", "Ta06A.snapparam"), "elements": ["Ta"]}
DEEPMD = {"style": "deepmd", "file": os.path.join(INPUTS, "deepmd", "cu_small.dp")}


def crystal(symbol, kind, a, rep, triclinic=False, seed=1, rattle=0.05):
    from ase import Atoms
    from ase.build import bulk

    at = bulk(symbol, kind, a=a, cubic=True).repeat(rep)
    if triclinic:  # shear in the engine's form: a along x, b in the xy plane
        cell = at.cell[:].copy()
        cell[1][0] += 0.13 * cell[0][0]
        cell[2][0] += 0.07 * cell[0][0]
        cell[2][1] -= 0.05 * cell[1][1]
        at.set_cell(cell, scale_atoms=True)
    at.rattle(rattle, seed=seed)
    # round-trip positions through repr so the CLI reads the same numbers
    return Atoms(at.get_chemical_symbols(), positions=at.get_positions(), cell=at.cell[:],
                 pbc=True)


def compare_with_cli(atoms, potential, name, neighbor=None):
    import mdgpu.ase

    calc = mdgpu.ase.Calculator(potential=potential, neighbor=neighbor, backend="cpu")
    atoms.calc = calc
    e = atoms.get_potential_energy()
    f = atoms.get_forces()
    pe = atoms.get_potential_energies()
    w = calc.results["virial_engine"]
    thermo, dump = pycommon.run_cli(atoms, potential, name, neighbor)
    assert e == thermo["PotEng"], (name, e, thermo["PotEng"])
    for i in range(len(atoms)):
        d = dump[i + 1]
        assert (f[i][0], f[i][1], f[i][2]) == (d["fx"], d["fy"], d["fz"]), (name, i, f[i], d)
        assert pe[i] == d["c_pe"], (name, i, pe[i], d["c_pe"])
    # the pressure tensor of the CSV from the same virial (zero velocities)
    info = calc._engine.info()
    vol = atoms.get_volume()
    lx, ly, lz = atoms.cell[0][0], atoms.cell[1][1], atoms.cell[2][2]
    vol = lx * ly * lz
    for k, col in enumerate(["Pxx", "Pyy", "Pzz", "Pxy", "Pxz", "Pyz"]):
        assert (0.0 + w[k]) / vol * info["nktv2p"] == thermo[col], (name, col)
    s = atoms.get_stress()  # ASE: -virial / V, Voigt xx yy zz yz xz xy
    ref = -np.array([w[0], w[1], w[2], w[5], w[4], w[3]]) / vol
    assert np.allclose(s, ref, rtol=1e-14, atol=1e-18), (s, ref)
    assert abs(pe.sum() - e) <= 1e-10 * max(1.0, abs(e))
    return calc


def test_lj_equals_cli():
    compare_with_cli(crystal("Ar", "fcc", 5.26, 3), LJ, "lj")
    compare_with_cli(crystal("Ar", "fcc", 5.26, 3, triclinic=True), LJ, "lj_tri")


def test_eam_equals_cli():
    compare_with_cli(crystal("Cu", "fcc", 3.615, 3), EAM, "eam")
    compare_with_cli(crystal("Cu", "fcc", 3.615, 3, triclinic=True, seed=3), EAM, "eam_tri")


def test_snap_equals_cli():
    compare_with_cli(crystal("Ta", "bcc", 3.316, 2), SNAP, "snap")
    compare_with_cli(crystal("Ta", "bcc", 3.316, 2, triclinic=True), SNAP, "snap_tri")


def test_deepmd_equals_cli():
    compare_with_cli(crystal("Cu", "fcc", 3.61, 2), DEEPMD, "deepmd")
    compare_with_cli(crystal("Cu", "fcc", 3.61, 2, triclinic=True), DEEPMD, "deepmd_tri")


def rotation(seed):
    rng = np.random.default_rng(seed)
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] = -q[:, 0]
    return q


def test_general_cell_rotated_back():
    """A rotated crystal (cell not in the engine's form): same energy, forces and stress
    rotated by the same rotation (as the engine rotates in and back)."""
    import mdgpu.ase

    for pot, at in ((EAM, crystal("Cu", "fcc", 3.615, 3, triclinic=True)),
                    (SNAP, crystal("Ta", "bcc", 3.316, 2, triclinic=True))):
        at.calc = mdgpu.ase.Calculator(potential=pot, backend="cpu")
        e0, f0, s0 = at.get_potential_energy(), at.get_forces(), at.get_stress(voigt=False)
        q = rotation(7)
        rot = at.copy()
        rot.set_cell(at.cell[:] @ q.T, scale_atoms=False)
        rot.set_positions(at.get_positions() @ q.T)
        rot.calc = mdgpu.ase.Calculator(potential=pot, backend="cpu")
        e1, f1, s1 = rot.get_potential_energy(), rot.get_forces(), rot.get_stress(voigt=False)
        assert abs(e1 - e0) <= 1e-10 * abs(e0), (e0, e1)
        assert np.abs(f1 - f0 @ q.T).max() < 1e-9, np.abs(f1 - f0 @ q.T).max()
        assert np.abs(s1 - q @ s0 @ q.T).max() < 1e-9
        # a left-handed description of the same lattice
        lh = at.copy()
        cell = at.cell[:].copy()
        cell[2] = -cell[2]
        lh.set_cell(cell, scale_atoms=False)
        lh.calc = mdgpu.ase.Calculator(potential=pot, backend="cpu")
        assert abs(lh.get_potential_energy() - e0) <= 1e-10 * abs(e0)
        assert np.abs(lh.get_forces() - f0).max() < 1e-9


def test_stress_is_strain_derivative():
    """ASE sign and units: stress = (1/V) dE/d(strain), checked by central differences."""
    import mdgpu.ase

    at = crystal("Cu", "fcc", 3.615, 3, triclinic=True)
    at.calc = mdgpu.ase.Calculator(potential=EAM, backend="cpu")
    s = at.get_stress(voigt=False)
    h = 1e-5
    v = at.get_volume()
    for a, b in ((0, 0), (1, 1), (2, 2), (0, 1), (1, 2), (0, 2)):
        es = []
        for sign in (1, -1):
            eps = np.eye(3)
            eps[a, b] += sign * h / (2 if a != b else 1)
            if a != b:
                eps[b, a] += sign * h / 2
            t = at.copy()
            t.set_cell(at.cell[:] @ eps, scale_atoms=True)
            t.calc = at.calc
            es.append(t.get_potential_energy())
        d = (es[0] - es[1]) / (2 * h) / v
        assert abs(d - s[a, b]) < 1e-6, (a, b, d, s[a, b])


def test_non_periodic_cluster():
    import mdgpu.ase
    from ase.cluster import Icosahedron

    at = Icosahedron("Cu", 3, latticeconstant=3.615)
    at.rattle(0.03, seed=2)
    at.calc = mdgpu.ase.Calculator(potential=EAM, backend="cpu")
    e = at.get_potential_energy()
    f = at.get_forces()
    assert np.isfinite(e) and np.abs(f.sum(axis=0)).max() < 1e-10
    h = 1e-5
    for i, c in ((0, 0), (5, 2), (20, 1)):
        p = at.get_positions()
        ep = []
        for sign in (1, -1):
            q = p.copy()
            q[i, c] += sign * h
            t = at.copy()
            t.set_positions(q)
            t.calc = mdgpu.ase.Calculator(potential=EAM, backend="cpu")
            ep.append(t.get_potential_energy())
        assert abs(-(ep[0] - ep[1]) / (2 * h) - f[i, c]) < 1e-6


def test_reuses_device_state():
    """Moving atoms reuses the engine (one build, no new device allocations)."""
    import mdgpu.ase

    at = crystal("Cu", "fcc", 3.615, 3)
    calc = mdgpu.ase.Calculator(potential=EAM, backend="cpu")
    at.calc = calc
    at.get_forces()
    c0 = calc.counters()
    for k in range(5):
        at.positions[0] += 0.01
        at.get_forces()
    c1 = calc.counters()
    assert calc.engine_builds == 1
    assert c1["allocations"] == c0["allocations"], (c0, c1)


def test_bfgs_relaxes():
    import mdgpu.ase
    from ase.optimize import BFGS

    at = crystal("Cu", "fcc", 3.615, 2, rattle=0.1, seed=4)
    at.calc = mdgpu.ase.Calculator(potential=EAM, backend="cpu")
    e0 = at.get_potential_energy()
    opt = BFGS(at, logfile=None)
    assert opt.run(fmax=1e-4, steps=300)
    assert at.get_potential_energy() < e0
    assert np.abs(at.get_forces()).max() < 1e-4
    # the perfect crystal's energy per atom (Cu_u3: E_coh 3.54 eV)
    assert abs(at.get_potential_energy() / len(at) + 3.54) < 0.01


def test_cell_relaxation():
    """Stress drives ASE's cell filter: a strained Cu cell relaxes back to the EAM lattice
    constant (cell changes reuse the engine; the list is rebuilt on the device)."""
    import mdgpu.ase
    from ase.filters import FrechetCellFilter
    from ase.optimize import BFGS

    at = crystal("Cu", "fcc", 3.615, 2, rattle=0.0)
    at.set_cell(at.cell[:] @ np.diag([1.04, 0.98, 1.01]), scale_atoms=True)
    at.calc = mdgpu.ase.Calculator(potential=EAM, backend="cpu")
    assert BFGS(FrechetCellFilter(at), logfile=None).run(fmax=1e-5, steps=200)
    lengths = at.cell.lengths() / 2
    assert np.abs(lengths - 3.615).max() < 1e-3, lengths
    assert np.abs(at.get_stress()).max() < 1e-5
    assert at.calc.engine_builds == 1


def test_velocity_verlet_conserves_energy():
    import mdgpu.ase
    from ase import units
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
    from ase.md.verlet import VelocityVerlet

    at = crystal("Cu", "fcc", 3.615, 3, rattle=0.0)
    at.calc = mdgpu.ase.Calculator(potential=EAM, backend="cpu")
    MaxwellBoltzmannDistribution(at, temperature_K=600, rng=np.random.default_rng(5))
    dyn = VelocityVerlet(at, timestep=1.0 * units.fs)
    e = []
    for _ in range(20):
        dyn.run(10)
        e.append(at.get_potential_energy() + at.get_kinetic_energy())
    drift = (max(e) - min(e)) / len(at)
    assert drift < 2e-4, drift
    assert at.calc.engine_builds == 1


if __name__ == "__main__":
    pycommon.main(globals())
