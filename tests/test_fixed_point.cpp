// Fixed128 / FVec (engine/fixed_point.hpp) and the exact global sums built on them
// (engine/exact_sum.hpp): sums independent of the order of their terms (checked against an
// independent 128-bit integer sum), negative values, the conversion error bound, rejection of
// non-finite and out-of-range terms, and the cross-rank seam (a fake two-rank reducer).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>
#include <vector>

#include "engine/cross_rank.hpp"
#include "engine/exact_sum.hpp"
#include "engine/structure.hpp"
#include "engine/system.hpp"
#include "kernels/launch.hpp"
#include "support.hpp"

namespace md {

namespace {

// The fixed-point value as one signed 128-bit integer (units of 2^-64).
__int128 as_int128(const Fixed128& f) {
  const unsigned __int128 u =
      (static_cast<unsigned __int128>(static_cast<std::uint64_t>(f.hi)) << 64) | f.lo;
  return static_cast<__int128>(u);
}

// Independent reference: trunc(v 2^64) (v 2^64 is exact: a power-of-two scaling).
__int128 reference_fixed(double v) { return static_cast<__int128>(std::ldexp(v, 64)); }

std::vector<double> mixed_values(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> mant(-1.0, 1.0);
  std::uniform_int_distribution<int> expo(-70, 40);
  std::vector<double> v(n);
  for (double& x : v) x = std::ldexp(mant(rng), expo(rng));
  return v;
}

Fixed128 fixed_sum(const std::vector<double>& v, const std::vector<std::size_t>& order) {
  Fixed128 s;
  for (std::size_t k : order) s += to_fixed(v[k]);
  return s;
}

struct ValueTerms {
  const double* v;
  MD_HD DVec<2> operator()(Index i) const {
    DVec<2> r;
    r.v[0] = v[i];
    r.v[1] = -0.5 * v[i];
    return r;
  }
};

// A stand-in for another rank: adds that rank's fixed-point sums (a device array) in place.
struct AddWords {
  Fixed128* values;
  const Fixed128* other;
  int count;
  MD_HD void operator()(Index) const {
    for (int k = 0; k < count; ++k) values[k] += other[k];
  }
};
class FakeTwoRanks : public CrossRankReducer {
 public:
  explicit FakeTwoRanks(DeviceArray<FVec<2>>& other) : other_(other) {}
  int ranks() const override { return 2; }
  void sum(Context& ctx, Fixed128* values, int count) override {
    ++calls;
    parallel_for(ctx, 1, AddWords{values, reinterpret_cast<const Fixed128*>(other_.data()), count});
  }
  void max(Context&, double*, int) override {}  // no neighbour list here
  int calls = 0;

 private:
  DeviceArray<FVec<2>>& other_;
};

Structure atoms_at(const std::vector<double>& x) {
  Structure s;
  s.box = test::cubic_box(10.0);
  s.type_names = {"A"};
  s.type_masses = {1.0};
  for (std::size_t i = 0; i < x.size(); ++i) {
    s.x.push_back(1.0);
    s.y.push_back(1.0);
    s.z.push_back(1.0);
    s.type.push_back(0);
    s.id.push_back(static_cast<std::int64_t>(i + 1));
  }
  return s;
}

}  // namespace

TEST_SUITE("determinism") {
  TEST_CASE("Fixed128: sums are exact and independent of the order of the terms") {
    const std::vector<double> v = mixed_values(5000, 42);
    std::vector<std::size_t> order(v.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    __int128 ref = 0;
    for (double x : v) ref += reference_fixed(x);
    const Fixed128 first = fixed_sum(v, order);
    CHECK(as_int128(first) == ref);
    std::mt19937_64 rng(7);
    for (int trial = 0; trial < 20; ++trial) {
      std::shuffle(order.begin(), order.end(), rng);
      const Fixed128 s = fixed_sum(v, order);
      CHECK(s.hi == first.hi);
      CHECK(s.lo == first.lo);
    }
    // Regrouping (pairwise tree vs left fold) does not change the bits either.
    std::vector<Fixed128> level;
    for (double x : v) level.push_back(to_fixed(x));
    while (level.size() > 1) {
      std::vector<Fixed128> next;
      for (std::size_t k = 0; k + 1 < level.size(); k += 2) {
        Fixed128 a = level[k];
        a += level[k + 1];
        next.push_back(a);
      }
      if (level.size() % 2) next.push_back(level.back());
      level.swap(next);
    }
    CHECK(as_int128(level[0]) == ref);
    // the double sums of the same terms do depend on the order (why this exists)
    double d1 = 0, d2 = 0;
    for (double x : v) d1 += x;
    for (auto it = v.rbegin(); it != v.rend(); ++it) d2 += *it;
    CHECK(d1 != d2);
  }

  TEST_CASE("Fixed128: negative values, conversion error bound, carries") {
    CHECK(to_fixed(-1.5).hi == -2);
    CHECK(to_fixed(-1.5).lo == (std::uint64_t{1} << 63));
    CHECK(to_double(to_fixed(-1.5)) == -1.5);
    Fixed128 s = to_fixed(0.75);
    s += to_fixed(-0.75);
    CHECK(s.hi == 0);
    CHECK(s.lo == 0);
    Fixed128 c = to_fixed(0.5);  // carry from lo into hi
    c += to_fixed(0.5);
    CHECK(c.hi == 1);
    CHECK(c.lo == 0);
    for (double x : mixed_values(20000, 3)) {
      CHECK(as_int128(to_fixed(x)) == reference_fixed(x));
      CHECK(as_int128(to_fixed(-x)) == -as_int128(to_fixed(x)));  // odd-symmetric
      const double back = to_double(to_fixed(x));
      // truncation below 2^-64, then two roundings of the conversion back
      const double bound = std::ldexp(1.0, -64) + 2.3e-16 * std::abs(x);
      if (!(std::abs(back - x) <= bound)) {
        CHECK(std::abs(back - x) <= bound);
        break;
      }
    }
    // exact for |x| >= 2^-11: integers, halves, typical magnitudes
    for (double x : {1.0, -3.0, 0.1, -0.1, 12345.678, 1e12, -4.5e17, 1.0 / 2048})
      CHECK(to_double(to_fixed(x)) == x);
    CHECK(to_double(to_fixed(1e-25)) == 0.0);  // below the resolution
  }

  TEST_CASE("FVec: non-finite or out-of-range terms make the sum NaN") {
    DVec<3> a{};
    a.v[0] = 1.0;
    a.v[1] = 2.0;
    a.v[2] = 3.0;
    DVec<3> bad = a;
    bad.v[1] = std::nan("");
    FVec<3> s = to_fixed(a);
    CHECK(to_double(s).v[2] == 3.0);
    s += to_fixed(bad);
    s += to_fixed(a);
    for (int k = 0; k < 3; ++k) CHECK(std::isnan(to_double(s).v[k]));
    for (double x : {HUGE_VAL, -HUGE_VAL, 5e18, -5e18}) {
      DVec<3> b = a;
      b.v[0] = x;
      CHECK(std::isnan(to_double(to_fixed(b)).v[0]));
    }
    DVec<3> big = a;
    big.v[0] = 4e18;  // inside the range
    CHECK(to_double(to_fixed(big)).v[0] == 4e18);
  }

  EXEC_TEST_CASE("SumRankWords (the NCCL transport's combination of gathered words) is exact") {
    // 5 "ranks" x 7 words, gathered rank-major as ncclAllGather lays them out
    Context ctx(test::backend());
    const int ranks = 5, count = 7;
    const std::vector<double> v = mixed_values(static_cast<std::size_t>(ranks * count), 5);
    std::vector<Fixed128> words(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      const __int128 f = reference_fixed(v[i]);
      words[i].hi = static_cast<std::int64_t>(f >> 64);
      words[i].lo = static_cast<std::uint64_t>(f);
    }
    DeviceArray<Fixed128> gathered(ctx, words.size()), sums(ctx, count);
    ctx.to_device(words, gathered);
    parallel_for(ctx, count, SumRankWords{gathered.data(), sums.data(), ranks, count});
    const std::vector<Fixed128> got = ctx.to_host(sums, count);
    for (int k = 0; k < count; ++k) {
      __int128 ref = 0;
      for (int r = ranks - 1; r >= 0; --r)  // reverse rank order: the same bits
        ref += reference_fixed(v[static_cast<std::size_t>(r * count + k)]);
      CHECK(got[static_cast<std::size_t>(k)].hi == static_cast<std::int64_t>(ref >> 64));
      CHECK(got[static_cast<std::size_t>(k)].lo == static_cast<std::uint64_t>(ref));
    }
  }

  EXEC_TEST_CASE("exact_sum: device sums equal for any atom order, owned atoms only, cross-rank seam") {
    Context ctx(test::backend());
    const std::vector<double> v = mixed_values(3000, 11);
    System sys(ctx, atoms_at(v), Units::lj());
    DeviceArray<double> values(ctx, v.size());
    ctx.to_device(v, values);
    ExactSum<2> sum(ctx);
    DeviceArray<DVec<2>> out(ctx, 1);
    sum(ctx, sys, ValueTerms{values.data()}, out.data());
    const DVec<2> whole = ctx.to_host(out, 1)[0];
    __int128 ref = 0;
    for (double x : v) ref += reference_fixed(x);
    Fixed128 rf;
    rf.hi = static_cast<std::int64_t>(ref >> 64);
    rf.lo = static_cast<std::uint64_t>(ref);
    CHECK(whole.v[0] == to_double(rf));
    // reversed storage order: the same bits
    std::vector<double> r(v.rbegin(), v.rend());
    ctx.to_device(r, values);
    sum(ctx, sys, ValueTerms{values.data()}, out.data());
    const DVec<2> reversed = ctx.to_host(out, 1)[0];
    CHECK(std::memcmp(&whole, &reversed, sizeof whole) == 0);
    // Two "ranks": this one owns the first 1234 atoms (the rest are imported copies and are
    // not summed), the other rank's sum of the remaining atoms comes through the reducer.
    ctx.to_device(v, values);
    const Index owned = 1234;
    std::vector<double> rest(v.begin() + owned, v.end());
    System other_sys(ctx, atoms_at(rest), Units::lj());
    DeviceArray<double> other_values(ctx, rest.size());
    ctx.to_device(rest, other_values);
    DeviceArray<FVec<2>> other(ctx, 1);
    reduce_sum(ctx, other_sys.n_local(), exact_detail::FixedTerms<2, ValueTerms>{ValueTerms{other_values.data()}},
               other.data());
    FakeTwoRanks two(other);
    sys.set_n_owned(owned);
    sys.set_cross_rank(&two);
    sum(ctx, sys, ValueTerms{values.data()}, out.data());
    CHECK(two.calls == 1);
    const DVec<2> split = ctx.to_host(out, 1)[0];
    CHECK(std::memcmp(&whole, &split, sizeof whole) == 0);
    sys.set_cross_rank(nullptr);  // without the other rank: only the owned atoms
    sum(ctx, sys, ValueTerms{values.data()}, out.data());
    CHECK(ctx.to_host(out, 1)[0].v[0] != whole.v[0]);
  }
}

}  // namespace md
