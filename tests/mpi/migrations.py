#!/usr/bin/env python3
"""How much a several-rank case moved: between two LAMMPS data files written by mdgpu (start
and end of a run), the atoms that lie in another sub-domain than at the start (fractional
position wrapped, owner = floor(s * grid) per axis as engine/domain.cpp: the owner a rebuild
would give them) and the largest unwrapped displacement. A net count (an atom that left and
came back counts 0); atoms migrate only at rebuilds, so read it with the rebuild count.
Used by run_case.py; alone: migrations.py START END --grid 1x1x2"""
import math
import sys


def read(path):
    """{id: (x, y, z, ix, iy, iz)} and the cell (origin, lx, ly, lz, xy, xz, yz)."""
    atoms, lo, hi, tilt = {}, {}, {}, (0.0, 0.0, 0.0)
    section = None
    with open(path) as f:
        for line in f:
            t = line.split('#')[0].split()
            if not t:
                continue
            if t[0] in ('Atoms', 'Velocities', 'Masses'):
                section = t[0]
                continue
            if len(t) == 4 and t[2:] in (['xlo', 'xhi'], ['ylo', 'yhi'], ['zlo', 'zhi']):
                lo[t[2][0]], hi[t[2][0]] = float(t[0]), float(t[1])
                continue
            if len(t) == 6 and t[3:] == ['xy', 'xz', 'yz']:
                tilt = tuple(float(v) for v in t[:3])
                continue
            if section == 'Atoms':
                x, y, z = (float(v) for v in t[2:5])
                img = tuple(int(v) for v in t[5:8]) if len(t) >= 8 else (0, 0, 0)
                atoms[int(t[0])] = (x, y, z) + img
    cell = ((lo['x'], lo['y'], lo['z']), hi['x'] - lo['x'], hi['y'] - lo['y'], hi['z'] - lo['z']) + tilt
    return atoms, cell


def fractional(p, cell):
    (x0, y0, z0), lx, ly, lz, xy, xz, yz = cell
    s2 = (p[2] - z0) / lz
    s1 = (p[1] - y0 - yz * s2) / ly
    s0 = (p[0] - x0 - xy * s1 - xz * s2) / lx
    return [s - math.floor(s) for s in (s0, s1, s2)]


def owner(p, cell, grid):
    s = fractional(p, cell)
    c = [min(max(int(math.floor(s[d] * grid[d])), 0), grid[d] - 1) for d in range(3)]
    return (c[2] * grid[1] + c[1]) * grid[0] + c[0]


def unwrapped(a, cell):
    _, lx, ly, lz, xy, xz, yz = cell
    x, y, z, ix, iy, iz = a
    return (x + ix * lx + iy * xy + iz * xz, y + iy * ly + iz * yz, z + iz * lz)


def moved(start_path, end_path, grid):
    """(atoms whose owner changed, largest unwrapped displacement, atoms)."""
    a, ca = read(start_path)
    b, cb = read(end_path)
    changed = sum(1 for i in a if owner(a[i], ca, grid) != owner(b[i], cb, grid))
    dmax = max(math.dist(unwrapped(a[i], ca), unwrapped(b[i], cb)) for i in a)
    return changed, dmax, len(a)


if __name__ == '__main__':
    g = [int(v) for v in sys.argv[sys.argv.index('--grid') + 1].split('x')]
    n, d, total = moved(sys.argv[1], sys.argv[2], g)
    print(f'{n} of {total} atoms changed owner (grid {g}), max displacement {d:.3f}')
