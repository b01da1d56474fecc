"""Adversarial inputs, table-driven: each case builds a folder (input TOML, structure and
potential files, links, devices), runs `mdgpu run` or `mdgpu check` with a timeout and
requires: no death by a signal, no hang, the expected exit status and message, and no input
modified (every file the case created is hashed before and after; a case names the files it
allows to change). The groups follow issue 17 and inputs/BAD_INPUTS.md (rows 73 on).
Usage: test_adversarial.py --mdgpu PATH [-k SUBSTRING] [--list]"""
import argparse
import hashlib
import os
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time
import zipfile

sys.path.insert(0, os.path.dirname(__file__))

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TIMEOUT = 60

BASE = '''units = "lj"
[system]
lattice = { kind = "fcc", a = 1.6796, repeat = [3, 3, 3], elements = ["A"] }
masses = { A = 1.0 }
[velocity]
temperature = 1.5
seed = 7
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[neighbor]
check_every = 10
[run]
steps = 20
[output]
thermo = { every = 10, file = "thermo.csv" }
'''

DATA = '''LAMMPS data file

4 atoms
1 atom types

0 {hi} xlo xhi
0 {hi} ylo yhi
0 {hi} zlo zhi
{tilt}
Masses

1 1.0

Atoms # atomic

1 1 0.5 0.5 0.5{img}
2 1 {x2} 2.0 2.0
3 1 0.5 2.0 2.0
4 1 2.0 0.5 2.0
'''


def data_file(hi="4.0", tilt="", x2="2.0", img="", lo=None):
    text = DATA.format(hi=hi, tilt=tilt, x2=x2, img=img)
    if lo is not None:
        text = text.replace("0 " + hi + " xlo", lo + " " + hi + " xlo")
    return text


def with_output(extra, base=BASE):
    return base + extra + "\n"


def sub(old, new, base=BASE):
    assert old in base, old
    return base.replace(old, new)


DATA_INPUT = sub('lattice = { kind = "fcc", a = 1.6796, repeat = [3, 3, 3], elements = ["A"] }',
                 'data = "start.data"\ntype_names = ["A"]')
EAM_INPUT = '''units = "metal"
[system]
lattice = { kind = "fcc", a = 3.615, repeat = [3, 3, 3], elements = ["Cu"] }
[potential]
style = "eam"
file = "Cu_u3.eam"
[run]
steps = 5
[output]
thermo = { every = 5, file = "thermo.csv" }
'''
TABLE_INPUT = '''units = "metal"
[system]
lattice = { kind = "fcc", a = 3.615, repeat = [3, 3, 3], elements = ["Cu"] }
masses = { Cu = 63.5 }
[potential]
style = "table"
table_style = "linear"
n = 1000
pairs = [{ types = ["Cu", "Cu"], file = "pair.table", keyword = "CUCU" }]
[run]
steps = 5
'''
SNAP_INPUT = '''units = "metal"
[system]
lattice = { kind = "bcc", a = 3.316, repeat = [2, 2, 2], elements = ["Ta"] }
masses = { Ta = 180.88 }
[potential]
style = "snap"
coeff = "Ta06A.snapcoeff"
param = "Ta06A.snapparam"
[run]
steps = 1
'''
DEEPMD_INPUT = '''units = "metal"
[system]
lattice = { kind = "fcc", a = 3.615, repeat = [3, 3, 3], elements = ["Cu"] }
masses = { Cu = 63.5 }
[potential]
style = "deepmd"
file = "{file}"
[run]
steps = 1
'''


def table_file(n=5, header_n=None, lines=None):
    rows = lines if lines is not None else n
    out = "# table\n\nCUCU\nN {} R 1.5 5.0\n\n".format(header_n if header_n is not None else n)
    for i in range(rows):
        r = 1.5 + 3.5 * i / max(1, n - 1)
        out += "{} {} {} {}\n".format(i + 1, r, 1.0 / r ** 6, 6.0 / r ** 7)
    return out


def repo(path):
    with open(os.path.join(ROOT, path), "rb") as f:
        return f.read()


# ---------------------------------------------------------------------------- helpers
class Case:
    def __init__(self, name, group, files, args, rc, message, check=None, may_change=(),
                 setup=None, where="stderr", needs=None):
        self.name, self.group, self.files, self.args = name, group, files, args
        self.rc, self.message, self.check, self.may_change = rc, message, check, set(may_change)
        self.setup, self.where, self.needs = setup, where, needs


CASES = []


def case(*a, **kw):
    CASES.append(Case(*a, **kw))


RUN = ["run", "in.toml", "--quiet"]
CHECK = ["check", "in.toml"]


def fnv1a(data, h=1469598103934665603):
    for b in data:
        h ^= b
        h = (h * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return h


def make_checkpoint(mdgpu, d, name="old.ckpt", text=None):
    write(d, "mk.toml", (text or BASE) + 'checkpoint = { file = "' + name + '" }\n')
    r = run_mdgpu(mdgpu, ["run", "mk.toml", "--quiet"], d)
    if r.returncode != 0:
        raise RuntimeError("checkpoint run failed: " + r.stderr)
    for f in ("thermo.csv", "mk.toml", name + ".lock"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))


def patch_checkpoint(path, edit):
    """Rewrites a checkpoint with edit(bytes) -> bytes applied to the body, then a valid
    FNV-1a checksum and trailer (a crafted file that passes the integrity check)."""
    with open(path, "rb") as f:
        b = f.read()
    body = edit(bytearray(b[:-16]))
    with open(path, "wb") as f:
        f.write(bytes(body) + struct.pack("<Q", fnv1a(body)) + b"CKPTEND!")


def box_offset(b):
    """Byte offset of the box (lo[3], l[3], xy, xz, yz) in a checkpoint body."""
    o = 16
    (ulen,) = struct.unpack_from("<Q", b, o)
    o += 8 + ulen
    o += 8  # natoms
    (nt,) = struct.unpack_from("<Q", b, o)
    o += 8
    for _ in range(nt):
        (sl,) = struct.unpack_from("<Q", b, o)
        o += 8 + sl
    o += 8 + 8 * nt  # masses
    o += 8 + 8 + 8 + 8  # hashes, step, dt
    return o


def write(d, name, content, mode=None):
    p = os.path.join(d, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, "wb" if isinstance(content, bytes) else "w") as f:
        f.write(content)
    if mode:
        os.chmod(p, mode)


def run_mdgpu(mdgpu, args, d, timeout=TIMEOUT):
    env = dict(os.environ)
    env.setdefault("OMP_NUM_THREADS", "1")
    return subprocess.run([mdgpu] + args, cwd=d, env=env, capture_output=True, text=True,
                          timeout=timeout)


def snapshot(d):
    out = {}
    for root, dirs, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            rel = os.path.relpath(p, d)
            st = os.lstat(p)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = "link:" + os.readlink(p)
            elif stat.S_ISREG(st.st_mode):
                with open(p, "rb") as fh:
                    out[rel] = hashlib.sha256(fh.read()).hexdigest()
            else:
                out[rel] = "special:%o" % stat.S_IFMT(st.st_mode)
    return out


# ---------------------------------------------------------------------------- group 1
G1 = "1 output overwrites an input or another output"
case("thermo file is the input TOML", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "in.toml"')}, RUN, 1,
     'is the same file as the input file')
case("thermo file is the input TOML (check)", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "in.toml"')}, CHECK, 1,
     'is the same file as the input file')
case("thermo file is the input through a symlink", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "alias.csv"'), "@alias.csv": "in.toml"},
     RUN, 1, 'is the same file as the input file')
case("thermo file is the input through a hard link", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "hard.csv"'), "&hard.csv": "in.toml"},
     RUN, 1, 'is the same file as the input file')
case("thermo file is the input spelt sub/../in.toml", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "sub/../in.toml"'), "sub/keep": ""},
     RUN, 1, 'is the same file as the input file')
case("thermo file is the input through a symlinked folder", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "lnk/in.toml"'), "@lnk": "."},
     RUN, 1, 'is the same file as the input file')
case("trajectory overwrites the structure file", G1,
     {"in.toml": with_output('trajectory = { every = 10, file = "start.data", format = "lammps-dump" }',
                             DATA_INPUT), "start.data": data_file()},
     RUN, 1, 'is the same file as the [system] structure file')
case("data output overwrites the structure file", G1,
     {"in.toml": with_output('data = { file = "start.data" }', DATA_INPUT),
      "start.data": data_file()}, RUN, 1, 'is the same file as the [system] structure file')
case("extxyz structure file as trajectory", G1,
     {"in.toml": with_output('trajectory = { every = 10, file = "s.xyz" }',
                             sub('data = "start.data"\ntype_names = ["A"]', 'extxyz = "s.xyz"',
                                 DATA_INPUT)),
      "s.xyz": '2\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3\nA 0 0 0\nA 2 2 2\n'},
     RUN, 1, 'is the same file as the [system] structure file')
case("checkpoint file is the input TOML", G1,
     {"in.toml": with_output('checkpoint = { file = "in.toml" }')}, RUN, 1,
     '[output] checkpoint file "')
case("last_good file is the input TOML", G1,
     {"in.toml": BASE + '[safety]\nlast_good = "in.toml"\n'}, RUN, 1,
     '[safety] last_good file')
case("checkpoint overwrites the potential file", G1,
     {"in.toml": EAM_INPUT + 'checkpoint = { file = "Cu_u3.eam" }\n',
      "Cu_u3.eam": repo("inputs/potentials/Cu_u3.eam")}, RUN, 1,
     'is the same file as the [potential] file')
case("thermo overwrites a SNAP parameter file", G1,
     {"in.toml": SNAP_INPUT.replace('[run]', '[output]\nthermo = { file = "Ta06A.snapparam" }\n[run]'),
      "Ta06A.snapcoeff": repo("inputs/snap/Ta06A.snapcoeff"),
      "Ta06A.snapparam": repo("inputs/snap/Ta06A.snapparam")}, RUN, 1,
     'is the same file as the [potential] file')
case("data output is the table file", G1,
     {"in.toml": TABLE_INPUT + '[output]\ndata = { file = "pair.table" }\n',
      "pair.table": table_file(50)}, RUN, 1, 'is the same file as the [potential] file')
case("thermo and data output are one file", G1,
     {"in.toml": with_output('data = { file = "thermo.csv" }')}, RUN, 1,
     'are the same file')
case("thermo and checkpoint are one file", G1,
     {"in.toml": with_output('checkpoint = { file = "thermo.csv" }')}, RUN, 1,
     'are the same file')
case("trajectory is the previous checkpoint (.prev)", G1,
     {"in.toml": with_output('trajectory = { every = 10, file = "run.ckpt.prev", format = "extxyz" }\n'
                             'checkpoint = { file = "run.ckpt" }')}, RUN, 1, 'are the same file')
case("thermo is the checkpoint temporary (.tmp)", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "run.ckpt.tmp"') +
      'checkpoint = { file = "run.ckpt" }\n'}, RUN, 1, 'are the same file')
case("data output is the last good file", G1,
     {"in.toml": BASE + 'data = { file = "lg.data" }\n[safety]\nlast_good = "lg.data"\n'},
     RUN, 1, 'are the same file')
case("thermo and trajectory: one file, two spellings", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "out.xyz"') +
      'trajectory = { every = 10, file = "./sub/../out.xyz" }\n', "sub/keep": ""},
     RUN, 1, 'are the same file')
case("checkpoint to /dev/null", G1,
     {"in.toml": with_output('checkpoint = { file = "/dev/null" }')}, RUN, 1,
     'is not a regular file; checkpoints')
case("data output to /dev/null", G1,
     {"in.toml": with_output('data = { file = "/dev/null" }')}, CHECK, 1,
     'is not a regular file; checkpoints')
case("last good state to /dev/null", G1,
     {"in.toml": BASE + '[safety]\nlast_good = "/dev/null"\n'}, RUN, 1,
     'is not a regular file; checkpoints')
case("thermo to /dev/null is a sink (kept a device)", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "/dev/null"')}, RUN, 0, '',
     check=lambda d, r: stat.S_ISCHR(os.stat("/dev/null").st_mode) or "no longer a device")
case("trajectory to /dev/null is a sink", G1,
     {"in.toml": with_output('trajectory = { every = 10, file = "/dev/null", format = "extxyz" }')},
     RUN, 0, '')
case("thermo to /dev/full fails when written", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "/dev/full"')}, RUN, 1,
     'write to thermo file', needs="/dev/full")
case("thermo output is a folder", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "outdir"'), "outdir/keep": ""}, RUN, 1,
     'is a folder, not a file')
case("checkpoint output is a folder", G1,
     {"in.toml": with_output('checkpoint = { file = "ck" }'), "ck/keep": ""}, RUN, 1,
     'is a folder, not a file')
case("thermo output is a FIFO", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "pipe.csv"'), "|pipe.csv": ""}, RUN, 1,
     'is not a regular file (only a character device')
case("output is a dangling symlink", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "dangling.csv"'),
      "@dangling.csv": "nowhere/none.csv"}, RUN, 1, 'symbolic link to a file that does not exist')
case("thermo overwrites the --restart checkpoint", G1,
     {"in.toml": sub('file = "thermo.csv"', 'file = "old.ckpt"')},
     ["run", "in.toml", "--quiet", "--restart", "old.ckpt"], 1,
     'is the same file as the --restart checkpoint', setup=lambda m, d: make_checkpoint(m, d))
case("checkpoint output overwrites the structure file", G1,
     {"in.toml": with_output('checkpoint = { file = "start.data" }', DATA_INPUT),
      "start.data": data_file()}, CHECK, 1, 'is the same file as the [system] structure file')
case("H5MD trajectory to a device", G1,
     {"in.toml": with_output('trajectory = { every = 10, file = "/dev/null", format = "h5md" }')},
     RUN, 1, 'H5MD output needs a regular file', needs="h5md")

# ---------------------------------------------------------------------------- group 2
G2 = "2 crashes from overflowing or vanishing geometry"
case("box length overflows to infinity", G2,
     {"in.toml": DATA_INPUT, "start.data": data_file(hi="1e308", lo="-1e308")}, RUN, 1,
     'must be finite and positive')
case("lattice constant 1e300", G2,
     {"in.toml": sub("a = 1.6796", "a = 1e300")}, RUN, 1, 'the cell is degenerate')
case("lattice constant nan", G2, {"in.toml": sub("a = 1.6796", "a = nan")}, RUN, 1, 'lattice')
case("huge tilt (degenerate cell)", G2,
     {"in.toml": DATA_INPUT, "start.data": data_file(tilt="1e12 0 0 xy xz yz\n")}, RUN, 1,
     'cell lengths away from the cell along x')
case("skin 1e6 (ghosts and neighbours explode)", G2,
     {"in.toml": sub("check_every = 10", "check_every = 10\nskin = 1e6")}, RUN, 1,
     '[neighbor] skin 1e+06 with this cell')
case("infinite skin", G2, {"in.toml": sub("check_every = 10", "check_every = 10\nskin = inf")},
     RUN, 1, '[neighbor] skin: must be a finite number')
case("cutoff 1e5", G2, {"in.toml": sub("cutoff = 2.5", "cutoff = 1e5")}, RUN, 1, 'needs about')
case("infinite timestep", G2, {"in.toml": sub("steps = 20", "steps = 20\ntimestep = inf")},
     RUN, 1, '[run] timestep: must be a finite number')
case("infinite mass", G2, {"in.toml": sub("masses = { A = 1.0 }", "masses = { A = inf }")},
     RUN, 1, 'A: must be a finite number')
case("infinite velocity temperature", G2, {"in.toml": sub("temperature = 1.5", "temperature = inf")},
     RUN, 1, '[velocity] temperature')
case("infinite min_distance", G2, {"in.toml": BASE + "[safety]\nmin_distance = inf\n"}, RUN, 1,
     '[safety] min_distance')
case("deeply nested arrays in TOML", G2, {"in.toml": "x = " + "[" * 200000 + "]" * 200000 + "\n" + BASE},
     RUN, 1, 'nested more than 64 levels')
case("deeply nested inline tables in TOML", G2,
     {"in.toml": "x = " + "{a = " * 100000 + "1" + "}" * 100000 + "\n" + BASE}, RUN, 1,
     'nested more than 64 levels')
case("dotted key of 100000 parts", G2, {"in.toml": "a" + ".a" * 100000 + " = 1\n" + BASE}, RUN, 1,
     'dotted key of more than 64 parts')
case("table header of 100000 parts", G2, {"in.toml": BASE + "[a" + ".a" * 100000 + "]\n"}, RUN, 1,
     'dotted key of more than 64 parts')
case("checkpoint with valid checksum and huge tilt", G2, {"in.toml": BASE},
     ["run", "in.toml", "--quiet", "--restart", "old.ckpt"], 1, 'its cell is degenerate',
     setup=lambda m, d: (make_checkpoint(m, d), patch_checkpoint(
         os.path.join(d, "old.ckpt"),
         lambda b: (struct.pack_into("<d", b, box_offset(b) + 48, 1e300), b)[1])))
case("checkpoint with valid checksum and tiny cell", G2, {"in.toml": BASE},
     ["check", "in.toml", "--restart", "old.ckpt"], 1, 'its cell is degenerate',
     setup=lambda m, d: (make_checkpoint(m, d), patch_checkpoint(
         os.path.join(d, "old.ckpt"),
         lambda b: (struct.pack_into("<d", b, box_offset(b) + 24, 1e-300), b)[1])))
case("table with n = 10^9 points", G2,
     {"in.toml": TABLE_INPUT.replace("n = 1000", "n = 1000000000"), "pair.table": table_file(50)},
     RUN, 1, 'n: must be between 2 and 10^7')
case("deepmd tabulation step 1e-9", G2,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp") + "",
      "m.dp": repo("inputs/deepmd/cu_small.dp")}, RUN, 1, 'must be at least 1e-5',
     setup=lambda m, d: write(d, "in.toml", open(os.path.join(d, "in.toml")).read().replace(
         "[run]", "tabulate = { step = 1e-9 }\n[run]")))

# ---------------------------------------------------------------------------- group 3
G3 = "3 silent integer truncation"
XYZ2 = '2\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3\nA 0 0 0\nA 2 2 2\n'
XYZ_INPUT = sub('data = "start.data"\ntype_names = ["A"]', 'extxyz = "s.xyz"\nframe = {f}', DATA_INPUT)
case("extxyz frame 2^32 (would select frame 0)", G3,
     {"in.toml": XYZ_INPUT.replace("{f}", "4294967296"), "s.xyz": XYZ2}, RUN, 1,
     'frame: must be -1 (the last frame) or a frame index')
case("extxyz frame -5", G3, {"in.toml": XYZ_INPUT.replace("{f}", "-5"), "s.xyz": XYZ2}, RUN, 1,
     'frame: must be -1')
case("atom 10^9 box lengths outside a periodic box", G3,
     {"in.toml": DATA_INPUT, "start.data": data_file(x2="4e9")}, RUN, 1,
     'atom 2 is 1e+09 cell lengths away')
case("image flag near 2^31", G3,
     {"in.toml": DATA_INPUT, "start.data": data_file(img=" 2000000000 0 0")}, RUN, 1,
     'atom 1 has image flag 2000000000')
case("LAMMPS data atom count 2^32 + 4", G3,
     {"in.toml": DATA_INPUT, "start.data": data_file().replace("4 atoms", "4294967300 atoms")},
     RUN, 1, '4294967300 atoms')
case("extxyz atom count 2^32 + 2", G3,
     {"in.toml": XYZ_INPUT.replace("{f}", "0"), "s.xyz": XYZ2.replace("2\n", "4294967298\n", 1)},
     RUN, 1, '4294967298')
case("table N = 2^32 + 5 in the file", G3,
     {"in.toml": TABLE_INPUT, "pair.table": table_file(5).replace("N 5", "N 4294967301")}, RUN, 1,
     'N = 4294967301 is out of range')
case("EAM Nrho = 2^32 + 500", G3,
     {"in.toml": EAM_INPUT, "Cu_u3.eam": repo("inputs/potentials/Cu_u3.eam").replace(
         b"  500  5.01", b"  4294967796  5.01", 1)}, RUN, 1, 'Nrho = 4294967796 is out of range')
case("SNAP coefficient count 2^32 + 31", G3,
     {"in.toml": SNAP_INPUT, "Ta06A.snapcoeff": repo("inputs/snap/Ta06A.snapcoeff").replace(
         b"1 31", b"1 4294967327", 1), "Ta06A.snapparam": repo("inputs/snap/Ta06A.snapparam")},
     RUN, 1, 'out of range')
case("--steps beyond 64 bits", G3, {"in.toml": BASE},
     ["run", "in.toml", "--steps", "99999999999999999999"], 2, 'more than the 10^15 steps')
case("--steps 2^62", G3, {"in.toml": BASE}, ["run", "in.toml", "--steps", "4611686018427387904"],
     2, 'more than the 10^15 steps')
case("[run] steps = 10^18", G3, {"in.toml": sub("steps = 20", "steps = 1000000000000000000")},
     RUN, 1, '[run] steps: must be at most 10^15')
case("LAMMPS data 2000000 atom types", G3,
     {"in.toml": DATA_INPUT, "start.data": data_file().replace("1 atom types", "2000000 atom types")},
     RUN, 1, 'number of atom types must be in 1..1000000')

# ---------------------------------------------------------------------------- group 4
G4 = "4 allocation before validation"
case("table header claims 10^8 points in a tiny file", G4,
     {"in.toml": TABLE_INPUT, "pair.table": table_file(5).replace("N 5", "N 100000000")}, RUN, 1,
     'bytes are left in the file')
case("EAM funcfl claims 10^8 points in a tiny file", G4,
     {"in.toml": EAM_INPUT, "Cu_u3.eam": repo("inputs/potentials/Cu_u3.eam")[:400].replace(
         b"  500  5.01", b"  100000000  5.01", 1)}, RUN, 1, 'bytes are left in the file')
case("EAM setfl claims 10^4 elements", G4,
     {"in.toml": EAM_INPUT.replace('style = "eam"', 'style = "eam/alloy"').replace(
         "Cu_u3.eam", "x.eam.alloy"), "x.eam.alloy": "a\nb\nc\n10000 Cu\n"}, RUN, 1,
     'element names follow')
case("EAM setfl 10^5 elements (beyond the limit)", G4,
     {"in.toml": EAM_INPUT.replace('style = "eam"', 'style = "eam/alloy"').replace(
         "Cu_u3.eam", "x.eam.alloy"), "x.eam.alloy": "a\nb\nc\n100000 Cu\n"}, RUN, 1,
     'Nelements = 100000 is out of range')
case("SNAP coeff header claims 10^8 coefficients", G4,
     {"in.toml": SNAP_INPUT, "Ta06A.snapcoeff": repo("inputs/snap/Ta06A.snapcoeff").replace(
         b"1 31", b"1 100000000", 1), "Ta06A.snapparam": repo("inputs/snap/Ta06A.snapparam")},
     RUN, 1, 'more than the file')
case("checkpoint claims 2^39 atoms (valid checksum)", G4, {"in.toml": BASE},
     ["run", "in.toml", "--quiet", "--restart", "old.ckpt"], 1, 'corrupt checkpoint',
     setup=lambda m, d: (make_checkpoint(m, d), patch_checkpoint(
         os.path.join(d, "old.ckpt"),
         lambda b: (struct.pack_into("<Q", b, 16 + 8 + struct.unpack_from("<Q", b, 16)[0], 1 << 39), b)[1])))
case("cell of 10^-3 with 108 atoms (ghost explosion)", G4,
     {"in.toml": DATA_INPUT, "start.data": data_file(hi="0.001").replace(
         "2 1 2.0 2.0 2.0\n3 1 0.5 2.0 2.0\n4 1 2.0 0.5 2.0", "2 1 0.0002 0.0002 0.0002\n"
         "3 1 0.0003 0.0001 0.0001\n4 1 0.0001 0.0003 0.0001").replace("1 1 0.5 0.5 0.5",
                                                                        "1 1 0.0005 0.0005 0.0005")},
     RUN, 1, 'needs about')
case("lattice repeat 100000 x 100000 x 1", G4,
     {"in.toml": sub("repeat = [3, 3, 3]", "repeat = [100000, 100000, 1]")}, RUN, 1,
     'repeat gives more than')

# ---------------------------------------------------------------------------- group 5
G5 = "5 the last good state can be the exploded one"


def last_good_before_failure(d, r):
    import re
    m = re.search(r"step (\d+)\)? \(the last good one\)|state at step (\d+) \(the last good one\)",
                  r.stderr)
    bad = re.search(r"error: step (\d+):", r.stderr)
    if not m or not bad:
        return "messages not found"
    good = int(m.group(1) or m.group(2))
    if not good < int(bad.group(1)):
        return f"last good step {good} is not before the failing step {bad.group(1)}"
    if not os.path.exists(os.path.join(d, "in.last_good.data")):
        return "no last good file"
    return True


BLOWUP = sub("steps = 20", "steps = 200\ntimestep = 0.05").replace(
    "every = 10", "every = 1").replace("temperature = 1.5", "temperature = 40.0")
case("displacement failure on a sync step (thermo every = 1)", G5,
     {"in.toml": BLOWUP + "[safety]\nmax_displacement = 0.05\n"}, RUN, 4,
     'the last good one', check=last_good_before_failure, may_change={"thermo.csv"})
case("displacement failure with thermo every = 2", G5,
     {"in.toml": BLOWUP.replace("every = 1,", "every = 2,") + "[safety]\nmax_displacement = 0.05\n"},
     RUN, 4, 'the last good one', check=last_good_before_failure, may_change={"thermo.csv"})
case("blow-up (atoms flying apart) with thermo every = 1", G5,
     {"in.toml": sub("a = 1.6796", "a = 1.0").replace("steps = 20", "steps = 200\ntimestep = 0.05")
      .replace("every = 10", "every = 1") + "[safety]\nmin_distance = 0\nmax_displacement = 1e9\n"},
     RUN, 4, 'the last good one', check=last_good_before_failure, may_change={"thermo.csv"})

# ---------------------------------------------------------------------------- group 6
G6 = "6 restarts and concurrent runs mix outputs"


def fresh_then_old(mdgpu, d):
    write(d, "in.toml", BASE + 'checkpoint = { every = 10, file = "run.ckpt" }\n')
    r = run_mdgpu(mdgpu, ["run", "in.toml", "--quiet", "--steps", "10"], d)
    assert r.returncode == 0, r.stderr
    shutil.copy(os.path.join(d, "run.ckpt"), os.path.join(d, "old.ckpt"))
    write(d, "in.toml", sub("seed = 7", "seed = 8") + 'checkpoint = { every = 10, file = "run.ckpt" }\n')
    r = run_mdgpu(mdgpu, ["run", "in.toml", "--quiet"], d)
    assert r.returncode == 0, r.stderr
    write(d, "in.toml", BASE + 'checkpoint = { every = 10, file = "run.ckpt" }\n')


case("restart from an older checkpoint after a fresh run", G6, {},
     ["run", "in.toml", "--quiet", "--restart", "old.ckpt"], 1,
     'does not continue the run that wrote this checkpoint', setup=fresh_then_old)
case("check --restart from an older checkpoint after a fresh run", G6, {},
     ["check", "in.toml", "--restart", "old.ckpt"], 1,
     'To start fresh instead, run without --restart', setup=fresh_then_old)


def thermo_removed(mdgpu, d):
    write(d, "in.toml", BASE + 'checkpoint = { every = 10, file = "run.ckpt" }\n')
    r = run_mdgpu(mdgpu, ["run", "in.toml", "--quiet", "--steps", "10"], d)
    assert r.returncode == 0, r.stderr
    write(d, "thermo.csv", "Step\n")


case("restart after the thermo file was truncated", G6, {},
     ["run", "in.toml", "--quiet", "--restart", "run.ckpt"], 1, 'is missing or shorter',
     setup=thermo_removed)


TRAJ_OUT = 'trajectory = { every = 5, file = "t.lammpstrj" }\ncheckpoint = { every = 10, file = "run.ckpt" }\n'


def traj_edited(mdgpu, d):
    write(d, "in.toml", BASE + TRAJ_OUT)
    r = run_mdgpu(mdgpu, ["run", "in.toml", "--quiet", "--steps", "10"], d)
    assert r.returncode == 0, r.stderr
    p = os.path.join(d, "t.lammpstrj")
    b = bytearray(open(p, "rb").read())
    k = b.index(b"ITEM: ATOMS") + 40
    b[k] = ord("9") if b[k] != ord("9") else ord("8")
    open(p, "wb").write(bytes(b))


def older_checkpoint_same_run(mdgpu, d):
    write(d, "in.toml", BASE + TRAJ_OUT)
    r = run_mdgpu(mdgpu, ["run", "in.toml", "--quiet", "--steps", "10"], d)
    assert r.returncode == 0, r.stderr
    shutil.copy(os.path.join(d, "run.ckpt"), os.path.join(d, "old.ckpt"))
    r = run_mdgpu(mdgpu, ["run", "in.toml", "--quiet", "--restart", "run.ckpt"], d)
    assert r.returncode == 0, r.stderr


case("restart after a trajectory was edited by hand", G6, {},
     ["run", "in.toml", "--quiet", "--restart", "run.ckpt"], 1,
     'output "t.lammpstrj" does not continue the run', setup=traj_edited)
case("restart from an older checkpoint of the same run (accepted)", G6, {},
     ["run", "in.toml", "--quiet", "--restart", "old.ckpt"], 0, '',
     setup=older_checkpoint_same_run,
     may_change={"thermo.csv", "t.lammpstrj", "run.ckpt", "run.ckpt.prev"})


def concurrent(second_input, expect):
    def fn(mdgpu, d):
        long = BASE.replace("steps = 20", "steps = 2000000").replace("repeat = [3, 3, 3]",
                                                                    "repeat = [4, 4, 4]")
        write(d, "a.toml", long + 'checkpoint = { file = "in.ckpt" }\n')
        write(d, "in.toml", second_input)
        env = dict(os.environ, OMP_NUM_THREADS="1")
        p = subprocess.Popen([mdgpu, "run", "a.toml", "--quiet"], cwd=d, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.time()
        while time.time() - t0 < 30 and not os.path.exists(os.path.join(d, "in.ckpt.lock")):
            time.sleep(0.02)
        time.sleep(0.3)
        fn.proc = p
    return fn


def stop_first(d, r):
    p = getattr(stop_first, "proc", None)
    return True


case("a second run on the same outputs", G6, {},
     ["run", "in.toml", "--quiet"], 1, 'another mdgpu run is writing the same outputs (pid',
     setup=concurrent(BASE + 'checkpoint = { file = "in.ckpt" }\n', None),
     may_change={"thermo.csv", "in.ckpt.lock", "a.toml", "in.ckpt"})
case("another input writing the same thermo file", G6, {},
     ["run", "in.toml", "--quiet"], 1, 'is being written by another mdgpu run',
     setup=concurrent(BASE + 'checkpoint = { file = "other.ckpt" }\n', None),
     may_change={"thermo.csv", "in.ckpt.lock", "a.toml", "in.ckpt"})

# ---------------------------------------------------------------------------- group 7
G7 = "7 weak messages"
case("no input file", G7, {}, ["run"], 2, 'no input file given')
case("unknown option", G7, {"in.toml": BASE}, ["run", "in.toml", "--fast"], 2, 'unknown option --fast')
case("--steps not a number", G7, {"in.toml": BASE}, ["run", "in.toml", "--steps", "ten"], 2,
     '--steps needs a non-negative integer')
case("--steps negative", G7, {"in.toml": BASE}, ["run", "in.toml", "--steps", "-3"], 2,
     '--steps needs a non-negative integer')
case("--backend gpu", G7, {"in.toml": BASE}, ["run", "in.toml", "--backend", "gpu"], 2,
     '--backend must be auto, cpu or cuda')
case("two input files", G7, {"in.toml": BASE}, ["run", "in.toml", "in.toml"], 2,
     'more than one input file')
case("option without its value", G7, {"in.toml": BASE}, ["run", "in.toml", "--restart"], 2,
     'option --restart needs a value')
case("--progress-interval 0", G7, {"in.toml": BASE}, ["run", "in.toml", "--progress-interval", "0"],
     2, '--progress-interval needs a positive number')
case("inspect without a file", G7, {}, ["inspect"], 2, 'inspect needs one checkpoint file')
case("unknown command", G7, {}, ["runn"], 2, 'unknown command "runn"')
case("EAM file under units = lj", G7,
     {"in.toml": EAM_INPUT.replace('units = "metal"', 'units = "lj"'),
      "Cu_u3.eam": repo("inputs/potentials/Cu_u3.eam")}, RUN, 1,
     'EAM potential files are in metal units')
case("SNAP files under units = lj", G7,
     {"in.toml": SNAP_INPUT.replace('units = "metal"', 'units = "lj"'),
      "Ta06A.snapcoeff": repo("inputs/snap/Ta06A.snapcoeff"),
      "Ta06A.snapparam": repo("inputs/snap/Ta06A.snapparam")}, RUN, 1,
     'SNAP potential files are in metal units')
case("table file under units = lj (warned by name)", G7,
     {"in.toml": TABLE_INPUT.replace('units = "metal"', 'units = "lj"').replace(
         "masses = { Cu = 63.5 }", "masses = { Cu = 1.0 }").replace("a = 3.615", "a = 3.0"),
      "pair.table": table_file(50)}, ["check", "in.toml"], 0, 'table file')
case("deepmd model under units = lj", G7,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp").replace('units = "metal"', 'units = "lj"'),
      "m.dp": repo("inputs/deepmd/cu_small.dp")}, RUN, 1, 'deepmd models are in metal units')
case("input file is a folder", G7, {"dir.toml/keep": ""}, ["run", "dir.toml"], 1,
     'dir.toml: is a folder, not an input file')
case("structure file is a folder", G7,
     {"in.toml": DATA_INPUT, "start.data/keep": ""}, RUN, 1, 'start.data')


def sigterm_fire(mdgpu, d):
    text = BASE.replace("repeat = [3, 3, 3]", "repeat = [6, 6, 6]").replace("steps = 20", "steps = 0")
    text += "[minimize]\nftol = 1e-300\nmax_iterations = 1000000\nmax_evaluations = 10000000\n"
    write(d, "in.toml", text)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    p = subprocess.Popen([mdgpu, "run", "in.toml", "--quiet"], cwd=d, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)
    p.send_signal(signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
    sigterm_fire.result = subprocess.CompletedProcess(p.args, p.returncode, out, err)


def fire_checkpoint(d, r):
    return os.path.exists(os.path.join(d, "in.ckpt")) or "no checkpoint written"


# ---------------------------------------------------------------------------- group 8
G8 = "8 DeePMD route"
case("PyTorch .pth given as the model", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "model.pth"), "model.pth": "zip"}, RUN, 1,
     'dp convert-backend model.pth model.dp')
case("TensorFlow .pb given as the model", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "frozen.pb"), "frozen.pb": b"\x0a\x0bfrozen"},
     RUN, 1, 'TensorFlow model, not a deepmd-kit .dp file')
case("a .dp that is a zip archive", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "model.dp"), "model.dp": "zip"}, RUN, 1,
     'PyTorch model')
case("a .dp that is text", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "model.dp"), "model.dp": "{\"model\": 1}\n"},
     RUN, 1, 'model.dp: deepmd model: not an HDF5')
case("start banner describes the model", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp"), "m.dp": repo("inputs/deepmd/cu_small.dp")},
     ["check", "in.toml"], 0, 'type_map [', where="stdout")
case("more neighbours than sel (warned once with the count)", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp").replace("a = 3.615", "a = 2.6"),
      "m.dp": repo("inputs/deepmd/cu_small.dp")}, ["check", "in.toml"], 0,
     'atom(s) have more neighbours within rcut 3.3 than sel allows (up to 42 neighbours of type Cu (sel 20))')
case("neighbours within sel: no warning", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp"), "m.dp": repo("inputs/deepmd/cu_small.dp")},
     ["check", "in.toml"], 0, '',
     check=lambda d, r: "than sel allows" not in r.stderr or "warned without cause")
def dp_patched(old, new):
    """inputs/deepmd/cu_small.dp with a same-length edit of its model dictionary (the JSON
    string lives in HDF5's global heap, which carries no checksum)."""
    b = repo("inputs/deepmd/cu_small.dp")
    assert len(old) == len(new) and b.count(old) == 1
    return b.replace(old, new)


DP_TIME = b'"time":"2026-11-24 06:28:10.076298+00:00"'
case("a key missing from the .dp dictionary names the file", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp"),
      "m.dp": dp_patched(b'"embeddings"', b'"embeddingz"')}, RUN, 1,
     'm.dp: deepmd model: malformed model dictionary')
case("a .dp array reference to a missing dataset", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp"),
      "m.dp": dp_patched(b'"davg":"/variable_', b'"davg":"/variablX_')}, RUN, 1,
     'm.dp: deepmd model: descriptor davg: dataset')
case("stored min_nbor_dist sets where the table starts", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "m.dp").replace("[run]", "tabulate = { step = 0.01 }\n[run]"),
      "m.dp": dp_patched(DP_TIME, b'"min_nbor_dist":' + b"2.0".ljust(len(DP_TIME) - 16, b"0"))},
     ["check", "in.toml"], 0, 's in [-1, 1) and coarse to 5', where="stdout")
case("unsupported descriptor names the file", G8,
     {"in.toml": DEEPMD_INPUT.replace("{file}", "u.dp"),
      "u.dp": repo("tests/data/deepmd/unsupported_se_r.dp")}, RUN, 1, 'u.dp')


# ---------------------------------------------------------------------------- runner
def make_zip(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("model/data.pkl", b"not a model")


def build(d, files):
    for name, content in files.items():
        if name.startswith("@"):
            os.symlink(content, os.path.join(d, name[1:]))
        elif name.startswith("&"):
            os.link(os.path.join(d, content), os.path.join(d, name[1:]))
        elif name.startswith("|"):
            os.mkfifo(os.path.join(d, name[1:]))
        elif content == "zip":
            make_zip(os.path.join(d, name))
        else:
            write(d, name, content)


def h5md_available(mdgpu):
    d = tempfile.mkdtemp(prefix="mdgpu_adv_h5_")
    write(d, "in.toml", with_output('trajectory = { every = 10, file = "t.h5", format = "h5md" }'))
    r = run_mdgpu(mdgpu, ["check", "in.toml"], d)
    shutil.rmtree(d, ignore_errors=True)
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mdgpu", required=True)
    ap.add_argument("-k", default="")
    ap.add_argument("--list", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import common  # noqa: E402  (the executor from MDGPU_TEST_BACKEND)
    mdgpu = common.wrap_for_backend(os.path.abspath(a.mdgpu))
    CASES.append(Case("SIGTERM during a FIRE minimisation", G7, {}, None, 3,
                      'during the FIRE minimisation', check=fire_checkpoint, setup=sigterm_fire,
                      may_change={"in.toml"}))
    if a.list:
        for c in CASES:
            print(f"{c.group[:1]} | {c.name} | {c.message} | {c.rc}")
        return 0
    have_h5md = h5md_available(mdgpu)
    failed, ran, skipped = [], 0, 0
    for c in CASES:
        if a.k and a.k not in c.name:
            continue
        if (c.needs == "h5md" and not have_h5md) or (c.needs and c.needs.startswith("/") and
                                                     not os.path.exists(c.needs)):
            skipped += 1
            continue
        d = tempfile.mkdtemp(prefix="mdgpu_adv_")
        proc = None
        try:
            build(d, c.files)
            if c.setup:
                c.setup(mdgpu, d)
            proc = getattr(c.setup, "proc", None) if c.setup else None
            before = snapshot(d)
            t0 = time.time()
            if c.args is None:
                r = c.setup.result
            else:
                r = run_mdgpu(mdgpu, c.args, d)
            wall = time.time() - t0
            after = snapshot(d)
            problems = []
            if r.returncode < 0 or r.returncode >= 128:
                problems.append(f"killed by signal / exit {r.returncode}")
            if r.returncode != c.rc:
                problems.append(f"exit {r.returncode}, expected {c.rc}")
            text = r.stdout if c.where == "stdout" else r.stderr
            if c.message and c.message not in text + (r.stdout if c.where != "stdout" else ""):
                problems.append(f"message {c.message!r} not found")
            for f, h in before.items():
                if f in c.may_change or f.endswith(".lock"):
                    continue
                if after.get(f) != h:
                    problems.append(f"input {f} was modified or removed")
            if c.check:
                res = c.check(d, r)
                if res is not True:
                    problems.append(f"check: {res}")
            ran += 1
            if problems:
                failed.append(c.name)
                print(f"FAIL [{c.group[:1]}] {c.name}: {'; '.join(problems)}\n  stderr: "
                      f"{r.stderr.strip()[:600]}\n  stdout: {r.stdout.strip()[:300]}\n  folder {d}")
                continue
            print(f"ok   [{c.group[:1]}] {c.name} ({wall:.2f} s)")
        except subprocess.TimeoutExpired:
            failed.append(c.name)
            print(f"FAIL [{c.group[:1]}] {c.name}: no answer within {TIMEOUT} s (hang)")
            continue
        finally:
            if proc is not None:
                proc.kill()
                proc.wait()
        shutil.rmtree(d, ignore_errors=True)
    print(f"{ran} cases run, {len(failed)} failed, {skipped} skipped (feature not built)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
