#!/usr/bin/env bash
# CUDA compiler launcher of the ptxas resource report (CMake option MDGPU_PTXAS_REPORT):
# runs the compile command given as arguments (nvcc, possibly behind ccache), keeps a copy of
# its output next to the object file as <object>.ptxas.txt and passes that output on, so
# tools/ptxas_report.py reads one file per translation unit (no interleaving of parallel
# compiles). Called by the build, not by hand.
set -uo pipefail
obj="" prev=""
for a in "$@"; do
  [ "$prev" = "-o" ] && obj="$a"
  prev="$a"
done
[ -n "$obj" ] || exec "$@"
"$@" >"$obj.ptxas.txt" 2>&1
status=$?
cat "$obj.ptxas.txt" >&2
exit $status
