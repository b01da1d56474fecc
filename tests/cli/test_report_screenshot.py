"""The run report looked at as a person would: `mdgpu run` writes its HTML report
([output] report), headless Chromium renders the page (1200 x 1600 screenshot), and the
pixels are checked: not blank (a real spread of grey values, text and lines drawn), the
title at the top, and the thermo curves drawn (the plot colour in both columns of plots and
over several rows). Skips (exit 77) only when no Chromium is installed (tools/setup.sh
--tests installs it; CI has it). MDGPU_KEEP_SCREENSHOTS=DIR copies the screenshot there."""
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
import common  # noqa: E402
import pngcheck  # noqa: E402

mdgpu = common.mdgpu_path()
browser = pngcheck.chromium()
if not browser:
    print("SKIP: Chromium is not installed (chromium on PATH; tools/setup.sh --tests "
          "installs it), so the report page cannot be rendered")
    sys.exit(common.SKIP)

d = common.workdir("report_shot")
common.write(os.path.join(d, "in.toml"),
             common.lj_input(400, ensemble=common.ENSEMBLES["npt-scr"], cells=4, thermo_every=5,
                             extra_output='report = "run.html"\n'))
r = common.run([mdgpu, "run", "in.toml", "--quiet"], d)
if r.returncode != 0:
    common.fail("run failed: " + r.stderr)
shot = os.path.join(d, "report.png")
pngcheck.screenshot(browser, "file://" + os.path.join(d, "run.html"), shot)
if os.environ.get("MDGPU_KEEP_SCREENSHOTS"):
    shutil.copy(shot, os.path.join(os.environ["MDGPU_KEEP_SCREENSHOTS"], "cli_report.png"))
img = pngcheck.Image(shot)
if (img.w, img.h) != (1200, 1600):
    common.fail(f"screenshot is {img.w} x {img.h}, asked for 1200 x 1600")

# Not blank: ink, a spread of grey values, many colours (text antialiasing, curves).
ink, sd, colours = pngcheck.stats(img, step=3)
print(f"page: {ink:.3f} of the pixels inked, grey sd {sd:.1f}, {colours} colours")
if ink < 0.03 or sd < 15 or colours < 20:
    common.fail(f"the page looks blank: ink {ink:.3f}, sd {sd:.1f}, {colours} colours")
# The title: dark text in the top band.
t_ink, _, _ = pngcheck.stats(img, (0, 0, img.w, 70), step=1)
if t_ink < 0.005:
    common.fail(f"no title at the top of the page (ink {t_ink:.4f})")
# The curves: the plot colour (#1f77b4) drawn over a wide and tall area (two columns of
# plots, several rows), with enough pixels for real lines.
found = pngcheck.colour_box(img, (0x1f, 0x77, 0xb4), tol=70)
if not found:
    common.fail("no curve of the plot colour on the page")
(x0, y0, x1, y1), n = found
print(f"curves: {n} pixels in x {x0}..{x1}, y {y0}..{y1}")
if n < 300 or x1 - x0 < 600 or y1 - y0 < 400:
    common.fail(f"the curves do not cover the plot area: {n} pixels in ({x0},{y0})-({x1},{y1})")
mid = img.w // 2
lcount = pngcheck.count_near(img, (0x1f, 0x77, 0xb4), (0, y0, mid, y1 + 1), tol=70)
rcount = pngcheck.count_near(img, (0x1f, 0x77, 0xb4), (mid, y0, img.w, y1 + 1), tol=70)
if lcount < 50 or rcount < 50:
    common.fail(f"plots missing in one column: {lcount} left, {rcount} right curve pixels")
print(f"OK: report page rendered by {os.path.basename(browser)} and not blank ({shot})")
