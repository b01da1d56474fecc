// The `mdgpu run` pipeline: read and validate input.toml, build the structure, move it to
// the chosen executor, construct potential/integrator/simulation, run, write outputs and
// print a summary. Throws InputError/Error with one-line messages; the CLI prints them.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "engine/backend.hpp"
#include "engine/potential.hpp"
#include "engine/simulation.hpp"
#include "engine/system.hpp"
#include "integrators/integrator.hpp"
#include "io/structure.hpp"

namespace md {

struct RunOverrides {
  std::string backend;               // empty: from input (default "auto")
  std::optional<long> steps;         // --steps
  bool quiet = false;                // no terminal thermo/summary
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
  // outputs
  long thermo_every = 0;
  std::string thermo_file;
  bool thermo_norm = false;
  long traj_every = 0;
  std::string traj_file;
  bool traj_velocities = false;
  bool traj_forces = false;
  std::string data_file;  // write_data at the end
};

Job load_job(const std::string& input_file, const RunOverrides& ov);
// Runs a loaded job with its outputs; returns the process exit code.
int run_job(Job& job, const RunOverrides& ov);

}  // namespace md
