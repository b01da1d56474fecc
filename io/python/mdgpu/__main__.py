"""python3 -m mdgpu plot THERMO.csv [-o PNG] | report THERMO.csv [--input IN.toml] [-o HTML]
| run ... (the mdgpu binary installed with the package)."""
import argparse
import os
import sys


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("plot", "report", "-h", "--help"):
        exe = os.path.join(os.path.dirname(__file__), "bin", "mdgpu")
        if os.path.exists(exe):
            os.execv(exe, [exe] + argv)
    ap = argparse.ArgumentParser(prog="mdgpu")
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plot", help="PNG of energies, temperature, pressure, volume vs time")
    p.add_argument("thermo")
    p.add_argument("-o", "--output")
    r = sub.add_parser("report", help="self-contained HTML run report")
    r.add_argument("thermo")
    r.add_argument("--input", help="the input file shown in the report")
    r.add_argument("--log", help="the run's terminal output (summary lines, warnings)")
    r.add_argument("-o", "--output")
    a = ap.parse_args(argv)
    try:
        if a.cmd == "plot":
            from .plot import plot

            print(plot(a.thermo, a.output))
        else:
            from .report import write_report

            text = open(a.input).read() if a.input else None
            perf, warns = {}, []
            if a.log:
                for line in open(a.log):
                    line = line.strip()
                    if "warning" in line:
                        warns.append(line)
                    elif line.startswith(("Loop time", "peak device memory", "kernel launches")):
                        perf[line.split(":")[0] if ":" in line else "loop"] = line
            out = a.output or os.path.splitext(a.thermo)[0] + ".html"
            print(write_report(out, a.thermo, text, None, perf or None, warns,
                               input_name=a.input or ""))
    except (OSError, ValueError) as e:
        print(f"mdgpu: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
