"""SIGKILL while checkpointing often never leaves a corrupt newest checkpoint: a run writing a
checkpoint every 3 steps is killed with SIGKILL at random moments, eight times in a row (each
time continuing from the checkpoint the previous one left); after every kill `mdgpu inspect`
must accept the checkpoint and the next run must continue from it. The run finally completes
from the last checkpoint and its final state equals an uninterrupted run's bit for bit."""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

mdgpu = common.mdgpu_path()
seed = int(os.environ.get("MDGPU_TEST_SEED", "20261124"))  # fixed default: reproducible
rng = random.Random(seed)
d = common.workdir("sigkill")
STEPS = 600
extra = ('checkpoint = { every = 3, file = "run.ckpt" }\n'
         'trajectory = { every = 30, file = "traj.lammpstrj" }\n')
common.write(os.path.join(d, "in.toml"), common.lj_input(STEPS, "", cells=4, extra_output=extra))
t0 = time.monotonic()
ref = common.run([mdgpu, "run", "in.toml", "--quiet"], d)
t_ref = time.monotonic() - t0  # kill times scale with it: independent of machine speed
if ref.returncode != 0:
    common.fail("reference run failed: " + ref.stderr)
ref_data = common.read(os.path.join(d, "final.data"), "rb")
ref_traj = common.read(os.path.join(d, "traj.lammpstrj"), "rb")
for f in ("final.data", "run.ckpt", "run.ckpt.prev", "traj.lammpstrj", "thermo.csv"):
    if os.path.exists(os.path.join(d, f)):
        os.remove(os.path.join(d, f))

kills = 0
steps_seen = []
for round_ in range(8):
    cmd = [mdgpu, "run", "in.toml", "--quiet"]
    if os.path.exists(os.path.join(d, "run.ckpt")) or os.path.exists(os.path.join(d, "run.ckpt.prev")):
        cmd += ["--restart", "run.ckpt"]
    p = common.popen(cmd, d)
    # kill at a random point of what is left of the run (continuations start from the last
    # checkpoint, so they are shorter)
    left = (STEPS - (steps_seen[-1] if steps_seen else 0)) / STEPS
    time.sleep(rng.uniform(0.1, 0.6) * t_ref * left)
    if p.poll() is not None:
        out, err = p.communicate()
        if p.returncode != 0:
            common.fail(f"round {round_}: run exited {p.returncode}: {err}")
        break  # finished before the kill
    p.send_signal(signal.SIGKILL)
    p.communicate()
    kills += 1
    ins = common.run([mdgpu, "inspect", "run.ckpt"], d)
    if ins.returncode != 0:
        # the newest must be intact; a missing file is allowed only before the first checkpoint
        if os.path.exists(os.path.join(d, "run.ckpt")):
            common.fail(f"round {round_}: newest checkpoint rejected after SIGKILL: {ins.stderr}")
        continue
    steps_seen.append(int(ins.stdout.split("step ")[1].split(",")[0]))
if kills == 0:
    common.fail("no run was killed (the machine is too fast for this test's timing)")
# The state a kill between the checkpoint writer's link(FILE, FILE.prev) and its rename leaves:
# FILE and FILE.prev are two names of one file. The continuation must accept it (output
# safety once refused it as "the same file"), made here deterministically.
ck, prev = os.path.join(d, "run.ckpt"), os.path.join(d, "run.ckpt.prev")
if os.path.exists(ck):
    if os.path.exists(prev):
        os.remove(prev)
    os.link(ck, prev)
fin = common.run([mdgpu, "run", "in.toml", "--quiet", "--restart", "run.ckpt"], d)
if fin.returncode != 0:
    common.fail("final continuation failed: " + fin.stderr)
if common.read(os.path.join(d, "final.data"), "rb") != ref_data:
    common.fail("final state after SIGKILLs and restarts differs from the uninterrupted run")
if common.read(os.path.join(d, "traj.lammpstrj"), "rb") != ref_traj:
    common.fail("trajectory after SIGKILLs and restarts differs from the uninterrupted run")
print(f"seed {seed}: {kills} SIGKILLs, newest checkpoint intact after each (steps {steps_seen}); final state "
      "and trajectory bitwise equal to the uninterrupted run")
print("1 passed, 0 failed")
