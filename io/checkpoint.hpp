// Binary checkpoints of the full run state for bitwise-exact restarts on the CPU executor:
// step, cell, positions, velocities, forces, image flags, the neighbour list's build
// reference (positions and cell at the last rebuild, capacities), integrator state
// (thermostat/barostat chains, RNG counters via Integrator::serialize) and the byte/frame
// offsets of the output files. Versioned header (magic, version, atom count, type names,
// units, system and input hashes), FNV-1a checksum trailer; written atomically with the
// previous checkpoint kept as FILE.prev. Called by the run pipeline at sync points.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/box.hpp"
#include "engine/simulation.hpp"

namespace md {

// Version 2 appends the executor and device that wrote the file; version 1 files are still
// read (executor and device unknown).
constexpr std::uint32_t kCheckpointVersion = 2;
constexpr std::uint32_t kCheckpointOldestVersion = 1;

struct OutputOffset {
  std::string path;
  long long position = 0;  // bytes (text files) or frames (H5MD)
};

struct Checkpoint {
  std::uint32_t version = kCheckpointVersion;
  std::string units;
  std::vector<std::string> type_names;
  std::vector<double> type_masses;
  std::uint64_t system_hash = 0, input_hash = 0;
  long long step = 0;
  double dt = 0;
  Box box;
  std::vector<std::int64_t> id;
  std::vector<double> x, y, z, vx, vy, vz, fx, fy, fz;
  std::vector<int> ix, iy, iz;
  // neighbour list build reference
  double cutoff = 0, skin = 0;
  Box box_at_build;
  std::vector<double> x0, y0, z0;
  long long ghost_capacity = 0;
  int max_neigh = 0;
  // integrator
  std::string integrator;
  std::vector<std::uint8_t> integrator_state;
  std::vector<OutputOffset> outputs;
  // executor that wrote it ("cpu", "cuda"; empty in version 1) and its device description
  std::string executor, device;

  std::size_t natoms() const { return x.size(); }
};

// FNV-1a 64-bit hash.
std::uint64_t fnv1a(const void* data, std::size_t n, std::uint64_t h = 1469598103934665603ull);

// Copies the state at a sync point to the host (counted transfers).
Checkpoint capture_checkpoint(Simulation& sim);
std::string encode_checkpoint(const Checkpoint& c);
// Throws InputError(source, 0, ...) for anything but a complete, intact checkpoint of a
// supported version.
Checkpoint decode_checkpoint(const std::string& bytes, const std::string& source);
void write_checkpoint(const std::string& path, const Checkpoint& c);
Checkpoint read_checkpoint(const std::string& path);

// Refuses (InputError naming the checkpoint) a checkpoint of another system: units, atom
// count, ids, types, type names, masses (system_hash), cutoff. Returns a warning (empty when
// none) when the dynamics-relevant input changed (input_hash, timestep) or the executor or
// device differ from the writer's (valid, but not bitwise identical to an uninterrupted run).
std::string check_compatible(const Checkpoint& c, const std::string& path, Simulation& sim,
                             std::uint64_t system_hash, std::uint64_t input_hash);
// Restores the state into the simulation (device), then Simulation::resume.
void restore_checkpoint(const Checkpoint& c, Simulation& sim);

// Restarts (one rank and several, io/app.cpp and io/parallel_checkpoint.cpp):
// The newest intact checkpoint: `path`, else `path`.prev (a run killed while renaming; then
// `warn` gets the reason). `used` names the file read.
Checkpoint load_restart(const std::string& path, std::string& used,
                        const std::function<void(const std::string&)>& warn);
// Checkpoints carry, besides the output offsets, pseudo-entries "#run ID" (the run that
// wrote it) and "#sig PATH" (prefix_signature of the output at its offset, 63 bits).
extern const char* const kCheckpointRunTag;
extern const char* const kCheckpointSigTag;
// The offset recorded for an output (-1: none, or no checkpoint).
long long resume_offset(const Checkpoint* c, const std::string& path);
// Records an output's offset; `bytes` (text files): also its prefix signature.
void record_output(Checkpoint& c, const std::string& path, long long at, bool bytes);
// Refuses a restart whose outputs were rewritten by another run since the checkpoint (their
// prefix up to the recorded offset differs from what the checkpoint's run wrote).
void check_outputs_continue(const Checkpoint& c, const std::string& used);

}  // namespace md
