#!/usr/bin/env python3
"""Before/after CPU throughput of the DeePMD benchmark cases, robust to a loaded machine.

Runs the inputs of benchmarks/run_benchmarks.py cases (made once with `--keep DIR`) with two
mdgpu binaries, alternating A B A B ... on one OpenMP thread, and reports per binary the best
loop-timer rate (atom-steps/s, wall) and the best rate per CPU second of the child process
(user + sys; setup included, identical for both binaries). Usage:

  python3 benchmarks/run_benchmarks.py --mdgpu OLD --cases deepmd-water-1k,deepmd-cu-1k \
      --cores 1 --repeat 1 --wait-idle 0 --no-write --keep /tmp/keep
  python3 models/deepmd/bench_cpu.py --dir /tmp/keep/bench_* --a OLD --b NEW --repeat 5
"""
import argparse, os, re, resource, subprocess

LOOP = re.compile(r"Loop time (\S+) s for (\d+) steps of (\d+) atoms")


def one(binary, case_dir, toml):
    env = dict(os.environ, OMP_NUM_THREADS="1")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([binary, "run", toml, "--backend", "cpu"], cwd=case_dir, env=env,
                         capture_output=True, text=True, check=True).stdout
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    m = LOOP.search(out)
    t, steps, atoms = float(m.group(1)), int(m.group(2)), int(m.group(3))
    return atoms * steps / t, atoms * steps / cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--a", required=True, help="baseline mdgpu")
    ap.add_argument("--b", required=True, help="new mdgpu")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--steps", type=int, default=20)
    args = ap.parse_args()
    print("| case | variant | A loop atom-steps/s | B loop atom-steps/s | B/A | A per CPU-s | B per CPU-s | B/A |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for case in sorted(os.listdir(args.dir)):
        d = os.path.join(args.dir, case)
        base = open(os.path.join(d, "timed.toml")).read()
        base = re.sub(r"^tabulate = .*\n", "", base, flags=re.M)
        base = re.sub(r"^steps = \d+", "steps = {}".format(args.steps), base, flags=re.M)
        rmin = {"deepmd-water-1k": 0.8, "deepmd-cu-1k": 1.8}.get(case, 1.0)
        for variant, extra in (("exact", ""), ("tabulated", "tabulate = {{ rmin = {} }}\n".format(rmin))):
            text = base.replace('[neighbor]', extra + '[neighbor]')
            with open(os.path.join(d, "bench_cpu.toml"), "w") as f:
                f.write(text)
            best = {"a": [0, 0], "b": [0, 0]}
            for _ in range(args.repeat):
                for key in ("a", "b"):
                    w, c = one(getattr(args, key), d, "bench_cpu.toml")
                    best[key] = [max(best[key][0], w), max(best[key][1], c)]
            a, b = best["a"], best["b"]
            print("| {} | {} | {:.3e} | {:.3e} | {:.2f} | {:.3e} | {:.3e} | {:.2f} |".format(
                case, variant, a[0], b[0], b[0] / a[0], a[1], b[1], b[1] / a[1]), flush=True)


if __name__ == "__main__":
    main()
