// Reads and writes LAMMPS data files for atom_style atomic: header counts, box (with the
// optional xy xz yz tilt line), Masses, Atoms (with optional image flags) and Velocities.
// Values stay in the file's unit system. Called by run setup (read_data) and output writers.
#pragma once

#include <string>
#include <vector>

#include "engine/structure.hpp"

namespace md {

// Reads an atom_style atomic data file. Atoms keep the file's order (any id order).
// Type names: `type_names` when non-empty (its size must equal the file's atom types), else
// an `Atom Type Labels` section, else `# Name` comments after the Masses lines, else
// "1", "2", .... Types without a Masses line get mass 0. The box is periodic in all
// dimensions (data files carry no periodicity). `Pair Coeffs`/`PairIJ Coeffs` sections are
// skipped. Throws InputError(path, line, ...) for every malformed input.
Structure read_lammps_data(const std::string& path, const std::vector<std::string>& type_names);

// Writes `s` as an atom_style atomic data file that LAMMPS' read_data accepts: counts, box
// (tilt line when triclinic), Masses with `# Name` comments (omitted when any mass is not
// positive, since LAMMPS rejects such masses), `Atoms # atomic` with image flags and, when
// s.has_velocities, Velocities. Numbers use the shortest form that round-trips exactly.
// `units_comment` (e.g. "units metal") goes into the title line. Writes path + ".tmp" and
// renames it over `path`. Throws InputError(path, 0, ...) when the file cannot be written.
void write_lammps_data(const std::string& path, const Structure& s,
                       const std::string& units_comment);

}  // namespace md
