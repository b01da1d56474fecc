"""Reading screenshots for the "looked at as a person would" tests: PNG pixels (Pillow when
installed, else a small standard-library decoder for the 8-bit non-interlaced PNGs that
Chromium writes), and headless Chromium itself (found on PATH; None when absent)."""
import os
import shutil
import struct
import subprocess
import zlib


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        path = shutil.which(name)
        if path:
            return path
    return None


def screenshot(browser, url, png, width=1200, height=1600, timeout=180):
    """`browser --headless --screenshot=png --window-size=W,H url` (no sandbox: CI runs as
    root); returns the completed process. Raises when no PNG was written."""
    home = os.path.join(os.path.dirname(png), "chromium-home")  # profile and caches here
    os.makedirs(home, exist_ok=True)
    env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home, XDG_CACHE_HOME=home)
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
           "--no-first-run", "--disable-dev-shm-usage", f"--user-data-dir={home}/profile",
           f"--screenshot={png}", f"--window-size={width},{height}", url]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if not os.path.exists(png):
        raise RuntimeError(f"chromium wrote no screenshot (exit {r.returncode}): "
                           f"{r.stderr[-2000:]}")
    return r


def _decode(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, w = 8, [], 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or interlace or ctype not in (0, 2, 4, 6):
                raise ValueError(f"unsupported PNG (depth {depth}, colour type {ctype})")
            ch = {0: 1, 2: 3, 4: 2, 6: 4}[ctype]
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(ch, stride):
                line[i] = (line[i] + line[i - ch]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - ch] if i >= ch else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - ch] if i >= ch else 0
                b, c = prev[i], prev[i - ch] if i >= ch else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    pix = []
    for line in rows:
        if ch >= 3:
            pix.append([tuple(line[i:i + 3]) for i in range(0, stride, ch)])
        else:
            pix.append([(v, v, v) for v in line[::ch]])
    return w, h, pix


class Image:
    """RGB pixels: img.w, img.h, img.px(x, y) -> (r, g, b); img.arr (numpy, h x w x 3) when
    Pillow and numpy are installed (the fast path of the checks below)."""

    def __init__(self, path):
        self.arr = None
        try:
            from PIL import Image as PILImage

            im = PILImage.open(path).convert("RGB")
            self.w, self.h = im.size
            get = im.load()
            self.px = lambda x, y: get[x, y]
            try:
                import numpy as np

                self.arr = np.asarray(im, dtype=np.int32)
            except ImportError:
                pass
        except ImportError:
            with open(path, "rb") as f:
                self.w, self.h, rows = _decode(f.read())
            self.px = lambda x, y: rows[y][x]

    def region(self, x0, y0, x1, y1, step=2):
        """Pixels of the box [x0, x1) x [y0, y1), every `step`-th in each direction."""
        return [self.px(x, y) for y in range(max(0, y0), min(self.h, y1), step)
                for x in range(max(0, x0), min(self.w, x1), step)]


def stats(img, box=None, step=2):
    """Over the box (x0, y0, x1, y1) (default: all): (share of non-white pixels, standard
    deviation of the grey values, number of distinct colours)."""
    x0, y0, x1, y1 = box or (0, 0, img.w, img.h)
    if img.arr is not None:
        a = img.arr[max(0, y0):y1:step, max(0, x0):x1:step].reshape(-1, 3)
        grey = a.mean(axis=1)
        colours = len(set(map(tuple, a.tolist()))) if len(a) < 400000 else len(
            {tuple(c) for c in a[::7].tolist()})
        return float((grey < 230).mean()), float(grey.std()), colours
    pixels = img.region(x0, y0, x1, y1, step)
    grey = [(r + g + b) / 3.0 for r, g, b in pixels]
    n = max(1, len(grey))
    mean = sum(grey) / n
    sd = (sum((v - mean) ** 2 for v in grey) / n) ** 0.5
    ink = sum(1 for v in grey if v < 230) / n
    return ink, sd, len(set(pixels))


def near(c, target, tol=60):
    return sum(abs(a - b) for a, b in zip(c, target)) <= tol


def _near_mask(img, box, target, tol, step):
    import numpy as np

    x0, y0, x1, y1 = box
    a = img.arr[max(0, y0):y1:step, max(0, x0):x1:step]
    return np.abs(a - np.asarray(target, dtype=np.int32)).sum(axis=2) <= tol


def count_near(img, target, box=None, tol=60, step=2):
    """How many pixels of the box (every `step`-th) are near the colour `target`."""
    box = box or (0, 0, img.w, img.h)
    if img.arr is not None:
        return int(_near_mask(img, box, target, tol, step).sum())
    return sum(1 for p in img.region(*box, step) if near(p, target, tol))


def colour_box(img, target, tol=60, step=2):
    """Bounding box (x0, y0, x1, y1) and count of the pixels near `target`; None when none."""
    if img.arr is not None:
        import numpy as np

        ys, xs = np.nonzero(_near_mask(img, (0, 0, img.w, img.h), target, tol, step))
        if len(xs) == 0:
            return None
        return (int(xs.min()) * step, int(ys.min()) * step, int(xs.max()) * step,
                int(ys.max()) * step), int(len(xs))
    xs, ys = [], []
    for y in range(0, img.h, step):
        for x in range(0, img.w, step):
            if near(img.px(x, y), target, tol):
                xs.append(x)
                ys.append(y)
    if not xs:
        return None
    return (min(xs), min(ys), max(xs), max(ys)), len(xs)
