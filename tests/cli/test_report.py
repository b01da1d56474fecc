"""`[output] report = "run.html"` and `mdgpu run --report FILE`: the HTML run report is
written at the end of a run however it ends (completed, stopped by SIGTERM, a failed safety
check) with what was reached: the outcome, the input text (escaped), the system, the
throughput, six thermo plots as inline SVG and the warnings of the run (a restart with
changed settings). Bad values fail before the run with one message naming file and key."""
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402

mdgpu = common.mdgpu_path()


def check_page(path, outcome, svgs=6):
    if not os.path.exists(path):
        common.fail(f"no report {path}")
    text = common.read(path)
    for need in ("<!DOCTYPE html>", outcome, "atom-steps/s", "species", "Input", "Thermo"):
        if need not in text:
            common.fail(f"{path}: no {need!r} in the report")
    if text.count("<svg") != svgs:
        common.fail(f"{path}: {text.count('<svg')} plots, expected {svgs}")
    if "<script" in text or "src=\"http" in text or "href=\"http" in text:
        common.fail(f"{path}: not self-contained (scripts or external resources)")
    if os.path.exists(path + ".tmp"):
        common.fail(f"{path}.tmp left behind")
    return text


# 1. A completed run: the key, the page, the input escaped, the summary line.
d = common.workdir("report")
text = common.lj_input(200, cells=4, extra_output='report = "out/run.html"\n')
text = text.replace("[run]", "# see <this> & \"that\"\n[run]")
os.makedirs(os.path.join(d, "out"))
common.write(os.path.join(d, "in.toml"), text)
r = common.run([mdgpu, "run", "in.toml"], d)
if r.returncode != 0:
    common.fail("run failed: " + r.stderr)
if "run report: " not in r.stdout:
    common.fail("no 'run report:' line in the summary:\n" + r.stdout)
page = check_page(os.path.join(d, "out", "run.html"), "completed: 200 steps")
if "# see &lt;this&gt; &amp; &quot;that&quot;" not in page or "<this>" in page:
    common.fail("the input text is not escaped in the report")
if not re.search(r"<th>atoms</th><td>256</td>", page):
    common.fail("the atom count is missing")
if "Warnings (0)" not in page:
    common.fail("a clean run shows warnings")

# 2. --report FILE (relative to the working folder) on an input without the key.
common.write(os.path.join(d, "plain.toml"), common.lj_input(20, cells=3, thermo_every=5))
r = common.run([mdgpu, "run", "plain.toml", "--quiet", "--report", "flag.html"], d)
if r.returncode != 0:
    common.fail("run --report failed: " + r.stderr)
check_page(os.path.join(d, "flag.html"), "completed: 20 steps")
r = common.run([mdgpu, "run", "plain.toml", "--quiet", "--report"], d)
if r.returncode != 2:
    common.fail(f"--report without a value: exit {r.returncode}")

# 3. Stopped by SIGTERM: exit 3, the report says so and plots what was reached.
ds = common.workdir("report_stop")
common.write(os.path.join(ds, "in.toml"),
             common.lj_input(10_000_000, cells=4, thermo_every=10,
                             extra_output='report = "run.html"\n'))
p = common.popen([mdgpu, "run", "in.toml", "--quiet"], ds)
thermo = os.path.join(ds, "thermo.csv")
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    if os.path.exists(thermo) and common.read(thermo).count("\n") >= 5:
        break
    time.sleep(0.05)
p.send_signal(signal.SIGTERM)
out, err = p.communicate(timeout=300)
if p.returncode != 3:
    common.fail(f"SIGTERM: exit {p.returncode}: {err}")
page = check_page(os.path.join(ds, "run.html"), "stopped by signal 15")
if 'class="bad"' not in page:
    common.fail("a stopped run is not shown as stopped")

# 4. A failed safety check: exit 4, the report names it and the last good state.
dz = common.workdir("report_safety")
blow = common.lj_input(200, cells=3, thermo_every=1, extra_output='report = "run.html"\n')
blow = blow.replace("steps = 200", "steps = 200\ntimestep = 0.01").replace(
    "temperature = 1.5", "temperature = 40.0") + "[safety]\nmax_displacement = 0.3\n"
common.write(os.path.join(dz, "in.toml"), blow)
r = common.run([mdgpu, "run", "in.toml", "--quiet"], dz)
if r.returncode != 4:
    common.fail(f"safety: exit {r.returncode}: {r.stderr}")
page = check_page(os.path.join(dz, "run.html"), "a safety check failed")
if "in.last_good.data" not in page:
    common.fail("the report does not name the last good state")

# 5. Warnings of the run reach the report: a restart with changed [neighbor] settings.
dw = common.workdir("report_warn")
base = common.lj_input(40, cells=3, thermo_every=5, extra_output='checkpoint = { file = "run.ckpt" }\n')
common.write(os.path.join(dw, "in.toml"), base.replace("steps = 40", "steps = 20"))
r = common.run([mdgpu, "run", "in.toml", "--quiet"], dw)
if r.returncode != 0:
    common.fail("first part failed: " + r.stderr)
common.write(os.path.join(dw, "in.toml"), base.replace("check_every = 40", "check_every = 20"))
r = common.run([mdgpu, "run", "in.toml", "--quiet", "--restart", "run.ckpt", "--report",
                "cont.html"], dw)
if r.returncode != 0 or "warning" not in r.stderr:
    common.fail("restart with changed settings: " + r.stderr)
page = check_page(os.path.join(dw, "cont.html"), "completed: 20 steps", svgs=6)
if "Warnings (1)" not in page or "differ from those of the run" not in page:
    common.fail("the restart warning is not in the report")
if "step 20 to 40" not in page:
    common.fail("the continued run's steps are not shown as 20 to 40")

# 6. Bad values: one line naming the file and the key, exit 1, before any output.
cases = [('report = ""', "must not be empty"),
         ('report = 7', "expected a string"),
         ('report = "nowhere/run.html"', "does not exist"),
         ('report = "bad.toml"', "may never overwrite an input"),
         ('report = "thermo.csv"', "same file"),
         ('report = "final.data"', "same file")]
db = common.workdir("report_bad")
for line, want in cases:
    common.write(os.path.join(db, "bad.toml"), common.lj_input(10, cells=3, extra_output=line + "\n"))
    r = common.run([mdgpu, "run", "bad.toml", "--quiet"], db)
    msg = r.stderr.strip()
    if r.returncode != 1 or want not in msg or "bad.toml" not in msg or "report" not in msg \
            or msg.count("\n") != 0:
        common.fail(f"{line}: exit {r.returncode}, message {msg!r}")
    if os.path.exists(os.path.join(db, "thermo.csv")):
        common.fail(f"{line}: the run started")
r = common.run([mdgpu, "run", "bad.toml", "--quiet", "--report", "bad.toml"], db)
if r.returncode != 1 or "may never overwrite an input" not in r.stderr:
    common.fail("--report naming the input: " + r.stderr)
print("OK: report written when completed, stopped and failed; warnings; bad values refused")
