"""The package's pictures looked at as a person would: headless Chromium renders the
`mdgpu plot` PNG (opened as a page) and the Simulation.report() page, 1200 x 1600
screenshots, and the pixels are checked: the PNG shows the four panels (plot area mostly
white with axes, the energy curve in matplotlib's first colour and the temperature in its
red), the page is not blank and carries the six SVG plots' curves in both columns. Skips
(exit 77) only when Chromium is not installed (tools/setup.sh --tests installs it; CI has
it); matplotlib is a dependency of `mdgpu plot` (the whole python label skips without it).
MDGPU_KEEP_SCREENSHOTS=DIR copies the screenshots there."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "cli"))
import pngcheck  # noqa: E402  (tests/cli/pngcheck.py)
import pycommon  # noqa: E402

C0, C3 = (0x1f, 0x77, 0xb4), (0xd6, 0x27, 0x28)  # matplotlib's first colour and its red


def keep(path, name):
    if os.environ.get("MDGPU_KEEP_SCREENSHOTS"):
        shutil.copy(path, os.path.join(os.environ["MDGPU_KEEP_SCREENSHOTS"], name))


def test_plot_png_in_chromium():
    from test_plot_report import thermo_run

    browser = pngcheck.chromium()
    d = pycommon.workdir("shot_plot")
    thermo_run(d)
    png = os.path.join(d, "t.png")
    r = subprocess.run([pycommon.mdgpu_binary(), "plot", os.path.join(d, "t.csv"), "-o", png],
                       capture_output=True, text=True,
                       env=dict(os.environ, MDGPU_PYTHON=sys.executable))
    assert r.returncode == 0, r.stderr
    shot = os.path.join(d, "plot_shot.png")
    pngcheck.screenshot(browser, "file://" + png, shot)
    keep(shot, "plot_png.png")
    img = pngcheck.Image(shot)
    assert (img.w, img.h) == (1200, 1600), (img.w, img.h)
    # the picture: the white plot area (1000 x 700 at dpi 100) somewhere on the page
    white = pngcheck.colour_box(img, (255, 255, 255), tol=6, step=4)
    assert white, "no white plot area on the page"
    (x0, y0, x1, y1), _ = white
    assert x1 - x0 > 800 and y1 - y0 > 500, white
    ink, sd, colours = pngcheck.stats(img, (x0, y0, x1, y1), step=2)
    print(f"plot: area ({x0},{y0})-({x1},{y1}), ink {ink:.3f}, sd {sd:.1f}, {colours} colours")
    assert ink > 0.02 and sd > 15 and colours > 20, (ink, sd, colours)
    # four panels: ink in each quarter of the picture
    mx, my = (x0 + x1) // 2, (y0 + y1) // 2
    for box in ((x0, y0, mx, my), (mx, y0, x1, my), (x0, my, mx, y1), (mx, my, x1, y1)):
        q_ink, _, _ = pngcheck.stats(img, box, step=3)
        assert q_ink > 0.01, (box, q_ink)
    # the curves: the energies (first colour) and the temperature (red, top right)
    blue = pngcheck.colour_box(img, C0, tol=70)
    red = pngcheck.colour_box(img, C3, tol=70)
    assert blue and blue[1] > 100, blue
    assert red and red[1] > 30, red
    t_red = pngcheck.count_near(img, C3, (mx, y0, x1, my), tol=70)
    assert t_red > 30, t_red  # the temperature curve in the top right panel


def test_report_page_in_chromium():
    from test_plot_report import thermo_run

    browser = pngcheck.chromium()
    d = pycommon.workdir("shot_report")
    sim = thermo_run(d)
    page = sim.report(os.path.join(d, "run.html"), warnings=["a warning shown on the page"])
    shot = os.path.join(d, "report_shot.png")
    pngcheck.screenshot(browser, "file://" + page, shot)
    keep(shot, "python_report.png")
    img = pngcheck.Image(shot)
    ink, sd, colours = pngcheck.stats(img, step=3)
    print(f"page: ink {ink:.3f}, sd {sd:.1f}, {colours} colours")
    assert ink > 0.03 and sd > 15 and colours > 20, (ink, sd, colours)
    found = pngcheck.colour_box(img, C0, tol=70)
    assert found, "no curves on the page"
    (x0, y0, x1, y1), n = found
    assert n > 300 and x1 - x0 > 600 and y1 - y0 > 400, found


if __name__ == "__main__":
    if not pngcheck.chromium():
        print("SKIP: Chromium is not installed (chromium on PATH; tools/setup.sh --tests "
              "installs it), so the pictures cannot be rendered")
        sys.exit(pycommon.SKIP)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("skipped: matplotlib is not installed (tools/setup.sh --tests installs it)")
        sys.exit(pycommon.SKIP)
    pycommon.main(globals())
