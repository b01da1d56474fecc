#!/usr/bin/env python3
"""Fails on an include edge that runs upward through the layers of mdgpu.

Layers, bottom to top (DESIGN.md section 7):
  kernels      launch glue, device views, shared maths; may include only kernels/ and the
               core engine headers (backend, box, units, error, views)
  engine       state, neighbours, step loop, halo, interfaces for potentials, integrators
               and input sections; a public engine header (.hpp) never includes kernels/
               (an engine .cpp may: it launches them)
  models, integrators   side by side: neither includes the other, nor io/
  io           input, outputs, CLI: may include everything below

Scans `#include "..."` lines of engine/ kernels/ models/ integrators/ io/ and prints
file:line: for every forbidden edge. Exit status 0 when there is none, 1 otherwise.
Usage: tools/check_layers.py [repository root]   (default: the parent of tools/)
"""
import pathlib
import re
import sys

LAYERS = ("kernels", "engine", "models", "integrators", "io")
CORE_ENGINE = {"engine/backend.hpp", "engine/box.hpp", "engine/units.hpp", "engine/error.hpp",
               "engine/views.hpp"}
SOURCES = (".hpp", ".cpp", ".h", ".cu", ".cuh")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')


def forbidden(src, target):
    """Why the edge src -> target (paths relative to the root) is forbidden, or None."""
    layer = src.split("/", 1)[0]
    to = target.split("/", 1)[0]
    if to not in LAYERS:
        return None  # third-party or test headers
    if layer == "kernels":
        if to == "kernels" or target in CORE_ENGINE:
            return None
        return "kernels/ may include only kernels/ and " + ", ".join(sorted(CORE_ENGINE))
    if layer == "engine":
        if to in ("models", "integrators", "io"):
            return "engine/ may not include " + to + "/"
        if to == "kernels" and not src.endswith(".cpp"):
            return "a public engine header may not include kernels/ (an engine .cpp may)"
        return None
    if layer in ("models", "integrators"):
        other = "integrators" if layer == "models" else "models"
        if to in (other, "io"):
            return layer + "/ may not include " + to + "/"
        return None
    return None  # io/ is the top layer


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
    if root.is_file():
        root = root.parent.parent
    bad = 0
    scanned = 0
    for layer in LAYERS:
        for path in sorted((root / layer).rglob("*")):
            if path.suffix not in SOURCES or not path.is_file():
                continue
            scanned += 1
            src = path.relative_to(root).as_posix()
            with open(path, encoding="utf-8", errors="replace") as f:
                for lineno, line in enumerate(f, 1):
                    m = INCLUDE.match(line)
                    if not m:
                        continue
                    why = forbidden(src, m.group(1))
                    if why:
                        print(f"{src}:{lineno}: forbidden include \"{m.group(1)}\": {why}")
                        bad += 1
    if scanned == 0:
        print(f"check_layers: no sources found under {root}", file=sys.stderr)
        return 2
    print(f"check_layers: {scanned} files, {bad} forbidden include edge(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
