#!/usr/bin/env bash
# Configures and builds mdgpu. Usage: tools/build.sh [BUILD_DIR] [extra cmake args...]
# Default: build/ with the CPU executor only (fast); pass -DMDGPU_CUDA=ON for the CUDA one.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
cmake -S "$root" -B "$dir" -DMDGPU_CUDA=OFF -DMDGPU_WERROR=ON "$@" >/dev/null
cmake --build "$dir" -j"$(nproc)"
