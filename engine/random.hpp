// Counter-based random numbers (Philox4x32-10, Salmon et al., SC'11): the stream is a pure
// function of (key, counter), e.g. key = seed, counter = (step, atom id, purpose), so results
// do not depend on thread order or executor. Usable on host and device.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/backend.hpp"

namespace md {

struct Philox4x32 {
  std::uint32_t v[4];
};

MD_INLINE Philox4x32 philox4x32(std::uint32_t c0, std::uint32_t c1, std::uint32_t c2,
                                std::uint32_t c3, std::uint32_t k0, std::uint32_t k1) {
  const std::uint64_t M0 = 0xD2511F53u, M1 = 0xCD9E8D57u;
  for (int round = 0; round < 10; ++round) {
    const std::uint64_t p0 = M0 * c0, p1 = M1 * c2;
    const std::uint32_t hi0 = static_cast<std::uint32_t>(p0 >> 32), lo0 = static_cast<std::uint32_t>(p0);
    const std::uint32_t hi1 = static_cast<std::uint32_t>(p1 >> 32), lo1 = static_cast<std::uint32_t>(p1);
    const std::uint32_t n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
    c0 = n0;
    c1 = lo1;
    c2 = n2;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4x32{{c0, c1, c2, c3}};
}

// Uniform in (0, 1) from 32 random bits.
MD_INLINE double uniform_open01(std::uint32_t u) { return (u + 0.5) * (1.0 / 4294967296.0); }

// Two independent standard normal deviates for (seed, a, b, c) by Box-Muller.
MD_INLINE void gaussian_pair(std::uint64_t seed, std::uint64_t a, std::uint32_t b, double& g0,
                             double& g1) {
  const Philox4x32 r = philox4x32(static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(a >> 32),
                                  b, 0u, static_cast<std::uint32_t>(seed),
                                  static_cast<std::uint32_t>(seed >> 32));
  const double u1 = uniform_open01(r.v[0]), u2 = uniform_open01(r.v[1]);
  const double rad = sqrt(-2.0 * log(u1));
  g0 = rad * cos(6.283185307179586 * u2);
  g1 = rad * sin(6.283185307179586 * u2);
}

}  // namespace md
