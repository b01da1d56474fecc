#!/usr/bin/env python3
"""Checkpoints written by N ranks restart on M ranks: an uninterrupted one-rank run of S steps
against (`mpirun -np N` for S/2 steps, writing the checkpoint at its end) continued with
`--restart` for the rest on each M of --to (1: plain `mdgpu run`). The final data file must be
bitwise equal per id (compare_data.py --bitwise), and the thermo CSV and the trajectory (first
half from N ranks, second half from M) equal line for line to the uninterrupted run's.
The cases are run_case.py's inputs plus `[output] checkpoint` and a thermo file.
Exit 77 (ctest SKIP_RETURN_CODE) when mpirun is absent or mdgpu was built without MPI.
Usage: restart_case.py --mdgpu BIN --case NAME --from 4 --to 1,2 [--steps 200]"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_case  # noqa: E402  (the shared case inputs)


def with_checkpoint(text):
    text = re.sub(r'thermo = \{ every = (\d+) \}', r'thermo = { every = \1, file = "thermo.csv" }', text)
    return text.replace('[output]\n', '[output]\ncheckpoint = { file = "run.ckpt" }\n', 1)


def launch(mdgpu, mpirun, n, args, cwd, env):
    cmd = ([mdgpu] if n == 1 else
           [mpirun, '--allow-run-as-root', '--oversubscribe', '-np', str(n), mdgpu]) + args
    p = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        print(' '.join(cmd), '->', p.returncode)
        print(p.stdout[-3000:], p.stderr[-3000:])
        sys.exit(1)
    return p.stdout


def lines(path):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return f.readlines()


def bad_restarts(args, mpirun, env, first, text, tmp):
    """Restarts on 2 ranks from a damaged or foreign checkpoint: one message naming the file
    and the cause, non-zero exit."""
    status = 0
    cases = [('truncated', None, ['trunc.ckpt', 'corrupt checkpoint', 'truncated']),
             ('other system', text.replace('repeat = [5, 5, 5]', 'repeat = [4, 4, 4]'),
              ['run.ckpt', 'does not belong to this input', 'atoms'])]
    for name, other, words in cases:
        d = os.path.join(tmp, 'bad_' + name.replace(' ', '_'))
        shutil.copytree(first, d)
        ck = 'run.ckpt'
        if other is None:
            with open(os.path.join(d, 'run.ckpt'), 'rb') as f:
                head = f.read(1000)
            with open(os.path.join(d, 'trunc.ckpt'), 'wb') as f:
                f.write(head)
            ck = 'trunc.ckpt'
        else:
            with open(os.path.join(d, 'in.toml'), 'w') as f:
                f.write(other)
        p = subprocess.run([mpirun, '--allow-run-as-root', '--oversubscribe', '-np', '2', args.mdgpu,
                            'run', 'in.toml', '--restart', ck, '-q'], cwd=d, env=env,
                           capture_output=True, text=True, timeout=120)
        err = [l for l in p.stderr.splitlines() if l.startswith('mdgpu:')]
        ok = p.returncode != 0 and len(err) == 1 and all(w in err[0] for w in words)
        print('ok ' if ok else 'BAD', f'restart from a {name} checkpoint on 2 ranks:', err,
              'exit', p.returncode)
        status |= 0 if ok else 1
    return status


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mdgpu', required=True)
    ap.add_argument('--case', required=True, choices=sorted(run_case.CASES))
    ap.add_argument('--from', dest='src', type=int, default=4)
    ap.add_argument('--to', default='1,2')
    ap.add_argument('--steps', type=int, default=200)
    ap.add_argument('--bad', action='store_true', help='also damaged / foreign checkpoints')
    args = ap.parse_args()
    mpirun = shutil.which('mpirun') or shutil.which('mpiexec')
    if not mpirun:
        print('SKIP: mpirun not found (Debian: openmpi-bin, libopenmpi-dev)')
        return 77
    env = dict(os.environ, OMP_NUM_THREADS='1', OMPI_MCA_mpi_yield_when_idle='1',
               OMPI_MCA_rmaps_base_oversubscribe='1')
    text, data = run_case.CASES[args.case](args.steps)
    text = with_checkpoint(text)
    half = args.steps // 2
    with tempfile.TemporaryDirectory() as tmp:
        def setup(d):
            os.makedirs(d)
            if data:
                run_case.triclinic_data(os.path.join(d, 'cell.data'))
            with open(os.path.join(d, 'in.toml'), 'w') as f:
                f.write(text)
            return d
        ref = setup(os.path.join(tmp, 'ref'))
        launch(args.mdgpu, mpirun, 1, ['run', 'in.toml', '-q'], ref, env)
        first = setup(os.path.join(tmp, 'first'))
        out = launch(args.mdgpu, mpirun, args.src, ['run', 'in.toml', '--steps', str(half)],
                     first, env)
        if args.src > 1 and 'ranks (mpi)' not in out:
            print('SKIP: mdgpu was built without MPI (MDGPU_MPI) or did not start several ranks')
            return 77
        print(f'np {args.src}: {half} steps, checkpoint', os.path.getsize(os.path.join(first, 'run.ckpt')),
              'bytes')
        status = 0
        if args.bad:
            status |= bad_restarts(args, mpirun, env, first, text, tmp)
        for m in [int(v) for v in args.to.split(',')]:
            d = os.path.join(tmp, f'to{m}')
            shutil.copytree(first, d)
            out = launch(args.mdgpu, mpirun, m, ['run', 'in.toml', '--restart', 'run.ckpt'], d, env)
            if m > 1 and 'ranks (mpi)' not in out:
                print('SKIP: mdgpu did not start several ranks')
                return 77
            cmp = [sys.executable, os.path.join(HERE, 'compare_data.py'),
                   os.path.join(ref, 'out.data'), os.path.join(d, 'out.data'), '--bitwise']
            p = subprocess.run(cmp, capture_output=True, text=True)
            print(f'np {args.src} -> np {m}: data', p.stdout.strip())
            status |= p.returncode
            for name in ('thermo.csv', 't.extxyz'):
                a, b = lines(os.path.join(ref, name)), lines(os.path.join(d, name))
                if a is None and b is None:
                    continue
                if name == 'thermo.csv' and b is not None:  # the first run's end is a thermo step
                    b = [l for l in b if l in (a or []) or l.split(',')[0].strip() != str(half)]
                same = a == b
                print(f'np {args.src} -> np {m}: {name}', f'{len(a or [])} lines, identical: {same}')
                if not same:
                    status |= 1
        return status


if __name__ == '__main__':
    sys.exit(main())
