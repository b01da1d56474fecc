// Trajectory writers selected by `[output] trajectory` (and `dump`): extended XYZ (ASE/OVITO),
// LAMMPS `dump custom` text (id type x y z [vx vy vz] [fx fy fz] [c_pe] [c_std]) and H5MD (HDF5,
// binary). Positions wrapped into the cell (with image flags) or unwrapped (x + image shift).
// Text frames are written as whole records; a resumed run truncates each file to the offset
// its checkpoint recorded. Called by the run pipeline at frame steps (host side).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/structure.hpp"
#include "engine/units.hpp"

namespace md {

struct TrajectorySpec {
  std::string file;
  std::string format;  // "extxyz", "lammps-dump", "h5md"
  long every = 0;
  bool velocities = false, forces = false, energies = false;
  bool unwrapped = false;
  bool uncertainty = false;  // per-atom std of [uncertainty] (extxyz c_std, dump c_std)
};

// Format from an explicit name or the file extension (.xyz/.extxyz, .lammpstrj/.dump,
// .h5/.h5md); empty when unknown.
std::string trajectory_format_for(const std::string& file);

struct Frame {
  const Structure* s;  // positions as on the device (inside the cell up to one skin)
  long step;
  double time, potential_energy;
  const std::vector<double>* fx = nullptr;  // when forces were requested
  const std::vector<double>* fy = nullptr;
  const std::vector<double>* fz = nullptr;
  const std::vector<double>* energy = nullptr;  // per-atom, when requested
  const std::vector<double>* uncertainty = nullptr;  // per-atom std, when requested
};

class TrajectoryWriter {
 public:
  virtual ~TrajectoryWriter() = default;
  virtual void write(const Frame& f) = 0;
  // Resume position for checkpoints: bytes (text formats) or frames (H5MD), after a flush.
  virtual long long position() = 0;
  virtual void sync() = 0;
  const TrajectorySpec& spec() const { return spec_; }

 protected:
  explicit TrajectoryWriter(TrajectorySpec spec) : spec_(std::move(spec)) {}
  TrajectorySpec spec_;
};

// resume_at < 0: a new file; otherwise continue after that position (see position()).
std::unique_ptr<TrajectoryWriter> open_trajectory(const TrajectorySpec& spec, const Units& units,
                                                  long long resume_at = -1);

// Positions wrapped into the periodic cell (image flags updated so wrapped + image shift is
// unchanged), or unwrapped (image shift added, flags zero). Non-periodic dimensions untouched.
Structure wrapped_positions(const Structure& s);
Structure unwrapped_positions(const Structure& s);

// One LAMMPS `dump custom` frame (ITEM: TIMESTEP / NUMBER OF ATOMS / BOX BOUNDS / ATOMS),
// triclinic boxes as "xy xz yz" bounds. Numbers round-trip exactly.
std::string lammps_dump_frame(const Frame& f, const TrajectorySpec& spec);

bool h5md_available();

}  // namespace md
