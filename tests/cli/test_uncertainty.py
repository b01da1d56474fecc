"""[uncertainty] in `mdgpu run` (io/uncertainty_output.cpp) with the FLARE example model of
inputs/flare: thermo columns c_std_max / c_std_mean (finite, max >= mean > 0), action "warn"
(a stderr line), "harvest" (extxyz frames readable by ase, one per sync point above the
threshold), "stop" (exit status 5, checkpoint written, --restart continues), and clear input
errors for a potential without uncertainty."""
import csv
import math
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

mdgpu = common.mdgpu_path()
flare_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "inputs", "flare")
flare_dir = os.path.normpath(flare_dir)
d = common.workdir("uncertainty")
failures = []


def check(cond, msg):
    if not cond:
        failures.append(msg)
        print("FAIL:", msg)


def flare_input(uncertainty, steps=20, potential_extra=None, thermo_every=10, output_extra=""):
    pot = potential_extra if potential_extra is not None else (
        f'l_inv = "{flare_dir}/L_inv_CuAg_p2.flare"\n'
        f'sparse_desc = "{flare_dir}/sparse_desc_CuAg_p2.flare"\n')
    return f'''units = "metal"
[system]
lattice = {{ kind = "fcc", a = 3.85, repeat = [2, 2, 2], elements = ["Cu", "Cu", "Ag", "Ag"] }}
[velocity]
temperature = 600.0
seed = 4928459
[potential]
style = "flare"
file = "{flare_dir}/CuAg_p2.flare"
species = ["Cu", "Ag"]
{pot}
[potential.single_atom_energies]
Cu = -0.25
Ag = -0.4
[neighbor]
skin = 1.0
[run]
ensemble = "nvt"
thermostat = {{ kind = "csvr", temperature = 600.0, tdamp = 0.1, seed = 4242 }}
timestep = 0.001
steps = {steps}
[output]
thermo = {{ every = {thermo_every}, file = "thermo.csv" }}
checkpoint = {{ file = "run.ckpt" }}
{output_extra}
{uncertainty}'''


def run_case(name, text, *args):
    sub = os.path.join(d, name)
    os.makedirs(sub, exist_ok=True)
    common.write(os.path.join(sub, "in.toml"), text)
    p = common.run([mdgpu, "run", "in.toml", *args], cwd=sub)
    return sub, p


def thermo_rows(sub):
    with open(os.path.join(sub, "thermo.csv")) as f:
        return list(csv.DictReader(f))


# warn: columns present and finite, a warning line per sync point above the threshold
traj = ('trajectory = [{ every = 10, file = "t.extxyz", uncertainty = true },'
        ' { every = 10, file = "t.lammpstrj", uncertainty = true }]')
sub, p = run_case("warn", flare_input('[uncertainty]\nevery = 5\nthreshold = 1e-6\naction = "warn"\n',
                                      output_extra=traj))
check(p.returncode == 0, f"warn run exit {p.returncode}: {p.stderr}")
rows = thermo_rows(sub)
check([int(r["Step"]) for r in rows] == [0, 10, 20], f"thermo steps {[r['Step'] for r in rows]}")
for r in rows:
    mx, mean = float(r["c_std_max"]), float(r["c_std_mean"])
    check(math.isfinite(mx) and math.isfinite(mean) and mx >= mean > 0,
          f"std columns at step {r['Step']}: max {mx} mean {mean}")
check("c_std_max" in p.stdout and "c_std_mean" in p.stdout, "terminal thermo header lacks std columns")
warns = [l for l in p.stderr.splitlines() if "per-atom std" in l and "threshold" in l]
check(len(warns) == 2, f"expected 2 warnings (steps 10, 20), got: {p.stderr}")
# per-atom std column in trajectories: its max/mean are the thermo columns of that step
try:
    import ase.io
    frames = ase.io.read(os.path.join(sub, "t.extxyz"), index=":")
    check(len(frames) == 3, f"{len(frames)} trajectory frames")
    for fr, r in zip(frames, rows):
        s = fr.arrays.get("c_std")
        check(s is not None and len(s) == 32, "no c_std column in the extxyz trajectory")
        if s is not None:
            check(abs(s.max() - float(r["c_std_max"])) <= 1e-12 and
                  abs(s.mean() - float(r["c_std_mean"])) <= 1e-12,
                  f"step {r['Step']}: c_std max/mean {s.max()} {s.mean()} vs thermo")
except ImportError as e:
    print(f"note: ase not installed ({e})")
with open(os.path.join(sub, "t.lammpstrj")) as f:
    dump = f.read()
check(dump.count("ITEM: ATOMS id type x y z c_std") == 3, "lammps-dump lacks c_std")
print("warn: thermo", [(r["Step"], r["c_std_max"], r["c_std_mean"]) for r in rows])

# a high threshold: no warning
sub, p = run_case("quiet", flare_input('[uncertainty]\nevery = 5\nthreshold = 100.0\n'))
check(p.returncode == 0 and "per-atom std" not in p.stderr, f"quiet run: {p.returncode} {p.stderr}")

# harvest: one frame per sync point above the threshold (steps 10 and 20), readable by ase
sub, p = run_case("harvest", flare_input(
    '[uncertainty]\nevery = 10\nthreshold = 1e-6\naction = "harvest"\nharvest_file = "uncertain.extxyz"\n'))
check(p.returncode == 0, f"harvest run exit {p.returncode}: {p.stderr}")
hpath = os.path.join(sub, "uncertain.extxyz")
check(os.path.exists(hpath), "harvest file missing")
try:
    import ase.io
    frames = ase.io.read(hpath, index=":")
    check(len(frames) == 2, f"ase read {len(frames)} harvested frames, expected 2")
    for fr in frames:
        check(len(fr) == 32 and sorted(set(fr.get_chemical_symbols())) == ["Ag", "Cu"],
              f"harvested frame: {len(fr)} atoms {set(fr.get_chemical_symbols())}")
    check(all(fr.arrays.get("c_std") is not None and fr.arrays["c_std"].max() > 1e-6
              for fr in frames), "harvested frames lack a c_std column above the threshold")
    check([int(fr.info.get("step", -1)) for fr in frames] == [10, 20],
          f"harvested steps {[fr.info.get('step') for fr in frames]}")
    print("harvest:", len(frames), "frames read by ase")
except ImportError as e:
    print(f"note: ase not installed ({e}); harvested file not read back")

# stop: exit 5 with a checkpoint; --restart (higher threshold) continues to the end
sub, p = run_case("stop", flare_input('[uncertainty]\nevery = 5\nthreshold = 1e-6\naction = "stop"\n'))
check(p.returncode == 5, f"stop run exit {p.returncode} (expected 5): {p.stderr}")
check("[uncertainty]" in p.stderr, f"stop message: {p.stderr}")
check(os.path.exists(os.path.join(sub, "run.ckpt")), "no checkpoint after stop")
rows = thermo_rows(sub)
check(rows and int(rows[-1]["Step"]) == 10, f"stop thermo steps {[r['Step'] for r in rows]}")
common.write(os.path.join(sub, "in.toml"),
             flare_input('[uncertainty]\nevery = 5\nthreshold = 100.0\naction = "stop"\n'))
p2 = common.run([mdgpu, "run", "in.toml", "--restart", "run.ckpt"], cwd=sub)
check(p2.returncode == 0, f"restart after stop: exit {p2.returncode}: {p2.stderr}")
rows = thermo_rows(sub)
check([int(r["Step"]) for r in rows] == [0, 10, 20], f"after restart thermo steps {[r['Step'] for r in rows]}")

# bad input: a potential without uncertainty, FLARE without its uncertainty files, bad keys
lj = common.lj_input(10) + '[uncertainty]\nthreshold = 0.1\n'
sub, p = run_case("lj", lj)
check(p.returncode == 1 and "[uncertainty]" in p.stderr and "no per-atom uncertainty" in p.stderr
      and "in.toml:" in p.stderr, f"lj + [uncertainty]: {p.returncode} {p.stderr}")
sub, p = run_case("nofiles", flare_input('[uncertainty]\nthreshold = 0.1\n', potential_extra=""))
check(p.returncode == 1 and "l_inv" in p.stderr and "sparse_desc" in p.stderr,
      f"flare without files: {p.returncode} {p.stderr}")
sub, p = run_case("badaction", flare_input('[uncertainty]\nthreshold = 0.1\naction = "panic"\n'))
check(p.returncode == 1 and "action" in p.stderr, f"bad action: {p.returncode} {p.stderr}")
sub, p = run_case("h5std", flare_input('[uncertainty]\nthreshold = 0.1\n', output_extra=(
    'trajectory = { every = 10, file = "t.h5", uncertainty = true }')))
check(p.returncode == 1 and ("std column" in p.stderr or "HDF5" in p.stderr), f"h5md + uncertainty column: {p.returncode} {p.stderr}")
sub, p = run_case("stdnotable", flare_input('', output_extra=(
    'trajectory = { every = 10, file = "t.extxyz", uncertainty = true }')))
check(p.returncode == 1 and "needs an [uncertainty] table" in p.stderr,
      f"uncertainty column without [uncertainty]: {p.returncode} {p.stderr}")
sub, p = run_case("nothreshold", flare_input('[uncertainty]\nevery = 5\n'))
check(p.returncode == 1 and "threshold" in p.stderr, f"missing threshold: {p.returncode} {p.stderr}")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("OK")
