#!/bin/sh
# Per-kernel ptxas resources (stack frame, spills, registers) of every SNAP kernel for sm_90,
# each translation unit compiled alone as the CUDA build compiles it (-x cu). Needs nvcc only
# (no GPU). Run from the repository root:  sh models/snap/ptxas_report.sh [path/to/nvcc]
NVCC=${1:-/usr/local/cuda/bin/nvcc}
for f in models/snap/snap_*.cpp models/snap/descriptor_model.cpp; do
  case $f in *_io.cpp|*_config.cpp) continue ;; esac
  "$NVCC" -std=c++17 -arch=sm_90 -I. -x cu -Xptxas -v -c "$f" -o /tmp/snap_ptxas_$$.o 2>&1 |
    awk -v file="$f" '
      /Compiling entry function/ { name = $0; sub(/^[^'\'']*'\''/, "", name); sub(/'\''.*/, "", name); next }
      /bytes stack frame/ { stack = $0; next }
      /Used [0-9]+ registers/ { if (name ~ /4snap|DescriptorModel/) { sub(/^ +/, "", stack);
          printf "%-22s %-60s %s | %s\n", file, name, stack, $0 } name = "" }'
done
rm -f /tmp/snap_ptxas_$$.o
