#!/usr/bin/env python3
"""Checks the convention of quippy's GAP predictive variance (`calc_args="local_gap_variance"`)
on a distance_2b-only model, as groundwork for computing it in mdgpu (issue 15, item 3; not
implemented in mdgpu yet). Numpy from the convention, compared with quippy-ase 0.10.3:

    /work/venvs/gap/bin/python tools/gap_variance_reference.py [tests/data/gap/2b/gap.xml]

Convention (per descriptor instance x with cutoff weight fc, atoms ci of the instance):
  var(x) = delta^2 + f0^2 + r^2 - k^T (K_mm + r^2 I)^-1 k,
  k_s = delta^2 exp(-|(x - x_s)/theta|^2 / 2) fc_s (+ f0^2),
  K_st = delta^2 exp(-|(x_s - x_t)/theta|^2 / 2) fc_s fc_t (+ f0^2), K_ss = delta^2 fc_s^2,
  r = gap_variance_regularisation (calc arg, default 0.001);
  local_gap_variance_i = sum over instances with i in ci of fc^2 var(x) / |ci|
  (distance_2b: ci = {i, j} for each directed pair, so atom i collects fc^2 var(r_ij) once per
  neighbour j). Everything but r is in gap.xml and its sparseX files: gap_fit needs to write
  nothing extra (its `export_covariance=T` wrote no additional data here).
Prints the largest absolute and relative difference to quippy on a rattled 32-atom Al/Cu cell.
"""
import os
import re
import sys
import xml.etree.ElementTree as ET

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REG = 0.001  # quippy's default gap_variance_regularisation


def fcut(r, rc, w):
    if r >= rc:
        return 0.0
    if r <= rc - w:
        return 1.0
    return 0.5 * (np.cos(np.pi * (r - rc + w) / w) + 1.0)


def descriptors(xml):
    out = []
    base = os.path.dirname(xml)
    for c in ET.parse(xml).getroot().iter("gpCoordinates"):
        d = c.find("descriptor").text.split()
        if d[0] in ("soap", "angle_3b", "bispectrum_so4"):
            out.append(soap_descriptor(c, base))
            continue
        if d[0] != "distance_2b":
            sys.exit("only distance_2b, angle_3b, soap and bispectrum_so4 models: " + d[0])
        opts = dict(kv.split("=", 1) for kv in d[1:] if "=" in kv)
        xs = np.loadtxt(os.path.join(base, c.get("sparseX_filename"))).reshape(-1)
        theta = float(c.find("theta").text.split()[0])
        fcs = np.array([float(s.get("sparseCutoff")) for s in c.iter("sparseX")])
        delta = float(c.get("signal_variance"))
        f0 = float(c.get("signal_mean", "0"))
        kmm = delta**2 * np.exp(-0.5 * ((xs[:, None] - xs[None, :]) / theta) ** 2)
        kmm = kmm * fcs[:, None] * fcs[None, :] + f0**2 + REG**2 * np.eye(len(xs))
        out.append(dict(z1=int(opts.get("Z1", 0)), z2=int(opts.get("Z2", 0)),
                        rc=float(opts["cutoff"]), w=float(opts.get("cutoff_transition_width", 0.5)),
                        xs=xs, theta=theta, fcs=fcs, delta=delta, f0=f0, kmm=kmm))
    return out


def soap_descriptor(c, base):
    """soap with dot_product: K_st = delta^2 (x_s . x_t)^zeta fc_s fc_t (+ r^2 on the diagonal),
    k_s = delta^2 (x . x_s)^zeta fc_s; angle_3b with ard_se: delta^2 exp(-|(x - x_s)/theta|^2/2)
    instead. x from quippy's own Descriptor (its covariance_cutoff and ci)."""
    fcs = np.array([float(s.get("sparseCutoff")) for s in c.iter("sparseX")])
    n = len(fcs)
    xs = np.loadtxt(os.path.join(base, c.get("sparseX_filename"))).reshape(n, -1)
    delta = float(c.get("signal_variance"))
    zeta = float(c.get("zeta", "1"))
    if float(c.get("signal_mean", "0")) != 0.0:
        sys.exit("soap with signal_mean != 0 is not covered")
    text = c.find("descriptor").text.strip()
    if text.startswith("angle_3b") or text.startswith("bispectrum_so4"):
        theta = np.array([float(t) for t in c.find("theta").text.split()])
        cov = lambda a, b: delta**2 * np.exp(-0.5 * (((a[:, None, :] - b[None, :, :]) / theta) ** 2).sum(-1))  # noqa: E731
    else:
        cov = lambda a, b: delta**2 * (a @ b.T) ** zeta  # noqa: E731
    kmm = cov(xs, xs) * fcs[:, None] * fcs[None, :] + REG**2 * np.eye(n)
    return dict(kind="soap", text=text, xs=xs, fcs=fcs, cov=cov,
                delta=delta, zeta=zeta, kmm=kmm, rc=0.0)


def soap_local_variance(at, d, out):
    from quippy.descriptors import Descriptor
    r = Descriptor(d["text"]).calc(at, grad=False)
    if "data" not in r:
        return
    xs_all = np.atleast_2d(r["data"])
    ci_all = np.asarray(r["ci"]).reshape(len(xs_all), -1)  # one row per instance
    w_all = np.atleast_1d(r.get("covariance_cutoff", np.ones(len(xs_all))))
    for x, ci, w in zip(xs_all, ci_all, w_all):
        k = d["cov"](x[None, :], d["xs"])[0] * d["fcs"]
        var = d["delta"] ** 2 + REG**2 - k @ np.linalg.solve(d["kmm"], k)
        for a in ci:
            out[a - 1] += w**2 * var / len(ci)  # quippy's ci are 1-based


def local_variance(at, descs):
    from ase.neighborlist import neighbor_list
    out = np.zeros(len(at))
    for d in descs:
        if d.get("kind") == "soap":
            soap_local_variance(at, d, out)
    descs = [d for d in descs if d.get("kind") != "soap"]
    if not descs:
        return out
    rc = max(d["rc"] for d in descs)
    ii, jj, dd = neighbor_list("ijd", at, rc)
    for i, j, r in zip(ii, jj, dd):
        zi, zj = at.numbers[i], at.numbers[j]
        for d in descs:
            if r >= d["rc"]:
                continue
            ok = lambda a, b: (d["z1"] in (0, a)) and (d["z2"] in (0, b))  # noqa: E731
            if not (ok(zi, zj) or ok(zj, zi)):
                continue
            k = d["delta"] ** 2 * np.exp(-0.5 * ((d["xs"] - r) / d["theta"]) ** 2) * d["fcs"] + d["f0"] ** 2
            var = d["delta"] ** 2 + d["f0"] ** 2 + REG**2 - k @ np.linalg.solve(d["kmm"], k)
            out[i] += fcut(r, d["rc"], d["w"]) ** 2 * var  # two instances i->j, j->i, half each
    return out


def main():
    from ase.build import bulk
    from quippy.potential import Potential
    xml = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "tests/data/gap/2b/gap.xml")
    rng = np.random.default_rng(3)
    at = bulk("Cu", "fcc", a=3.8, cubic=True).repeat((2, 2, 2))
    at.set_atomic_numbers(np.where(rng.random(len(at)) < 0.4, 13, 29))
    at.positions += rng.normal(scale=0.1, size=at.positions.shape)
    pot = Potential(param_filename=xml, calc_args="local_gap_variance")
    at.calc = pot
    at.get_potential_energy()
    ref = np.array(pot.extra_results["atoms"]["local_gap_variance"])
    mine = local_variance(at, descriptors(xml))
    print("quippy local_gap_variance: %.6e .. %.6e" % (ref.min(), ref.max()))
    print("max |diff| %.3e, relative %.3e" % (np.abs(mine - ref).max(), np.abs(mine - ref).max() / ref.max()))


if __name__ == "__main__":
    main()
