// Extended XYZ (the ASE/OVITO convention) input and trajectory output. On input a general
// cell is rotated into LAMMPS' triclinic convention (a along x, b in the xy plane); lengths
// and velocities keep the file's units. Called by run setup (read) and the dump writer.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "engine/structure.hpp"

namespace md {

// Reads frame `frame` (0-based; negative counts from the end, -1 = last) of an extended XYZ
// file. The comment line must hold Lattice="ax ay az bx by bz cx cy cz" (rows are the cell
// vectors a, b, c; non-periodic files without a Lattice are rejected) and may hold
// Properties=... (default species:S:1:pos:R:3; velocities from a velo/vel/velocities:R:3
// column; other columns are skipped), pbc="T T T" (default all periodic) and
// Origin="ox oy oz" (default 0, as written by OVITO).
//
// Rotation: with e1 = a/|a|, e3 = a x b/|a x b|, e2 = e3 x e1, every vector r (cell vectors,
// origin, positions, velocities) becomes (r.e1, r.e2, r.e3). This is a proper rotation, so
// distances, angles and the volume are unchanged; a cell already in LAMMPS form is left
// bit-for-bit unchanged. Left-handed (a x b . c < 0) and degenerate cells are rejected.
// Positions are not wrapped; image flags are zero. Ids are 1..N in file order, types the
// distinct species in order of first appearance, masses from element_mass (0 if unknown).
// Throws InputError(path, line, ...) on malformed input.
Structure read_extxyz(const std::string& path, int frame = -1);

// Appends one frame readable by ase.io.read and OVITO:
//   N
//   Lattice="..." Properties=species:S:1:pos:R:3[:vel:R:3][:forces:R:3][:energies:R:1][:c_std:R:1]
//     pbc="T T T" step=.. time=.. energy=.. [Origin="..." when box.lo is not 0]
//   one line per atom.
// Velocities are written when write_velocities (zeros if s has none); forces (3 per atom,
// x y z interleaved), per-atom energies and per-atom model std (column c_std:R:1) when the
// pointers are non-null. Numbers use the
// shortest form that round-trips exactly. Throws Error for inconsistent array sizes or type
// names that cannot be written (empty or containing whitespace).
void append_extxyz_frame(std::ostream& out, const Structure& s, long step, double time,
                         double potential_energy, bool write_velocities,
                         const std::vector<double>* forces_xyz_interleaved = nullptr,
                         const std::vector<double>* per_atom_energy = nullptr,
                         const std::vector<double>* per_atom_std = nullptr);

}  // namespace md
