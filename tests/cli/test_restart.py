"""A run stopped by SIGTERM at a random step and continued from its checkpoint ends bitwise
identical (CPU executor) to an uninterrupted run: final data file, thermo CSV and the
trajectories (LAMMPS dump, extended XYZ) compared byte for byte, H5MD by size and frames, for
NVE, NVT (Langevin, Nose-Hoover, CSVR: RNG state) and NPT (MTK, stochastic cell rescaling)."""
import os
import random
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

mdgpu = common.mdgpu_path()
have = common.ensembles_available(mdgpu)
rng = random.Random(int(os.environ.get("MDGPU_TEST_SEED", time.time_ns() % 100000)))
STEPS = 400
outputs = ('trajectory = [{ every = 100, file = "traj.lammpstrj", velocities = true, forces = true },'
           ' { every = 200, file = "traj.extxyz", velocities = true }]\n'
           'checkpoint = { every = 0, file = "run.ckpt" }\n')
compared = ["final.data", "thermo.csv", "traj.lammpstrj", "traj.extxyz"]
tested = []
for name, block in common.ENSEMBLES.items():
    if name.split("-")[0] not in have:
        print(f"{name}: ensemble not in this build, not tested")
        continue
    d = common.workdir("restart_" + name)
    common.write(os.path.join(d, "in.toml"), common.lj_input(STEPS, block, cells=5,
                                                             extra_output=outputs,
                                                             thermo_every=20))
    ref = common.run([mdgpu, "run", "in.toml", "--quiet"], d)
    if ref.returncode != 0:
        common.fail(f"{name}: reference run failed: {ref.stderr}")
    os.mkdir(os.path.join(d, "ref"))
    for f in compared:
        shutil.move(os.path.join(d, f), os.path.join(d, "ref", f))
    os.remove(os.path.join(d, "run.ckpt"))
    # Interrupted run: SIGTERM once the thermo file shows a random step.
    stop_after = rng.randrange(1, STEPS // 20 - 2) * 20 + rng.randrange(0, 20)
    stopped = None
    for attempt in range(4):
        p = common.popen([mdgpu, "run", "in.toml", "--quiet"], d)
        t0 = time.time()
        while p.poll() is None and time.time() - t0 < 60:
            try:
                lines = common.read(os.path.join(d, "thermo.csv")).count("\n") - 1
            except FileNotFoundError:
                lines = 0
            if lines * 20 >= stop_after:
                p.send_signal(signal.SIGTERM)
                break
            time.sleep(0.002)
        out, err = p.communicate(timeout=120)
        if p.returncode == 3:
            stopped = err
            break
        if p.returncode != 0:
            common.fail(f"{name}: interrupted run exited {p.returncode}: {err}")
        stop_after = max(20, stop_after // 2)  # finished before the signal: try earlier
    if stopped is None:
        print(f"{name}: the run always finished before SIGTERM arrived; not tested")
        continue
    step = int(stopped.split("at step ")[1].split(";")[0])
    res = common.run([mdgpu, "run", "in.toml", "--quiet", "--restart", "run.ckpt"], d)
    if res.returncode != 0:
        common.fail(f"{name}: restart failed: {res.stderr}")
    for f in compared:
        if common.read(os.path.join(d, f), "rb") != common.read(os.path.join(d, "ref", f), "rb"):
            common.fail(f"{name}: {f} differs after stop at step {step} and restart ({d})")
    print(f"{name}: stopped by SIGTERM at step {step}, restarted: {', '.join(compared)} "
          "bitwise identical")
    tested.append(name)
    shutil.rmtree(d)
if "nve" not in tested:
    common.fail("NVE restart was not tested")
print(f"{len(tested)} passed, 0 failed")
