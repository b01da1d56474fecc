#!/usr/bin/env python3
"""Several ranks against one rank: runs a small case with `mdgpu run` (one rank, no mpirun) and
with `mpirun -np N mdgpu run` for each N, and compares the final per-id state (data files,
compare_data.py): bitwise equal by default; --bound only bounds the difference (--max-dx).
Exit 77 (ctest SKIP_RETURN_CODE) when mpirun is absent or mdgpu was built without MPI.
Usage: run_case.py --mdgpu BIN --case NAME [--ranks 2,4] [--bound --max-dx 1e-8]"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

from migrations import moved

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
POT = os.path.join(SRC, 'inputs', 'potentials')

LJ = '''units = "lj"
{system}
[velocity]
temperature = 1.44
seed = 87287
[potential]
style = "lj"
cutoff = 2.5
pairs = [{{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[neighbor]
skin = 0.3
[run]
{ensemble}
timestep = 0.005
steps = {steps}
[output]
thermo = {{ every = 100 }}
data = {{ file = "out.data" }}
trajectory = {{ every = 100, file = "t.extxyz", velocities = true }}
'''
LJ_LATTICE = '''[system]
lattice = {{ kind = "fcc", a = 1.6795962, repeat = {repeat}, elements = ["A"] }}
masses = {{ A = 1.0 }}'''
LJ_DATA = '''[system]
data = "cell.data"
type_names = ["A"]'''
EAM = '''units = "metal"
[system]
lattice = {{ kind = "fcc", a = 3.615, repeat = [4, 4, 4], elements = ["Cu"] }}
[velocity]
temperature = 1600.0
seed = 20240611
[potential]
style = "eam"
file = "{pot}/Cu_u3.eam"
[neighbor]
skin = 1.0
[run]
{ensemble}
timestep = 0.001
steps = {steps}
[output]
thermo = {{ every = 100 }}
data = {{ file = "out.data" }}
'''
SNAP = '''units = "metal"
[system]
lattice = {{ kind = "bcc", a = 3.316, repeat = [4, 4, 4], elements = ["Ta"] }}
[velocity]
temperature = 600.0
seed = 4928459
[potential]
style = "snap"
coeff = "{src}/inputs/snap/Ta06A.snapcoeff"
param = "{src}/inputs/snap/Ta06A.snapparam"
elements = ["Ta"]
[neighbor]
skin = 1.0
[run]
{ensemble}
timestep = 0.0005
steps = {steps}
[output]
thermo = {{ every = 50 }}
data = {{ file = "out.data" }}
'''
# Ta06A as it is meant to be used (LAMMPS' Ta06A.snap: hybrid/overlay zbl 4 4.8 snap): pure
# SNAP Ta06A collapses within ~300 steps here (LAMMPS too), too short for the 1,000-step cases.
# 1500 K and skin 0.3 A so that lists are rebuilt and atoms migrate within 1,000 steps.
SNAP_ZBL = SNAP.replace('''style = "snap"
coeff''', '''style = "overlay"
[[potential.terms]]
style = "zbl"
inner = 4.0
outer = 4.8
[[potential.terms]]
style = "snap"
coeff''').replace('[neighbor]\nskin = 1.0', '\n[neighbor]\nskin = 0.3').replace('600.0', '1500.0')
DEEPMD = '''units = "metal"
[system]
lattice = {{ kind = "fcc", a = 3.61, repeat = [4, 4, 4], elements = ["Cu"] }}
[velocity]
temperature = 600.0
seed = 2024
[potential]
style = "deepmd"
file = "{src}/inputs/deepmd/cu_small.dp"
[neighbor]
skin = 1.0
[run]
{ensemble}
timestep = 0.001
steps = {steps}
[output]
thermo = {{ every = 50 }}
data = {{ file = "out.data" }}
'''
# Message-passing models (L = 2 interaction layers): a rank imports 2 L cutoff + skin and
# computes the layers of its imported atoms redundantly (engine/potential.hpp).
SCHNET = '''units = "metal"
[system]
lattice = {{ kind = "fcc", a = 3.72, repeat = {repeat}, elements = ["Au", "Cu", "Cu", "Cu"] }}
[velocity]
temperature = 900.0
seed = 2026
[potential]
style = "schnet"
model = "{src}/inputs/schnet/cuau_emt.schnet.h5"
[neighbor]
skin = 0.5
[run]
{ensemble}
timestep = 0.002
steps = {steps}
[output]
thermo = {{ every = 10 }}
data = {{ file = "out.data" }}
trajectory = {{ every = 10, file = "t.extxyz", velocities = true }}
{parallel}'''
HIPNN = '''units = "metal"
[system]
lattice = {{ kind = "fcc", a = 3.9, repeat = {repeat}, elements = ["Cu"] }}
[velocity]
temperature = 900.0
seed = 2024
[potential]
style = "hipnn"
model = "{src}/tests/data/hipnn/resnet.hipnn.h5"
[neighbor]
skin = 0.5
[run]
{ensemble}
timestep = 0.002
steps = {steps}
[output]
thermo = {{ every = 10 }}
data = {{ file = "out.data" }}
trajectory = {{ every = 10, file = "t.extxyz", velocities = true }}
{parallel}'''
NVE = 'ensemble = "nve"'
LANGEVIN_LJ = 'ensemble = "nvt"\nthermostat = { kind = "langevin", temperature = 0.8, tdamp = 0.5, seed = 4242 }'
CSVR_LJ = 'ensemble = "nvt"\nthermostat = { kind = "csvr", temperature = 0.8, tdamp = 0.5, seed = 4242 }'
NH_EAM = 'ensemble = "nvt"\nthermostat = { kind = "nose-hoover", temperature = 1200.0, tdamp = 0.1 }'
LANGEVIN_EAM = 'ensemble = "nvt"\nthermostat = { kind = "langevin", temperature = 1200.0, tdamp = 0.1, seed = 4242 }'
LANGEVIN_MP = 'ensemble = "nvt"\nthermostat = { kind = "langevin", temperature = 900.0, tdamp = 0.1, seed = 4242 }'
SLABS = '[parallel]\ngrid = [1, 1, 4]\n'
# NPT (the cell moves every step): MTK (Nose-Hoover chains, iso / aniso / tri) and stochastic
# cell rescaling around a Langevin thermostat; targets far enough from the start that the
# cell really changes (checked: the final cell must differ from the input cell) and the lists
# are rebuilt several times (the cell-corner term of the rebuild decision).
MTK_LJ = ('ensemble = "npt"\nthermostat = {{ kind = "nose-hoover", temperature = 1.0, tdamp = 0.5 }}\n'
          'barostat = {{ pressure = 0.5, pdamp = 1.0, coupling = "{coupling}" }}')
SCR_LJ = ('ensemble = "npt"\nthermostat = { kind = "langevin", temperature = 1.0, tdamp = 0.5, seed = 4242 }\n'
          'barostat = { kind = "scr", pressure = 0.5, pdamp = 0.5, compressibility = 0.1, coupling = "iso" }')
MTK_METAL = ('ensemble = "npt"\nthermostat = {{ kind = "nose-hoover", temperature = {t}, tdamp = 0.1 }}\n'
             'barostat = {{ pressure = {p}, pdamp = 0.2, coupling = "{coupling}" }}')


# Two atoms approaching head-on across a sub-domain boundary (x = 10 on 2 ranks; 4 ranks: x = 10
# or y = 5 splits), two spectators so that every rank owns an atom. At the migration (step 0)
# they are 3.3 apart, 3.2 from the other sub-domain: beyond the import distance (2.8) plus a
# skin, within it plus the default margin (1.25 = cutoff/2). They move 0.6 each in 24 steps
# (less than margin/2, so no margin roll-back) and interact from step ~16: exact only if the
# imports reach the margin further (engine/distributed.cpp, dec_).
APPROACH_DATA = """two LJ atoms approaching head-on across a sub-domain boundary

4 atoms
1 atom types

0 20 xlo xhi
0 10 ylo yhi
0 10 zlo zhi

Masses

1 1.0

Atoms # atomic

1 1 9.9 5.5 5.0
2 1 13.2 5.5 5.0
3 1 2.5 0.5 0.5
4 1 17.5 0.5 0.5

Velocities

1 5.0 0 0
2 -5.0 0 0
3 0 0 0
4 0 0 0
"""
LJ_APPROACH = '''units = "lj"
[system]
data = "cell.data"
type_names = ["A"]
[potential]
style = "lj"
cutoff = 2.5
pairs = [{{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }}]
[neighbor]
skin = 0.3
[run]
ensemble = "nve"
timestep = 0.005
steps = {steps}
[output]
thermo = {{ every = 1000 }}
data = {{ file = "out.data" }}
'''
# SNAP + ZBL under MTK NPT (aniso, 1500 K, -2 GPa): the hot lattice under tension expands, each
# axis on its own (13.264 -> 13.37-13.39 A in 200 steps, one rank).
SNAP_ZBL_MTK = MTK_METAL.format(t=1500.0, p=-20000.0, coupling='aniso').replace('pdamp = 0.2', 'pdamp = 0.1')


def triclinic_data(path, tilt=(0.21, -0.13, 0.17)):
    """fcc 5x5x5 (a = 1.6796) in a sheared cell: xy, xz, yz tilts (fractions of the lengths),
    atoms at the same fractions."""
    a, n = 1.6795962, 5
    lx = ly = lz = a * n
    xy, xz, yz = tilt[0] * lx, tilt[1] * lx, tilt[2] * ly
    basis = [(0, 0, 0), (0.5, 0.5, 0), (0.5, 0, 0.5), (0, 0.5, 0.5)]
    lines = []
    k = 0
    for i in range(n):
        for j in range(n):
            for m in range(n):
                for b in basis:
                    s = ((i + b[0]) / n, (j + b[1]) / n, (m + b[2]) / n)
                    x = s[0] * lx + s[1] * xy + s[2] * xz
                    y = s[1] * ly + s[2] * yz
                    z = s[2] * lz
                    k += 1
                    lines.append(f'{k} 1 {x!r} {y!r} {z!r}')
    with open(path, 'w') as f:
        f.write(f'triclinic LJ test cell\n\n{k} atoms\n1 atom types\n\n'
                f'0 {lx!r} xlo xhi\n0 {ly!r} ylo yhi\n0 {lz!r} zlo zhi\n{xy!r} {xz!r} {yz!r} xy xz yz\n\n'
                'Masses\n\n1 1.0\n\nAtoms # atomic\n\n' + '\n'.join(lines) + '\n')


CASES = {
    # name: (input text, writes cell.data: True or the tilt fractions (xy, xz, yz))
    'lj_cubic_nve': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[5, 5, 5]'), ensemble=NVE, steps=s), False),
    'lj_cubic_langevin': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[5, 5, 5]'), ensemble=LANGEVIN_LJ, steps=s), False),
    'lj_cubic_csvr': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[5, 5, 5]'), ensemble=CSVR_LJ, steps=s), False),
    'lj_triclinic_nve': lambda s: (LJ.format(system=LJ_DATA, ensemble=NVE, steps=s), True),
    'lj_triclinic_langevin': lambda s: (LJ.format(system=LJ_DATA, ensemble=LANGEVIN_LJ, steps=s), True),
    # z is 1.68 sigma, shorter than the list radius 2.8: ghosts over several hops
    'lj_thin_nve': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[8, 8, 1]'), ensemble=NVE, steps=s), False),
    'lj_thin_langevin': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[8, 8, 1]'), ensemble=LANGEVIN_LJ, steps=s), False),
    # four sub-domains 2.1 sigma thick along z, thinner than the import distance 2.8
    'lj_slabs_grid': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[5, 5, 5]'), ensemble=NVE, steps=s)
                                + '[parallel]\ngrid = [1, 1, 4]\n', False),
    'snap_nve': lambda s: (SNAP.format(src=SRC, ensemble=NVE, steps=s), False),
    'snap_zbl_nve': lambda s: (SNAP_ZBL.format(src=SRC, ensemble=NVE, steps=s), False),
    'snap_zbl_langevin': lambda s: (SNAP_ZBL.format(src=SRC, ensemble=LANGEVIN_EAM.replace('1200.0', '1500.0'), steps=s), False),
    'deepmd_nve': lambda s: (DEEPMD.format(src=SRC, ensemble=NVE, steps=s), False),
    'deepmd_langevin': lambda s: (DEEPMD.format(src=SRC, ensemble=LANGEVIN_EAM.replace('1200.0', '600.0'), steps=s), False),
    'eam_nve': lambda s: (EAM.format(pot=POT, ensemble=NVE, steps=s), False),
    'eam_nose_hoover': lambda s: (EAM.format(pot=POT, ensemble=NH_EAM, steps=s), False),
    'eam_langevin': lambda s: (EAM.format(pot=POT, ensemble=LANGEVIN_EAM, steps=s), False),
    # 108 atoms: the import distance (2 x 2 x rc + skin, 18.5 A / 16.5 A) exceeds the cell, so
    # every rank holds every atom once (its periodic images as ghosts)
    'schnet_nve': lambda s: (SCHNET.format(src=SRC, repeat='[3, 3, 3]', ensemble=NVE, steps=s, parallel=''), False),
    'schnet_langevin': lambda s: (SCHNET.format(src=SRC, repeat='[3, 3, 3]', ensemble=LANGEVIN_MP, steps=s, parallel=''), False),
    'hipnn_nve': lambda s: (HIPNN.format(src=SRC, repeat='[3, 3, 3]', ensemble=NVE, steps=s, parallel=''), False),
    'hipnn_langevin': lambda s: (HIPNN.format(src=SRC, repeat='[3, 3, 3]', ensemble=LANGEVIN_MP, steps=s, parallel=''), False),
    # long cells cut in four slabs along z: each rank imports only part of the system, and the
    # atoms at the edge of its import region carry truncated features that must reach no owned
    # force (z 70.2 A, slab 17.6 A + 2 x 16.5 A; schnet: z 52.1 A, slab 13.0 A + 2 x 18.5 A)
    'hipnn_slabs_nve': lambda s: (HIPNN.format(src=SRC, repeat='[2, 2, 18]', ensemble=NVE, steps=s, parallel=SLABS), False),
    'schnet_slabs_langevin': lambda s: (SCHNET.format(src=SRC, repeat='[2, 2, 14]', ensemble=LANGEVIN_MP, steps=s, parallel=SLABS), False),
    'lj_cubic_mtk': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[5, 5, 5]'), ensemble=MTK_LJ.format(coupling='iso'), steps=s), False),
    'lj_cubic_scr': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[5, 5, 5]'), ensemble=SCR_LJ, steps=s), False),
    'lj_triclinic_mtk': lambda s: (LJ.format(system=LJ_DATA, ensemble=MTK_LJ.format(coupling='tri'), steps=s), True),
    # xy = 0.59 lx driven up by a shear target: the cell flips (xy -> xy - lx) near step 25
    'lj_flip_mtk': lambda s: (LJ.format(system=LJ_DATA, ensemble=MTK_LJ.format(coupling='tri').replace(
        'coupling = "tri"', 'coupling = "tri", pxy = -20.0'), steps=s), (0.59, 0.0, 0.0)),
    # z (1.68 sigma) shorter than the list radius under aniso MTK: z changes on its own
    'lj_thin_mtk': lambda s: (LJ.format(system=LJ_LATTICE.format(repeat='[8, 8, 1]'), ensemble=MTK_LJ.format(coupling='aniso'), steps=s), False),
    'eam_mtk': lambda s: (EAM.format(pot=POT, ensemble=MTK_METAL.format(t=1200.0, p=-2000.0, coupling='aniso'), steps=s), False),
    'deepmd_mtk': lambda s: (DEEPMD.format(src=SRC, ensemble=MTK_METAL.format(t=600.0, p=0.0, coupling='iso'), steps=s), False),
    # many-body models on four slabs (grid [1, 1, 4]) thicker than the import distance plus the
    # margin: each rank imports part of its neighbours' slabs, so a too short import distance
    # breaks the equality (the 4 x 4 x 4 cells above import every atom). EAM: z 57.8 A, slab
    # 14.5 A, 2 rc + skin + margin = 13.4 A; SNAP + ZBL: z 53.1 A, slab 13.3 A, 12.3 A.
    'eam_slabs_nve': lambda s: (EAM.format(pot=POT, ensemble=NVE, steps=s).replace(
        'repeat = [4, 4, 4]', 'repeat = [3, 3, 16]') + SLABS, False),
    'snap_zbl_slabs_nve': lambda s: (SNAP_ZBL.format(src=SRC, ensemble=NVE, steps=s).replace(
        'repeat = [4, 4, 4]', 'repeat = [3, 3, 16]') + SLABS, False),
    'snap_zbl_mtk': lambda s: (SNAP_ZBL.format(src=SRC, ensemble=SNAP_ZBL_MTK, steps=s), False),
    # the imports must reach the margin further than the import distance (24 steps)
    'lj_approach_margin': lambda s: (LJ_APPROACH.format(steps=s), APPROACH_DATA),
}
NPT_CASES = {'lj_cubic_mtk', 'lj_cubic_scr', 'lj_triclinic_mtk', 'lj_flip_mtk', 'lj_thin_mtk', 'eam_mtk',
             'deepmd_mtk', 'snap_zbl_mtk'}


def box_lines(path):
    """The cell lines of a data file (bitwise: fmt writes the shortest round-trip digits)."""
    with open(path) as f:
        return [l for l in f if l.rstrip().endswith(('xhi', 'yhi', 'zhi', 'xy xz yz'))]


BAD = [
    # (extra input text, words the message must contain)
    ('[parallel]\ngrid = [1, 1, 3]\n', ['in.toml', '[parallel] grid', '3 sub-domains', '2 ranks']),
    ('[parallel]\ngrid = [1, 1, 2]\nspeed = 2\n', ['in.toml', 'speed']),
    ('[parallel]\ngrid = [1, 1, 0]\n', ['in.toml', '[parallel] grid', 'positive']),
]
THIN = '[parallel]\ngrid = [1, 1, 2]\n'  # on a cell 1.68 sigma thick along z


def bad_inputs(mdgpu, mpirun, env):
    """Errors name the file and key; several ranks stop together with one message."""
    status = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = LJ.format(system=LJ_LATTICE.format(repeat='[5, 5, 5]'), ensemble=NVE, steps=10)
        cases = [(base + extra, 2, words) for extra, words in BAD]
        # NPT squeezing z: two slabs 1.68 thick, the minimum is 1.65 (half of cutoff + skin 0.8)
        squeeze = (base.replace('repeat = [5, 5, 5]', 'repeat = [5, 5, 2]').replace('skin = 0.3', 'skin = 0.8')
                   .replace('steps = 10', 'steps = 400')
                   .replace(NVE, 'ensemble = "npt"\nthermostat = { kind = "nose-hoover", temperature = 1.0, '
                            'tdamp = 0.5 }\nbarostat = { pressure = 20.0, pdamp = 0.5, coupling = "aniso" }')
                   + '[parallel]\ngrid = [1, 1, 2]\n')
        cases.append((squeeze, 2, ['barostat shrank the cell', 'along axis c', 'fewer ranks']))
        cases.append((base.replace('repeat = [5, 5, 5]', 'repeat = [5, 5, 1]') + THIN, 2,
                      ['in.toml', '[parallel] grid', 'half the neighbour-list radius', 'at most 1']))
        cases.append((base.replace('repeat = [5, 5, 5]', 'repeat = [1, 1, 1]'), 6,
                      ['6 ranks', 'allows at most 1 rank']))
        cases.append((base.replace('velocities = true', 'forces = true'),
                      2, ['trajectory', 'forces', 'not supported on several ranks']))
        for text, n, words in cases:
            with open(os.path.join(tmp, 'in.toml'), 'w') as f:
                f.write(text)
            p = subprocess.run([mpirun, '--allow-run-as-root', '--oversubscribe', '-np', str(n), mdgpu,
                                'run', 'in.toml', '-q'], cwd=tmp, env=env, capture_output=True,
                               text=True, timeout=120)
            err = [l for l in p.stderr.splitlines() if l.startswith('mdgpu:')]
            ok = p.returncode != 0 and len(err) == 1 and all(w in err[0] for w in words)
            print('ok ' if ok else 'BAD', n, 'ranks:', err, 'exit', p.returncode)
            if not ok:
                print(p.stdout[-1500:], p.stderr[-1500:])
                status = 1
    return status


def run(cmd, cwd, env):
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        print(' '.join(cmd), '->', p.returncode)
        print(p.stdout[-3000:], p.stderr[-3000:])
        sys.exit(1)
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mdgpu', required=True)
    ap.add_argument('--case', required=True, choices=sorted(CASES) + ['bad_inputs'])
    ap.add_argument('--ranks', default='2,4')
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--bound', action='store_true', help='only bound the difference (--max-dx)')
    ap.add_argument('--max-dx', default='1e-8')
    args = ap.parse_args()
    mpirun = shutil.which('mpirun') or shutil.which('mpiexec')
    if not mpirun:
        print('SKIP: mpirun not found (Debian: openmpi-bin, libopenmpi-dev)')
        return 77
    info = subprocess.run([args.mdgpu, 'info'], capture_output=True, text=True).stdout
    env = dict(os.environ, OMP_NUM_THREADS='1', OMPI_MCA_mpi_yield_when_idle='1',
               OMPI_MCA_rmaps_base_oversubscribe='1')
    if args.case == 'bad_inputs':
        return bad_inputs(args.mdgpu, mpirun, env)
    text, data = CASES[args.case](args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        if isinstance(data, str):  # the data file itself
            with open(os.path.join(tmp, 'cell.data'), 'w') as f:
                f.write(data)
        elif data:
            triclinic_data(os.path.join(tmp, 'cell.data'), *([data] if isinstance(data, tuple) else []))
        with open(os.path.join(tmp, 'in.toml'), 'w') as f:  # step 0 (start.data): what moved
            f.write(CASES[args.case](0)[0].replace('"out.data"', '"start.data"'))
        run([args.mdgpu, 'run', 'in.toml', '-q'], tmp, env)
        if os.path.exists(os.path.join(tmp, 't.extxyz')):
            os.remove(os.path.join(tmp, 't.extxyz'))
        with open(os.path.join(tmp, 'in.toml'), 'w') as f:
            f.write(text)
        run([args.mdgpu, 'run', 'in.toml', '-q'], tmp, env)
        os.rename(os.path.join(tmp, 'out.data'), os.path.join(tmp, 'one.data'))
        one_box = box_lines(os.path.join(tmp, 'one.data'))
        status = 0
        if args.case in NPT_CASES:  # the cell must really move: compare with the input cell
            start_box = box_lines(os.path.join(tmp, 'start.data'))  # the 0-step run above
            cell_moved = start_box != one_box
            print('cell at the start:', ' | '.join(l.strip() for l in start_box))
            print(f'cell after {args.steps} steps:', ' | '.join(l.strip() for l in one_box),
                  '(moved)' if cell_moved else '(UNCHANGED: the case does not test a moving cell)')
            if not cell_moved:
                status = 1
        traj = os.path.join(tmp, 't.extxyz')
        if os.path.exists(traj):
            os.rename(traj, os.path.join(tmp, 'one.extxyz'))
        for n in [int(v) for v in args.ranks.split(',')]:
            out = run([mpirun, '--allow-run-as-root', '--oversubscribe', '-np', str(n), args.mdgpu,
                       'run', 'in.toml'], tmp, env)
            if 'ranks (mpi)' not in out:
                print('SKIP: mdgpu was built without MPI (MDGPU_MPI) or did not start several ranks')
                print(out[-2000:], info[-500:])
                return 77
            summary = [l for l in out.splitlines() if l.startswith('mdgpu: ')]
            print(f'np {n}:', ' | '.join(summary))
            cmp = [sys.executable, os.path.join(HERE, 'compare_data.py'), 'one.data', 'out.data']
            cmp += ['--max-dx', args.max_dx] if args.bound else ['--bitwise']
            p = subprocess.run(cmp, cwd=tmp, capture_output=True, text=True)
            print(f'np {n} vs one rank:', p.stdout.strip())
            grid = [l.split('grid ')[1].split(',')[0] for l in summary if 'grid ' in l]
            if grid:
                g = [int(v) for v in grid[0].split(' x ')]
                m, dmax, total = moved(os.path.join(tmp, 'start.data'), os.path.join(tmp, 'one.data'), g)
                print(f'np {n} moved: {m} of {total} atoms lie in another sub-domain than at step 0 '
                      f'(grid {g}), max displacement {dmax:.3f}')
            status |= p.returncode
            same_box = box_lines(os.path.join(tmp, 'out.data')) == one_box
            print(f'np {n} cell identical: {same_box}')
            if not args.bound and not same_box:
                status |= 1
            os.remove(os.path.join(tmp, 'out.data'))
            if os.path.exists(traj):  # frames gathered in input order on rank 0
                def atom_lines(path):  # every line, frame headers (energy) included
                    with open(path) as f:
                        return f.readlines()
                a, b = atom_lines(os.path.join(tmp, 'one.extxyz')), atom_lines(traj)
                same = a == b
                print(f'np {n} trajectory: {len(a)} lines, identical: {same}')
                if not args.bound and not same:
                    status |= 1
                if len(a) != len(b):
                    status |= 1
                os.remove(traj)
        return status


if __name__ == '__main__':
    sys.exit(main())
