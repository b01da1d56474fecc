"""The LAMMPS dump and the extended XYZ trajectories read back by OVITO's Python module and by
ASE with identical positions, cell, velocities and forces (triclinic cell, wrapped and
unwrapped coordinates). Skips (77) with a message when ase or ovito is not installed; CI
installs both (tools/setup.sh)."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

mdgpu = common.mdgpu_path()
try:
    import numpy as np
    import ase.io
except Exception as e:
    print(f"SKIP: ase/numpy not installed ({e})")
    sys.exit(common.SKIP)
try:
    os.environ.setdefault("OVITO_GUI_MODE", "0")
    from ovito.io import import_file
except Exception as e:  # ImportError, or a missing system library of the wheel
    print(f"SKIP: ovito not installed ({e})")
    sys.exit(common.SKIP)

d = common.workdir("readback")
# Triclinic LAMMPS data file: a perturbed simple-cubic lattice in a tilted cell.
n1 = 5
lx, ly, lz, xy, xz, yz = 8.0, 8.2, 8.4, 1.1, -0.7, 0.5
lines = ["readback test", "", f"{n1**3} atoms", "2 atom types", "",
         f"0 {lx} xlo xhi", f"0 {ly} ylo yhi", f"0 {lz} zlo zhi", f"{xy} {xz} {yz} xy xz yz", "",
         "Masses", "", "1 1.0 # Ar", "2 1.5 # Kr", "", "Atoms # atomic", ""]
k = 0
for a in range(n1):
    for b in range(n1):
        for c in range(n1):
            k += 1
            s = [(a + 0.5 + 0.05 * ((k * 7) % 5 - 2)) / n1, (b + 0.5) / n1, (c + 0.5) / n1]
            x = s[0] * lx + s[1] * xy + s[2] * xz
            y = s[1] * ly + s[2] * yz
            z = s[2] * lz
            lines.append(f"{k} {1 + k % 2} {x} {y} {z}")
common.write(os.path.join(d, "tri.data"), "\n".join(lines) + "\n")
out = ('trajectory = [{ every = 40, file = "w.lammpstrj", velocities = true, forces = true },'
       ' { every = 40, file = "u.lammpstrj", velocities = true, forces = true, unwrapped = true },'
       ' { every = 40, file = "w.extxyz", velocities = true, forces = true, energies = true }]\n')
text = f'''units = "lj"
[system]
data = "tri.data"
[velocity]
temperature = 2.0
[potential]
style = "lj"
cutoff = 2.5
pairs = [{{ types = ["Ar", "Ar"], epsilon = 1.0, sigma = 1.0 }}, {{ types = ["Kr", "Kr"], epsilon = 1.0, sigma = 1.1 }}]
[run]
steps = 40
timestep = 0.004
[output]
{out}'''
common.write(os.path.join(d, "in.toml"), text)
r = common.run([mdgpu, "run", "in.toml", "--quiet"], d)
if r.returncode != 0:
    common.fail("run failed: " + r.stderr)


def ovito_frame(path, frame):
    pipe = import_file(os.path.join(d, path))
    data = pipe.compute(frame)
    p = data.particles
    keys = list(p.keys())
    n = p.count
    order = np.argsort(np.asarray(p.identifiers)) if "Particle Identifier" in keys else np.arange(n)
    cell = np.asarray(data.cell[:, :3]).T  # rows a, b, c
    vel = p["Velocity"] if "Velocity" in keys else p["vel"]  # extxyz "vel" stays a user column
    props = {"pos": np.asarray(p.positions)[order], "cell": cell,
             "vel": np.asarray(vel)[order], "force": np.asarray(p.forces)[order]}
    return props


def ase_frame(path, fmt, frame):
    atoms = ase.io.read(os.path.join(d, path), index=frame, format=fmt)
    props = {"pos": atoms.get_positions(), "cell": np.asarray(atoms.cell[:])}
    if fmt == "extxyz":
        props["vel"] = atoms.arrays.get("vel")
        props["force"] = atoms.calc.get_forces() if atoms.calc else atoms.arrays.get("forces")
    else:
        props["force"] = atoms.calc.get_forces()
    return props


def text_frames(path):
    """Exact values (Python parses decimal correctly rounded) straight from the file text."""
    lines = common.read(os.path.join(d, path)).splitlines()
    frames = []
    k = 0
    while k < len(lines):
        if path.endswith(".extxyz"):
            n = int(lines[k])
            lat = [float(v) for v in lines[k + 1].split('Lattice="')[1].split('"')[0].split()]
            rows = [ln.split()[1:] for ln in lines[k + 2:k + 2 + n]]
            a = np.array([[float(v) for v in r] for r in rows])
            frames.append({"cell": np.array(lat).reshape(3, 3), "pos": a[:, 0:3],
                           "vel": a[:, 3:6], "force": a[:, 6:9]})
            k += n + 2
        else:
            n = int(lines[k + 3])
            rows = [ln.split()[2:] for ln in lines[k + 9:k + 9 + n]]
            a = np.array([[float(v) for v in r] for r in rows])
            frames.append({"pos": a[:, 0:3], "vel": a[:, 3:6], "force": a[:, 6:9]})
            k += n + 9
    return frames


def compare(name, got, ref, what, ulps):
    if got is None:
        common.fail(f"{name}: {what} missing")
    got, ref = np.asarray(got, dtype=float), np.asarray(ref, dtype=float)
    if got.shape != ref.shape:
        common.fail(f"{name}: {what} shape {got.shape} != {ref.shape}")
    tol = ulps * np.spacing(np.abs(ref)) if ulps else 0.0
    if np.any(np.abs(got - ref) > tol):
        common.fail(f"{name}: {what} differ (max |diff| {np.max(np.abs(got - ref))}, allowed "
                    f"{ulps} ulp)")


checks = 0
tx, tw, tu = text_frames("w.extxyz"), text_frames("w.lammpstrj"), text_frames("u.lammpstrj")
for frame in (0, 1):
    ref = tx[frame]
    # the two text formats hold the same numbers
    for key in ("pos", "vel", "force"):
        compare(f"frame {frame}", tw[frame][key], ref[key], f"dump vs extxyz {key}", 0)
    ow = ovito_frame("w.lammpstrj", frame)
    ou = ovito_frame("u.lammpstrj", frame)
    ox = ovito_frame("w.extxyz", frame)
    aw = ase_frame("w.lammpstrj", "lammps-dump-text", frame)
    ax = ase_frame("w.extxyz", "extxyz", frame)
    # ASE's extxyz reader is exact; OVITO's number parser is within 2 ulp of exact.
    for key in ("pos", "cell", "vel", "force"):
        compare(f"frame {frame}", ax[key], ref[key], f"ASE extxyz {key}", 0)
        compare(f"frame {frame}", ox[key], ref[key], f"OVITO extxyz {key}", 2)
        compare(f"frame {frame}", ow[key], ref[key], f"OVITO dump {key}", 2)
        checks += 3
    compare(f"frame {frame}", ou["vel"], ref["vel"], "OVITO unwrapped dump velocities", 2)
    compare(f"frame {frame}", aw["cell"], ref["cell"], "ASE dump cell", 2)
    compare(f"frame {frame}", aw["force"], ref["force"], "ASE dump forces", 2)
    compare(f"frame {frame}", aw["pos"], ref["pos"], "ASE dump positions", 2)
    checks += 4
    # unwrapped - wrapped is a lattice translation; wrapped positions lie in the cell
    cell = ref["cell"]
    shift = (tu[frame]["pos"] - tw[frame]["pos"]) @ np.linalg.inv(cell)
    if not np.allclose(shift, np.round(shift), atol=1e-9):
        common.fail(f"frame {frame}: unwrapped - wrapped positions are not lattice vectors")
    frac = ref["pos"] @ np.linalg.inv(cell)
    if frac.min() < -1e-12 or frac.max() >= 1 + 1e-12:
        common.fail(f"frame {frame}: wrapped positions outside the cell")
    checks += 2
print(f"ASE (exactly) and OVITO (within 2 ulp: its decimal parser is not correctly rounded) read "
      f"the dump and extended XYZ with the positions, cell, velocities and forces written "
      f"({checks} comparisons, triclinic cell, 2 frames)")
print("1 passed, 0 failed")
