// Run progress for the CLI: on a terminal a live line rewritten in place (step, percent,
// atom-steps/s, ns/day or tau/day, ETA) at most twice a second; otherwise a plain line every
// `interval` seconds; nothing when quiet. Host-only, no device access: called after steps.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>

namespace md {

class Progress {
 public:
  // steps [first, last]; dt in time units; per_day_scale converts time units/day to the
  // shown unit (ps -> ns: 1e-3).
  Progress(long first, long last, long natoms, double dt, const std::string& day_unit,
           double per_day_scale, bool enabled, bool live, double interval);
  void update(long step);
  // Erases the live line (before other terminal output) and redraws it later.
  void clear();
  void finish();
  static bool stderr_is_terminal();

 private:
  std::string line(long step, double elapsed) const;
  using Clock = std::chrono::steady_clock;
  long first_, last_, natoms_;
  double dt_, scale_;
  std::string unit_;
  bool enabled_, live_;
  double interval_;
  Clock::time_point t0_, last_print_;
  bool shown_ = false;
  long last_step_ = 0;
};

}  // namespace md
