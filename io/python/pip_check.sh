#!/usr/bin/env bash
# CI check of `pip install .` (pyproject.toml, scikit-build-core): a fresh virtual
# environment that sees the system's numpy/ase (--system-site-packages), scikit-build-core
# from PyPI once (skipped with a message where it cannot be installed), then
# `pip install --no-build-isolation .` with the CPU executor and ccache, and an import plus
# one calculator call from outside the source tree. Prints the time it took.
# Usage: io/python/pip_check.sh [VENV_DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
venv="${1:-$root/build-wheel-venv}"
start=$(date +%s)
python3 -m venv --system-site-packages "$venv"
py="$venv/bin/python"
if ! "$py" -c "import scikit_build_core" >/dev/null 2>&1; then
  "$py" -m pip install --quiet "scikit-build-core>=0.10" ||
    { echo "pip_check: scikit-build-core not installable here: skipped"; exit 0; }
fi
settings=(--config-settings=cmake.define.MDGPU_CUDA=OFF --config-settings=cmake.define.MDGPU_WERROR=ON)
if command -v ccache >/dev/null 2>&1; then
  settings+=(--config-settings=cmake.define.CMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Makefiles and the build folder build-wheel/ (pyproject.toml) give the compile commands of
# tools/test.sh's build/, so ccache serves the engine's objects from that build.
CXX="${CXX:-c++}" CMAKE_GENERATOR="Unix Makefiles" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
  "$py" -m pip install --quiet --no-build-isolation "${settings[@]}" "$root"
cd "$(mktemp -d)"
"$py" - <<'PY'
import os
import mdgpu
import mdgpu.ase
from ase.build import bulk
assert "site-packages" in mdgpu.__file__, mdgpu.__file__
at = bulk("Cu", "fcc", a=3.615, cubic=True).repeat(2)
at.calc = mdgpu.ase.Calculator(potential={"style": "eam", "file": "Cu_u3.eam"}, backend="cpu")
e = at.get_potential_energy()
assert abs(e / len(at) + 3.54) < 1e-3, e
exe = os.path.join(os.path.dirname(mdgpu.__file__), "bin", "mdgpu")
assert os.access(exe, os.X_OK), exe
print(f"pip_check: mdgpu {mdgpu.__version__} installed in {os.path.dirname(mdgpu.__file__)}, "
      f"E(Cu fcc) = {e / len(at):.6f} eV/atom")
PY
echo "pip_check: done in $(( $(date +%s) - start )) s"
