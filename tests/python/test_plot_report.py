"""`python3 -m mdgpu plot THERMO.csv` (and `mdgpu plot`) writes a PNG that is not blank (pixels read back: a
good share of non-white pixels in each of the four panels); Simulation.report, output =
{"report": FILE} and `python3 -m mdgpu report` write the self-contained HTML page of
`mdgpu run`'s [output] report (io/report.cpp, six inline SVG plots). Headless Chromium
screenshots of both: tests/python/test_screenshots.py."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pycommon  # noqa: E402
from test_calculator import EAM, crystal  # noqa: E402


def not_blank(png):
    import matplotlib.image as mpimg
    import numpy as np

    img = mpimg.imread(png)[..., :3]
    h, w = img.shape[:2]
    assert h > 200 and w > 200, img.shape
    for quad in (img[: h // 2, : w // 2], img[: h // 2, w // 2:], img[h // 2:, : w // 2],
                 img[h // 2:, w // 2:]):
        ink = (quad.min(axis=2) < 0.9).mean()
        assert ink > 0.01, ink  # axes, ticks and curves drawn in every panel
    assert img.std() > 0.05


def thermo_run(d):
    import mdgpu

    sim = mdgpu.Simulation(crystal("Cu", "fcc", 3.615, 3), potential=EAM,
                           run={"steps": 200, "timestep": 0.002}, velocity={"temperature": 1000},
                           output={"thermo": {"every": 10, "file": os.path.join(d, "t.csv")}},
                           backend="cpu")
    sim.run()
    return sim


def test_plot_png():
    d = pycommon.workdir("plot")
    thermo_run(d)
    env = dict(os.environ)
    r = subprocess.run([sys.executable, "-m", "mdgpu", "plot", os.path.join(d, "t.csv"), "-o",
                        os.path.join(d, "t.png")], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    not_blank(os.path.join(d, "t.png"))
    # the same through the binary: `mdgpu plot` runs `python3 -m mdgpu plot`
    r = subprocess.run([pycommon.mdgpu_binary(), "plot", os.path.join(d, "t.csv"), "-o",
                        os.path.join(d, "t2.png")], capture_output=True, text=True,
                       env=dict(env, MDGPU_PYTHON=sys.executable))
    assert r.returncode == 0, r.stderr
    not_blank(os.path.join(d, "t2.png"))
    # a file that is not a thermo CSV: one clear message, status 1
    with open(os.path.join(d, "bad.csv"), "w") as f:
        f.write("a,b\n1,2\n")
    r = subprocess.run([sys.executable, "-m", "mdgpu", "plot", os.path.join(d, "bad.csv")],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 1 and "not an mdgpu thermo CSV" in r.stderr, r.stderr


def test_report_html():
    import mdgpu

    d = pycommon.workdir("report")
    sim = thermo_run(d)
    page = sim.report(os.path.join(d, "run.html"), warnings=["example <warning>"])
    text = open(page).read()
    # the page of `mdgpu run`'s [output] report (io/report.cpp): tables, six SVG plots
    for need in ("atom-steps/s", "[potential]", "eam", "example &lt;warning&gt;", "200 steps run",
                 "Potential energy", "Volume", "energy (eV)"):
        assert need in text, need
    assert text.count("<svg") == 6, text.count("<svg")
    assert "<script" not in text
    # the report obeys the output-file rules: never the thermo file (another output)
    try:
        sim.report(os.path.join(d, "t.csv"))
        raise AssertionError("report over the thermo file accepted")
    except mdgpu.InputError as e:
        assert "same file" in str(e), e
    # output={"report": FILE}: written after every run(), as [output] report of `mdgpu run`
    auto = os.path.join(d, "auto.html")
    sim2 = mdgpu.Simulation(crystal("Cu", "fcc", 3.615, 3), potential=EAM,
                            run={"steps": 40, "timestep": 0.002}, velocity={"temperature": 300},
                            output={"thermo": {"every": 10}, "report": auto}, backend="cpu")
    sim2.run()
    assert open(auto).read().count("<svg") == 6
    # a run that fails (safety check) still writes its report, with what was reached
    bad = os.path.join(d, "failed.html")
    sim3 = mdgpu.Simulation(crystal("Cu", "fcc", 3.615, 3), potential=EAM,
                            run={"steps": 200, "timestep": 0.01},
                            velocity={"temperature": 200000}, safety={"max_displacement": 0.3},
                            output={"thermo": {"every": 1}, "report": bad}, backend="cpu")
    try:
        sim3.run()
        raise AssertionError("the blow-up was not stopped")
    except mdgpu.Error:
        pass
    text = open(bad).read()
    assert "failed at step" in text and 'class="bad"' in text, text[:2000]
    # `python3 -m mdgpu report CSV --input IN.toml`: the same page from a CLI run's files
    inp = os.path.join(d, "in.toml")
    with open(inp, "w") as f:
        f.write('units = "metal"\n[output]\nthermo = { every = 10, file = "t.csv" }\n')
    out = os.path.join(d, "cli.html")
    r = subprocess.run([sys.executable, "-m", "mdgpu", "report", os.path.join(d, "t.csv"),
                        "--input", inp, "-o", out], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    text = open(out).read()
    assert text.count("<svg") == 6 and "thermo = { every = 10" in text


if __name__ == "__main__":
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skipped: matplotlib is not installed (tools/setup.sh --tests installs it)")
        sys.exit(pycommon.SKIP)
    pycommon.main(globals())
