#!/usr/bin/env python3
"""One-screen table of a tools/gpu_check.sh benchmark stage, from run_benchmarks.py --jsonl.

  python3 benchmarks/gpu_check_table.py OUT/bench.jsonl [--lammps-cores 16]

One line per case (and DeePMD variant): atoms, atom-steps/s of the main executor (CUDA when it
ran, else the CPU executor: the rehearsal), ns/day (tau/day for LJ units), peak device memory
and kernel launches per step as mdgpu printed them, the ratio to mdgpu's CPU executor on the
same case and the ratio to LAMMPS on the same machine's cores. n/a where a code did not run.
"""

import argparse
import json
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("jsonl")
    ap.add_argument("--lammps-cores", type=int, default=None)
    args = ap.parse_args()
    try:
        rows = [json.loads(line) for line in open(args.jsonl) if line.strip()]
    except OSError:
        print("no benchmark results ({} missing)".format(args.jsonl))
        return 1
    groups = {}
    for r in rows:
        key = (r["case"], r.get("variant", ""))
        groups.setdefault(key, {})[r.get("backend", "cpu")] = r
    main_backend = "cuda" if any("cuda" in g for g in groups.values()) else "cpu"
    head = ("{:<18} {:<5} {:>9} {:>10} {:>9} {:>16} {:>7} {:>8} {:>9}".format(
        "case", "var", "atoms", "atom-st/s", "ns/day", "peak dev mem", "launch", "x CPU ex",
        "x LAMMPS"))
    print("mdgpu {} executor; x CPU ex = ratio to mdgpu's CPU executor; x LAMMPS = ratio to "
          "LAMMPS{} (n/a: not run)".format(
              main_backend.upper(),
              " on {} MPI ranks".format(args.lammps_cores) if args.lammps_cores else ""))
    print(head)
    print("-" * len(head))
    for (case, variant), g in groups.items():
        r = g.get(main_backend)
        if r is None:
            continue
        rate = r["mdgpu"]
        if r.get("dt_ps"):
            per_day = "{:.3g}".format(rate / r["atoms"] * r["dt_ps"] * 86400 * 1e-3)
        else:  # LJ units: tau/day
            per_day = "{:.3g}t".format(rate / r["atoms"] * 0.005 * 86400)
        peak = ("{:.0f} MiB {:.0f}B/a".format(r["peak_mib"], r.get("bytes_per_atom", 0))
                if r.get("peak_mib") is not None else "n/a")
        launches = ("{:.1f}".format(r["launches_per_step"])
                    if r.get("launches_per_step") is not None else "n/a")
        cpu = g.get("cpu") if main_backend != "cpu" else None
        x_cpu = "{:.1f}".format(rate / cpu["mdgpu"]) if cpu else "n/a"
        x_l = "{:.2f}".format(rate / r["lammps"]) if r.get("lammps") else "n/a"
        var = {"exact": "exact", "": ""}.get(variant, "tab" if variant else "")
        print("{:<18} {:<5} {:>9} {:>10.3e} {:>9} {:>16} {:>7} {:>8} {:>9}".format(
            case, var, r["atoms"], rate, per_day, peak, launches, x_cpu, x_l))
    print("ns/day from the case's time step (LJ: tau/day, marked t, dt = 0.005 tau); DeePMD "
          "has no LAMMPS column (no deepmd-kit plugin); var: exact or tab(ulated) embedding")
    return 0


if __name__ == "__main__":
    sys.exit(main())
