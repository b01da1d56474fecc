// Safety checks (see engine/safety.hpp). The error path (rare) downloads the state to name
// the offending atoms; the normal path costs one reduction and one small transfer per sync.
#include "engine/safety.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "kernels/safety.hpp"

namespace md {

namespace {

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Up to `max` ids of local atoms for which bad(i) holds, as "1, 7, 9 (and 3 more)".
template <class Pred>
std::string ids_where(const std::vector<std::int64_t>& id, Pred bad, std::size_t max = 8) {
  std::string out;
  std::size_t count = 0;
  for (std::size_t i = 0; i < id.size(); ++i) {
    if (!bad(i)) continue;
    if (count < max) out += (count ? ", " : "") + std::to_string(id[i]);
    ++count;
  }
  if (count > max) out += " (and " + std::to_string(count - max) + " more)";
  return out;
}

}  // namespace

SafetyMonitor::SafetyMonitor(Context& ctx, const SafetyLimits& limits, double skin)
    : ctx_(&ctx), limits_(limits), status_(ctx, 1), counts_(ctx, 1), closest2_(ctx, 1) {
  const double lim = limits.max_displacement > 0 ? limits.max_displacement : skin;
  limit2_ = lim > 0 ? lim * lim : 1e300;
  parallel_for(ctx, 1, ResetSafety{status_.data()});
}

SafetyMonitor::~SafetyMonitor() = default;

void SafetyMonitor::track_step(NeighborList& nl, long step) {
  parallel_for(*ctx_, 1, TrackDisplacement{nl.status.data(), status_.data(), step, limit2_});
}

void SafetyMonitor::reset_tracking() { parallel_for(*ctx_, 1, ResetSafety{status_.data()}); }

void SafetyMonitor::check(System& sys, long step) {
  const Index n = sys.n_local();
  reduce_sum(*ctx_, n,
             CountBadAtoms{sys.box_device(), sys.x.data(), sys.y.data(), sys.z.data(),
                           sys.vx.data(), sys.vy.data(), sys.vz.data(), sys.fx.data(),
                           sys.fy.data(), sys.fz.data()},
             counts_.data());
  const DVec<2> c = ctx_->to_host(counts_, 1)[0];
  const SafetyStatus st = ctx_->to_host(status_, 1)[0];
  const std::string at = "step " + std::to_string(step) + ": ";
  if (c.v[0] > 0 || c.v[1] > 0) {
    const std::size_t un = static_cast<std::size_t>(n);
    const auto id = ctx_->to_host(sys.id, un);
    const auto x = ctx_->to_host(sys.x, un), y = ctx_->to_host(sys.y, un),
               z = ctx_->to_host(sys.z, un);
    if (c.v[0] > 0) {
      const auto vx = ctx_->to_host(sys.vx, un), vy = ctx_->to_host(sys.vy, un),
                 vz = ctx_->to_host(sys.vz, un), fx = ctx_->to_host(sys.fx, un),
                 fy = ctx_->to_host(sys.fy, un), fz = ctx_->to_host(sys.fz, un);
      auto bad_pos = [&](std::size_t i) {
        return !std::isfinite(x[i]) || !std::isfinite(y[i]) || !std::isfinite(z[i]);
      };
      auto bad_any = [&](std::size_t i) {
        return bad_pos(i) || !std::isfinite(vx[i]) || !std::isfinite(vy[i]) ||
               !std::isfinite(vz[i]) || !std::isfinite(fx[i]) || !std::isfinite(fy[i]) ||
               !std::isfinite(fz[i]);
      };
      throw SafetyError(at + "non-finite positions, velocities or forces (NaN/Inf) for " +
                        std::to_string(static_cast<long>(c.v[0])) + " atom(s), ids " +
                        ids_where(id, bad_any) +
                        " (timestep too large, overlapping atoms or a bad potential?)");
    }
    const Box& box = sys.pull_box();
    auto lost = [&](std::size_t i) {
      double s[3];
      box.to_fractional(x[i], y[i], z[i], s);
      for (int d = 0; d < 3; ++d)
        if (!box.periodic[d] && (s[d] < 0.0 || s[d] > 1.0)) return true;
      return false;
    };
    throw SafetyError(at + std::to_string(static_cast<long>(c.v[1])) +
                      " atom(s) left the box through a non-periodic boundary, ids " +
                      ids_where(id, lost) +
                      " (enlarge the box in that direction or make it periodic)");
  }
  if (st.worst_step >= 0) {
    throw SafetyError("step " + std::to_string(st.worst_step) + ": an atom moved " +
                      num(std::sqrt(st.worst_disp2)) +
                      " length units since the last neighbour build, more than the limit " +
                      num(std::sqrt(limit2_)) +
                      (limits_.max_displacement > 0 ? " ([safety] max_displacement)"
                                                    : " (the skin)") +
                      " within one step (timestep too large or forces blowing up?)");
  }
}

void SafetyMonitor::check_overlaps(System& sys, const NeighborList& nl, long step) {
  if (!(limits_.min_distance > 0)) return;
  const Index n = sys.n_local();
  reduce(*ctx_, n, ClosestNeighbor2{sys.view(), nl.view()},
         MinOp{}, 1e300, closest2_.data());
  const double r2 = ctx_->to_host(closest2_, 1)[0];
  const double lim2 = limits_.min_distance * limits_.min_distance;
  if (r2 >= lim2) return;
  // Error path: find the pair on the host.
  const std::size_t un = static_cast<std::size_t>(n);
  const auto id = ctx_->to_host(sys.id, un);
  const std::size_t total = sys.x.size();
  const auto x = ctx_->to_host(sys.x, total), y = ctx_->to_host(sys.y, total),
             z = ctx_->to_host(sys.z, total);
  const auto neigh = ctx_->to_host(nl.neigh), count = ctx_->to_host(nl.num_neigh);
  const auto owner = ctx_->to_host(nl.ghost_owner);
  double best = 1e300;
  std::int64_t a = 0, b = 0;
  for (std::size_t i = 0; i < un; ++i)
    for (int k = 0; k < count[i]; ++k) {
      const int j = neigh[static_cast<std::size_t>(k) * un + i];
      const double dx = x[j] - x[i], dy = y[j] - y[i], dz = z[j] - z[i];
      const double d2 = dx * dx + dy * dy + dz * dz;
      if (d2 < best) {
        best = d2;
        a = id[i];
        b = id[static_cast<std::size_t>(j) < un ? static_cast<std::size_t>(j)
                                                : static_cast<std::size_t>(owner[j - n])];
      }
    }
  throw SafetyError("step " + std::to_string(step) + ": atoms " + std::to_string(a) + " and " +
                    std::to_string(b) + " are " + num(std::sqrt(best)) +
                    " length units apart, closer than [safety] min_distance = " +
                    num(limits_.min_distance) + " (overlapping atoms in the input?)");
}

}  // namespace md
