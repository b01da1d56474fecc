// The [parallel] input section (several ranks: `mpirun -np N mdgpu run input.toml`) and the
// decomposed run's driver: validates what several ranks support, chooses the sub-domain grid,
// runs engine/distributed.hpp, writes thermo (rank 0) and the final data file gathered in
// input order. Keys: grid = [px, py, pz] (optional; default: the grid of least sub-domain
// surface). Called by io/app.cpp (load_job_from reads the section, run_job hands over).
#pragma once

#include <array>
#include <optional>
#include <string>

#include "engine/config.hpp"
#include "engine/domain.hpp"

namespace md {

struct Job;
struct RunOverrides;
class Potential;

struct ParallelSettings {
  std::optional<std::array<int, 3>> grid;
  std::string file;  // where [parallel] grid was given (messages)
  long line = 0;
  // [parallel] transport: "host" (staged through host copies), "direct" (device buffers to
  // the transport: the CPU executor) or "auto" (direct where available, else host).
  std::string transport = "auto";
  double margin = 0;  // [parallel] margin: extra import distance (0: max(skin, cutoff) for pair
                      // styles, max(skin, cutoff/2) otherwise)
  // [parallel] timeout: seconds a rank may wait in one collective before the job stops with
  // "a rank stopped responding" (Comm::timeout; 0: wait forever).
  double timeout = 600;
};

// Reads [parallel] from the input's root section (absent: defaults).
ParallelSettings read_parallel_section(Section& root);

// The import distance for a potential: Potential::import_distance (engine/potential.hpp):
// cutoff + skin for pair styles, 2 cutoff + skin for many-body models (an owned atom's force
// needs its neighbours' environments within the cutoff), 2 L cutoff + skin for message-passing
// models of L layers; an overlay takes its widest term's. DistributedRun adds the margin.
double import_distance(const Potential& pot, double skin);

// The grid for `ranks` ranks: the given one (checked: product, thickness) or the automatic
// choice; throws InputError naming the file and key, or what limits the rank count.
std::array<int, 3> resolve_grid(const ParallelSettings& p, int ranks, const Box& box,
                                double list_radius, const std::string& input_file);

// Runs a loaded job on the ranks of md::world() (> 1). Returns the exit code.
int run_parallel_job(Job& job, const RunOverrides& ov);

}  // namespace md
