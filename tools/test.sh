#!/usr/bin/env bash
# Quick start 2: install what is missing, build, run the full test suite (ctest).
# Usage: tools/test.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
"$root/tools/setup.sh" --tests
"$root/tools/build.sh" "$dir" "$@"
cd "$dir"
# Two tests at a time with one OpenMP thread each: two 2-thread OpenMP processes on 2 cores
# spin in each other's barriers (10x slower). Multi-threaded execution is still tested: the
# thermostat suite runs the same trajectories with 1 and 2 threads and compares them bitwise.
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
ctest --output-on-failure -j2 --timeout 900
