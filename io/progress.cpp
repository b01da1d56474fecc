#include "io/progress.hpp"

#include <algorithm>

#include <unistd.h>

#include <fmt/format.h>

namespace md {

Progress::Progress(long first, long last, long natoms, double dt, const std::string& day_unit,
                   double per_day_scale, bool enabled, bool live, double interval)
    : first_(first), last_(last), natoms_(natoms), dt_(dt), scale_(per_day_scale),
      unit_(day_unit), enabled_(enabled), live_(live), interval_(interval > 0 ? interval : 30),
      t0_(Clock::now()), last_print_(t0_), last_step_(first) {}

bool Progress::stderr_is_terminal() { return isatty(STDERR_FILENO) == 1; }

static std::string hms(double s) {
  if (!(s >= 0) || s > 1e9) return "--:--:--";
  const long t = static_cast<long>(s + 0.5);
  return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
}

std::string Progress::line(long step, double elapsed) const {
  const long done = step - first_, total = last_ - first_;
  const double pct = total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 100.0;
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;  // steps/s
  const double eta = rate > 0 ? static_cast<double>(last_ - step) / rate : -1.0;
  return fmt::format("step {} / {} ({:.1f}%)  {:.3g} atom-steps/s  {:.4g} {}/day  ETA {}", step,
                     last_, pct, rate * static_cast<double>(natoms_), rate * dt_ * 86400.0 * scale_,
                     unit_, hms(eta));
}

void Progress::update(long step) {
  if (!enabled_) return;
  last_step_ = step;
  const auto now = Clock::now();
  const double since = std::chrono::duration<double>(now - last_print_).count();
  // a live line refreshes twice a second, or more often if a shorter interval was asked for
  if (since < (live_ ? std::min(0.5, interval_) : interval_)) return;
  last_print_ = now;
  const std::string l = line(step, std::chrono::duration<double>(now - t0_).count());
  if (live_) {
    std::fprintf(stderr, "\r\033[K%s", l.c_str());
    shown_ = true;
  } else {
    std::fprintf(stderr, "progress: %s\n", l.c_str());
  }
  std::fflush(stderr);
}

void Progress::clear() {
  if (live_ && shown_) {
    std::fputs("\r\033[K", stderr);
    std::fflush(stderr);
    shown_ = false;
  }
}

void Progress::finish() { clear(); }

}  // namespace md
