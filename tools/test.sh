#!/usr/bin/env bash
# Quick start 2: install what is missing, build, run the full test suite (ctest).
# Usage: tools/test.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dir="${1:-$root/build}"
shift || true
"$root/tools/setup.sh"
"$root/tools/build.sh" "$dir" "$@"
cd "$dir"
ctest --output-on-failure -j2 --timeout 900
