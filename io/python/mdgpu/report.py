"""A short self-contained HTML run report: the input, the system, the throughput, the
thermo plots (inline SVG) and the warnings. The page is rendered by the engine's C++ code
(io/report.cpp, the same page `mdgpu run` writes for ``[output] report``), so the CLI and
the package share one layout. Written by ``mdgpu.Simulation.report(path)`` (and after each
``Simulation.run`` when ``output={"report": FILE}``), or from a CLI run's files by
``python3 -m mdgpu report THERMO.csv --input IN.toml [--log LOG]`` (or ``mdgpu report ...``)."""
import os

from . import _mdgpu

# Thermo CSV columns the plots use (io/thermo_output.hpp): the engine's report columns.
COLUMNS = ("PotEng", "KinEng", "TotEng", "Econserve", "Temp", "Press", "Volume")


def render(title, input_text=None, system=None, performance=None, warnings=None,
           thermo=None, units="metal", norm=False, outcome="", ok=True, input_name=""):
    """The page as a string. ``system``/``performance``: dicts shown as tables (Run first);
    ``thermo``: columns by CSV name (``Time`` and any of COLUMNS), as ``plot.read_csv``
    returns them."""
    thermo = thermo or {}
    time = [float(t) for t in thermo.get("Time", [])]
    cols = {k: [float(x) for x in thermo[k]] for k in COLUMNS if k in thermo}

    def rows(d):
        return [(str(k), str(v)) for k, v in (d or {}).items()]

    return _mdgpu.render_report(title, input_name or ("input" if input_text else ""),
                                input_text or "", rows(system), rows(performance), outcome,
                                bool(ok), [str(w) for w in (warnings or [])], units, bool(norm),
                                time, cols)


def write_report(path, thermo_csv=None, input_text=None, system=None, performance=None,
                 warnings=None, title="mdgpu run report", units=None, input_name=""):
    """Writes the page for a thermo CSV; the plot units and the CSV's per-atom energies
    (``norm``) are read from the input text (TOML) when given. Returns ``path``."""
    from .plot import read_csv

    cols = read_csv(thermo_csv) if thermo_csv and os.path.exists(thermo_csv) else {}
    units_in, norm = "metal", False
    if input_text:
        try:
            from . import section

            cfg = section("input", input_text) or {}
            units_in = cfg.get("units", "metal")
            thermo = (cfg.get("output") or {}).get("thermo") or {}
            norm = bool(thermo.get("norm", units_in == "lj")) if isinstance(thermo, dict) else False
        except Exception:  # an unreadable input is still shown; default units
            pass
    units = units or units_in
    page = render(title, input_text, system, performance, warnings, cols, units,
                  norm and units == units_in,
                  input_name=input_name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path
