"""mdgpu.Simulation: the device loop from Python. Thermo callbacks only at output steps and
equal to `mdgpu run` on the same input (the CSV written by the package equals the CLI's);
zero host transfers and syncs on steps between outputs (device counters from Python);
sim.atoms snapshots; checkpoints continue bitwise like `mdgpu run --restart`."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import pycommon  # noqa: E402
from test_calculator import EAM, crystal  # noqa: E402

RUN = {"ensemble": "nvt", "timestep": 0.002, "steps": 60,
       "thermostat": {"kind": "nose-hoover", "temperature": 900.0}}
VELOCITY = {"temperature": 1200.0, "seed": 11}


def make_sim(at, d, **kw):
    import mdgpu

    out = {"thermo": {"every": 20, "file": os.path.join(d, "py.csv")}}
    out.update(kw.pop("output", {}))
    return mdgpu.Simulation(at, potential=EAM, run=kw.pop("run", RUN), velocity=VELOCITY,
                            neighbor={"skin": 1.0, "check_every": 1000}, output=out,
                            backend="cpu", **kw)


def test_run_equals_cli_and_callbacks():
    d = pycommon.workdir("sim")
    at = crystal("Cu", "fcc", 3.615, 3)
    sim = make_sim(at, d)
    seen = []
    stats = sim.run(callback=seen.append)
    assert [s["step"] for s in seen] == [0, 20, 40, 60], [s["step"] for s in seen]
    assert stats["steps"] == 60
    # the same input through the CLI
    pycommon.write_extxyz(os.path.join(d, "s.extxyz"), at)
    text = ('units = "metal"\n[system]\nextxyz = "s.extxyz"\nmasses = { Cu = %r }\n'
            % float(at.get_masses()[0]))
    text += pycommon.toml_section("potential", EAM)
    text += pycommon.toml_section("velocity", VELOCITY)
    text += '[neighbor]\nskin = 1.0\ncheck_every = 1000\n'
    text += ('[run]\nensemble = "nvt"\ntimestep = 0.002\nsteps = 60\n'
             'thermostat = { kind = "nose-hoover", temperature = 900.0 }\n')
    text += '[output]\nthermo = { every = 20, file = "cli.csv" }\n'
    with open(os.path.join(d, "in.toml"), "w") as f:
        f.write(text)
    import subprocess

    r = subprocess.run([pycommon.mdgpu_binary(), "run", "in.toml", "--quiet", "--backend", "cpu"],
                       cwd=d, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    with open(os.path.join(d, "cli.csv")) as f:
        cli = f.read()
    with open(os.path.join(d, "py.csv")) as f:
        py = f.read()
    assert cli == py, "thermo CSV of mdgpu.Simulation differs from mdgpu run"
    rows = pycommon.read_thermo(os.path.join(d, "cli.csv"))
    for s, row in zip(seen, rows):
        assert s["pe"] == row["PotEng"] and s["temp"] == row["Temp"]


def test_zero_transfers_between_outputs():
    d = pycommon.workdir("sim_counters")
    sim = make_sim(crystal("Cu", "fcc", 3.615, 3), d)
    sim.run(5)  # setup and first output outside the measured run
    stats = sim.run(55, record_counters=True)
    per = stats["per_step"]
    assert len(per) >= 55
    # output steps and the run's first step (run() starts and ends at sync points)
    outputs = {s for s in range(0, 61, 20)} | {5, 60}
    import mdgpu

    transfers, syncs = mdgpu.counters_between_outputs(per, outputs)
    assert transfers == 0 and syncs == 0, (transfers, syncs)
    # and the output steps do transfer (the check can fail)
    assert sum(t for step, t, _, _ in per if step in outputs) > 0
    assert sim.counters()["transfers"] > 0


def test_atoms_snapshot_and_continuation():
    """sim.atoms: positions, velocities (ASE units) and cell; running 30 + 30 steps equals
    60 steps; a checkpoint continues bitwise."""
    d = pycommon.workdir("sim_ckpt")
    at = crystal("Cu", "fcc", 3.615, 3)
    a = make_sim(at, d)
    a.run(60)
    ref = a.atoms
    b = make_sim(at, d, output={"thermo": {"every": 20, "file": os.path.join(d, "b.csv")},
                                "checkpoint": {"file": os.path.join(d, "b.ckpt")}})
    b.run(30)
    mid = b.atoms
    assert mid.get_kinetic_energy() > 0
    b.run(30)
    assert np.array_equal(b.atoms.get_positions(), ref.get_positions())
    assert np.array_equal(b.atoms.get_velocities(), ref.get_velocities())
    # continue from the checkpoint written at the end of b's first run? It was overwritten at
    # step 60; write one at 30 from a fresh run and continue from it
    c = make_sim(at, d, output={"thermo": {"every": 20, "file": os.path.join(d, "c.csv")}})
    c.run(30)
    c.write_checkpoint(os.path.join(d, "c30.ckpt"))
    e = make_sim(at, d, restart=os.path.join(d, "c30.ckpt"),
                 output={"thermo": {"every": 20, "file": os.path.join(d, "e.csv")}})
    assert e.step == 30
    e.run()
    assert e.step == 60
    assert np.array_equal(e.atoms.get_positions(), ref.get_positions())
    assert np.array_equal(e.atoms.get_velocities(), ref.get_velocities())
    # ASE velocities: kinetic energy from sim.atoms equals the engine's
    # (LAMMPS' and ASE's unit constants differ in the 7th digit)
    ke = a.thermo()["ke"]
    assert abs(ref.get_kinetic_energy() - ke) < 1e-6 * ke, (ref.get_kinetic_energy(), ke)


def test_general_cell_snapshot():
    """A rotated cell: sim.atoms comes back in the caller's orientation."""
    from test_calculator import rotation

    d = pycommon.workdir("sim_rot")
    at = crystal("Cu", "fcc", 3.615, 3, triclinic=True)
    q = rotation(3)
    rot = at.copy()
    rot.set_cell(at.cell[:] @ q.T)
    rot.set_positions(at.get_positions() @ q.T)
    sim = make_sim(rot, d, run={"steps": 0})
    snap = sim.atoms
    assert np.allclose(snap.cell[:], rot.cell[:], atol=1e-12)
    assert np.allclose(snap.get_positions(), rot.get_positions(), atol=1e-12)


if __name__ == "__main__":
    pycommon.main(globals())
