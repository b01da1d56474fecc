// The `mdgpu run` pipeline: read and validate input.toml, build the structure, move it to
// the chosen executor, construct potential/integrator/simulation, run, write outputs and
// print a summary. Throws InputError/Error with one-line messages; the CLI prints them.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <toml++/toml.h>

#include "engine/backend.hpp"
#include "engine/integrator.hpp"
#include "engine/potential.hpp"
#include "engine/safety.hpp"
#include "engine/simulation.hpp"
#include "engine/structure.hpp"
#include "engine/system.hpp"
#include "engine/uncertainty.hpp"
#include "integrators/minimize.hpp"
#include "io/output_files.hpp"
#include "io/parallel_config.hpp"
#include "io/trajectory.hpp"

namespace md {

struct RunOverrides {
  std::string backend;               // empty: from input (default "auto")
  std::optional<long> steps;         // --steps
  bool quiet = false;                // no terminal thermo/summary/progress
  std::string restart;               // --restart CHECKPOINT
  double progress_interval = 30;     // seconds between plain progress lines (not a terminal)
  bool handle_signals = false;       // SIGINT/SIGTERM stop cleanly (the CLI sets it)
  long long max_atoms = 2000000000;  // larger systems are refused (int neighbour indices)
  std::optional<bool> cuda_graphs;   // --cuda-graphs / --no-cuda-graphs ([run] cuda_graphs)
  std::string report;                // --report FILE ([output] report; io/report.hpp)
};

// Everything a run needs, built from an input file (also used by tests).
struct Job {
  std::string input_file;
  Units units = Units::metal();
  std::unique_ptr<Context> ctx;
  Structure initial;
  std::unique_ptr<System> system;
  std::unique_ptr<Potential> potential;
  std::unique_ptr<Integrator> integrator;
  std::unique_ptr<Simulation> sim;
  double dt = 0;
  long steps = 0;
  long check_every = 1000;
  bool cuda_graphs = false;  // [run] cuda_graphs: capture and replay steady steps
  long sort_every = 0;       // [neighbor] sort_every: spatial sort period in steps (0: never)
  // outputs
  long thermo_every = 0;
  std::string thermo_file;
  bool thermo_norm = false;
  std::vector<TrajectorySpec> trajectories;
  std::string data_file;  // write_data at the end
  std::string report_file;  // [output] report / --report: HTML run report (io/report.hpp)
  // [minimize]: FIRE before the dynamics (new runs only, not when continuing a checkpoint)
  bool minimize = false;
  FireOptions minimize_options;
  std::string checkpoint_file;  // [output] checkpoint file (default: INPUT.ckpt, written on stops)
  long checkpoint_every = 0;    // 0: only when stopped (and at the end when a file was given)
  bool checkpoint_at_end = false;
  std::optional<UncertaintySettings> uncertainty;  // [uncertainty] (io/uncertainty_output.hpp)
  // [safety]
  bool safety = true;
  SafetyLimits safety_limits;
  std::string last_good_file;   // written when a safety check fails
  // identity of the run for checkpoints
  std::uint64_t system_hash = 0;  // ids, types, type names, masses, periodicity, units
  std::uint64_t input_hash = 0;   // [potential], [neighbor], [run] without steps
  std::string restart_file;       // resolved --restart
  // inputs (for the output-set check)
  std::string structure_file;                // [system] data / extxyz
  std::vector<std::string> potential_files;  // every file the potential read
  RunFiles files;                            // identities of all inputs and outputs
  ParallelSettings parallel;                 // [parallel] (several ranks, io/parallel_config)
};

Job load_job(const std::string& input_file, const RunOverrides& ov);
// load_job on a parsed input (the Python package, io/python): input_file names the source in
// messages and anchors relative paths ("" : none, the working folder); with `atoms` the
// structure is given and the input must have no [system].
Job load_job_from(const toml::table& root, const std::string& input_file,
                  const RunOverrides& ov, const Structure* atoms);
// Runs a loaded job with its outputs; returns the process exit code.
// Exit codes: 0 done, 3 stopped by a signal (checkpoint written), 4 a safety check failed,
// 5 [uncertainty] action "stop" fired (checkpoint written), 6 several ranks: a rank stopped
// responding ([parallel] timeout; MPI_Abort from engine/comm_mpi.cpp).
int run_job(Job& job, const RunOverrides& ov);
// `mdgpu check`: validates a loaded job without running (neighbour build, overlap check,
// energies at the start, output folders, restart compatibility). Prints a summary; throws
// on errors. Returns the number of warnings.
int check_job(Job& job, const RunOverrides& ov);

}  // namespace md
