#!/usr/bin/env python3
"""End-to-end comparison of mdgpu's Lennard-Jones NVE runs against LAMMPS (lj/cut).

Usage: python3 test_lj_vs_lammps.py --mdgpu /path/to/mdgpu [--keep DIR]

For every case a disordered starting configuration (off-lattice positions, non-zero
velocities) is made with mdgpu itself and written as a LAMMPS data file. LAMMPS and mdgpu
then both start from that file with the same potential, skin and timestep and run 100 NVE
steps with thermo output every 10 steps. Checked:
  * step 0:   PotEng and Press agree to relative 1e-10 (pure force/virial evaluation);
  * step 100: Temp, PotEng, KinEng, TotEng, Press, Volume agree to relative 1e-6
              (integration, neighbour-list rebuilds, periodic images).

Cases:
  lj-liquid      lj units, 1 type, 4000-atom liquid, rc 2.5, unshifted, per-atom thermo
  metal-tri-mix  metal units, Ar/Kr-like binary (geometric mixing of the cross pair),
                 shifted, triclinic box (built here by shearing a lattice data file)
  small-box      lj units, 32 atoms in a 6.8-sigma cube with rc 4.0 (box < 2 rc, so an
                 atom interacts with several periodic images of the same neighbour);
                 extensive thermo (norm = false)

Exit status: 0 pass, 1 mismatch or error, 77 when LAMMPS (lmp) is not on PATH.
Python 3 standard library only.
"""

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

SKIP = 77
STEPS = 100
THERMO_EVERY = 10
TOL_STEP0 = 1e-10
TOL_FINAL = 1e-6
COLUMNS = ["Temp", "PotEng", "KinEng", "TotEng", "Press", "Volume"]
STEP0_COLUMNS = ["PotEng", "Press"]

# ----------------------------------------------------------------------------------------
# Case definitions. Each pair entry: (type_i, type_j, epsilon, sigma, cutoff or None).
# Only i-i pairs are listed where mixing should produce the cross pair.
# ----------------------------------------------------------------------------------------
CASES = [
    {
        "name": "lj-liquid",
        "units": "lj",
        "types": ["A"],
        "lattice": {"kind": "fcc", "a": 1.6795962, "repeat": [10, 10, 10],
                    "elements": ["A"]},
        "masses": {"A": 1.0},
        "hot_temperature": 3.0,
        "warmup_steps": 300,
        "shear": None,
        "pairs": [("A", "A", 1.0, 1.0, None)],
        "cutoff": 2.5,
        "mixing": "geometric",
        "shift": False,
        "skin": 0.3,
        "timestep": 0.005,
        "norm": True,
    },
    {
        "name": "metal-tri-mix",
        "units": "metal",
        "types": ["Ar", "Kr"],
        # Two Ar and two Kr sites per fcc cell; a little expanded so that the shear
        # below does not push neighbours deep into the repulsive wall.
        "lattice": {"kind": "fcc", "a": 5.9, "repeat": [6, 6, 6],
                    "elements": ["Ar", "Kr", "Ar", "Kr"]},
        "masses": {"Ar": 39.948, "Kr": 83.798},
        "hot_temperature": 250.0,
        "warmup_steps": 300,
        # Tilt factors as fractions of the edge lengths: xy/lx, xz/lx, yz/ly
        # (LAMMPS requires |xy| <= lx/2, |xz| <= lx/2, |yz| <= ly/2).
        "shear": (0.23, -0.17, 0.11),
        "pairs": [("Ar", "Ar", 0.0104, 3.40, None), ("Kr", "Kr", 0.0140, 3.65, None)],
        "cutoff": 8.5,
        "mixing": "geometric",
        "shift": True,
        # Smaller than the metal default (2.0) so the neighbour list is rebuilt several
        # times in the triclinic box during the 100 compared steps.
        "skin": 0.5,
        "timestep": 0.002,
        "norm": False,
    },
    {
        "name": "small-box",
        "units": "lj",
        "types": ["A"],
        "lattice": {"kind": "fcc", "a": 3.4, "repeat": [2, 2, 2], "elements": ["A"]},
        "masses": {"A": 1.0},
        "hot_temperature": 2.0,
        "warmup_steps": 400,
        "shear": None,
        "pairs": [("A", "A", 1.0, 1.0, 4.0)],
        "cutoff": 4.0,
        "mixing": "geometric",
        "shift": False,
        "skin": 0.3,
        "timestep": 0.005,
        "norm": False,
    },
]


class Failure(Exception):
    pass


# ----------------------------------------------------------------------------------------
# Helpers
# ----------------------------------------------------------------------------------------
def run(cmd, cwd, env=None, what=""):
    if env is None:
        env = dict(os.environ)
        # This test is about numbers, not speed: passive OpenMP waiting keeps mdgpu from
        # crawling when ctest runs other tests on the same cores at the same time.
        env.setdefault("OMP_WAIT_POLICY", "passive")
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise Failure("{} failed (exit {}): {}\n{}".format(
            what or cmd[0], proc.returncode, " ".join(cmd), proc.stdout[-4000:]))
    return proc.stdout


def toml_str_list(items):
    return "[" + ", ".join('"{}"'.format(x) for x in items) + "]"


def toml_pairs(pairs):
    out = []
    for ti, tj, eps, sig, cut in pairs:
        entry = '{{ types = ["{}", "{}"], epsilon = {!r}, sigma = {!r}'.format(ti, tj, eps, sig)
        if cut is not None:
            entry += ", cutoff = {!r}".format(cut)
        out.append(entry + " }")
    return "[\n  " + ",\n  ".join(out) + ",\n]"


def mdgpu_toml(case, system_lines, steps, extra_sections):
    """Builds an mdgpu input. system_lines: lines of the [system] table."""
    masses = ", ".join("{} = {!r}".format(k, v) for k, v in case["masses"].items())
    lines = ['units = "{}"'.format(case["units"]), "", "[system]"]
    lines += system_lines
    lines.append("masses = {{ {} }}".format(masses))
    lines += extra_sections.get("velocity", [])
    lines += [
        "",
        "[potential]",
        'style = "lj"',
        "cutoff = {!r}".format(case["cutoff"]),
        'mixing = "{}"'.format(case["mixing"]),
        "shift = {}".format("true" if case["shift"] else "false"),
        "pairs = " + toml_pairs(case["pairs"]),
        "",
        "[neighbor]",
        "skin = {!r}".format(case["skin"]),
        "",
        "[run]",
        'ensemble = "nve"',
        "timestep = {!r}".format(case["timestep"]),
        "steps = {}".format(steps),
        "",
        "[output]",
    ]
    lines += extra_sections.get("output", [])
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------------------
# LAMMPS data files: minimal reader/writer for atom_style atomic
# ----------------------------------------------------------------------------------------
def read_data(path):
    with open(path) as f:
        lines = f.read().splitlines()
    data = {"tilt": (0.0, 0.0, 0.0), "masses": [], "atoms": [], "velocities": []}
    i = 1  # first line is the title
    section = None
    while i < len(lines):
        raw = lines[i]
        line = raw.split("#", 1)[0].strip()
        i += 1
        if not line:
            continue
        head = line.split()[0]
        if head in ("Masses", "Atoms", "Velocities"):
            section = head
            continue
        tok = line.split()
        if section is None:
            if line.endswith("atoms"):
                data["natoms"] = int(tok[0])
            elif line.endswith("atom types"):
                data["ntypes"] = int(tok[0])
            elif line.endswith("xlo xhi"):
                data["x"] = (float(tok[0]), float(tok[1]))
            elif line.endswith("ylo yhi"):
                data["y"] = (float(tok[0]), float(tok[1]))
            elif line.endswith("zlo zhi"):
                data["z"] = (float(tok[0]), float(tok[1]))
            elif line.endswith("xy xz yz"):
                data["tilt"] = (float(tok[0]), float(tok[1]), float(tok[2]))
            else:
                raise Failure("{}: unexpected header line {!r}".format(path, raw))
        elif section == "Masses":
            comment = raw.split("#", 1)[1].strip() if "#" in raw else ""
            data["masses"].append((int(tok[0]), tok[1], comment))
        elif section == "Atoms":
            data["atoms"].append(tok)
        elif section == "Velocities":
            data["velocities"].append(tok)
    if len(data["atoms"]) != data.get("natoms", -1):
        raise Failure("{}: expected {} atoms, read {}".format(
            path, data.get("natoms"), len(data["atoms"])))
    return data


def write_data(path, data, title):
    out = [title, "", "{} atoms".format(data["natoms"]),
           "{} atom types".format(data["ntypes"]), ""]
    out.append("{!r} {!r} xlo xhi".format(*data["x"]))
    out.append("{!r} {!r} ylo yhi".format(*data["y"]))
    out.append("{!r} {!r} zlo zhi".format(*data["z"]))
    if any(t != 0.0 for t in data["tilt"]):
        out.append("{!r} {!r} {!r} xy xz yz".format(*data["tilt"]))
    out += ["", "Masses", ""]
    for t, m, comment in data["masses"]:
        out.append("{} {}{}".format(t, m, " # " + comment if comment else ""))
    out += ["", "Atoms # atomic", ""]
    out += [" ".join(tok) for tok in data["atoms"]]
    if data["velocities"]:
        out += ["", "Velocities", ""]
        out += [" ".join(tok) for tok in data["velocities"]]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def shear_data(data, fractions):
    """Turns an orthogonal box into a triclinic one with the given tilt fractions, mapping
    every atom by its fractional coordinates (image flags stay valid: the map is linear)."""
    if any(t != 0.0 for t in data["tilt"]):
        raise Failure("shear_data expects an orthogonal box")
    lo = [data["x"][0], data["y"][0], data["z"][0]]
    length = [data["x"][1] - lo[0], data["y"][1] - lo[1], data["z"][1] - lo[2]]
    xy = fractions[0] * length[0]
    xz = fractions[1] * length[0]
    yz = fractions[2] * length[1]
    atoms = []
    for tok in data["atoms"]:
        s = [(float(tok[2 + d]) - lo[d]) / length[d] for d in range(3)]
        x = lo[0] + s[0] * length[0] + s[1] * xy + s[2] * xz
        y = lo[1] + s[1] * length[1] + s[2] * yz
        z = lo[2] + s[2] * length[2]
        atoms.append(tok[:2] + [repr(x), repr(y), repr(z)] + tok[5:])
    out = dict(data)
    out["atoms"] = atoms
    out["tilt"] = (xy, xz, yz)
    return out


# ----------------------------------------------------------------------------------------
# Thermo parsing
# ----------------------------------------------------------------------------------------
def parse_mdgpu_csv(path):
    with open(path) as f:
        rows = [line.strip().split(",") for line in f if line.strip()]
    header = rows[0]
    table = {}
    for row in rows[1:]:
        values = dict(zip(header, row))
        table[int(values["Step"])] = {k: float(values[k]) for k in COLUMNS}
    return table


def parse_lammps_log(path):
    """Thermo table of the last completed run in a LAMMPS log: {step: {column: value}}."""
    with open(path) as f:
        lines = f.read().splitlines()
    last = None
    table = {}
    header = None
    for line in lines:
        tok = line.split()
        if not tok:
            continue
        if tok[0] == "Step":
            header = tok
            table = {}
            continue
        if header is None:
            continue
        if line.startswith("Loop time"):
            last = table
            header = None
            continue
        if len(tok) != len(header):
            continue  # warnings and other chatter inside the thermo block
        try:
            values = [float(t) for t in tok]
        except ValueError:
            continue
        row = dict(zip(header, values))
        table[int(row["Step"])] = {k: row[k] for k in COLUMNS}
    if last is None:
        raise Failure("{}: no complete thermo table found".format(path))
    return last


def rel_err(a, b):
    scale = max(abs(a), abs(b))
    return 0.0 if scale == 0.0 else abs(a - b) / scale


# ----------------------------------------------------------------------------------------
# One case
# ----------------------------------------------------------------------------------------
def lammps_input(case, data_file, type_index):
    cut = case["cutoff"]
    lines = [
        "units {}".format(case["units"]),
        "atom_style atomic",
        "boundary p p p",
        "read_data {}".format(data_file),
        "pair_style lj/cut {!r}".format(cut),
    ]
    for ti, tj, eps, sig, pcut in case["pairs"]:
        i, j = sorted((type_index[ti], type_index[tj]))
        lines.append("pair_coeff {} {} {!r} {!r}{}".format(
            i, j, eps, sig, "" if pcut is None else " {!r}".format(pcut)))
    lines += [
        "pair_modify mix {} shift {}".format(case["mixing"], "yes" if case["shift"] else "no"),
        "neighbor {!r} bin".format(case["skin"]),
        "neigh_modify delay 0 every 1 check yes",
        "timestep {!r}".format(case["timestep"]),
        "fix 1 all nve",
        "thermo_style custom step temp pe ke etotal press vol",
        "thermo_modify format float %.17g norm {}".format("yes" if case["norm"] else "no"),
        "thermo {}".format(THERMO_EVERY),
        "run {}".format(STEPS),
    ]
    return "\n".join(lines) + "\n"


def run_case(case, mdgpu, lmp, workdir):
    name = case["name"]
    d = os.path.join(workdir, name)
    os.makedirs(d)
    lat = case["lattice"]
    lattice_line = 'lattice = {{ kind = "{}", a = {!r}, repeat = [{}], elements = {} }}'.format(
        lat["kind"], lat["a"], ", ".join(str(r) for r in lat["repeat"]),
        toml_str_list(lat["elements"]))
    data_system = ['data = "{}"', "type_names = " + toml_str_list(case["types"])]
    velocity = ["", "[velocity]", "temperature = {!r}".format(case["hot_temperature"]),
                "seed = 4928459"]

    # (1) disordered start: hot lattice -> (optional shear) -> a few hundred mdgpu steps.
    if case["shear"] is None:
        toml = mdgpu_toml(case, [lattice_line], case["warmup_steps"],
                          {"velocity": velocity, "output": ['data = { file = "start.data" }']})
        with open(os.path.join(d, "warmup.toml"), "w") as f:
            f.write(toml)
        run([mdgpu, "run", "warmup.toml", "--backend", "cpu", "--quiet"], d,
            what="mdgpu warm-up")
    else:
        toml = mdgpu_toml(case, [lattice_line], 0,
                          {"velocity": velocity, "output": ['data = { file = "lattice.data" }']})
        with open(os.path.join(d, "lattice.toml"), "w") as f:
            f.write(toml)
        run([mdgpu, "run", "lattice.toml", "--backend", "cpu", "--quiet"], d,
            what="mdgpu lattice")
        sheared = shear_data(read_data(os.path.join(d, "lattice.data")), case["shear"])
        write_data(os.path.join(d, "sheared.data"), sheared, "sheared lattice (test_lj_vs_lammps)")
        sys_lines = [data_system[0].format("sheared.data"), data_system[1]]
        toml = mdgpu_toml(case, sys_lines, case["warmup_steps"],
                          {"output": ['data = { file = "start.data" }']})
        with open(os.path.join(d, "warmup.toml"), "w") as f:
            f.write(toml)
        run([mdgpu, "run", "warmup.toml", "--backend", "cpu", "--quiet"], d,
            what="mdgpu warm-up")

    start = read_data(os.path.join(d, "start.data"))
    if not start["velocities"]:
        raise Failure("{}: start.data has no Velocities section".format(name))
    if case["shear"] is not None and not any(t != 0.0 for t in start["tilt"]):
        raise Failure("{}: start.data lost the tilt factors".format(name))
    # Type numbering in the data file (names from the Masses comments when present).
    type_index = {}
    for t, _m, comment in start["masses"]:
        if comment:
            type_index[comment] = t
    for k, tname in enumerate(case["types"]):
        type_index.setdefault(tname, k + 1)

    # (2) the comparison runs.
    sys_lines = [data_system[0].format("start.data"), data_system[1]]
    toml = mdgpu_toml(case, sys_lines, STEPS, {"output": [
        'thermo = {{ every = {}, file = "mdgpu.csv", norm = {} }}'.format(
            THERMO_EVERY, "true" if case["norm"] else "false")]})
    with open(os.path.join(d, "run.toml"), "w") as f:
        f.write(toml)
    run([mdgpu, "run", "run.toml", "--backend", "cpu", "--quiet"], d, what="mdgpu run")
    with open(os.path.join(d, "in.lmp"), "w") as f:
        f.write(lammps_input(case, "start.data", type_index))
    run([lmp, "-in", "in.lmp", "-log", "log.lammps", "-screen", "none"], d, what="lmp")

    md = parse_mdgpu_csv(os.path.join(d, "mdgpu.csv"))
    lm = parse_lammps_log(os.path.join(d, "log.lammps"))
    rows = []
    for step, cols, tol in ((0, STEP0_COLUMNS, TOL_STEP0), (STEPS, COLUMNS, TOL_FINAL)):
        if step not in md:
            raise Failure("{}: mdgpu thermo has no step {}".format(name, step))
        if step not in lm:
            raise Failure("{}: LAMMPS thermo has no step {}".format(name, step))
        for c in cols:
            a, b = md[step][c], lm[step][c]
            err = rel_err(a, b)
            ok = math.isfinite(a) and math.isfinite(b) and err <= tol
            rows.append((name, step, c, a, b, err, tol, ok))
    return rows, md, lm


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mdgpu", required=True, help="path to the mdgpu binary")
    ap.add_argument("--keep", metavar="DIR",
                    help="work in DIR (kept afterwards) instead of a temporary directory")
    ap.add_argument("--cases", help="comma-separated subset of: " +
                    ",".join(c["name"] for c in CASES))
    args = ap.parse_args()

    lmp = shutil.which("lmp")
    if lmp is None:
        print("SKIP: LAMMPS executable 'lmp' not found on PATH; cannot compare against LAMMPS")
        return SKIP
    mdgpu = os.path.abspath(args.mdgpu)
    if not os.access(mdgpu, os.X_OK):
        print("FAIL: mdgpu binary {} is not executable".format(mdgpu))
        return 1
    cases = CASES
    if args.cases:
        wanted = args.cases.split(",")
        cases = [c for c in CASES if c["name"] in wanted]
        unknown = set(wanted) - {c["name"] for c in CASES}
        if unknown:
            print("unknown case(s): " + ", ".join(sorted(unknown)))
            return 1

    t0 = time.time()
    all_rows = []
    details = {}
    try:
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            workdir_ctx = None
            workdir = args.keep
        else:
            workdir_ctx = tempfile.TemporaryDirectory(prefix="mdgpu_lj_vs_lammps_")
            workdir = workdir_ctx.name
        try:
            for case in cases:
                rows, md, lm = run_case(case, mdgpu, lmp, workdir)
                all_rows += rows
                details[case["name"]] = (md, lm)
        finally:
            if workdir_ctx is not None:
                workdir_ctx.cleanup()
    except Failure as e:
        print("FAIL: " + str(e))
        return 1

    fmt = "{:<14} {:>4} {:<7} {:>25} {:>25} {:>9} {:>6} {}"
    print(fmt.format("case", "step", "column", "mdgpu", "LAMMPS", "rel.err", "tol", ""))
    for name, step, c, a, b, err, tol, ok in all_rows:
        print(fmt.format(name, step, c, "{:.17g}".format(a), "{:.17g}".format(b),
                         "{:.2e}".format(err), "{:.0e}".format(tol), "ok" if ok else "FAIL"))
    failures = [r for r in all_rows if not r[7]]
    print("({:.1f} s)".format(time.time() - t0))
    if failures:
        for name, step, c, a, b, err, tol, _ in failures:
            print("FAIL: {} step {} {}: mdgpu {:.17g} vs LAMMPS {:.17g}, relative error "
                  "{:.3e} > {:.0e}".format(name, step, c, a, b, err, tol))
        # Where the two first part company (all thermo steps), to tell setup from drift.
        for name in sorted({r[0] for r in failures}):
            md, lm = details[name]
            print("per-step relative errors for {}:".format(name))
            for step in sorted(set(md) & set(lm)):
                print("  step {:>4}: ".format(step) + "  ".join(
                    "{} {:.1e}".format(c, rel_err(md[step][c], lm[step][c])) for c in COLUMNS))
        return 1
    print("PASS: mdgpu agrees with LAMMPS in all {} checks".format(len(all_rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
