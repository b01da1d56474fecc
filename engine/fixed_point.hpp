// Order-independent sums: a double is converted to 128-bit two's-complement fixed point with
// 64 fractional bits (resolution 2^-64 ~ 5.4e-20 in the quantity's own units, range +-2^62),
// and fixed-point values add exactly, so a sum has the same bits whatever the order of its
// terms, the number of threads or the number of ranks. Conversion is exact for |v| >= 2^-11
// and truncates below 2^-64 otherwise. A non-finite or out-of-range term is counted in a
// separate word and makes the converted sum NaN. Used by the global thermo/thermostat sums
// (engine/thermo, integrators/) and the cross-rank reducer (engine/cross_rank.hpp).
// (The idea is AMBER's SPFP fixed-point accumulation: Le Grand, Goetz, Walker, Comput. Phys.
// Commun. 184, 374 (2013); here with 128 bits so that no scale has to be chosen per quantity.)
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/backend.hpp"
#include "engine/views.hpp"

namespace md {

struct Fixed128 {
  std::int64_t hi = 0;   // integer part (two's complement with lo)
  std::uint64_t lo = 0;  // fractional part, units of 2^-64

  MD_HD Fixed128& operator+=(const Fixed128& o) {
    const std::uint64_t lo_sum = lo + o.lo;
    const std::int64_t carry = lo_sum < lo ? 1 : 0;
    lo = lo_sum;
    // Unsigned arithmetic for the wrap-around (signed overflow is undefined); results within
    // the documented range never wrap.
    hi = static_cast<std::int64_t>(static_cast<std::uint64_t>(hi) + static_cast<std::uint64_t>(o.hi) +
                                   static_cast<std::uint64_t>(carry));
    return *this;
  }
};

// |v| below this converts; larger or non-finite values are flagged.
constexpr double kFixedMax = 4611686018427387904.0;  // 2^62

MD_HD inline Fixed128 negate(const Fixed128& f) {
  Fixed128 r;
  r.lo = ~f.lo + 1;
  r.hi = static_cast<std::int64_t>(~static_cast<std::uint64_t>(f.hi) + (r.lo == 0 ? 1 : 0));
  return r;
}

// For v >= 0: hi = floor(v), lo = (v - hi) * 2^64 (v - floor(v) is exact for a non-negative
// double, the product by a power of two is exact, the integer conversion truncates only bits
// below 2^-64); negative v is the negation of -v's value, so the conversion is odd-symmetric.
MD_HD inline Fixed128 to_fixed(double v) {
  const double a = v < 0 ? -v : v;
  Fixed128 f;
  const double whole = floor(a);
  f.hi = static_cast<std::int64_t>(whole);
  f.lo = static_cast<std::uint64_t>((a - whole) * 18446744073709551616.0);  // < 2^64
  return v < 0 ? negate(f) : f;
}

// The nearest double up to two roundings (deterministic; relative error ~1e-16 for any
// magnitude above the resolution): the magnitude is converted, then the sign applied.
MD_HD inline double to_double(const Fixed128& f) {
  const bool negative = f.hi < 0;
  const Fixed128 m = negative ? negate(f) : f;
  const double magnitude = static_cast<double>(static_cast<std::uint64_t>(m.hi)) +
                           static_cast<double>(m.lo) * 5.421010862427522170037e-20;  // 2^-64
  return negative ? -magnitude : magnitude;
}

// K fixed-point sums plus the count of rejected (non-finite or out-of-range) terms.
template <int K>
struct FVec {
  Fixed128 v[K];
  Fixed128 rejected;  // count in rejected.lo

  MD_HD static FVec zero() { return FVec{}; }
  MD_HD FVec& operator+=(const FVec& o) {
    for (int k = 0; k < K; ++k) v[k] += o.v[k];
    rejected += o.rejected;
    return *this;
  }
  static constexpr int words() { return K + 1; }  // Fixed128 values in one FVec
};

template <int K>
MD_HD inline FVec<K> to_fixed(const DVec<K>& d) {
  FVec<K> f;
  for (int k = 0; k < K; ++k) {
    const double x = d.v[k];
    if (x == x && x < kFixedMax && x > -kFixedMax) {
      f.v[k] = to_fixed(x);
    } else {
      f.rejected.lo += 1;
    }
  }
  return f;
}

template <int K>
MD_HD inline DVec<K> to_double(const FVec<K>& f) {
  DVec<K> d;
  for (int k = 0; k < K; ++k) d.v[k] = f.rejected.lo != 0 ? NAN : to_double(f.v[k]);
  return d;
}

}  // namespace md
