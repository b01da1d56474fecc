#!/usr/bin/env python3
"""Stops of a run on several ranks (LJ Langevin, 4 ranks, a checkpoint every 40 steps):
  --mode kill9      one rank (rank 2) dies by SIGKILL mid-run: mpirun stops the others; the
                    run must end within the timeout (no hang) with a non-zero exit and one
                    message naming the dead rank, and the last checkpoint must be intact;
  --mode usr1       SIGUSR1 to mpirun (forwarded to every rank): all ranks stop at the same
                    step with one checkpoint and one message, exit 3;
  --mode term-rank  SIGTERM to one rank only (rank 3): the ranks agree at their next sync
                    point and stop together as above, exit 3;
  --mode hang       one rank of a 2-rank run stops responding (SIGSTOP to rank 1) with
                    [parallel] timeout = 5: the other stops the job within a bound, with one
                    line naming the situation and the silent rank, a non-zero exit, and the
                    last checkpoint intact (the stopped rank is killed afterwards);
                    --hang-ranks N --hang-rank R: R of N stopped (the lowest other rank
                    reports);
  --mode safety     a [safety] check fails (atoms leave a non-periodic box): every rank stops
                    at the same sync step with one message naming the rank and cause, exit 4
                    as on one rank (which is run too; its check step may differ: the ranks
                    check at their own sync points); the last_good file holds every atom;
  --mode displacement  the per-step displacement check trips ([safety] max_displacement
                    below half the skin): 1 and 2 ranks stop with the same message (step and
                    distance), exit 4, and write the same last_good state (bitwise: the sync
                    points before it are the output steps on both).
In the first four modes the checkpoint left behind is continued on one rank to the end and must equal
the uninterrupted one-rank run bitwise (compare_data.py --bitwise).
Exit 77 (ctest SKIP_RETURN_CODE) when mpirun is absent or mdgpu was built without MPI.
Usage: rank_death.py --mdgpu BIN --mode kill9|usr1|term-rank|hang|safety|displacement
       [--steps 600]"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import run_case  # noqa: E402
import restart_case  # noqa: E402
import compare_data  # noqa: E402

RANKS = 4
TIMEOUT = 120  # seconds: a hang fails the test
HANG_TIMEOUT = 5  # [parallel] timeout of the hang mode (seconds)
HANG_BOUND = 40   # seconds from the SIGSTOP to the end of the job


def rank_pids(mpirun_pid):
    """{rank: pid} of the processes mpirun started (OMPI_COMM_WORLD_RANK in their environment)."""
    out = {}
    for d in os.listdir('/proc'):
        if not d.isdigit():
            continue
        try:
            with open(f'/proc/{d}/stat') as f:
                ppid = int(f.read().rsplit(')', 1)[1].split()[1])
            if ppid != mpirun_pid:
                continue
            with open(f'/proc/{d}/environ', 'rb') as f:
                env = f.read().split(b'\0')
        except OSError:
            continue
        for e in env:
            if e.startswith(b'OMPI_COMM_WORLD_RANK='):
                out[int(e.split(b'=')[1])] = int(d)
    return out


def safety(args, mpirun, env, text, mode='safety'):
    ranks = RANKS
    if mode == 'safety':
        text = (text.replace('masses = {', 'periodic = [true, true, false]\nmasses = {')
                .replace('every = 100', 'every = 20'))
    else:  # displacement: the first list-build window has an atom beyond 0.3 (step 18)
        ranks = 2
        text = (text.replace('skin = 0.3', 'skin = 1.0').replace('every = 100', 'every = 5') +
                '[safety]\nmax_displacement = 0.3\n')
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, ranks):
            d = os.path.join(tmp, f'np{n}')
            os.makedirs(d)
            with open(os.path.join(d, 'in.toml'), 'w') as f:
                f.write(text)
            cmd = ([] if n == 1 else [mpirun, '--allow-run-as-root', '--oversubscribe', '-np', str(n)])
            p = subprocess.run(cmd + [args.mdgpu, 'run', 'in.toml', '-q'], cwd=d, env=env,
                               capture_output=True, text=True, timeout=TIMEOUT)
            errors = [l for l in p.stderr.splitlines() if l.startswith('mdgpu: error:')]
            print(f'np {n}: exit {p.returncode}')
            print('\n'.join('  ' + l for l in p.stderr.splitlines() if l.startswith('mdgpu:')))
            good = os.path.join(d, 'in.last_good.data')
            atoms, vels = compare_data.read(good)[:2] if os.path.exists(good) else ({}, {})
            at = re.search(r'the state at step (\d+) \(the last good one\)', p.stderr)
            print(f'  last_good: {len(atoms)} atoms, {len(vels)} velocities, '
                  f'step {at.group(1) if at else "?"}')
            results[n] = (p.returncode, errors, p.stderr, len(atoms), len(vels),
                          at.group(1) if at else None)
        (rc1, e1, _, a1, _, s1), (rcn, en, errn, an, vn, sn) = results[1], results[ranks]
        ok = (rc1 == 4 and rcn == 4 and len(e1) == 1 and len(en) == 1 and 'rank ' in en[0] and
              f'all {ranks} ranks stopped at step' in errn and a1 > 0 and an == a1 and vn == a1)
        if mode == 'safety':
            # (the ranks check at their own sync points, which a margin violation can make
            # more frequent than one rank's: the step may be earlier)
            ok = ok and 'left the box through a non-periodic boundary' in en[0]
        else:
            # the same message after the rank prefix, the same last good state
            strip = re.sub(r'^mdgpu: error: rank \d+ \(counting its owned and imported atoms\): ',
                           'mdgpu: error: ', en[0])
            same = (strip == e1[0] and 'an atom moved' in e1[0] and s1 == sn and
                    s1 not in (None, '0'))
            cmp = subprocess.run([sys.executable, os.path.join(HERE, 'compare_data.py'),
                                  os.path.join(tmp, 'np1', 'in.last_good.data'),
                                  os.path.join(tmp, f'np{ranks}', 'in.last_good.data'),
                                  '--bitwise'], capture_output=True, text=True)
            print('last_good 1 vs', ranks, 'ranks:', cmp.stdout.strip())
            print('same message and last good step as one rank:', 'ok' if same else 'BAD')
            ok = ok and same and cmp.returncode == 0
    print('one message, all ranks stopped together, exit 4 on both, last_good written:',
          'ok' if ok else 'BAD')
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--mdgpu', required=True)
    ap.add_argument('--mode', required=True,
                    choices=['kill9', 'usr1', 'term-rank', 'hang', 'safety', 'displacement'])
    ap.add_argument('--steps', type=int, default=600)
    ap.add_argument('--hang-ranks', type=int, default=2, help='--mode hang: ranks of the run')
    ap.add_argument('--hang-rank', type=int, default=1, help='--mode hang: the rank stopped')
    args = ap.parse_args()
    mpirun = shutil.which('mpirun') or shutil.which('mpiexec')
    if not mpirun:
        print('SKIP: mpirun not found (Debian: openmpi-bin, libopenmpi-dev)')
        return 77
    info = subprocess.run([args.mdgpu, 'info'], capture_output=True, text=True).stdout
    env = dict(os.environ, OMP_NUM_THREADS='1', OMPI_MCA_mpi_yield_when_idle='1',
               OMPI_MCA_rmaps_base_oversubscribe='1')
    text, _ = run_case.CASES['lj_cubic_langevin'](args.steps)
    text = restart_case.with_checkpoint(text).replace(
        'checkpoint = { file = "run.ckpt" }', 'checkpoint = { file = "run.ckpt", every = 40 }')
    if args.mode in ('safety', 'displacement'):
        return safety(args, mpirun, env, text, args.mode)
    ranks = RANKS
    if args.mode == 'hang':
        ranks = args.hang_ranks
        text += f'[parallel]\ntimeout = {HANG_TIMEOUT}\n'

    with tempfile.TemporaryDirectory() as tmp:
        dirs = {}
        for name in ('ref', 'run'):
            dirs[name] = os.path.join(tmp, name)
            os.makedirs(dirs[name])
            with open(os.path.join(dirs[name], 'in.toml'), 'w') as f:
                f.write(text)
        p = subprocess.run([args.mdgpu, 'run', 'in.toml', '-q'], cwd=dirs['ref'], env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        if p.returncode != 0:
            print('one-rank reference failed:', p.stderr[-2000:])
            return 1
        d = dirs['run']
        ckpt = os.path.join(d, 'run.ckpt')
        proc = subprocess.Popen([mpirun, '--allow-run-as-root', '--oversubscribe', '-np', str(ranks),
                                 args.mdgpu, 'run', 'in.toml'], cwd=d, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.time()
        while not os.path.exists(ckpt) and proc.poll() is None and time.time() - t0 < TIMEOUT:
            time.sleep(0.02)
        if proc.poll() is not None:
            out, err = proc.communicate()
            if 'ranks (mpi)' not in out:
                print('SKIP: mdgpu was built without MPI (MDGPU_MPI) or did not start several ranks')
                print(out[-1000:], err[-1000:], info[-300:])
                return 77
            print('the run ended before the first checkpoint:', proc.returncode, err[-2000:])
            return 1
        pids = rank_pids(proc.pid)
        if args.mode == 'kill9':
            os.kill(pids[2], signal.SIGKILL)
        elif args.mode == 'usr1':
            proc.send_signal(signal.SIGUSR1)
        elif args.mode == 'hang':
            os.kill(pids[args.hang_rank], signal.SIGSTOP)
        else:
            os.kill(pids[3], signal.SIGTERM)
        t_signal = time.time()
        try:
            out, err = proc.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            print(f'HANG: the ranks did not stop within {TIMEOUT} s')
            return 1
        finally:
            if args.mode == 'hang':  # the stopped rank, if mpirun left it behind
                try:
                    os.kill(pids[args.hang_rank], signal.SIGKILL)
                except ProcessLookupError:
                    pass
        elapsed = time.time() - t0
        since_signal = time.time() - t_signal
        ours = [l for l in err.splitlines() if l.startswith('mdgpu:')]
        print(f'{args.mode}: mpirun exit {proc.returncode} after {elapsed:.1f} s; ranks {pids}')
        print('\n'.join('  ' + l for l in err.strip().splitlines() if l.strip() and not l.startswith('---')))
        status = 0
        if args.mode == 'kill9':
            ok = (proc.returncode != 0 and
                  re.search(r'rank 2 .*exited on signal 9', err.replace('\n', ' ')) is not None)
        elif args.mode == 'hang':
            lines = [l for l in ours if 'a rank stopped responding' in l]
            print(f'hang: the job ended {since_signal:.1f} s after the SIGSTOP '
                  f'(timeout {HANG_TIMEOUT} s, bound {HANG_BOUND} s)')
            ok = (proc.returncode != 0 and since_signal < HANG_BOUND and len(lines) == 1 and
                  f'rank {0 if args.hang_rank else 1} waited' in lines[0] and
                  f'rank {args.hang_rank} did not answer' in lines[0] and
                  'the last checkpoint' in lines[0] and 'run.ckpt' in lines[0])
        else:
            stops = [l for l in ours if 'stopped by signal' in l]
            ok = (proc.returncode == 3 and len(stops) == 1 and f'on {RANKS} ranks' in stops[0] and
                  f'signal {int(signal.SIGUSR1 if args.mode == "usr1" else signal.SIGTERM)}' in stops[0])
        print('message and exit:', 'ok' if ok else 'BAD')
        status |= 0 if ok else 1
        # The checkpoint left behind (intact: it reads, the .tmp of a cut write is ignored)
        # continues on one rank to the uninterrupted run's final state.
        for extra in ('run.ckpt.tmp',):
            if os.path.exists(os.path.join(d, extra)):
                os.remove(os.path.join(d, extra))
        p = subprocess.run([args.mdgpu, 'run', 'in.toml', '--restart', 'run.ckpt'], cwd=d, env=env,
                           capture_output=True, text=True, timeout=TIMEOUT)
        at = re.search(r'continuing from \S+ at step (\d+)', p.stdout)
        print('restart on 1 rank:', 'exit', p.returncode, 'from step', at.group(1) if at else '?')
        if p.returncode != 0:
            print(p.stderr[-2000:])
            return 1
        cmp = subprocess.run([sys.executable, os.path.join(HERE, 'compare_data.py'),
                              os.path.join(dirs['ref'], 'out.data'), os.path.join(d, 'out.data'),
                              '--bitwise'], capture_output=True, text=True)
        print('continued vs uninterrupted:', cmp.stdout.strip())
        status |= cmp.returncode
        return status


if __name__ == '__main__':
    sys.exit(main())
