// Per-atom model uncertainty on the device (FLARE's GP variance; any potential that can say
// how far an environment is from its training data): the provider interface a potential
// implements, and the monitor the run loop calls every `every` steps, which keeps the per-atom
// std and its max/mean on the device (no host transfer until an output step reads them).
// Dimensionless std (FLARE: sqrt(variance)/sigma). Used by models/flare and the run loop.
#pragma once

#include <functional>
#include <string>

#include "engine/backend.hpp"
#include "engine/views.hpp"

namespace md {

class Section;
class Simulation;
struct Observers;

// A potential that reports a per-atom uncertainty of the environments of its last compute().
class UncertaintyProvider {
 public:
  virtual ~UncertaintyProvider() = default;
  // False when the model has no uncertainty data (e.g. FLARE without l_inv/sparse_desc).
  virtual bool has_uncertainty() const = 0;
  // std_out: device array of sys.n_local values.
  virtual void atom_uncertainty(Context& ctx, const SystemView& sys, const NeighborView& nl,
                                double* std_out) = 0;
};

enum class UncertaintyAction { none, warn, stop, harvest };

// [uncertainty] every = 10, threshold = 0.05, action = "warn" | "stop" | "harvest",
// harvest_file = "uncertain.extxyz".
struct UncertaintySettings {
  long every = 0;  // 0: off
  double threshold = 0.0;
  UncertaintyAction action = UncertaintyAction::warn;
  std::string harvest_file = "uncertain.extxyz";
};
UncertaintySettings read_uncertainty_settings(Section& s);

class UncertaintyMonitor {
 public:
  UncertaintyMonitor(Context& ctx, UncertaintySettings settings);
  const UncertaintySettings& settings() const { return settings_; }
  bool due(long step) const { return settings_.every > 0 && step % settings_.every == 0; }
  // Per-atom std and [max, mean] over local atoms, all on the device (launches only).
  void evaluate(Context& ctx, UncertaintyProvider& p, const SystemView& sys,
                const NeighborView& nl);
  const DeviceArray<double>& atom_std() const { return std_; }
  // [max, mean] of the last evaluation, the largest max since the last read(), and the
  // number of evaluations since then (device; updated by evaluate without the host).
  const double* stats_device() const { return stats_.data(); }
  // Host side, at a sync point: one counted transfer; resets the since-last-read values (a
  // launch). action: settings().action when max_since_read exceeds the threshold.
  struct Reading {
    double max = 0, mean = 0;  // last evaluation
    double max_since_read = 0;
    long evaluations_since_read = 0;
    UncertaintyAction action = UncertaintyAction::none;
  };
  Reading read(Context& ctx);

 private:
  UncertaintySettings settings_;
  DeviceArray<double> std_, stats_;
  Index n_ = -1;
};

// Wires a monitor into a run: evaluate() right after the forces of every settings().every-th
// step (Observers::after_forces, enqueue-only), and at every sync point (Observers::on_sync,
// chained after any existing one) one read() handed to on_reading when an evaluation happened
// since the last read (thermo columns; warn / stop / harvest are the caller's). Keeps
// references to all arguments for the run.
void attach_uncertainty(Observers& obs, UncertaintyMonitor& mon, Context& ctx, Simulation& sim,
                        UncertaintyProvider& provider,
                        std::function<void(long step, const UncertaintyMonitor::Reading&)> on_reading);

}  // namespace md
