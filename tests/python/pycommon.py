"""Helpers for the tests of the `mdgpu` Python package (tests/python): the mdgpu binary
(--mdgpu, as ctest passes it), structures with exactly representable inputs for the CLI
(extended XYZ with round-trip numbers, cells in the engine's form), running `mdgpu run` on
the same structure and model, and reading its thermo CSV and LAMMPS dump back.
Each test file runs its test_* functions when executed (ctest) and also works with pytest."""
import argparse
import os
import subprocess
import sys
import tempfile

SKIP = 77
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
INPUTS = os.path.join(ROOT, "inputs")


def mdgpu_binary():
    exe = os.environ.get("MDGPU_BINARY")
    if exe:
        return exe
    ap = argparse.ArgumentParser()
    ap.add_argument("--mdgpu", default=os.path.join(ROOT, "build", "mdgpu"))
    args, _ = ap.parse_known_args()
    return os.path.abspath(args.mdgpu)


def workdir(name):
    return tempfile.mkdtemp(prefix="mdgpu_py_" + name + "_")


def toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(v)


def toml_section(name, d):
    return f"[{name}]\n" + "".join(f"{k} = {toml_value(v)}\n" for k, v in d.items())


def write_extxyz(path, atoms):
    """Round-trip numbers (repr), the cell as given (must already be in the engine's form for
    bitwise comparisons)."""
    cell = atoms.cell[:]
    lat = " ".join(repr(float(x)) for x in cell.reshape(-1))
    pbc = " ".join("T" if p else "F" for p in atoms.pbc)
    with open(path, "w") as f:
        f.write(f"{len(atoms)}\nLattice=\"{lat}\" pbc=\"{pbc}\" Properties=species:S:1:pos:R:3\n")
        for s, p in zip(atoms.get_chemical_symbols(), atoms.get_positions()):
            f.write(f"{s} {float(p[0])!r} {float(p[1])!r} {float(p[2])!r}\n")


def run_cli(atoms, potential, name, neighbor=None, units="metal", extra=""):
    """`mdgpu run` with 0 steps on `atoms`: returns (thermo row dict, per-atom dict id -> (f, e))."""
    d = workdir(name)
    write_extxyz(os.path.join(d, "s.extxyz"), atoms)
    text = f'units = "{units}"\n[system]\nextxyz = "s.extxyz"\n'
    masses = {}
    for s, m in zip(atoms.get_chemical_symbols(), atoms.get_masses()):
        masses.setdefault(s, float(m))
    text += f"masses = {toml_value(masses)}\n"
    text += toml_section("potential", potential)
    if neighbor:
        text += toml_section("neighbor", neighbor)
    text += "[run]\nsteps = 0\n[safety]\nenabled = false\n"
    text += ('[output]\nthermo = { every = 1, file = "thermo.csv" }\n'
             'trajectory = { every = 1, file = "f.lammpstrj", forces = true, energies = true }\n')
    text += extra
    with open(os.path.join(d, "in.toml"), "w") as f:
        f.write(text)
    r = subprocess.run([mdgpu_binary(), "run", "in.toml", "--quiet", "--backend", "cpu"], cwd=d,
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError(f"mdgpu run failed: {r.stderr}")
    return read_thermo(os.path.join(d, "thermo.csv"))[0], read_dump(os.path.join(d, "f.lammpstrj"))


def read_thermo(path):
    with open(path) as f:
        lines = [l.strip() for l in f if l.strip()]
    head = lines[0].split(",")
    return [dict(zip(head, (float(x) for x in l.split(",")))) for l in lines[1:]]


def read_dump(path):
    """The first frame: columns by name, as strings parsed with float() (exact)."""
    with open(path) as f:
        lines = f.read().splitlines()
    n = int(lines[3])
    cols = lines[8].split()[2:]
    rows = {}
    for l in lines[9:9 + n]:
        v = dict(zip(cols, l.split()))
        rows[int(v["id"])] = {k: float(x) for k, x in v.items()}
    return rows


def cli_error(toml_text, name):
    """stderr message of `mdgpu run` on an input, without the "mdgpu: error: FILE:LINE: "
    prefix."""
    d = workdir(name)
    with open(os.path.join(d, "in.toml"), "w") as f:
        f.write(toml_text)
    r = subprocess.run([mdgpu_binary(), "run", "in.toml", "--quiet"], cwd=d,
                       capture_output=True, text=True)
    assert r.returncode == 1, (r.returncode, r.stderr)
    msg = r.stderr.strip().splitlines()[-1]
    assert msg.startswith("mdgpu: error: "), msg
    msg = msg[len("mdgpu: error: "):]
    if msg.startswith("in.toml:"):
        msg = msg.split(": ", 1)[1]
    return msg


def main(namespace):
    """Runs the test_* functions of a test module (ctest entry point)."""
    try:
        import ase  # noqa: F401
        import mdgpu  # noqa: F401
    except ImportError as e:
        print(f"skipped: {e}")
        sys.exit(SKIP)
    tests = [(k, v) for k, v in namespace.items() if k.startswith("test_") and callable(v)]
    ap = argparse.ArgumentParser()
    ap.add_argument("--mdgpu")
    ap.add_argument("only", nargs="*")
    only = ap.parse_args().only
    failed = ran = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        ran += 1
        try:
            fn()
            print(f"ok   {name}", flush=True)
        except Exception:
            import traceback

            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc()
    sys.exit(1 if failed or not ran else 0)
