"""ase.Atoms <-> the engine's cell convention (LAMMPS' general triclinic form).

The engine's cell has a = (lx, 0, 0), b = (xy, ly, 0), c = (xz, yz, lz). An ASE cell in any
other orientation is rotated into that form (the rotation io/extxyz.cpp uses: e1 along a,
e3 along a x b); positions, velocities go in rotated, forces and stresses come back rotated
by the transpose. A cell already in that form is used as given (no rounding: bitwise equal
inputs to the CLI). A left-handed cell uses -c (the same lattice). Non-periodic directions
without a cell vector get one spanning the atoms (atoms may leave it: free boundaries).
"""
import numpy as np

from . import _mdgpu

XYZ = "xyz"
# ASE's velocity unit is Angstrom per ASE time unit; metal units use Angstrom per ps.
try:
    from ase import units as _ase_units

    ASE_VELOCITY_TO_METAL = 1000.0 * _ase_units.fs
except ImportError:  # pragma: no cover - ase is optional for mdgpu.Simulation without atoms
    ASE_VELOCITY_TO_METAL = None


class Geometry:
    """The rotation R (rows e1, e2, e3) and the engine's cell for one ase.Atoms."""

    def __init__(self, atoms):
        pbc = [bool(p) for p in atoms.pbc]
        cell = np.array(atoms.cell[:], dtype=float)
        pos = np.asarray(atoms.get_positions(), dtype=float)
        if not np.all(np.isfinite(pos)):
            bad = int(np.argwhere(~np.isfinite(pos))[0][0]) + 1
            raise _mdgpu.InputError(f"[system] atoms: atom {bad} has a non-finite position")
        if not np.all(np.isfinite(cell)):
            raise _mdgpu.InputError("[system] atoms: the cell must be finite")
        self.pbc = tuple(pbc)
        self.zero = [not np.any(cell[d]) for d in range(3)]
        for d in range(3):
            if pbc[d] and self.zero[d]:
                # the message of `mdgpu run` for a periodic cell of zero length
                raise _mdgpu.InputError(
                    f"[system] atoms: the cell length along {XYZ[d]} is 0 (lower bound 0): it "
                    "must be finite and positive (periodic along "
                    f"{XYZ[d]} needs a cell vector: set atoms.cell or atoms.pbc)")
        self.free_box = all(self.zero)
        if self.free_box:
            # a cluster without a cell: an orthogonal box around the atoms
            lo = pos.min(axis=0) - 1.0
            span = pos.max(axis=0) - pos.min(axis=0) + 2.0
            self.R = np.eye(3)
            self.flip_c = False
            self.box = (tuple(lo), tuple(span), (0.0, 0.0, 0.0), self.pbc)
            return
        if any(self.zero):
            cell = self._complete(cell, pos)
        self.flip_c = float(np.dot(np.cross(cell[0], cell[1]), cell[2])) < 0
        if self.flip_c:
            cell[2] = -cell[2]
        a, b = cell[0], cell[1]
        lammps_form = a[1] == 0 and a[2] == 0 and b[2] == 0 and a[0] > 0 and b[1] > 0
        if lammps_form:
            self.R = np.eye(3)
            c = cell
        else:
            axb = np.cross(a, b)
            la, lab = np.linalg.norm(a), np.linalg.norm(axb)
            if not (la > 0 and lab > 1e-10 * la * np.linalg.norm(b)):
                raise _mdgpu.InputError(
                    "[system] atoms: degenerate cell: the cell vectors are (nearly) linearly "
                    "dependent")
            e1 = a / la
            e3 = axb / lab
            self.R = np.array([e1, np.cross(e3, e1), e3])
            c = cell @ self.R.T
        self.box = ((0.0, 0.0, 0.0), (c[0][0], c[1][1], c[2][2]), (c[1][0], c[2][0], c[2][1]),
                    self.pbc)

    @staticmethod
    def _complete(cell, pos):
        """Replaces zero cell vectors of non-periodic directions by perpendicular ones that
        span the atoms."""
        cell = cell.copy()
        given = [cell[d] for d in range(3) if np.any(cell[d])]
        for d in range(3):
            if np.any(cell[d]):
                continue
            basis = [g / np.linalg.norm(g) for g in given]
            best = None
            for axis in np.eye(3)[[d, (d + 1) % 3, (d + 2) % 3]]:
                v = axis.copy()
                for u in basis:
                    v -= np.dot(v, u) * u
                if np.linalg.norm(v) > 1e-6:
                    best = v / np.linalg.norm(v)
                    break
            proj = pos @ best
            cell[d] = best * (max(proj.max(), 0.0) + 1.0)
            given.append(cell[d])
        return cell

    def to_engine(self, v):
        """Cartesian rows (positions, velocities) into the engine's frame."""
        v = np.asarray(v, dtype=float)
        return v if self.R is None else v @ self.R.T

    def from_engine(self, v):
        """Engine-frame rows (forces, positions) back into the atoms' frame."""
        return np.asarray(v) @ self.R

    def tensor_from_engine(self, voigt_lammps):
        """(xx yy zz xy xz yz) in the engine frame -> 3x3 in the atoms' frame."""
        xx, yy, zz, xy, xz, yz = voigt_lammps
        m = np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
        return self.R.T @ m @ self.R

    def cell_from_engine(self, box, original_cell):
        """The engine's cell tuple -> ASE cell rows in the atoms' frame."""
        (lx, ly, lz), (xy, xz, yz) = box[1], box[2]
        c = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]]) @ self.R
        if self.flip_c:
            c[2] = -c[2]
        for d in range(3):
            if self.zero[d]:
                c[d] = np.asarray(original_cell)[d]
        return c


def species(atoms):
    """Type names (chemical symbols in order of first appearance), masses, type indices."""
    symbols = atoms.get_chemical_symbols()
    masses = atoms.get_masses()
    names, type_masses, index, types = [], [], {}, []
    for s, m in zip(symbols, masses):
        t = index.get(s)
        if t is None:
            t = index[s] = len(names)
            names.append(s)
            type_masses.append(float(m))
        types.append(t)
    return names, type_masses, types
