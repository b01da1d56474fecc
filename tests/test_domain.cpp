// The decomposition geometry of several-rank runs (engine/domain.hpp), without MPI: the grid
// of least surface (cubic, elongated, triclinic, too many ranks), fractional ownership (one
// owner per atom, inside its sub-domain), and completeness of the imports against a brute
// force over atom images: every image within the import distance of an owned atom is
// imported by the owner's rank, including several hops in a cell thinner than the distance
// and in a sheared (triclinic) cell. Also the serial communicator.
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <set>
#include <tuple>

#include "engine/comm.hpp"
#include "engine/domain.hpp"

using namespace md;

namespace {

Box make_box(double lx, double ly, double lz, double xy = 0, double xz = 0, double yz = 0) {
  Box b;
  b.l[0] = lx;
  b.l[1] = ly;
  b.l[2] = lz;
  b.xy = xy;
  b.xz = xz;
  b.yz = yz;
  return b;
}

// Every (atom, image) within distance D of some atom owned by rank r must be imported by r
// (or be that rank's own atom at image 0). Brute force over images up to `hops`.
void check_imports(const Box& box, std::array<int, 3> grid, double dist, int natoms,
                   unsigned seed) {
  const Decomposition dec(box, grid, dist);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<std::array<double, 3>> s(static_cast<std::size_t>(natoms)), r(s.size());
  std::vector<int> owner(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    for (int d = 0; d < 3; ++d) s[i][static_cast<std::size_t>(d)] = u(rng);
    box.to_cartesian(s[i].data(), r[i].data());
    owner[i] = dec.owner(s[i].data());
    double lo[3], hi[3];
    dec.bounds(owner[i], lo, hi);
    for (int d = 0; d < 3; ++d) {
      CHECK(s[i][static_cast<std::size_t>(d)] >= lo[d]);
      CHECK(s[i][static_cast<std::size_t>(d)] < hi[d]);
    }
  }
  using Key = std::tuple<int, std::size_t, int, int, int>;  // rank, atom, image
  std::set<Key> imported;
  for (std::size_t j = 0; j < s.size(); ++j)
    dec.for_each_import(s[j].data(), owner[j], [&](int rank, int n0, int n1, int n2) {
      imported.insert(Key{rank, j, n0, n1, n2});
    });
  const int h[3] = {dec.hops(0) + 1, dec.hops(1) + 1, dec.hops(2) + 1};
  long needed = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      for (int n2 = -h[2]; n2 <= h[2]; ++n2)
        for (int n1 = -h[1]; n1 <= h[1]; ++n1)
          for (int n0 = -h[0]; n0 <= h[0]; ++n0) {
            if (j == i && n0 == 0 && n1 == 0 && n2 == 0) continue;
            double t[3];
            box.image_shift(n0, n1, n2, t);
            const double dx = r[j][0] + t[0] - r[i][0], dy = r[j][1] + t[1] - r[i][1],
                         dz = r[j][2] + t[2] - r[i][2];
            if (dx * dx + dy * dy + dz * dz >= dist * dist) continue;
            ++needed;
            const bool local = owner[j] == owner[i] && n0 == 0 && n1 == 0 && n2 == 0;
            if (!local && !imported.count(Key{owner[i], j, n0, n1, n2})) {
              FAIL_CHECK("rank " << owner[i] << " misses atom " << j << " image " << n0 << " "
                                 << n1 << " " << n2);
              return;
            }
          }
  CHECK(needed > 0);
}

}  // namespace

TEST_SUITE("domain") {
  TEST_CASE("grid of least surface") {
    std::string why;
    CHECK(choose_grid(8, make_box(10, 10, 10), 1.0, &why) == std::array<int, 3>{2, 2, 2});
    CHECK(choose_grid(1, make_box(10, 10, 10), 1.0, &why) == std::array<int, 3>{1, 1, 1});
    CHECK(choose_grid(4, make_box(40, 10, 10), 1.0, &why) == std::array<int, 3>{4, 1, 1});
    CHECK(choose_grid(2, make_box(10, 10, 30), 1.0, &why) == std::array<int, 3>{1, 1, 2});
    // strongly sheared cell: the plane spacing across a is 1000 / |b x c| = 7.43 < 10, so two
    // ranks cut along b or c (surface 161) rather than a (174)
    CHECK(choose_grid(2, make_box(10, 10, 10, 9.0), 1.0, &why)[0] == 1);
    // a thin axis is not cut below min_width
    CHECK(choose_grid(4, make_box(10, 10, 1.5), 1.0, &why) == std::array<int, 3>{2, 2, 1});
  }

  TEST_CASE("more ranks than the cell allows") {
    std::string why;
    CHECK(choose_grid(7, make_box(10, 10, 10), 4.0, &why) == std::array<int, 3>{0, 0, 0});
    CHECK(why.find("at most 8") != std::string::npos);
    CHECK(max_ranks(make_box(10, 10, 10), 4.0) == 8);
    CHECK(choose_grid(3, make_box(10, 10, 10), 4.0, &why) == std::array<int, 3>{0, 0, 0});
  }

  TEST_CASE("ownership and import margins") {
    const Box box = make_box(12, 12, 12);
    const Decomposition dec(box, {2, 3, 1}, 3.0);
    CHECK(dec.ranks() == 6);
    CHECK(dec.margin(0) == doctest::Approx(0.25).epsilon(1e-8));
    CHECK(dec.hops(0) == 2);
    const double s[3] = {0.75, 0.5, 0.1};
    const int r = dec.owner(s);
    int c[3];
    dec.cell_of_rank(r, c);
    CHECK(c[0] == 1);
    CHECK(c[1] == 1);
    CHECK(c[2] == 0);
    // 0.99 along a: imported by the c0 = 0 ranks as image -1 (0.99 - 1 = -0.01 > -0.25)
    const double edge[3] = {0.99, 0.5, 0.5};
    std::set<std::tuple<int, int, int, int>> got;
    dec.for_each_import(edge, dec.owner(edge),
                        [&](int rank, int n0, int n1, int n2) { got.insert({rank, n0, n1, n2}); });
    const int left[3] = {0, 1, 0};
    CHECK(got.count({dec.rank_of_cell(left), -1, 0, 0}) == 1);
    // a non-periodic axis has no images and open edge sub-domains
    Box open = box;
    open.periodic[2] = 0;
    const Decomposition dec2(open, {1, 1, 2}, 3.0);
    CHECK(dec2.hops(2) == 0);
    const double below[3] = {0.5, 0.5, -0.4};
    CHECK(dec2.owner(below) == 0);
    const double above[3] = {0.5, 0.5, 1.7};
    CHECK(dec2.owner(above) == 1);
  }

  TEST_CASE("imports are complete: cubic, thin, triclinic") {
    check_imports(make_box(12, 12, 12), {2, 2, 1}, 3.0, 80, 1);
    // a cell thinner than the import distance along z: several periodic hops
    check_imports(make_box(10, 10, 1.7), {2, 1, 1}, 2.8, 60, 2);
    // sub-domains thinner than the distance (4 slabs of 2.1 with D = 2.8)
    check_imports(make_box(8.4, 8.4, 8.4), {1, 1, 4}, 2.8, 80, 3);
    // sheared cell
    check_imports(make_box(10, 9, 8, 2.1, -1.3, 1.5), {2, 2, 2}, 3.5, 80, 4);
    // a distance wider than the cell (11.9: many-body 2 cutoff + skin + margin) on a small cell
    check_imports(make_box(7.2, 7.2, 7.2, 1.0, 0.5, -0.7), {1, 2, 2}, 11.9, 30, 5);
  }

  TEST_CASE("serial communicator") {
    SerialComm c;
    CHECK(c.size() == 1);
    std::vector<std::vector<std::uint8_t>> send{{1, 2, 3}};
    CHECK(c.all_to_all(send) == send);
    CHECK(c.all_gather({4, 5}).size() == 1);
    CHECK_FALSE(c.any(false));
    Fixed128 f = to_fixed(1.5);
    c.sum(&f, 1);
    CHECK(to_double(f) == 1.5);
  }
}
