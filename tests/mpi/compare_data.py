#!/usr/bin/env python3
"""Compares two LAMMPS data files written by mdgpu (atom_style atomic, Velocities) atom by atom
(by id): prints the largest position (unwrapped with the image flags) and velocity
differences and whether the files are bitwise equal in every atom's numbers.
Usage: compare_data.py A.data B.data [--max-dx X] [--bitwise]; exit 1 when over the bound."""
import sys


def read(path):
    atoms, vel, box = {}, {}, {}
    section = None
    with open(path) as f:
        for line in f:
            t = line.split('#')[0].split()
            if not t:
                continue
            if t[0] in ('Atoms', 'Velocities', 'Masses'):
                section = t[0]
                continue
            if len(t) >= 4 and t[-2:] in (['xlo', 'xhi'], ['ylo', 'yhi'], ['zlo', 'zhi']):
                box[t[-2][0]] = float(t[1]) - float(t[0])
                continue
            if len(t) == 6 and t[-3:] == ['xy', 'xz', 'yz']:
                box['tilt'] = tuple(float(v) for v in t[:3])
                continue
            if section == 'Atoms':
                atoms[int(t[0])] = t[1:]
            elif section == 'Velocities':
                vel[int(t[0])] = t[1:]
    return atoms, vel, box


def unwrap(a, box):
    x, y, z = (float(v) for v in a[1:4])
    if len(a) >= 7:
        ix, iy, iz = (int(v) for v in a[4:7])
        xy, xz, yz = box.get('tilt', (0.0, 0.0, 0.0))
        x += ix * box['x'] + iy * xy + iz * xz
        y += iy * box['y'] + iz * yz
        z += iz * box['z']
    return x, y, z


def main():
    a_path, b_path = sys.argv[1], sys.argv[2]
    max_dx = None
    bitwise = '--bitwise' in sys.argv
    if '--max-dx' in sys.argv:
        max_dx = float(sys.argv[sys.argv.index('--max-dx') + 1])
    a, av, abox = read(a_path)
    b, bv, bbox = read(b_path)
    if set(a) != set(b):
        print(f'atom ids differ: {len(a)} vs {len(b)} atoms')
        return 1
    dx = dv = 0.0
    same = True
    for i in a:
        pa, pb = unwrap(a[i], abox), unwrap(b[i], bbox)
        dx = max(dx, max(abs(p - q) for p, q in zip(pa, pb)))
        dv = max(dv, max(abs(float(p) - float(q)) for p, q in zip(av[i], bv[i])))
        same = same and a[i] == b[i] and av[i] == bv[i]
    print(f'{len(a)} atoms: max |dx| {dx:.3e}, max |dv| {dv:.3e}, bitwise {"yes" if same else "no"}')
    if bitwise and not same:
        return 1
    if max_dx is not None and not (dx <= max_dx and dv <= max_dx):
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
