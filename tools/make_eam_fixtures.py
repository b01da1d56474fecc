#!/usr/bin/env python3
"""Writes tests/data/eam/AB_synthetic.eam.fs: a small two-element Finnis-Sinclair EAM file
(DYNAMO setfl layout with one density function per element pair) for mdgpu's unit tests.

The functions are analytic and made up (no physical material); what matters for the tests
is that they are smooth, that rho_AB != rho_BA (so the eam/fs index convention is
exercised), and that the file is small. Python 3 standard library only.

Usage: python3 tools/make_eam_fixtures.py [output-path]
"""

import math
import os
import sys

NRHO, DRHO = 500, 0.02
NR, DR = 500, 0.0105
CUT = 5.0
ELEMENTS = [("A", 29, 63.546, 3.615, "fcc"), ("B", 28, 58.6934, 3.52, "fcc")]
EMBED = {"A": 1.0, "B": 1.3}
# density of an atom of the first element at a neighbour... as written in the file:
# block of element i, sub-array j  (LAMMPS eam/fs reads rhor[i][j])
DENS = {("A", "A"): 20.0, ("A", "B"): 14.0, ("B", "A"): 26.0, ("B", "B"): 18.0}
PAIR = {("A", "A"): (0.35, 1.40, 2.55), ("B", "A"): (0.40, 1.45, 2.50),
        ("B", "B"): (0.45, 1.50, 2.48)}


def smooth(r):
    return ((CUT - r) / CUT) ** 4 if r < CUT else 0.0


def embed(el, rho):
    a = EMBED[el]
    return a * (0.05 * rho * rho - math.sqrt(rho + 0.01) + 0.1)


def density(pair, r):
    return DENS[pair] * math.exp(-r) * ((CUT - r) / CUT) ** 3 if r < CUT else 0.0


def r_phi(pair, r):
    d0, alpha, r0 = PAIR[pair]
    x = math.exp(-alpha * (r - r0))
    return r * d0 * (x * x - 2.0 * x) * smooth(r)


def block(values):
    out = []
    for k in range(0, len(values), 5):
        out.append(" ".join("{: .16e}".format(v) for v in values[k:k + 5]))
    return out


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        here, "..", "tests", "data", "eam", "AB_synthetic.eam.fs")
    lines = ["Synthetic two-element Finnis-Sinclair EAM for mdgpu unit tests (not a material)",
             "Written by tools/make_eam_fixtures.py; rho_AB != rho_BA on purpose",
             "Functions: F = a(0.05 rho^2 - sqrt(rho + 0.01) + 0.1), rho ~ exp(-r)(1-r/rc)^3",
             "2 A B",
             "{} {!r} {} {!r} {!r}".format(NRHO, DRHO, NR, DR, CUT)]
    names = [e[0] for e in ELEMENTS]
    for name, z, mass, a, lat in ELEMENTS:
        lines.append("{} {!r} {!r} {}".format(z, mass, a, lat))
        lines += block([embed(name, m * DRHO) for m in range(NRHO)])
        for other in names:
            lines += block([density((name, other), m * DR) for m in range(NR)])
    for i, ni in enumerate(names):
        for nj in names[:i + 1]:
            lines += block([r_phi((ni, nj), m * DR) for m in range(NR)])
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote " + os.path.relpath(path))


if __name__ == "__main__":
    main()
