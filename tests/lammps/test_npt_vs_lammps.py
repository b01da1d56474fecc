#!/usr/bin/env python3
"""Ensemble averages of mdgpu's MTK NPT (fix npt) against LAMMPS on the same LJ liquid.

Usage: python3 test_npt_vs_lammps.py --mdgpu /path/to/mdgpu [--keep DIR]

Both codes start from the same fcc lattice (500 atoms, lj units, rho* = 0.8442, rc = 2.5,
unshifted lj/cut), with their own random velocities at T* = 1.5, and run Nose-Hoover chain
NPT with the same parameters: LAMMPS `fix npt temp 1.5 1.5 0.5 <coupling> 2.0 2.0 2.5`
(tchain = pchain = 3, mtk yes) and mdgpu [run] ensemble = "npt" with the same damping
times. After 5000 steps of equilibration, 20,000 steps are sampled every 20 steps.
Checked, per coupling (iso, aniso):
  * the mean volumes agree within 4 combined standard errors (block averages, 20 blocks)
    and within 1.5 % relative;
  * each code's mean pressure is within 4 standard errors + 0.02 of the target 2.0.

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

SKIP = 77
T, P, TDAMP, PDAMP, DT = 1.5, 2.0, 0.5, 2.5, 0.005
EQUIL, PROD, EVERY = 5000, 20000, 20
CELLS = 5
A = (4.0 / 0.8442) ** (1.0 / 3.0)


class Failure(Exception):
    pass


def run(cmd, cwd):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = "1"
    env.setdefault("OMP_WAIT_POLICY", "passive")
    proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        raise Failure("{} failed (exit {}):\n{}".format(" ".join(cmd), proc.returncode,
                                                        proc.stdout[-3000:]))
    return proc.stdout


def block_stats(x, blocks=20):
    n = len(x) // blocks
    means = [sum(x[b * n:(b + 1) * n]) / n for b in range(blocks)]
    m = sum(means) / blocks
    var = sum((q - m) ** 2 for q in means) / (blocks - 1)
    return m, math.sqrt(var / blocks)


def run_lammps(lmp, d, coupling):
    script = """units lj
atom_style atomic
lattice fcc 0.8442
region box block 0 {c} 0 {c} 0 {c}
create_box 1 box
create_atoms 1 box
mass 1 1.0
velocity all create {T} 4928459 loop geom
pair_style lj/cut 2.5
pair_coeff 1 1 1.0 1.0 2.5
neighbor 0.3 bin
neigh_modify every 1 delay 0 check yes
timestep {dt}
fix 1 all npt temp {T} {T} {td} {cp} {P} {P} {pd}
thermo {every}
thermo_style custom step temp press vol etotal
thermo_modify format float %.12g
run {eq}
reset_timestep 0
run {prod}
""".format(c=CELLS, T=T, dt=DT, td=TDAMP, cp=coupling, P=P, pd=PDAMP, every=EVERY,
           eq=EQUIL, prod=PROD)
    with open(os.path.join(d, "in.npt"), "w") as f:
        f.write(script)
    out = run([lmp, "-in", "in.npt", "-log", "log.lammps", "-screen", "none"], d)
    del out
    rows, in_table, runs = [], False, 0
    with open(os.path.join(d, "log.lammps")) as f:
        for line in f:
            tok = line.split()
            if tok[:1] == ["Step"]:
                in_table = True
                runs += 1
                continue
            if in_table:
                if tok[:1] == ["Loop"]:
                    in_table = False
                    continue
                if runs == 2 and len(tok) == 5:
                    try:
                        step, temp, press, vol, _ = [float(v) for v in tok]
                    except ValueError:
                        continue
                    if step > 0:
                        rows.append((press, vol))
    if len(rows) != PROD // EVERY:
        raise Failure("LAMMPS log: expected {} samples, found {}".format(PROD // EVERY, len(rows)))
    return rows


def run_mdgpu(mdgpu, d, coupling):
    toml = """units = "lj"
[system]
lattice = {{ kind = "fcc", a = {a!r}, repeat = [{c}, {c}, {c}], elements = ["A"] }}
masses = {{ A = 1.0 }}
[velocity]
temperature = {T}
seed = 87287
[potential]
style = "lj"
cutoff = 2.5
pairs = [{{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[neighbor]
skin = 0.3
[run]
ensemble = "npt"
timestep = {dt}
steps = {steps}
thermostat = {{ kind = "nose-hoover", temperature = {T}, tdamp = {td} }}
barostat = {{ kind = "mtk", coupling = "{cp}", pressure = {P}, pdamp = {pd} }}
[output]
thermo = {{ every = {every}, file = "mdgpu.csv" }}
""".format(a=A, c=CELLS, T=T, dt=DT, td=TDAMP, cp=coupling, P=P, pd=PDAMP, every=EVERY,
           steps=EQUIL + PROD)
    with open(os.path.join(d, "npt.toml"), "w") as f:
        f.write(toml)
    run([mdgpu, "run", "npt.toml", "--backend", "cpu", "--quiet"], d)
    rows = []
    with open(os.path.join(d, "mdgpu.csv")) as f:
        header = f.readline().strip().split(",")
        ip, iv, istep = header.index("Press"), header.index("Volume"), header.index("Step")
        for line in f:
            v = line.strip().split(",")
            if int(v[istep]) > EQUIL:
                rows.append((float(v[ip]), float(v[iv])))
    if len(rows) != PROD // EVERY:
        raise Failure("mdgpu thermo: expected {} samples, found {}".format(PROD // EVERY, len(rows)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mdgpu", required=True)
    ap.add_argument("--keep", metavar="DIR")
    ap.add_argument("--couplings", default="iso,aniso")
    args = ap.parse_args()
    lmp = shutil.which("lmp")
    if lmp is None:
        print("SKIP: LAMMPS executable 'lmp' not found on PATH")
        return SKIP
    mdgpu = os.path.abspath(args.mdgpu)
    ok = True
    try:
        ctx = None
        if args.keep:
            os.makedirs(args.keep, exist_ok=True)
            base = args.keep
        else:
            ctx = tempfile.TemporaryDirectory(prefix="mdgpu_npt_vs_lammps_")
            base = ctx.name
        for coupling in args.couplings.split(","):
            d = os.path.join(base, coupling)
            os.makedirs(d, exist_ok=True)
            lm = run_lammps(lmp, d, coupling)
            md = run_mdgpu(mdgpu, d, coupling)
            (pl, epl), (vl, evl) = block_stats([r[0] for r in lm]), block_stats([r[1] for r in lm])
            (pm, epm), (vm, evm) = block_stats([r[0] for r in md]), block_stats([r[1] for r in md])
            comb = math.sqrt(evl ** 2 + evm ** 2)
            print("{:6s} <V> LAMMPS {:.3f} +- {:.3f}, mdgpu {:.3f} +- {:.3f} (diff {:.3f}, "
                  "{:.2f} sigma, {:.3%}); <P> LAMMPS {:.4f} +- {:.4f}, mdgpu {:.4f} +- {:.4f} "
                  "(target {})".format(coupling, vl, evl, vm, evm, vm - vl,
                                       abs(vm - vl) / comb if comb > 0 else float("inf"),
                                       abs(vm - vl) / vl, pl, epl, pm, epm, P))
            checks = [
                (abs(vm - vl) < 4.0 * comb, "volumes differ by more than 4 combined sigma"),
                (abs(vm - vl) / vl < 0.015, "volumes differ by more than 1.5 %"),
                (abs(pm - P) < 4.0 * epm + 0.02, "mdgpu mean pressure off target"),
                (abs(pl - P) < 4.0 * epl + 0.02, "LAMMPS mean pressure off target"),
            ]
            for good, what in checks:
                if not good:
                    ok = False
                    print("FAIL ({}): {}".format(coupling, what))
        if ctx:
            ctx.cleanup()
    except Failure as e:
        print("FAIL: {}".format(e))
        return 1
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
