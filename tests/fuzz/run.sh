#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan, and fuzzes each parser for a
# bounded time starting from its corpus in tests/fuzz/corpus/<target> (new interesting inputs
# go to a scratch folder, not into the repository).
# Usage: tests/fuzz/run.sh [SECONDS_PER_TARGET (default 60) | ci] [BUILD_DIR]
# `ci` runs a fixed number of inputs per target from a fixed seed instead of a time budget:
# bounded work and nearly the same inputs run to run (about 2 minutes for all targets on 2
# cores). Allocation caps: any single allocation above 512 MB or a resident size above 2 GB
# is a finding (a file whose header claims a huge count must be refused before allocating).
# Exit status non-zero on any crash, sanitizer report, leak, timeout or out-of-memory.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
secs="${1:-60}"
dir="${2:-$root/build-fuzz}"
cmake -S "$root" -B "$dir" -DMDGPU_CUDA=OFF -DMDGPU_TESTS=OFF -DMDGPU_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
targets=(lammps_data extxyz checkpoint toml eam table snap dp checkpoint_fields)
cmake --build "$dir" -j"$(nproc)" --target "${targets[@]/#/fuzz_}"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export OMP_NUM_THREADS=1
status=0
declare -A ci_runs=([lammps_data]=4000 [extxyz]=4000 [checkpoint]=150000 [toml]=3000
                   [eam]=4000 [table]=4000 [snap]=3000 [dp]=1500 [checkpoint_fields]=100000)
for t in "${targets[@]}"; do
  work="$dir/corpus-work/$t"
  rm -rf "$work"
  mkdir -p "$work" "$dir/artifacts/$t"
  if [ "$secs" = ci ]; then
    budget=(-seed=20261124 -runs="${ci_runs[$t]}")
    echo "=== fuzz_$t: ${ci_runs[$t]} inputs from seed 20261124 (corpus tests/fuzz/corpus/$t) ==="
  else
    budget=(-max_total_time="$secs")
    echo "=== fuzz_$t for ${secs}s (corpus tests/fuzz/corpus/$t) ==="
  fi
  if ! "$dir/tests/fuzz/fuzz_$t" "$work" "$root/tests/fuzz/corpus/$t" "${budget[@]}" \
      -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 -print_final_stats=1 \
      -artifact_prefix="$dir/artifacts/$t/" 2>"$dir/fuzz_$t.log"; then
    echo "fuzz_$t FAILED; last lines of $dir/fuzz_$t.log:"
    tail -40 "$dir/fuzz_$t.log"
    status=1
  else
    echo "fuzz_$t: $(grep -E 'stat::(number_of_executed_units|new_units_added|peak_rss_mb)' \
      "$dir/fuzz_$t.log" | tr -s ' ' | tr '\n' ' ')no crash, hang or sanitizer report"
  fi
done
exit $status
