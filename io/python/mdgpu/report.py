"""A short self-contained HTML run report: the input, the system, the throughput, the
thermo plots (PNG inlined as base64) and the warnings. Written by
``mdgpu.Simulation.report(path)`` or ``python3 -m mdgpu report THERMO.csv --input IN.toml``
(or ``mdgpu report ...``) for a CLI run."""
import base64
import html
import io
import os


def _png_base64(cols, title):
    from .plot import figure

    fig = figure(cols, title)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def write_report(path, thermo_csv=None, input_text=None, system=None, performance=None,
                 warnings=None, title="mdgpu run report"):
    """``system``/``performance``: dicts shown as tables; ``warnings``: list of strings."""
    from .plot import read_csv

    parts = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
             "</title><style>body{font-family:sans-serif;margin:2em;max-width:70em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;"
             "text-align:left}pre{background:#f4f4f4;padding:1em;overflow:auto}"
             ".warn{color:#a40}</style></head><body>", f"<h1>{html.escape(title)}</h1>"]

    def table(name, d):
        parts.append(f"<h2>{name}</h2><table>")
        for k, v in d.items():
            parts.append(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(str(v))}</td></tr>")
        parts.append("</table>")

    if system:
        table("System", system)
    if performance:
        table("Throughput", performance)
    parts.append("<h2>Warnings</h2>")
    if warnings:
        parts.append("<ul>" + "".join(f"<li class='warn'>{html.escape(w)}</li>" for w in warnings)
                     + "</ul>")
    else:
        parts.append("<p>none</p>")
    if thermo_csv and os.path.exists(thermo_csv):
        cols = read_csv(thermo_csv)
        parts.append("<h2>Thermo</h2>")
        parts.append(f"<img alt='thermo plots' src='data:image/png;base64,"
                     f"{_png_base64(cols, os.path.basename(thermo_csv))}'>")
        last = {k: v[-1] for k, v in cols.items() if v}
        table("Last thermo sample", last)
    if input_text:
        parts.append(f"<h2>Input</h2><pre>{html.escape(input_text)}</pre>")
    parts.append("</body></html>\n")
    with open(path, "w") as f:
        f.write("".join(parts))
    return path
