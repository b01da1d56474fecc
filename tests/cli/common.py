"""Helpers for the CLI tests (standard library only): argument parsing, temporary folders,
small LJ inputs in lj units, and running mdgpu."""
import argparse
import os
import subprocess
import sys
import tempfile

SKIP = 77


def test_backend():
    """The executor the CLI tests run mdgpu on: MDGPU_TEST_BACKEND ("cuda" or "all": cuda,
    else cpu), as for the C++ tests."""
    b = os.environ.get("MDGPU_TEST_BACKEND", "cpu")
    return "cuda" if b in ("cuda", "all") else "cpu"


def _backend_wrapper(real, backend):
    """A wrapper script that runs `mdgpu run --backend B ...` (other commands unchanged) and
    execs the binary, so pids and signals reach mdgpu itself. Every test command goes through
    it, so the tests need no per-call change."""
    d = tempfile.mkdtemp(prefix="mdgpu_cli_bin_")
    path = os.path.join(d, "mdgpu")
    with open(path, "w") as f:
        f.write("#!/bin/sh\n"
                f'if [ "$1" = run ]; then shift; exec "{real}" run --backend {backend} "$@"; fi\n'
                f'exec "{real}" "$@"\n')
    os.chmod(path, 0o755)
    return path


def mdgpu_path():
    """The mdgpu to test (--mdgpu), wrapped to pass --backend from MDGPU_TEST_BACKEND. With
    cuda requested and no usable device the test is skipped (exit 77) without running."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--mdgpu", required=True)
    return wrap_for_backend(os.path.abspath(ap.parse_args().mdgpu))


def wrap_for_backend(real):
    """`real` wrapped to run on the MDGPU_TEST_BACKEND executor (see mdgpu_path)."""
    backend = test_backend()
    if backend == "cuda":
        info = subprocess.run([real, "info"], capture_output=True, text=True).stdout
        if "--backend auto: cuda" not in info:
            line = [l for l in info.splitlines() if l.startswith("--backend auto:")]
            print("SKIP: MDGPU_TEST_BACKEND=cuda but no usable CUDA device:",
                  line[0] if line else "mdgpu info failed")
            sys.exit(SKIP)
    return _backend_wrapper(real, backend)


def workdir(name):
    return tempfile.mkdtemp(prefix="mdgpu_cli_" + name + "_")


ENSEMBLES = {
    "nve": '',
    "nvt-langevin": 'ensemble = "nvt"\nthermostat = { kind = "langevin", temperature = 1.2, seed = 11 }\n',
    "nvt-nose-hoover": 'ensemble = "nvt"\nthermostat = { kind = "nose-hoover", temperature = 1.2 }\n',
    "nvt-csvr": 'ensemble = "nvt"\nthermostat = { kind = "csvr", temperature = 1.2, seed = 3 }\n',
    "npt-mtk": 'ensemble = "npt"\nthermostat = { kind = "nose-hoover", temperature = 1.2 }\n'
               'barostat = { kind = "mtk", pressure = 1.0 }\n',
    "npt-scr": 'ensemble = "npt"\nthermostat = { kind = "csvr", temperature = 1.2, seed = 5 }\n'
               'barostat = { kind = "scr", pressure = 1.0, compressibility = 0.05 }\n',
}


def lj_input(steps, ensemble="", cells=4, extra_output="", thermo_every=50):
    return f'''units = "lj"
[system]
lattice = {{ kind = "fcc", a = 1.6796, repeat = [{cells}, {cells}, {cells}], elements = ["A"] }}
masses = {{ A = 1.0 }}
[velocity]
temperature = 1.5
seed = 7
[potential]
style = "lj"
cutoff = 2.5
pairs = [{{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[neighbor]
check_every = 40
[run]
steps = {steps}
{ensemble}
[output]
thermo = {{ every = {thermo_every}, file = "thermo.csv" }}
data = {{ file = "final.data" }}
{extra_output}'''


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def run(cmd, cwd, **kw):
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, **kw)


def popen(cmd, cwd):
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def ensembles_available(mdgpu):
    info = subprocess.run([mdgpu, "info"], capture_output=True, text=True).stdout
    names = set()
    for line in info.splitlines():
        parts = line.split()
        if parts and parts[0] in ("nve", "nvt", "npt"):
            names.add(parts[0])
    return names


def read(path, mode="r"):
    with open(path, mode) as f:
        return f.read()


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)
