#!/usr/bin/env bash
# Quick start 1: install what is missing, build, run the default example (LJ liquid).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/tools/setup.sh"
"$root/tools/build.sh" "$root/build"
cd "$root/inputs"
"$root/build/mdgpu" run lj_liquid.toml
