#!/usr/bin/env bash
# Installs what mdgpu needs on Debian 12 (idempotent; quiet when everything is present).
#   tools/setup.sh          build: cmake, g++, fmt, toml++, doctest, HDF5 and nlohmann-json
#                           (DeePMD .dp loader, H5MD output)
#   tools/setup.sh --tests  also what the tests use: LAMMPS (Debian's lmp and its potential
#                           files, the reference), python3, clang + compiler-rt (libFuzzer,
#                           ASan, UBSan), and ASE + OVITO from PyPI (trajectory read-back),
#                           python3-dev + pybind11-dev (the `mdgpu` Python package),
#                           chromium (headless screenshots of the run report, ~113 MB download).
# nvcc (CUDA Toolkit) is optional and not installed here.
set -euo pipefail
pkgs=(cmake g++ make libfmt-dev libtomlplusplus-dev doctest-dev libhdf5-dev nlohmann-json3-dev
      libpugixml-dev)
tests=0
[ "${1:-}" = "--tests" ] && tests=1
if [ $tests = 1 ]; then
  pkgs+=(lammps lammps-data python3 clang libclang-rt-14-dev libomp-dev python3-pip)
  pkgs+=(python3-dev python3-venv pybind11-dev)  # the Python package (io/python), its tests, pip check
  pkgs+=(libopenmpi-dev openmpi-bin)  # several ranks (CMake MDGPU_MPI) and the ctest label mpi
  pkgs+=(ccache)  # CI: the pip install check and the CUDA build reuse the CPU build's objects
  pkgs+=(chromium fonts-liberation)  # headless screenshots of the run report and plots (test_report_screenshot, test_screenshots)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Read-back tests of the trajectory formats (tests/cli/test_readback.py): ASE and OVITO from
# PyPI (about 30 s; the test skips with a message where they cannot be installed).
if [ $tests = 1 ] && ! python3 -c "import ase, ovito" >/dev/null 2>&1; then
  echo "setup: installing ase ovito (pip)"
  python3 -m pip install --quiet ase ovito >/dev/null 2>&1 ||
    python3 -m pip install --quiet --break-system-packages ase ovito >/dev/null 2>&1 ||
    echo "setup: warning: pip could not install ase/ovito; tests/cli/test_readback.py will skip"
fi
# Plots of the Python package (io/python/mdgpu/plot.py, tests/python/test_plot_report.py).
if [ $tests = 1 ] && ! python3 -c "import matplotlib" >/dev/null 2>&1; then
  python3 -m pip install --quiet matplotlib >/dev/null 2>&1 ||
    python3 -m pip install --quiet --break-system-packages matplotlib >/dev/null 2>&1 ||
    echo "setup: warning: pip could not install matplotlib; tests/python/test_plot_report.py will skip"
fi
