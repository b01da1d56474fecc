"""`python3 -m mdgpu plot THERMO.csv` (and `mdgpu plot`) writes a PNG that is not blank (pixels read back: a
good share of non-white pixels in each of the four panels); Simulation.report and
`python3 -m mdgpu report` write a self-contained HTML page with the plots inlined. A headless
Chromium screenshot of the page is checked too where Chromium is installed."""
import base64
import os
import shutil
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
    d = pycommon.workdir("report")
    sim = thermo_run(d)
    page = sim.report(os.path.join(d, "run.html"), warnings=["example warning"])
    text = open(page).read()
    for need in ("atom-steps/s", "[potential]", "eam", "example warning", "Temp"):
        assert need in text, need
    start = text.index("data:image/png;base64,") + len("data:image/png;base64,")
    png = base64.b64decode(text[start:text.index("'", start)])
    with open(os.path.join(d, "inline.png"), "wb") as f:
        f.write(png)
    not_blank(os.path.join(d, "inline.png"))
    browser = shutil.which("chromium") or shutil.which("chromium-browser") or \
        shutil.which("google-chrome")
    if browser:
        shot = os.path.join(d, "shot.png")
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        f"--screenshot={shot}", "--window-size=1200,1600", "file://" + page],
                       capture_output=True, timeout=120)
        not_blank(shot)
    else:
        print("note: no Chromium here, the page screenshot check was skipped")


if __name__ == "__main__":
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skipped: matplotlib is not installed (tools/setup.sh --tests installs it)")
        sys.exit(pycommon.SKIP)
    pycommon.main(globals())
