"""Bad input from Python raises mdgpu.InputError with the message `mdgpu run` prints for the
same section in a TOML file (after its "file:line: " prefix); nothing crashes the
interpreter; TOML strings are accepted for every section."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pycommon  # noqa: E402
from test_calculator import EAM, LJ, crystal  # noqa: E402

HEAD = ('units = "metal"\n[system]\nlattice = { kind = "fcc", a = 5.26, repeat = [3, 3, 3], '
        'elements = ["Ar"] }\n')


def cli_message(potential=None, run=None, neighbor=None):
    text = HEAD
    text += pycommon.toml_section("potential", potential if potential is not None else LJ)
    if neighbor is not None:
        text += pycommon.toml_section("neighbor", neighbor)
    text += pycommon.toml_section("run", run if run is not None else {"steps": 0})
    return pycommon.cli_error(text, "bad")


def python_message(potential=None, run=None, neighbor=None, calculator=False):
    import mdgpu
    import mdgpu.ase

    at = crystal("Ar", "fcc", 5.26, 3, rattle=0.0)
    try:
        if calculator:
            at.calc = mdgpu.ase.Calculator(potential=potential if potential is not None else LJ,
                                           neighbor=neighbor)
            at.get_potential_energy()
        else:
            mdgpu.Simulation(at, potential=potential if potential is not None else LJ,
                             run=run if run is not None else {"steps": 0}, neighbor=neighbor)
    except mdgpu.InputError as e:
        assert isinstance(e, ValueError)
        return str(e)
    raise AssertionError("no exception")


CASES = [
    ("unknown key", dict(potential=dict(LJ, cutof=2.5))),
    ("unknown style", dict(potential={"style": "ljj"})),
    ("wrong type", dict(potential={"style": "eam", "file": 3})),
    ("wrong type in a list", dict(potential={"style": "lj", "pairs": [
        {"types": ["Ar", "Ar"], "epsilon": "big", "sigma": 3.4, "cutoff": 8.5}]})),
    ("missing key", dict(potential={"style": "lj", "pairs": [
        {"types": ["Ar", "Ar"], "sigma": 3.4, "cutoff": 8.5}]})),
    ("unknown type name", dict(potential={"style": "lj", "pairs": [
        {"types": ["Ar", "Xe"], "epsilon": 0.01, "sigma": 3.4, "cutoff": 8.5}]})),
    ("missing file", dict(potential={"style": "eam", "file": "/nonexistent/Cu.eam"})),
    ("unknown ensemble", dict(run={"steps": 0, "ensemble": "nvx"})),
    ("bad thermostat", dict(run={"steps": 0, "ensemble": "nvt",
                                 "thermostat": {"kind": "nose-hoover"}})),
    ("negative skin", dict(neighbor={"skin": -1.0})),
    ("nan", dict(potential={"style": "lj", "pairs": [
        {"types": ["Ar", "Ar"], "epsilon": float("nan"), "sigma": 3.4, "cutoff": 8.5}]})),
]


def test_same_message_as_cli():
    for name, kw in CASES:
        cli = cli_message(**kw)
        py = python_message(**kw)
        assert py == cli, f"{name}:\n  python: {py}\n  cli:    {cli}"
        if "run" not in kw:
            calc = python_message(calculator=True, **kw)
            assert calc == cli, f"{name} (calculator):\n  python: {calc}\n  cli:    {cli}"


def test_toml_strings():
    import mdgpu
    import mdgpu.ase

    at = crystal("Cu", "fcc", 3.615, 2)
    at.calc = mdgpu.ase.Calculator(potential=EAM)
    e = at.get_potential_energy()
    text = f'style = "eam"\nfile = "{EAM["file"]}"\n'
    for t in (text, "[potential]\n" + text):
        at.calc = mdgpu.ase.Calculator(potential=t)
        assert at.get_potential_energy() == e
    try:
        mdgpu.ase.Calculator(potential='style = "eam\n')
        raise AssertionError("no exception")
    except mdgpu.InputError as err:
        assert "[potential]: malformed TOML" in str(err), str(err)


def test_python_types_and_cells():
    import numpy as np

    import mdgpu
    import mdgpu.ase
    from ase import Atoms

    # numpy values are numbers; other Python objects are refused by key
    at = crystal("Ar", "fcc", 5.26, 3, rattle=0.0)
    pot = {"style": "lj", "pairs": [{"types": np.array(["Ar", "Ar"]), "epsilon": np.float64(0.0104),
                                     "sigma": np.float32(3.4), "cutoff": 8.5}]}
    at.calc = mdgpu.ase.Calculator(potential=pot)
    assert np.isfinite(at.get_potential_energy())
    for bad, text in (({"style": "lj", "cutoff": {1, 2}},
                       "[potential] cutoff: a Python set cannot be given here"),
                      ({"style": "lj", "cutoff": None}, "[potential] cutoff: None is not a value"),
                      ({"style": "lj", 3: 1}, "[potential]: keys must be strings, not 3")):
        try:
            mdgpu.ase.Calculator(potential=bad).get_potential_energy(at)
            raise AssertionError("no exception")
        except mdgpu.InputError as e:
            assert str(e).startswith(text), str(e)
    try:
        mdgpu.ase.Calculator(potential=5)
        raise AssertionError("no exception")
    except mdgpu.InputError as e:
        assert "expected a dict or a TOML string" in str(e)
    # periodic atoms without a cell
    gas = Atoms("Ar2", positions=[[0, 0, 0], [3.8, 0, 0]], pbc=True)
    try:
        gas.calc = mdgpu.ase.Calculator(potential=LJ)
        gas.get_potential_energy()
        raise AssertionError("no exception")
    except mdgpu.InputError as e:
        assert str(e).startswith("[system] atoms: the cell length along x is 0 (lower bound 0): "
                                 "it must be finite and positive"), str(e)
    # the same atoms without periodicity work (free boundaries)
    gas.pbc = False
    gas.calc = mdgpu.ase.Calculator(potential=LJ)
    e = gas.get_potential_energy()
    assert e < 0
    # a second, broken call after a good one leaves the interpreter and calculator usable
    gas.positions[1] = [np.nan, 0, 0]
    try:
        gas.get_potential_energy()
        raise AssertionError("no exception")
    except mdgpu.InputError as err:
        assert "non-finite position" in str(err)
    gas.positions[1] = [3.8, 0, 0]
    assert gas.get_potential_energy() == e
    # a run-time failure (atoms on top of each other) is mdgpu.Error, not a crash
    sim_atoms = crystal("Ar", "fcc", 5.26, 3, rattle=0.0)
    sim_atoms.positions[1] = sim_atoms.positions[0]
    try:
        mdgpu.Simulation(sim_atoms, potential=LJ, run={"steps": 10}).run()
        raise AssertionError("no exception")
    except mdgpu.Error as err:
        assert "atom" in str(err), str(err)


if __name__ == "__main__":
    pycommon.main(globals())
