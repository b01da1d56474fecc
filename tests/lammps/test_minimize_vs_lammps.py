#!/usr/bin/env python3
"""mdgpu's FIRE minimiser against LAMMPS `min_style fire` + `minimize` on a disordered LJ system.

Usage: python3 test_minimize_vs_lammps.py --mdgpu /path/to/mdgpu [--keep DIR]

A disordered starting configuration (256-atom LJ liquid at T* = 2.0, rho* = 0.8442, taken
after 1000 NVE steps) is made with mdgpu and written as a LAMMPS data file. Both codes then
minimise it with FIRE (LAMMPS defaults: Euler-implicit, delaystep 20, dtgrow 1.1, dtshrink
0.5, alpha0 0.25, alphashrink 0.99, tmax 10, tmin 0.02, half step back, dmax 0.1), time step
0.005, force tolerance 1e-8 (2-norm), energy tolerance 0, lj/cut 2.5 unshifted, fixed cell.
Checked:
  * both stop on the force tolerance;
  * the final potential energies per atom agree to 1e-9 relative (same local minimum);
  * the final positions agree to 1e-4 sigma (minimum image);
  * the number of force evaluations agrees within 20 % (same algorithm).

Exit status: 0 pass, 1 mismatch or error, 77 when LAMMPS (lmp) is not on PATH.
Python 3 standard library only.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
A = (4.0 / 0.8442) ** (1.0 / 3.0)


class Failure(Exception):
    pass


def run(cmd, cwd):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise Failure("{} failed (exit {}):\n{}".format(" ".join(cmd), proc.returncode,
                                                        proc.stdout[-3000:]))
    return proc.stdout


def read_positions(path):
    """id -> (x, y, z) and the box lengths from a LAMMPS data file (orthogonal box)."""
    pos, lengths, section = {}, [0.0, 0.0, 0.0], None
    with open(path) as f:
        for line in f:
            s = line.split("#")[0].strip()
            tok = s.split()
            if len(tok) == 4 and tok[2].endswith("lo") and tok[3].endswith("hi"):
                lengths["xyz".index(tok[2][0])] = float(tok[1]) - float(tok[0])
                continue
            if tok and tok[0] in ("Atoms", "Velocities", "Masses"):
                section = tok[0]
                continue
            if section == "Atoms" and len(tok) >= 5:
                pos[int(tok[0])] = (float(tok[2]), float(tok[3]), float(tok[4]))
    return pos, lengths


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mdgpu", required=True)
    ap.add_argument("--keep", metavar="DIR")
    args = ap.parse_args()
    lmp = shutil.which("lmp")
    if lmp is None:
        print("SKIP: LAMMPS executable 'lmp' not found on PATH")
        return SKIP
    mdgpu = os.path.abspath(args.mdgpu)
    ctx = None
    if args.keep:
        os.makedirs(args.keep, exist_ok=True)
        d = args.keep
    else:
        ctx = tempfile.TemporaryDirectory(prefix="mdgpu_min_vs_lammps_")
        d = ctx.name
    try:
        common = """units = "lj"
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[neighbor]
skin = 0.3
"""
        with open(os.path.join(d, "melt.toml"), "w") as f:
            f.write(common + """[system]
lattice = {{ kind = "fcc", a = {a!r}, repeat = [4, 4, 4], elements = ["A"] }}
masses = {{ A = 1.0 }}
[velocity]
temperature = 2.0
seed = 5151
[run]
timestep = 0.005
steps = 1000
[output]
thermo = {{ every = 1000 }}
data = {{ file = "start.data" }}
""".format(a=A))
        run([mdgpu, "run", "melt.toml", "--backend", "cpu", "--quiet"], d)
        with open(os.path.join(d, "min.toml"), "w") as f:
            f.write(common + """[system]
data = "start.data"
type_names = ["A"]
[run]
timestep = 0.005
steps = 0
[minimize]
style = "fire"
etol = 0.0
ftol = 1e-8
max_iterations = 100000
[output]
thermo = { every = 1, file = "min.csv" }
data = { file = "mdgpu_min.data" }
""")
        out = run([mdgpu, "run", "min.toml", "--backend", "cpu"], d)
        mline = [l for l in out.splitlines() if l.startswith("minimize (fire)")]
        if not mline:
            raise Failure("mdgpu printed no minimisation summary:\n" + out)
        mline = mline[0]
        md_evals = int(mline.split(" iterations, ")[1].split()[0])
        md_stop = mline.split("stop: ")[1].split(";")[0]
        with open(os.path.join(d, "min.csv")) as f:
            header = f.readline().strip().split(",")
            row = f.readline().strip().split(",")
        md_pe = float(row[header.index("PotEng")])

        with open(os.path.join(d, "in.min"), "w") as f:
            f.write("""units lj
atom_style atomic
read_data start.data
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
timestep 0.005
min_style fire
thermo_style custom step pe fnorm
thermo_modify format float %.15g
minimize 0.0 1e-8 100000 1000000
print "PE_FINAL $(pe:%.15g)"
print "NEVAL $(f_dummy:%d)" universe
write_data lammps_min.data
""".replace('print "NEVAL $(f_dummy:%d)" universe\n', ""))
        run([lmp, "-in", "in.min", "-log", "log.lammps", "-screen", "none"], d)
        lm_pe, lm_evals, lm_stop = None, None, None
        with open(os.path.join(d, "log.lammps")) as f:
            for line in f:
                if line.startswith("PE_FINAL"):
                    lm_pe = float(line.split()[1])
                if "Stopping criterion" in line:
                    lm_stop = line.split("=")[1].strip()
                if "Iterations, force evaluations" in line:
                    lm_evals = int(line.split("=")[1].split()[1])
        if lm_pe is None or lm_evals is None:
            raise Failure("could not parse the LAMMPS log")
        md_pos, lengths = read_positions(os.path.join(d, "mdgpu_min.data"))
        lm_pos, _ = read_positions(os.path.join(d, "lammps_min.data"))
        worst = 0.0
        for i, p in md_pos.items():
            q = lm_pos[i]
            for k in range(3):
                dx = p[k] - q[k]
                dx -= lengths[k] * round(dx / lengths[k])
                worst = max(worst, abs(dx))
        rel = abs(md_pe - lm_pe) / abs(lm_pe)
        print("FIRE: mdgpu PE/N {:.12f} ({} evaluations, stop: {}); LAMMPS PE/N {:.12f} "
              "({} evaluations, stop: {}); rel. diff {:.2e}; largest position difference "
              "{:.2e}".format(md_pe, md_evals, md_stop, lm_pe, lm_evals, lm_stop, rel, worst))
        ok = True
        for good, what in [
                (md_stop == "force tolerance", "mdgpu did not stop on the force tolerance"),
                (lm_stop is not None and "force tolerance" in lm_stop,
                 "LAMMPS did not stop on the force tolerance"),
                (rel < 1e-9, "final energies differ"),
                (worst < 1e-4, "final positions differ"),
                (abs(md_evals - lm_evals) <= max(2, 0.2 * lm_evals), "evaluation counts differ")]:
            if not good:
                ok = False
                print("FAIL: " + what)
    except Failure as e:
        print("FAIL: {}".format(e))
        return 1
    finally:
        if ctx:
            ctx.cleanup()
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
