#!/usr/bin/env bash
# Installs what mdgpu needs to build and test on Debian 12 (idempotent; quiet when present).
# Build: cmake, g++, fmt, toml++, doctest, HDF5 and nlohmann-json (DeePMD .dp loader). Tests: python3 and LAMMPS (Debian's lmp, the
# reference for the LJ comparison). nvcc (CUDA Toolkit) is optional and not installed here.
set -euo pipefail
pkgs=(cmake g++ make libfmt-dev libtomlplusplus-dev doctest-dev lammps lammps-data python3 libhdf5-dev
      nlohmann-json3-dev)
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
