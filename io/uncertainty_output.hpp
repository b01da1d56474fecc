// Run-loop side of the per-atom model uncertainty (`[uncertainty]`, engine/uncertainty.hpp):
// input checks, thermo columns c_std_max / c_std_mean (dimensionless std), and the actions
// warn / harvest (append the frame to an extxyz file) / stop (checkpoint, exit 5). Called by
// io/app.cpp (load_job, run_job).
#pragma once

#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/config.hpp"
#include "engine/error.hpp"
#include "engine/potential.hpp"
#include "engine/simulation.hpp"
#include "engine/uncertainty.hpp"

namespace md {

constexpr int kExitUncertain = 5;  // [uncertainty] action = "stop": checkpoint written

// Reads [uncertainty] of `root` (nullopt when absent; harvest_file resolved against
// input_dir). Refuses a potential that is not an UncertaintyProvider or has no uncertainty
// data (FLARE without l_inv / sparse_desc), naming the table's line.
std::optional<UncertaintySettings> read_uncertainty_input(Section& root, Potential& pot,
                                                          const std::string& input_dir);

// Thrown from the sync point where action = "stop" fired (run_job checkpoints and exits 5).
struct UncertaintyStop : Error {
  long step;
  double max_std;
  UncertaintyStop(long s, double m, const std::string& msg) : Error(msg), step(s), max_std(m) {}
};

// One run's uncertainty: owns the monitor, attaches it to the observers, keeps the last
// reading for the thermo columns and performs the actions at sync points.
class UncertaintyRun {
 public:
  UncertaintyRun(Context& ctx, Simulation& sim, Potential& pot, const UncertaintySettings& s,
                 bool append_harvest);
  // Evaluates the starting state (one counted transfer): values for the first thermo line.
  void start();
  void attach(Observers& obs);
  static std::vector<std::string> thermo_columns() { return {"c_std_max", "c_std_mean"}; }
  // [max, mean] of the last evaluation.
  std::vector<double> thermo_values() const { return {max_, mean_}; }
  long harvested() const { return harvested_; }
  // Per-atom std of the current state (evaluated now, at a sync point; one transfer), in
  // the order of System::download(). Leaves no pending evaluation for the next reading.
  std::vector<double> atom_std_now();

 private:
  void on_reading(long step, const UncertaintyMonitor::Reading& r);
  Context& ctx_;
  Simulation& sim_;
  UncertaintyProvider& provider_;
  UncertaintyMonitor mon_;
  std::ofstream harvest_;
  double max_ = 0, mean_ = 0;
  long harvested_ = 0;
};

}  // namespace md
