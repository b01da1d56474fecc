"""`mdgpu check` validates without running (good input: exit 0 and "input OK"; bad key, thin
cell warning, overlapping atoms, missing output folder, incompatible restart: exit 1 with the
message); the progress line: a live line with step, %, atom-steps/s, tau/day and ETA on a
terminal (pty), plain periodic lines otherwise, none with --quiet."""
import os
import pty
import select
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

mdgpu = common.mdgpu_path()
d = common.workdir("check")
good = common.lj_input(200, "", cells=3)
common.write(os.path.join(d, "good.toml"), good)
r = common.run([mdgpu, "check", "good.toml"], d)
if r.returncode != 0 or "input OK (0 warnings)" not in r.stdout:
    common.fail(f"check of a good input: {r.returncode} {r.stdout} {r.stderr}")
if os.path.exists(os.path.join(d, "thermo.csv")) or os.path.exists(os.path.join(d, "final.data")):
    common.fail("check wrote output files")

bad = {
    "typo.toml": (good.replace("steps = 200", "steps = 200\nstpes = 3"), "unknown key [run] stpes"),
    "overlap.toml": (good.replace("a = 1.6796", "a = 0.6"), "closer than [safety] min_distance"),
    "folder.toml": (good.replace('file = "final.data"', 'file = "nope/final.data"'),
                    "output folder"),
    "cutoff.toml": (good.replace("cutoff = 2.5", "cutoff = -1"), "[potential] cutoff"),
}
for name, (text, msg) in bad.items():
    common.write(os.path.join(d, name), text)
    r = common.run([mdgpu, "check", name], d)
    if r.returncode != 1 or msg not in r.stderr:
        common.fail(f"check {name}: expected exit 1 with '{msg}', got {r.returncode}: {r.stderr}")
common.write(os.path.join(d, "thin.toml"), good.replace("repeat = [3, 3, 3]", "repeat = [3, 3, 1]"))
r = common.run([mdgpu, "check", "thin.toml"], d)
if r.returncode != 0 or "interact with their own periodic images" not in r.stdout:
    common.fail(f"thin cell warning missing: {r.stdout} {r.stderr}")
# restart compatibility: a checkpoint of a 108-atom system against a 256-atom input
common.write(os.path.join(d, "ck.toml"), good.replace("[output]", '[output]\ncheckpoint = { file = "ck.ckpt" }'))
if common.run([mdgpu, "run", "ck.toml", "--quiet", "--steps", "10"], d).returncode != 0:
    common.fail("checkpoint run failed")
common.write(os.path.join(d, "big.toml"), common.lj_input(200, "", cells=4))
r = common.run([mdgpu, "check", "big.toml", "--restart", "ck.ckpt"], d)
if r.returncode != 1 or "it holds 108 atoms, the input's system has 256" not in r.stderr:
    common.fail(f"incompatible restart not refused: {r.stderr}")
r = common.run([mdgpu, "check", "ck.toml", "--restart", "ck.ckpt"], d)
if r.returncode != 0 or "is compatible" not in r.stdout:
    common.fail(f"compatible restart: {r.stdout} {r.stderr}")
print("mdgpu check: good input OK, 6 bad inputs refused or warned with their messages")

# Progress: plain lines when stderr is not a terminal.
long_run = common.lj_input(3000, "", cells=3)
common.write(os.path.join(d, "long.toml"), long_run)
r = common.run([mdgpu, "run", "long.toml", "--progress-interval", "0.05"], d)
plain = [ln for ln in r.stderr.splitlines() if ln.startswith("progress: step ")]
if r.returncode != 0 or not plain or "atom-steps/s" not in plain[0] or "tau/day" not in plain[0] \
        or "ETA" not in plain[0] or "\r" in r.stderr:
    common.fail(f"plain progress lines missing or malformed: {r.stderr[:500]}")
q = common.run([mdgpu, "run", "long.toml", "--quiet", "--progress-interval", "0.05"], d)
if q.stderr.strip() or q.stdout.strip():
    common.fail(f"--quiet printed something: {q.stdout[:200]} {q.stderr[:200]}")
# Live line on a terminal.
master, slave = pty.openpty()
env = dict(os.environ, OMP_NUM_THREADS="1")
p = subprocess.Popen([mdgpu, "run", "long.toml", "--progress-interval", "0.002"], cwd=d, stdin=slave, stdout=subprocess.DEVNULL,
                     stderr=slave, env=env)
os.close(slave)
seen = b""
while True:
    ready, _, _ = select.select([master], [], [], 60)
    if not ready:
        break
    try:
        chunk = os.read(master, 4096)
    except OSError:
        break
    if not chunk:
        break
    seen += chunk
p.wait()
os.close(master)
if p.returncode != 0 or b"\r\x1b[K" not in seen or b"step " not in seen or b"ETA" not in seen:
    common.fail(f"no live progress line on a terminal: {seen[:300]!r}")
print(f"progress: {len(plain)} plain lines when piped, live line on a terminal, silent with --quiet")
print("2 passed, 0 failed")
