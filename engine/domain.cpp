#include "engine/domain.hpp"

#include <cmath>
#include <limits>

#include "engine/error.hpp"

namespace md {

namespace {
bool fits(const std::array<int, 3>& p, const double w[3], double min_width) {
  for (int d = 0; d < 3; ++d)
    if (p[d] > 1 && w[d] / p[d] < min_width) return false;
  return true;
}
}  // namespace

long max_ranks(const Box& box, double min_width) {
  double w[3];
  box.perpendicular_widths(w);
  long m = 1;
  for (int d = 0; d < 3; ++d) m *= std::max(1L, static_cast<long>(std::floor(w[d] / min_width)));
  return m;
}

std::array<int, 3> choose_grid(int ranks, const Box& box, double min_width, std::string* why) {
  double w[3];
  box.perpendicular_widths(w);
  std::array<int, 3> best{0, 0, 0};
  double best_surface = std::numeric_limits<double>::infinity();
  for (int px = 1; px <= ranks; ++px) {
    if (ranks % px) continue;
    for (int py = 1; py <= ranks / px; ++py) {
      if ((ranks / px) % py) continue;
      const std::array<int, 3> p{px, py, ranks / px / py};
      if (!fits(p, w, min_width)) continue;
      // Surface of one sub-domain (faces between sub-domains; a non-periodic axis's outer
      // faces are not shared, so splitting it is counted like any other cut).
      const double a = w[0] / p[0], b = w[1] / p[1], c = w[2] / p[2];
      const double surface = a * b + b * c + a * c;
      if (best[0] == 0 || surface < best_surface * (1.0 - 1e-12)) {
        best_surface = surface;
        best = p;
      }
    }
  }
  if (best[0] == 0 && why)
    *why = "the cell (plane spacings " + std::to_string(w[0]) + ", " + std::to_string(w[1]) +
           ", " + std::to_string(w[2]) + ") allows at most " +
           std::to_string(max_ranks(box, min_width)) + " rank(s): every sub-domain must be at least " +
           std::to_string(min_width) + " thick (half the neighbour-list radius)";
  return best;
}

Decomposition::Decomposition(const Box& box, std::array<int, 3> grid, double import_distance)
    : box_(box), grid_(grid), import_distance_(import_distance) {
  double w[3];
  box.perpendicular_widths(w);
  for (int d = 0; d < 3; ++d) {
    if (grid_[d] < 1) throw Error("internal: a decomposition grid needs positive counts");
    // (slightly widened: host and device roundings of a position must not decide an import)
    margin_[d] = import_distance * (1.0 + 1e-9) / w[d];
    hops_[d] = box.periodic[d] ? static_cast<int>(std::ceil(margin_[d])) + 1 : 0;
    if (hops_[d] > kMaxHops)
      throw Error("the import distance " + std::to_string(import_distance) + " spans " +
                  std::to_string(hops_[d]) + " periodic images of the cell along axis " +
                  "abc"[d] + " (at most " + std::to_string(kMaxHops) +
                  " on several ranks): run on one rank or use a larger cell");
  }
}

std::string Decomposition::too_thin(double min_width) const {
  double w[3];
  box_.perpendicular_widths(w);
  for (int d = 0; d < 3; ++d)
    if (grid_[d] > 1 && w[d] / grid_[d] < min_width)
      return std::to_string(grid_[d]) + " sub-domains along axis " + "abc"[d] + " are " +
             std::to_string(w[d] / grid_[d]) + " thick, less than half the neighbour-list " +
             "radius (" + std::to_string(min_width) + ")";
  return {};
}

void Decomposition::cell_of_rank(int r, int c[3]) const {
  c[0] = r % grid_[0];
  c[1] = (r / grid_[0]) % grid_[1];
  c[2] = r / (grid_[0] * grid_[1]);
}

int Decomposition::owner(const double s[3]) const {
  int c[3];
  for (int d = 0; d < 3; ++d) {
    double v = s[d];
    if (box_.periodic[d]) v -= std::floor(v);  // wrapped atoms: already in [0,1)
    long k = static_cast<long>(std::floor(v * grid_[d]));
    c[d] = static_cast<int>(k < 0 ? 0 : (k >= grid_[d] ? grid_[d] - 1 : k));
  }
  return rank_of_cell(c);
}

void Decomposition::bounds(int r, double lo[3], double hi[3]) const {
  int c[3];
  cell_of_rank(r, c);
  for (int d = 0; d < 3; ++d) {
    lo[d] = static_cast<double>(c[d]) / grid_[d];
    hi[d] = static_cast<double>(c[d] + 1) / grid_[d];
    if (!box_.periodic[d]) {
      if (c[d] == 0) lo[d] = -1e300;
      if (c[d] == grid_[d] - 1) hi[d] = 1e300;
    }
  }
}

bool Decomposition::in_expanded(int r, const double s[3]) const {
  double lo[3], hi[3];
  bounds(r, lo, hi);
  for (int d = 0; d < 3; ++d)
    if (s[d] < lo[d] - margin_[d] || s[d] > hi[d] + margin_[d]) return false;
  return true;
}

}  // namespace md
