// The device neighbour list against a brute-force search over all atoms and periodic images:
// equal as sets (neighbour identified by owner atom and image), after the initial build,
// after moves that cross periodic boundaries and trigger a device-decided rebuild, and after
// capacity growth (neighbour capacity and ghost capacity). Also: wrap + image flags preserve
// unwrapped positions, and small moves do not rebuild.
#include <doctest/doctest.h>

#include <array>
#include <cmath>
#include <set>
#include <tuple>

#include "engine/neighbor.hpp"
#include "engine/random.hpp"
#include "engine/system.hpp"
#include "support.hpp"

using namespace md;

namespace {

using Key = std::tuple<int, int, int, int>;  // owner, image n0 n1 n2

std::vector<std::set<Key>> engine_sets(Context& ctx, System& sys, NeighborList& nl) {
  const Index n = sys.n_local();
  const auto num = ctx.to_host(nl.num_neigh);
  const auto neigh = ctx.to_host(nl.neigh);
  const auto owner = ctx.to_host(nl.ghost_owner);
  const auto image = ctx.to_host(nl.ghost_image);
  std::vector<std::set<Key>> out(n);
  for (Index i = 0; i < n; ++i)
    for (int k = 0; k < num[i]; ++k) {
      const int j = neigh[k * n + i];
      Key key = j < n ? Key{j, 0, 0, 0}
                      : Key{owner[j - n], image[3 * (j - n)], image[3 * (j - n) + 1],
                            image[3 * (j - n) + 2]};
      CHECK(out[i].insert(key).second);  // no duplicates
    }
  return out;
}

std::vector<std::set<Key>> brute_sets(const Structure& s, double rlist) {
  const Box& b = s.box;
  double w[3];
  b.perpendicular_widths(w);
  int m[3];
  for (int d = 0; d < 3; ++d) m[d] = b.periodic[d] ? static_cast<int>(std::ceil(rlist / w[d])) + 1 : 0;
  std::vector<std::set<Key>> out(s.size());
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      for (int n0 = -m[0]; n0 <= m[0]; ++n0)
        for (int n1 = -m[1]; n1 <= m[1]; ++n1)
          for (int n2 = -m[2]; n2 <= m[2]; ++n2) {
            if (i == j && !n0 && !n1 && !n2) continue;
            double t[3];
            b.image_shift(n0, n1, n2, t);
            const double dx = s.x[j] + t[0] - s.x[i], dy = s.y[j] + t[1] - s.y[i],
                         dz = s.z[j] + t[2] - s.z[i];
            if (dx * dx + dy * dy + dz * dz < rlist * rlist)
              out[i].insert(Key{static_cast<int>(j), n0, n1, n2});
          }
  return out;
}

void check_equal_to_brute_force(Context& ctx, System& sys, NeighborList& nl) {
  const Structure now = sys.download();
  const auto e = engine_sets(ctx, sys, nl);
  const auto b = brute_sets(now, nl.list_radius());
  REQUIRE(e.size() == b.size());
  std::size_t total = 0, mismatched = 0;
  for (std::size_t i = 0; i < e.size(); ++i) {
    total += b[i].size();
    if (e[i] != b[i]) ++mismatched;
  }
  CHECK(total > 0);
  if (mismatched) {
    for (std::size_t i = 0; i < e.size(); ++i)
      if (e[i] != b[i]) {
        MESSAGE("atom " << i << ": engine " << e[i].size() << " brute " << b[i].size());
        for (const Key& k : b[i])
          if (!e[i].count(k))
            MESSAGE("  missing owner " << std::get<0>(k) << " image " << std::get<1>(k) << " "
                                       << std::get<2>(k) << " " << std::get<3>(k));
        break;
      }
  }
  CHECK(mismatched == 0);
}

// Displaces every atom by a random vector of length up to `amp`.
void shake(Context& ctx, System& sys, double amp, std::uint64_t seed) {
  Structure s = sys.download();
  for (std::size_t i = 0; i < s.size(); ++i) {
    double g0, g1, g2, g3;
    gaussian_pair(seed, i, 1u, g0, g1);
    gaussian_pair(seed, i, 2u, g2, g3);
    s.x[i] += amp * std::tanh(g0);
    s.y[i] += amp * std::tanh(g1);
    s.z[i] += amp * std::tanh(g2);
  }
  ctx.to_device(s.x, sys.x);
  ctx.to_device(s.y, sys.y);
  ctx.to_device(s.z, sys.z);
}

std::array<double, 3> unwrapped(const Structure& s, std::size_t i) {
  double t[3];
  s.box.image_shift(s.ix[i], s.iy[i], s.iz[i], t);
  return {s.x[i] + t[0], s.y[i] + t[1], s.z[i] + t[2]};
}

}  // namespace

TEST_SUITE("neighbor") {
  EXEC_TEST_CASE("equals brute force: cubic, triclinic, small and partly periodic boxes") {
    struct Case {
      Box box;
      int ncell;
      double cutoff, skin;
      int nonperiodic;
    };
    const Case cases[] = {
        {test::cubic_box(6.7), 4, 2.5, 0.3, -1},
        {test::triclinic_box(7.0, 6.5, 6.8, 2.0, -1.5, 1.1), 4, 2.5, 0.3, -1},
        {test::triclinic_box(3.3, 3.5, 3.1, 1.2, 0.4, -1.0), 2, 3.0, 0.5, -1},
        {test::cubic_box(6.7), 4, 2.5, 0.3, 1},
    };
    int index = 0;
    for (const Case& c : cases) {
      CAPTURE(index++);
      Context ctx(test::backend());
      Structure s = test::perturbed_fcc(c.box, c.ncell, 0.1, 11);
      if (c.nonperiodic >= 0) s.box.periodic[c.nonperiodic] = 0;
      System sys(ctx, s, Units::lj());
      NeighborList nl(sys, c.cutoff, c.skin);
      nl.build_now(sys);
      check_equal_to_brute_force(ctx, sys, nl);
    }
  }

  EXEC_TEST_CASE("device-decided rebuilds after boundary crossings keep the list exact") {
    Context ctx(test::backend());
    const Structure s0 = test::perturbed_fcc(test::triclinic_box(6.9, 6.6, 7.2, 1.3, 0.6, -0.9), 4, 0.1, 12);
    System sys(ctx, s0, Units::lj());
    NeighborList nl(sys, 2.5, 0.4);
    nl.build_now(sys);
    const int builds0 = nl.read_status().n_builds;

    // Small move (< skin/2): no rebuild.
    shake(ctx, sys, 0.05, 21);
    nl.update(sys);
    CHECK(nl.read_status().n_builds == builds0);

    // Large moves: rebuild decided on the device; many atoms cross the periodic boundary.
    for (int round = 0; round < 4; ++round) {
      shake(ctx, sys, 1.5, 100 + round);
      nl.update(sys);
      const NeighborStatus st = nl.read_status();
      CHECK(st.n_builds == builds0 + round + 1);
      if (nl.overflowed(st, sys)) {
        nl.grow(sys, st);
        nl.build_now(sys);
      }
      check_equal_to_brute_force(ctx, sys, nl);
    }
    // Wrapped positions + image flags reproduce the unwrapped trajectory of each atom: compare
    // with the same shakes applied to unwrapped coordinates.
    Structure ref = s0;
    ref.ix.assign(ref.size(), 0);
    ref.iy.assign(ref.size(), 0);
    ref.iz.assign(ref.size(), 0);
    Context ctx2(test::backend());
    System plain(ctx2, ref, Units::lj());
    shake(ctx2, plain, 0.05, 21);
    for (int round = 0; round < 4; ++round) shake(ctx2, plain, 1.5, 100 + round);
    const Structure a = sys.download(), b = plain.download();
    double worst = 0;
    bool crossed = false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto ua = unwrapped(a, i), ub = unwrapped(b, i);
      for (int d = 0; d < 3; ++d) worst = std::max(worst, std::abs(ua[d] - ub[d]));
      crossed = crossed || a.ix[i] || a.iy[i] || a.iz[i];
    }
    CHECK(crossed);
    CHECK(worst < 1e-12);
  }

  EXEC_TEST_CASE("neighbour capacity overflow is detected on the device and grown") {
    Context ctx(test::backend());
    const Structure s = test::perturbed_fcc(test::cubic_box(6.7), 4, 0.1, 13);
    System sys(ctx, s, Units::lj());
    NeighborList nl(sys, 2.5, 0.3);
    nl.build_now(sys);
    nl.set_max_neigh(sys, 3);
    nl.update(sys);
    const NeighborStatus st = nl.read_status();
    CHECK(nl.overflowed(st, sys));
    CHECK(st.neigh_needed > 3);
    nl.grow(sys, st);
    CHECK(nl.max_neigh() >= st.neigh_needed);
    nl.build_now(sys);
    CHECK_FALSE(nl.overflowed(nl.read_status(), sys));
    check_equal_to_brute_force(ctx, sys, nl);
  }

  EXEC_TEST_CASE("ghost capacity grows when the box shrinks") {
    Context ctx(test::backend());
    const Structure s = test::perturbed_fcc(test::cubic_box(9.0), 4, 0.05, 14);
    System sys(ctx, s, Units::lj());
    NeighborList nl(sys, 2.5, 0.3);
    nl.build_now(sys);
    const Index cap0 = sys.ghost_capacity();
    // Compress the box and the atoms by 35 %: relatively more atoms lie in the ghost shell.
    Structure c = sys.download();
    const double f = 0.65;
    Box b = c.box;
    for (int d = 0; d < 3; ++d) b.l[d] *= f;
    for (std::size_t i = 0; i < c.size(); ++i) {
      c.x[i] = b.lo[0] + (c.x[i] - c.box.lo[0]) * f;
      c.y[i] = b.lo[1] + (c.y[i] - c.box.lo[1]) * f;
      c.z[i] = b.lo[2] + (c.z[i] - c.box.lo[2]) * f;
    }
    ctx.to_device(c.x, sys.x);
    ctx.to_device(c.y, sys.y);
    ctx.to_device(c.z, sys.z);
    sys.set_box(b);
    nl.set_box(sys);
    nl.request_rebuild();
    nl.update(sys);
    const NeighborStatus st = nl.read_status();
    CHECK(nl.overflowed(st, sys));
    nl.grow(sys, st);
    nl.build_now(sys);
    CHECK(sys.ghost_capacity() > cap0);
    check_equal_to_brute_force(ctx, sys, nl);
  }

  EXEC_TEST_CASE("a cell deformed on the device triggers a rebuild and keeps the list exact") {
    Context ctx(test::backend());
    const Structure s = test::perturbed_fcc(test::triclinic_box(7.0, 6.8, 7.2, 0.9, -0.5, 0.4), 4, 0.08, 15);
    System sys(ctx, s, Units::lj());
    NeighborList nl(sys, 2.5, 0.4);
    nl.build_now(sys);
    int builds = nl.read_status().n_builds;
    // Strain the cell and map atoms affinely, as a barostat does; the neighbour list is not
    // told (no set_box call): the device-side corner check must notice.
    for (double strain : {0.002, 0.03, -0.05}) {
      Structure c = sys.download();
      Box b = c.box;
      b.l[0] *= 1 + strain;
      b.l[1] *= 1 - 0.5 * strain;
      b.xy += strain;
      b.yz -= 0.5 * strain;
      for (std::size_t i = 0; i < c.size(); ++i) {
        double f[3], r[3];
        c.box.to_fractional(c.x[i], c.y[i], c.z[i], f);
        b.to_cartesian(f, r);
        c.x[i] = r[0];
        c.y[i] = r[1];
        c.z[i] = r[2];
      }
      ctx.to_device(c.x, sys.x);
      ctx.to_device(c.y, sys.y);
      ctx.to_device(c.z, sys.z);
      sys.set_box(b);
      nl.update(sys);
      const NeighborStatus st = nl.read_status();
      if (nl.overflowed(st, sys)) {
        nl.grow(sys, st);
        nl.build_now(sys);
      }
      const bool rebuilt = nl.read_status().n_builds > builds;
      builds = nl.read_status().n_builds;
      if (std::abs(strain) > 0.01) CHECK(rebuilt);
      if (rebuilt) {
        check_equal_to_brute_force(ctx, sys, nl);
      } else {  // still valid: every pair within the cutoff is listed
        const auto e = engine_sets(ctx, sys, nl);
        const auto b = brute_sets(sys.download(), nl.cutoff());
        std::size_t missing = 0;
        for (std::size_t i = 0; i < e.size(); ++i)
          for (const Key& k : b[i]) missing += e[i].count(k) ? 0 : 1;
        CHECK(missing == 0);
      }
    }
  }
}
