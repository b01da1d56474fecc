#!/usr/bin/env python3
"""Static comparison of mdgpu's classical potentials against LAMMPS on real potential files.

Usage: python3 test_manybody_vs_lammps.py --mdgpu /path/to/mdgpu [--lmp LMP] [--keep DIR]
                                          [--cases a,b]

Styles: eam (Cu_u3.eam), eam/alloy (Cu_mishin1.eam.alloy, CuNi.eam.alloy), eam/fs
(AlFe_mm.eam.fs, and tests/data/eam/AB_synthetic.eam.fs whose rho_AB != rho_BA), zbl, table (a file written here with
an R section and an RSQ section, linear and spline), morse, and an overlay (eam/alloy + zbl
on all pairs + morse on the Cu-Ni pairs only = LAMMPS hybrid/overlay). Potential files come
from Debian's lammps-data (/usr/share/lammps/potentials, override with LAMMPS_POTENTIALS).

Every style is evaluated on three periodic structures written here as LAMMPS data files:
  crystal     a perturbed fcc (or bcc) crystal, orthogonal box
  triclinic   a perturbed crystal in a sheared (xy, xz, yz) cell
  liquid      a liquid snapshot: Cu_u3 EAM melted by LAMMPS at 3000 K (run once)
mdgpu and LAMMPS both evaluate forces once (mdgpu: 0 steps with an extended-XYZ frame with
forces and the thermo CSV; LAMMPS: run 0 with write_dump and thermo at %.17g). Checked:
total potential energy (relative), every force component (relative to the largest force
component of that structure) and the six pressure-tensor components (relative to the
largest |P_ab|), all to 1e-9.

LAMMPS: $MDGPU_LMP, else --lmp, else Debian's /usr/bin/lmp, else `lmp` on PATH.
Exit status: 0 pass, 1 mismatch or error, 77 when LAMMPS or its potential files are missing.
Python 3 standard library only.
"""

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
TOL = 1e-9
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Failure(Exception):
    pass


def run(cmd, cwd, what):
    env = dict(os.environ)
    env.setdefault("OMP_WAIT_POLICY", "passive")
    env.setdefault("OMP_NUM_THREADS", "1")
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise Failure("{} failed (exit {}): {}\n{}".format(what, proc.returncode, " ".join(cmd),
                                                          proc.stdout[-3000:]))
    return proc.stdout


# ---------------------------------------------------------------------------- structures
def lattice_sites(kind, n):
    basis = {"fcc": [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)],
             "bcc": [(0, 0, 0), (0.5, 0.5, 0.5)]}[kind]
    return [((i + b[0]) / n, (j + b[1]) / n, (k + b[2]) / n)
            for k in range(n) for j in range(n) for i in range(n) for b in basis]


def make_crystal(kind, a, n, ntypes, noise, seed, tilt=(0.0, 0.0, 0.0)):
    """Perturbed crystal; tilt = (xy, xz, yz) as fractions of the edge lengths."""
    rng = random.Random(seed)
    L = a * n
    box = {"lo": (0.3, -0.7, 1.1), "l": (L, L * 1.02, L * 0.98),
           "tilt": (tilt[0] * L, tilt[1] * L, tilt[2] * L * 1.02)}
    atoms = []
    for s in lattice_sites(kind, n):
        x, y, z = to_cart(box, s)
        x += rng.uniform(-noise, noise)
        y += rng.uniform(-noise, noise)
        z += rng.uniform(-noise, noise)
        atoms.append((rng.randrange(ntypes) + 1 if ntypes > 1 else 1, x, y, z))
    return {"box": box, "atoms": atoms, "ntypes": ntypes}


def to_cart(box, s):
    (lx, ly, lz), (xy, xz, yz), lo = box["l"], box["tilt"], box["lo"]
    return (lo[0] + s[0] * lx + s[1] * xy + s[2] * xz, lo[1] + s[1] * ly + s[2] * yz,
            lo[2] + s[2] * lz)


def write_data(path, st, masses):
    (lx, ly, lz), lo = st["box"]["l"], st["box"]["lo"]
    out = ["structure for test_manybody_vs_lammps", "",
           "{} atoms".format(len(st["atoms"])), "{} atom types".format(st["ntypes"]), "",
           "{!r} {!r} xlo xhi".format(lo[0], lo[0] + lx),
           "{!r} {!r} ylo yhi".format(lo[1], lo[1] + ly),
           "{!r} {!r} zlo zhi".format(lo[2], lo[2] + lz)]
    if any(t != 0.0 for t in st["box"]["tilt"]):
        out.append("{!r} {!r} {!r} xy xz yz".format(*st["box"]["tilt"]))
    out += ["", "Masses", ""]
    out += ["{} {!r}".format(t + 1, masses[t]) for t in range(st["ntypes"])]
    out += ["", "Atoms # atomic", ""]
    out += ["{} {} {!r} {!r} {!r}".format(k + 1, t, x, y, z)
            for k, (t, x, y, z) in enumerate(st["atoms"])]
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def read_data_atoms(path):
    """Box and atoms of a LAMMPS data file written by write_data (LAMMPS' own format)."""
    lines = open(path).read().splitlines()
    box = {"lo": [0, 0, 0], "l": [0, 0, 0], "tilt": (0.0, 0.0, 0.0)}
    atoms = []
    section = None
    for line in lines[1:]:
        s = line.split("#")[0].strip()
        if not s:
            continue
        tok = s.split()
        if tok[0] in ("Masses", "Atoms", "Velocities"):
            section = tok[0]
            continue
        if section is None:
            for d, key in enumerate(("xlo xhi", "ylo yhi", "zlo zhi")):
                if s.endswith(key):
                    box["lo"][d] = float(tok[0])
                    box["l"][d] = float(tok[1]) - float(tok[0])
            if s.endswith("xy xz yz"):
                box["tilt"] = tuple(float(t) for t in tok[:3])
        elif section == "Atoms":
            atoms.append((int(tok[0]), int(tok[1]), float(tok[2]), float(tok[3]), float(tok[4])))
    atoms.sort()
    return box, [(t, x, y, z) for _i, t, x, y, z in atoms]


def make_liquid(lmp, pot_dir, workdir):
    """108 Cu atoms melted with Cu_u3 EAM at 3000 K by LAMMPS (a liquid snapshot)."""
    d = os.path.join(workdir, "liquid")
    os.makedirs(d)
    inp = """units metal
atom_style atomic
boundary p p p
lattice fcc 3.75
region box block 0 3 0 3 0 3
create_box 1 box
create_atoms 1 box
pair_style eam
pair_coeff 1 1 {pot}/Cu_u3.eam
velocity all create 6000.0 4928459 loop geom
fix 1 all nvt temp 3000.0 3000.0 0.1
timestep 0.002
thermo 100
run 600
write_data liquid.data
""".format(pot=pot_dir)
    with open(os.path.join(d, "in.melt"), "w") as f:
        f.write(inp)
    run([lmp, "-in", "in.melt", "-log", "log.melt", "-screen", "none"], d, "LAMMPS melt")
    box, atoms = read_data_atoms(os.path.join(d, "liquid.data"))
    return {"box": box, "atoms": atoms, "ntypes": 1}


def retype(st, ntypes, seed):
    rng = random.Random(seed)
    atoms = [(rng.randrange(ntypes) + 1, x, y, z) for (_t, x, y, z) in st["atoms"]]
    return {"box": st["box"], "atoms": atoms, "ntypes": ntypes}


# ---------------------------------------------------------------------------- table file
def write_table_file(path):
    """Two sections of a smooth repulsive-attractive pair function E(r) = A exp(-r/rho) -
    C/r^6 (metal units): BM_R on a grid linear in r, BM_RSQ on a grid linear in r^2."""
    A, rho, C = 1500.0, 0.30, 12.0

    def e(r):
        return A * math.exp(-r / rho) - C / r ** 6

    def f(r):
        return A / rho * math.exp(-r / rho) - 6.0 * C / r ** 7

    out = ["# Born-Mayer-like table written by test_manybody_vs_lammps.py", ""]
    rlo, rhi = 1.2, 6.5
    n = 700
    out += ["BM_R", "N {} R {!r} {!r}".format(n, rlo, rhi), ""]
    for i in range(n):
        r = rlo + (rhi - rlo) * i / (n - 1)
        out.append("{} {!r} {!r} {!r}".format(i + 1, r, e(r), f(r)))
    out.append("")
    n = 1000
    out += ["BM_RSQ", "N {} RSQ {!r} {!r} FPRIME {!r} {!r}".format(
        n, rlo, rhi, -A / rho ** 2 * math.exp(-rlo / rho), -A / rho ** 2 * math.exp(-rhi / rho)),
        ""]
    for i in range(n):
        r = math.sqrt(rlo * rlo + (rhi * rhi - rlo * rlo) * i / (n - 1))
        out.append("{} {!r} {!r} {!r}".format(i + 1, r, e(r), f(r)))
    with open(path, "w") as fh:
        fh.write("\n".join(out) + "\n")


# ---------------------------------------------------------------------------- cases
# Each case: structures (name -> builder(ctx)), type names, masses, mdgpu [potential] TOML
# lines and LAMMPS pair commands ({pot} = potential folder, {tab} = table file).
MORSE_CU = (0.3429, 1.3588, 2.866)
CASES = [
    {"name": "eam-Cu_u3", "types": ["Cu"], "masses": [63.55],
     "mdgpu": ['style = "eam"', 'file = "{pot}/Cu_u3.eam"'],
     "lammps": ["pair_style eam", "pair_coeff 1 1 {pot}/Cu_u3.eam"],
     "structures": ["crystal", "triclinic", "liquid"]},
    {"name": "eam-alloy-Cu_mishin1", "types": ["Cu"], "masses": [63.55],
     "mdgpu": ['style = "eam/alloy"', 'file = "{pot}/Cu_mishin1.eam.alloy"'],
     "lammps": ["pair_style eam/alloy", "pair_coeff * * {pot}/Cu_mishin1.eam.alloy Cu"],
     "structures": ["crystal", "triclinic", "liquid"]},
    {"name": "eam-alloy-CuNi", "types": ["Cu", "Ni"], "masses": [63.55, 58.69],
     "mdgpu": ['style = "eam/alloy"', 'file = "{pot}/CuNi.eam.alloy"'],
     "lammps": ["pair_style eam/alloy", "pair_coeff * * {pot}/CuNi.eam.alloy Cu Ni"],
     "structures": ["crystal", "triclinic", "liquid"]},
    {"name": "eam-fs-AlFe", "types": ["Fe", "Al"], "masses": [55.845, 26.98],
     "mdgpu": ['style = "eam/fs"', 'file = "{pot}/AlFe_mm.eam.fs"'],
     "lammps": ["pair_style eam/fs", "pair_coeff * * {pot}/AlFe_mm.eam.fs Fe Al"],
     "structures": ["crystal-bcc", "triclinic-bcc", "liquid"]},
    {"name": "eam-fs-synthetic", "types": ["A", "B"], "masses": [63.546, 58.6934],
     "mdgpu": ['style = "eam/fs"', 'file = "{repo}/tests/data/eam/AB_synthetic.eam.fs"'],
     "lammps": ["pair_style eam/fs",
                "pair_coeff * * {repo}/tests/data/eam/AB_synthetic.eam.fs A B"],
     "structures": ["crystal", "triclinic", "liquid"]},
    {"name": "zbl", "types": ["Cu", "Ni"], "masses": [63.55, 58.69],
     "mdgpu": ['style = "zbl"', "inner = 1.8", "outer = 3.2"],
     "lammps": ["pair_style zbl 1.8 3.2", "pair_coeff 1 1 29 29", "pair_coeff 1 2 29 28",
                "pair_coeff 2 2 28 28"],
     "structures": ["crystal-dense", "triclinic-dense", "liquid"]},
    {"name": "table-linear", "types": ["Cu", "Ni"], "masses": [63.55, 58.69],
     "mdgpu": ['style = "table"', 'table_style = "linear"', "n = 1000",
               'pairs = [{{ types = ["Cu", "Cu"], file = "{tab}", keyword = "BM_RSQ" }},',
               '  {{ types = ["Cu", "Ni"], file = "{tab}", keyword = "BM_R", cutoff = 5.5 }},',
               '  {{ types = ["Ni", "Ni"], file = "{tab}", keyword = "BM_R" }}]'],
     "lammps": ["pair_style table linear 1000", "pair_coeff 1 1 {tab} BM_RSQ",
                "pair_coeff 1 2 {tab} BM_R 5.5", "pair_coeff 2 2 {tab} BM_R"],
     "structures": ["crystal", "triclinic", "liquid"]},
    {"name": "table-spline", "types": ["Cu", "Ni"], "masses": [63.55, 58.69],
     "mdgpu": ['style = "table"', 'table_style = "spline"', "n = 800",
               'pairs = [{{ types = ["Cu", "Cu"], file = "{tab}", keyword = "BM_RSQ" }},',
               '  {{ types = ["Cu", "Ni"], file = "{tab}", keyword = "BM_R", cutoff = 5.5 }},',
               '  {{ types = ["Ni", "Ni"], file = "{tab}", keyword = "BM_R" }}]'],
     "lammps": ["pair_style table spline 800", "pair_coeff 1 1 {tab} BM_RSQ",
                "pair_coeff 1 2 {tab} BM_R 5.5", "pair_coeff 2 2 {tab} BM_R"],
     "structures": ["crystal", "triclinic", "liquid"]},
    {"name": "morse", "types": ["Cu", "Ni"], "masses": [63.55, 58.69],
     "mdgpu": ['style = "morse"', "cutoff = 6.0", "shift = true",
               'pairs = [{{ types = ["Cu", "Cu"], d0 = 0.3429, alpha = 1.3588, r0 = 2.866 }},',
               '  {{ types = ["Cu", "Ni"], d0 = 0.38, alpha = 1.40, r0 = 2.80, cutoff = 5.0 }},',
               '  {{ types = ["Ni", "Ni"], d0 = 0.4205, alpha = 1.4199, r0 = 2.780 }}]'],
     "lammps": ["pair_style morse 6.0", "pair_coeff 1 1 0.3429 1.3588 2.866",
                "pair_coeff 1 2 0.38 1.40 2.80 5.0", "pair_coeff 2 2 0.4205 1.4199 2.780",
                "pair_modify shift yes"],
     "structures": ["crystal", "triclinic", "liquid"]},
    {"name": "overlay", "types": ["Cu", "Ni"], "masses": [63.55, 58.69],
     "mdgpu": ['style = "overlay"',
               "[[potential.terms]]", 'style = "eam/alloy"', 'file = "{pot}/CuNi.eam.alloy"',
               "[[potential.terms]]", 'style = "zbl"', "inner = 1.0", "outer = 2.2",
               "[[potential.terms]]", 'style = "morse"', 'apply_to = ["Cu-Ni"]',
               'pairs = [{{ types = ["Cu", "Ni"], d0 = 0.05, alpha = 1.3, r0 = 2.6, '
               'cutoff = 7.0 }}]'],
     "lammps": ["pair_style hybrid/overlay eam/alloy zbl 1.0 2.2 morse 7.0",
                "pair_coeff * * eam/alloy {pot}/CuNi.eam.alloy Cu Ni",
                "pair_coeff 1 1 zbl 29 29", "pair_coeff 1 2 zbl 29 28",
                "pair_coeff 2 2 zbl 28 28", "pair_coeff 1 2 morse 0.05 1.3 2.6"],
     "structures": ["crystal", "triclinic", "liquid"]},
]


def build_structure(kind, ntypes, liquid, seed):
    if kind == "liquid":
        return retype(liquid, ntypes, seed) if ntypes > 1 else liquid
    tri = (0.21, -0.13, 0.17)
    if kind == "crystal":
        return make_crystal("fcc", 3.615, 4, ntypes, 0.15, seed)
    if kind == "triclinic":
        return make_crystal("fcc", 3.615, 4, ntypes, 0.15, seed, tri)
    if kind == "crystal-bcc":
        return make_crystal("bcc", 2.87, 5, ntypes, 0.12, seed)
    if kind == "triclinic-bcc":
        return make_crystal("bcc", 2.87, 5, ntypes, 0.12, seed, tri)
    if kind == "crystal-dense":  # nearest neighbours 1.6-2.4 A: inside and across the switch
        return make_crystal("fcc", 2.85, 4, ntypes, 0.25, seed)
    if kind == "triclinic-dense":
        return make_crystal("fcc", 2.85, 4, ntypes, 0.25, seed, tri)
    raise Failure("unknown structure " + kind)


def parse_extxyz_forces(path):
    lines = open(path).read().splitlines()
    n = int(lines[0])
    header = lines[1]
    props = header.split("Properties=")[1].split()[0].split(":")
    cols, k = {}, 0
    for i in range(0, len(props), 3):
        cols[props[i]] = k
        k += int(props[i + 2])
    fk = cols["forces"]
    return [tuple(float(v) for v in lines[2 + i].split()[fk:fk + 3]) for i in range(n)]


def parse_csv_row0(path):
    rows = [l.strip().split(",") for l in open(path) if l.strip()]
    values = dict(zip(rows[0], rows[1]))
    return {k: float(v) for k, v in values.items() if k != "Step"}


def parse_lammps(d):
    log = open(os.path.join(d, "log.lammps")).read().splitlines()
    thermo = None
    for i, line in enumerate(log):
        tok = line.split()
        if tok[:2] == ["Step", "PotEng"]:
            thermo = dict(zip(tok, (float(v) for v in log[i + 1].split())))
            break
    if thermo is None:
        raise Failure("no thermo output in " + d)
    lines = open(os.path.join(d, "forces.dump")).read().splitlines()
    start = next(i for i, l in enumerate(lines) if l.startswith("ITEM: ATOMS")) + 1
    rows = sorted((int(l.split()[0]), tuple(float(v) for v in l.split()[1:4]))
                  for l in lines[start:] if l.strip())
    return thermo, [f for _i, f in rows]


def run_one(case, kind, st, mdgpu, lmp, pot, tab, workdir):
    d = os.path.join(workdir, case["name"] + "-" + kind)
    os.makedirs(d)
    write_data(os.path.join(d, "s.data"), st, case["masses"])
    fill = {"pot": pot, "tab": tab, "repo": REPO}
    toml = ['units = "metal"', "[system]", 'data = "s.data"',
            "type_names = [{}]".format(", ".join('"{}"'.format(t) for t in case["types"])),
            "[neighbor]", "skin = 1.0", "[run]", "steps = 0", "[output]",
            'thermo = { every = 1, file = "mdgpu.csv" }',
            'trajectory = { every = 1, file = "f.extxyz", forces = true }',
            "[potential]"] + [l.format(**fill) for l in case["mdgpu"]]
    with open(os.path.join(d, "in.toml"), "w") as f:
        f.write("\n".join(toml) + "\n")
    run([mdgpu, "run", "in.toml", "--backend", "cpu", "--quiet"], d, "mdgpu " + case["name"])
    lin = ["units metal", "atom_style atomic", "boundary p p p", "atom_modify map array",
           "read_data s.data"] + [l.format(**fill) for l in case["lammps"]] + [
        "neighbor 1.0 bin",
        "thermo_style custom step pe press pxx pyy pzz pxy pxz pyz",
        "thermo_modify format float %.17g norm no",
        "dump 1 all custom 1 forces.dump id fx fy fz",
        "dump_modify 1 sort id format float %.17g",
        "run 0"]
    with open(os.path.join(d, "in.lmp"), "w") as f:
        f.write("\n".join(lin) + "\n")
    run([lmp, "-in", "in.lmp", "-log", "log.lammps", "-screen", "none"], d, "LAMMPS " + case["name"])

    md = parse_csv_row0(os.path.join(d, "mdgpu.csv"))
    fm = parse_extxyz_forces(os.path.join(d, "f.extxyz"))
    th, fl = parse_lammps(d)
    if len(fm) != len(fl):
        raise Failure("{}: {} mdgpu forces, {} LAMMPS forces".format(d, len(fm), len(fl)))
    e_err = abs(md["PotEng"] - th["PotEng"]) / max(abs(th["PotEng"]), 1e-300)
    fscale = max(abs(c) for f in fl for c in f)
    f_err = max(abs(a - b) for f1, f2 in zip(fm, fl) for a, b in zip(f1, f2)) / fscale
    keys = ["Pxx", "Pyy", "Pzz", "Pxy", "Pxz", "Pyz"]
    pscale = max(abs(th[k]) for k in keys)
    p_err = max(abs(md[k] - th[k]) for k in keys) / pscale
    return {"case": case["name"], "structure": kind, "atoms": len(fl), "pe": th["PotEng"],
            "e_err": e_err, "f_err": f_err, "fmax": fscale, "p_err": p_err,
            "ok": max(e_err, f_err, p_err) <= TOL and fscale > 1e-3}


def find_lmp(arg):
    for cand in (os.environ.get("MDGPU_LMP"), arg, "/usr/bin/lmp", shutil.which("lmp")):
        if cand and shutil.which(cand):
            return shutil.which(cand)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mdgpu", required=True)
    ap.add_argument("--lmp", default=None)
    ap.add_argument("--keep", metavar="DIR")
    ap.add_argument("--cases", help="comma-separated subset of: " +
                    ",".join(c["name"] for c in CASES))
    args = ap.parse_args()
    lmp = find_lmp(args.lmp)
    if lmp is None:
        print("SKIP: LAMMPS executable not found (set MDGPU_LMP or install Debian's lammps)")
        return SKIP
    pot = os.environ.get("LAMMPS_POTENTIALS", "/usr/share/lammps/potentials")
    needed = ["Cu_u3.eam", "Cu_mishin1.eam.alloy", "CuNi.eam.alloy", "AlFe_mm.eam.fs"]
    missing = [p for p in needed if not os.path.isfile(os.path.join(pot, p))]
    if missing:
        print("SKIP: potential files {} not in {} (Debian package lammps-data)".format(
            ", ".join(missing), pot))
        return SKIP
    mdgpu = os.path.abspath(args.mdgpu)
    cases = CASES
    if args.cases:
        cases = [c for c in CASES if c["name"] in args.cases.split(",")]
    version = subprocess.run([lmp, "-h"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True).stdout.strip().splitlines()
    print("LAMMPS: {} ({})".format(lmp, version[0] if version else "?"))
    ctx = None
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        workdir = tempfile.mkdtemp(prefix="manybody_", dir=args.keep)
    else:
        ctx = tempfile.TemporaryDirectory(prefix="mdgpu_manybody_")
        workdir = ctx.name
    rows = []
    try:
        tab = os.path.join(workdir, "bm.table")
        write_table_file(tab)
        liquid = make_liquid(lmp, pot, workdir)
        for ci, case in enumerate(cases):
            for si, kind in enumerate(case["structures"]):
                st = build_structure(kind, len(case["types"]), liquid, 1000 + 10 * ci + si)
                rows.append(run_one(case, kind, st, mdgpu, lmp, pot, tab, workdir))
    except Failure as e:
        print("FAIL: " + str(e))
        return 1
    finally:
        if ctx is not None:
            ctx.cleanup()
    fmt = "{:<22} {:<16} {:>5} {:>22} {:>9} {:>9} {:>9} {:>8} {}"
    print(fmt.format("case", "structure", "atoms", "PotEng (LAMMPS, eV)", "E rel", "F rel",
                     "P rel", "max|F|", ""))
    for r in rows:
        print(fmt.format(r["case"], r["structure"], r["atoms"], "{:.15g}".format(r["pe"]),
                         "{:.1e}".format(r["e_err"]), "{:.1e}".format(r["f_err"]),
                         "{:.1e}".format(r["p_err"]), "{:.3g}".format(r["fmax"]),
                         "ok" if r["ok"] else "FAIL"))
    bad = [r for r in rows if not r["ok"]]
    print("{} of {} comparisons within {:.0e}".format(len(rows) - len(bad), len(rows), TOL))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
