#!/usr/bin/env python3
"""Reference values for kernels/basis.hpp (tests/test_basis.cpp), from scipy and numpy.

Writes tests/data/basis/reference.json. Run once from the repository root:
    python3 tools/basis_reference.py
Cutoff functions are the documented closed forms evaluated with numpy (there is no scipy
routine for them); Chebyshev from scipy.special.eval_chebyt; the sine basis from
scipy.special.spherical_jn(0, .); real spherical harmonics from scipy.special.sph_harm_y
(complex, Condon-Shortley phase included) converted to the real form of kernels/BASIS.md:
    Y_l0 = Y_l^0,  Y_lm = sqrt2 (-1)^m Re Y_l^m,  Y_l,-m = sqrt2 (-1)^m Im Y_l^m  (m > 0).
Derivatives are not stored: the test checks them by central finite differences.
"""
import json
import pathlib
import sys

import numpy as np
import scipy
import scipy.special as sp

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/data/basis/reference.json"
LMAX = 12


def cutoffs():
    rc = 5.0
    r = np.linspace(0.05, 5.4, 37)
    cases = []
    # cosine
    f = np.where(r < rc, 0.5 * (np.cos(np.pi * r / rc) + 1.0), 0.0)
    cases.append({"name": "cosine", "rc": rc, "r": r.tolist(), "f": f.tolist()})
    # SNAP: outer switch from rmin0, inner switch around sinner with half-width dinner
    rmin0, sinner, dinner = 0.3, 1.2, 0.4
    so = np.where(r <= rmin0, 1.0,
                  np.where(r > rc, 0.0, 0.5 * (np.cos(np.pi * (r - rmin0) / (rc - rmin0)) + 1.0)))
    t = np.clip((r - (sinner - dinner)) / (2.0 * dinner), 0.0, 1.0)
    si = 0.5 * (1.0 - np.cos(np.pi * t))  # = 0.5 (1 - cos(pi/2 + pi/2 (r - sinner)/dinner))
    for outer, inner in ((True, False), (True, True), (False, True)):
        f = (so if outer else 1.0) * (si if inner else 1.0)
        cases.append({"name": "snap", "rc": rc, "rmin0": rmin0, "outer": outer, "inner": inner,
                      "sinner": sinner, "dinner": dinner, "r": r.tolist(),
                      "f": np.broadcast_to(f, r.shape).tolist()})
    # DeePMD quintic
    rs = 2.0
    u = np.clip((r - rs) / (rc - rs), 0.0, 1.0)
    f = 1.0 - 10.0 * u**3 + 15.0 * u**4 - 6.0 * u**5
    cases.append({"name": "quintic", "rs": rs, "rc": rc, "r": r.tolist(), "f": f.tolist()})
    # polynomial of order p (NequIP)
    for p in (6.0, 3.0, 5.5):
        u = r / rc
        f = np.where(u < 1.0, 1.0 - (p + 1) * (p + 2) / 2 * u**p + p * (p + 2) * u**(p + 1)
                     - p * (p + 1) / 2 * u**(p + 2), 0.0)
        cases.append({"name": "polynomial", "p": p, "rc": rc, "r": r.tolist(), "f": f.tolist()})
    # FLARE quadratic
    f = np.where(r < rc, (r - rc) ** 2, 0.0)
    cases.append({"name": "quadratic", "rc": rc, "r": r.tolist(), "f": f.tolist()})
    return cases


def radials():
    r = np.linspace(0.1, 5.0, 23)
    cases = []
    n, r0, r1 = 12, 0.0, 5.0
    width = (r1 - r0) / (n - 1)
    mu = np.linspace(r0, r1, n)
    b = np.exp(-((r[:, None] - mu[None, :]) ** 2) / (2 * width**2))
    cases.append({"name": "gaussian", "n": n, "r0": r0, "r1": r1, "width": width,
                  "r": r.tolist(), "b": b.tolist()})
    n, ra, rb = 16, 0.0, 5.0
    x = (r - ra) / (rb - ra)
    b = np.stack([sp.eval_chebyt(k, x) for k in range(n)], axis=1)
    cases.append({"name": "chebyshev", "n": n, "r1": ra, "r2": rb, "r": r.tolist(),
                  "b": b.tolist()})
    n, rc = 16, 5.0
    pref = np.sqrt(2.0 / rc)
    k = np.arange(1, n + 1)
    arg = k[None, :] * np.pi * r[:, None] / rc
    b = pref * (k[None, :] * np.pi / rc) * sp.spherical_jn(0, arg)
    cases.append({"name": "bessel", "n": n, "rc": rc, "prefactor": pref, "r": r.tolist(),
                  "b": b.tolist()})
    return cases


def real_sph_harm(lmax, vec):
    x, y, z = vec
    r = np.sqrt(x * x + y * y + z * z)
    theta = np.arccos(np.clip(z / r, -1.0, 1.0))
    phi = np.mod(np.arctan2(y, x), 2 * np.pi)
    out = np.zeros((lmax + 1) ** 2)
    for l in range(lmax + 1):
        out[l * l + l] = sp.sph_harm_y(l, 0, theta, phi).real
        for m in range(1, l + 1):
            c = sp.sph_harm_y(l, m, theta, phi)
            out[l * l + l + m] = np.sqrt(2.0) * (-1) ** m * c.real
            out[l * l + l - m] = np.sqrt(2.0) * (-1) ** m * c.imag
    return out


def harmonics():
    rng = np.random.default_rng(20261130)
    vecs = [rng.normal(size=3) * rng.uniform(0.5, 4.0) for _ in range(24)]
    vecs += [np.array(v, float) for v in ((0, 0, 1.3), (0, 0, -0.7), (2.0, 0, 0), (0, -1.5, 0),
                                          (1e-3, 2e-3, 1.0), (1, 1, 1))]
    return {"lmax": LMAX, "points": [{"r": v.tolist(), "y": real_sph_harm(LMAX, v).tolist()}
                                     for v in vecs]}


def main():
    ref = {
        "producer": "tools/basis_reference.py",
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "scipy": scipy.__version__},
        "cutoffs": cutoffs(),
        "radial": radials(),
        "harmonics": harmonics(),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(ref, f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
