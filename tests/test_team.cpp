// Team kernels (kernels/team.hpp): lane loops cover every index exactly once in both lane
// orders, team scratch and team_sum give the in-order answer, and a kernel with a planted
// dependency between lanes of one loop (a race on a GPU) is caught by the shuffled order.
#include <doctest/doctest.h>

#include <algorithm>
#include <numeric>
#include <vector>

#include "kernels/team.hpp"
#include "support.hpp"

namespace md {
namespace {

// Each team fills scratch with f(k) = item + k / 8 across a lane loop, then sums it.
struct ScratchSum {
  int width;
  double* out;
  MD_HD void operator()(const Team& t) const {
    double* s = t.scratch_as<double>();
    team_for(t, width, [&](int k) { s[k] = static_cast<double>(t.item) + 0.125 * k; });
    team_barrier(t);
    const double total = team_sum<double>(t, width, [&](int k) { return s[k]; });
    team_single(t, [&] { out[t.item] = total; });
  }
};

// Planted bug: iteration k reads iteration k-1's result inside the same lane loop (a prefix
// sum written as a lane loop). In order it happens to work; on a GPU it is a race.
struct PlantedLaneRace {
  int width;
  double* out;
  MD_HD void operator()(const Team& t) const {
    double* s = t.scratch_as<double>();
    team_for(t, width, [&](int k) { s[k] = 1.0; });
    team_barrier(t);
    team_for(t, width, [&](int k) {
      if (k > 0) s[k] += s[k - 1];
    });
    team_barrier(t);
    team_single(t, [&] { out[t.item] = s[width - 1]; });
  }
};

// Records the order in which one team's lane loop visits its indices.
struct VisitOrder {
  int n;
  int* order;
  MD_HD void operator()(const Team& t) const {
    int pos = 0;
    team_for(t, n, [&](int k) { order[t.item * n + pos++] = k; });
  }
};

}  // namespace

TEST_SUITE("team") {
// The lane order (in order or shuffled) is the CPU executor's strict mode: the two tests of it
// run on the CPU executor only.
TEST_CASE("team: lane loops visit every index once, in order or permuted") {
  for (bool shuffle : {false, true}) {
    Context ctx(Backend::cpu);
    ctx.set_lane_shuffle(shuffle);
    for (int n : {1, 2, 3, 6, 7, 16, 30, 64, 97, 210}) {
      const Index items = 5;
      DeviceArray<int> order(ctx, static_cast<std::size_t>(items * n));
      parallel_for_team(ctx, items, 64, 0, VisitOrder{n, order.data()});
      const auto host = ctx.to_host(order);
      bool permuted = false;
      for (Index it = 0; it < items; ++it) {
        std::vector<int> seen(host.begin() + it * n, host.begin() + (it + 1) * n);
        for (int k = 0; k < n; ++k) permuted |= seen[k] != k;
        std::sort(seen.begin(), seen.end());
        std::vector<int> expect(static_cast<std::size_t>(n));
        std::iota(expect.begin(), expect.end(), 0);
        CHECK(seen == expect);
      }
      if (n > 1) CHECK(permuted == shuffle);
    }
  }
}

EXEC_TEST_CASE("team: scratch and team_sum give the in-order result in both lane orders") {
  for (bool shuffle : {false, true}) {  // the lane order is the CPU executor's strict mode
    Context ctx(test::backend());
    ctx.set_lane_shuffle(shuffle);
    const int width = 40;
    const Index items = 100;
    DeviceArray<double> out(ctx, items);
    parallel_for_team(ctx, items, 64, width * sizeof(double), ScratchSum{width, out.data()});
    const auto host = ctx.to_host(out);
    for (Index i = 0; i < items; ++i)
      CHECK(host[i] == doctest::Approx(width * static_cast<double>(i) + 0.125 * width * (width - 1) / 2)
                           .epsilon(1e-15));
  }
}

TEST_CASE("team: a planted dependency between lanes of one loop is caught by the shuffled order") {
  const int width = 33;
  const Index items = 4;
  std::vector<double> result[2];
  for (int shuffle : {0, 1}) {
    Context ctx(Backend::cpu);
    ctx.set_lane_shuffle(shuffle != 0);
    DeviceArray<double> out(ctx, items);
    parallel_for_team(ctx, items, 64, width * sizeof(double), PlantedLaneRace{width, out.data()});
    result[shuffle] = ctx.to_host(out);
  }
  // In order the race is invisible (the prefix sum comes out right) ...
  for (double v : result[0]) CHECK(v == width);
  // ... the strict mode exposes it: at least one team gets a different answer.
  bool differs = false;
  for (Index i = 0; i < items; ++i) differs |= result[1][i] != width;
  CHECK(differs);
}

}  // TEST_SUITE

}  // namespace md
