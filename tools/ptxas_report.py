#!/usr/bin/env python3
"""Per-kernel ptxas resource report (registers, stack frame, spills) and the budget check.

The one command (configures and builds the CUDA objects with the report on, then reports):

  python3 tools/ptxas_report.py --build build-cuda

  (CMake -DMDGPU_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DMDGPU_PTXAS_REPORT=ON, target
  mdgpu_core; extra CMake arguments after `--cmake-args`, e.g. the ccache launchers.)

On a build already made with -DMDGPU_PTXAS_REPORT=ON (tools/ptxas_capture.sh keeps each
translation unit's ptxas output as <object>.ptxas.txt):

  python3 tools/ptxas_report.py --dir build-cuda
  python3 tools/ptxas_report.py --log build.log     # any build log with -Xptxas -v output

Writes <dir>/ptxas_report.md (or --out FILE): one row per compiled function and
architecture, with the demangled kernel, the functor it runs, registers, stack frame, spill
stores/loads and static shared memory, worst first. Budget (issue 11, every function on
every architecture): 0 spill bytes and a stack frame of at most 1024 bytes per thread.
Functions matched by a pattern in tools/ptxas_budget_exceptions.txt are reported as
excepted with the reason given there. Exit status 1 (naming the functions) when any other
function exceeds the budget, 2 when no ptxas output was found; exceptions that match
nothing are listed as stale (warning only).
"""

import argparse
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
EXCEPTIONS = os.path.join(HERE, "ptxas_budget_exceptions.txt")
MAX_STACK = 1024
MAX_SPILL = 0

RE_COMPILE = re.compile(r"ptxas info\s*: Compiling entry function '([^']+)' for '(sm_\w+)'")
RE_PROPS = re.compile(r"ptxas info\s*: Function properties for (\S+)")
RE_FRAME = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
RE_USED = re.compile(r"ptxas info\s*: Used (\d+) registers(.*)")
RE_SMEM = re.compile(r"(\d+) bytes smem")
RE_ARCH = re.compile(r"ptxas info\s*: (?:Compiling|Function properties).*?for '(sm_\w+)'")


class Func:
    def __init__(self, mangled, arch, unit, entry):
        self.mangled, self.arch, self.unit, self.entry = mangled, arch, unit, entry
        self.registers = None
        self.stack = self.spill_st = self.spill_ld = 0
        self.smem = 0
        self.name = mangled
        self.exception = None

    def key(self):
        return (self.unit, self.arch, self.mangled)


def parse(text, unit):
    """Functions in one ptxas -v output. Entry functions ('Compiling entry function') get
    their registers from the 'Used N registers' line after them; 'Function properties for X'
    gives the frame of X (an entry, or a non-inlined device function)."""
    funcs, current, props_for = {}, None, None
    arch = "sm_?"
    for line in text.splitlines():
        m = RE_COMPILE.search(line)
        if m:
            arch = m.group(2)
            current = funcs.setdefault((m.group(1), arch), Func(m.group(1), arch, unit, True))
            current.entry = True
            props_for = None
            continue
        m = RE_PROPS.search(line)
        if m:
            name = m.group(1).strip("'")
            props_for = funcs.setdefault((name, arch), Func(name, arch, unit, False))
            continue
        m = RE_FRAME.search(line)
        if m and props_for is not None:
            props_for.stack, props_for.spill_st, props_for.spill_ld = map(int, m.groups())
            props_for = None
            continue
        m = RE_USED.search(line)
        if m and current is not None:
            current.registers = int(m.group(1))
            s = RE_SMEM.search(m.group(2))
            current.smem = int(s.group(1)) if s else 0
            current = None
    return list(funcs.values())


def demangle(funcs):
    names = [f.mangled for f in funcs]
    if not names:
        return
    tool = shutil.which("c++filt") or shutil.which("cu++filt")
    if tool:
        out = subprocess.run([tool], input="\n".join(names) + "\n", capture_output=True,
                             text=True).stdout.splitlines()
        if len(out) == len(names):
            for f, d in zip(funcs, out):
                f.name = d.strip()


def functor(name):
    """The template argument of md::grid_stride_kernel<F> / md::team_kernel<F>: the functor."""
    m = re.search(r"\b(grid_stride_kernel|team_kernel)<", name)
    if not m:  # a library kernel (CUB): its base name and the mdgpu types it is built for
        base = re.sub(r"^void ", "", name).split("<")[0].split("(")[0].split("::")[-1]
        ours = []
        for t in re.findall(r"md::[\w:]*\w+(?:<\d+>)?", name):
            if t not in ours:
                ours.append(t)
        return "{} [{}]".format(base, ", ".join(ours)) if ours else base
    i, depth = m.end(), 1
    j = i
    while j < len(name) and depth:
        depth += {"<": 1, ">": -1}.get(name[j], 0)
        j += 1
    return "{} <- {}".format(name[i:j - 1], m.group(1))


def load_exceptions(path):
    rules = []
    if not os.path.exists(path):
        return rules
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if "|" not in line:
                raise SystemExit("{}:{}: expected 'PATTERN | reason'".format(path, n))
            pat, reason = (x.strip() for x in line.split("|", 1))
            rules.append({"pattern": pat, "reason": reason, "line": n, "used": 0})
    return rules


def over_budget(f):
    why = []
    if f.spill_st > MAX_SPILL or f.spill_ld > MAX_SPILL:
        why.append("spills {} B stores / {} B loads".format(f.spill_st, f.spill_ld))
    if f.stack > MAX_STACK:
        why.append("stack frame {} B > {} B".format(f.stack, MAX_STACK))
    return why


def collect(args):
    units = []
    if args.log:
        for path in args.log:
            with open(path, errors="replace") as f:
                units.append((os.path.basename(path), f.read()))
    if args.dir:
        for path in sorted(glob.glob(os.path.join(args.dir, "**", "*.ptxas.txt"),
                                     recursive=True)):
            unit = os.path.relpath(path, args.dir)
            unit = re.sub(r"^CMakeFiles/[^/]+\.dir/", "", unit)
            unit = re.sub(r"\.o(bj)?\.ptxas\.txt$", "", unit)
            with open(path, errors="replace") as f:
                units.append((unit, f.read()))
    funcs = []
    for unit, text in units:
        funcs += parse(text, unit)
    return units, funcs


def build(args):
    d = args.build
    cmake_args = ["-DMDGPU_CUDA=ON", "-DMDGPU_PTXAS_REPORT=ON",
                  "-DCMAKE_CUDA_ARCHITECTURES=" + args.arch, "-DMDGPU_WERROR=ON"]
    if shutil.which("ninja") and not os.path.exists(os.path.join(d, "CMakeCache.txt")):
        cmake_args.append("-GNinja")
    env = dict(os.environ)
    if not shutil.which("nvcc") and os.path.exists("/usr/local/cuda/bin/nvcc"):
        env["PATH"] = env.get("PATH", "") + ":/usr/local/cuda/bin"
    t0 = time.time()
    subprocess.run(["cmake", "-S", REPO, "-B", d] + cmake_args + (args.cmake_args or []),
                   check=True, env=env, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", d, "--target", "mdgpu_core", "-j",
                    str(args.jobs or os.cpu_count() or 2)], check=True, env=env)
    print("ptxas_report: CUDA build of mdgpu_core took {:.0f} s".format(time.time() - t0))
    args.dir = d


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n", 2)[2])
    ap.add_argument("--build", metavar="DIR", help="configure and build DIR with the report on")
    ap.add_argument("--arch", default="90", help="CUDA architecture for --build (default 90)")
    ap.add_argument("--jobs", type=int, default=None, help="parallel jobs for --build")
    ap.add_argument("--cmake-args", nargs=argparse.REMAINDER, help="extra CMake arguments")
    ap.add_argument("--dir", help="build directory holding *.ptxas.txt")
    ap.add_argument("--log", action="append", help="build log with ptxas -v output")
    ap.add_argument("--out", help="report file (default DIR/ptxas_report.md)")
    ap.add_argument("--exceptions", default=EXCEPTIONS)
    args = ap.parse_args()
    if args.build:
        build(args)
    if not args.dir and not args.log:
        ap.error("give --build DIR, --dir DIR or --log FILE")

    units, funcs = collect(args)
    if not funcs:
        print("ptxas_report: no ptxas -v output found (build with -DMDGPU_PTXAS_REPORT=ON)",
              file=sys.stderr)
        return 2
    demangle(funcs)
    rules = load_exceptions(args.exceptions)
    failures = []
    for f in funcs:
        why = over_budget(f)
        if not why:
            continue
        for r in rules:
            if fnmatch.fnmatchcase(f.name, r["pattern"]) or \
               fnmatch.fnmatchcase(f.mangled, r["pattern"]):
                r["used"] += 1
                f.exception = r["reason"]
                break
        if f.exception is None:
            failures.append((f, why))

    funcs.sort(key=lambda f: (-(f.spill_st + f.spill_ld), -f.stack, -(f.registers or 0),
                              f.unit, f.name))
    out = args.out or os.path.join(args.dir or ".", "ptxas_report.md")
    archs = sorted({f.arch for f in funcs})
    lines = ["# ptxas resource report ({})".format(", ".join(archs)), "",
             "{} functions from {} translation units; budget: 0 spill bytes, stack frame <= {} B "
             "per thread; exceptions: `{}`".format(len(funcs), len(units), MAX_STACK,
                                                   os.path.relpath(args.exceptions, REPO)), "",
             "| status | unit | arch | kernel functor | registers | stack B | spill st B "
             "| spill ld B | smem B | function |",
             "|---|---|---|---|---:|---:|---:|---:|---:|---|"]
    for f in funcs:
        why = over_budget(f)
        status = "ok" if not why else ("EXCEPTED: " + f.exception if f.exception else "OVER")
        lines.append("| {} | {} | {} | `{}` | {} | {} | {} | {} | {} | {} |".format(
            status, f.unit, f.arch, functor(f.name) if f.entry else "(device function)",
            f.registers if f.registers is not None else "-", f.stack, f.spill_st, f.spill_ld,
            f.smem, "`{}`".format(f.name.replace("|", "\\|"))))
    stale = [r for r in rules if not r["used"]]
    if stale:
        lines += ["", "Stale exceptions (match no function over budget; prune them):"]
        lines += ["- line {}: `{}`".format(r["line"], r["pattern"]) for r in stale]
    with open(out, "w") as fh:
        fh.write("\n".join(lines) + "\n")

    n_exc = sum(1 for f in funcs if f.exception)
    print("ptxas_report: {} functions ({} kernels) in {} units, {} over budget and excepted, "
          "{} over budget; report: {}".format(len(funcs), sum(f.entry for f in funcs),
                                              len(units), n_exc, len(failures), out))
    for r in stale:
        print("ptxas_report: warning: stale exception (line {}): {}".format(r["line"],
                                                                          r["pattern"]))
    if failures:
        print("ptxas_report: FAILED: over the budget (0 spill bytes, stack <= {} B):".format(
            MAX_STACK))
        for f, why in failures:
            print("  {} [{} {}]: {}".format(functor(f.name) if f.entry else f.name, f.unit,
                                            f.arch, "; ".join(why)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
