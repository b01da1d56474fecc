#include "engine/velocity.hpp"

#include <cmath>

#include "engine/error.hpp"
#include "engine/random.hpp"

namespace md {

double kinetic_temperature(const Structure& s, const Units& units) {
  double mvv = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    mvv += s.type_masses[s.type[i]] * (s.vx[i] * s.vx[i] + s.vy[i] * s.vy[i] + s.vz[i] * s.vz[i]);
  const double dof = 3.0 * static_cast<double>(s.size()) - 3.0;
  return dof > 0 ? mvv * units.mvv2e / (dof * units.boltz) : 0.0;
}

void create_velocities(Structure& s, const Units& units, double temperature, std::uint64_t seed) {
  if (!(temperature >= 0.0)) throw Error("[velocity] temperature must be non-negative");
  const std::size_t n = s.size();
  s.vx.assign(n, 0.0);
  s.vy.assign(n, 0.0);
  s.vz.assign(n, 0.0);
  s.has_velocities = true;
  if (n < 2 || temperature == 0.0) return;
  double px = 0, py = 0, pz = 0, mtot = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double m = s.type_masses[s.type[i]];
    double g0, g1, g2, g3;
    gaussian_pair(seed, static_cast<std::uint64_t>(s.id[i]), 0u, g0, g1);
    gaussian_pair(seed, static_cast<std::uint64_t>(s.id[i]), 1u, g2, g3);
    const double sd = std::sqrt(1.0 / m);  // any scale: fixed by the rescale below
    s.vx[i] = sd * g0;
    s.vy[i] = sd * g1;
    s.vz[i] = sd * g2;
    px += m * s.vx[i];
    py += m * s.vy[i];
    pz += m * s.vz[i];
    mtot += m;
  }
  for (std::size_t i = 0; i < n; ++i) {
    s.vx[i] -= px / mtot;
    s.vy[i] -= py / mtot;
    s.vz[i] -= pz / mtot;
  }
  const double t_now = kinetic_temperature(s, units);
  const double scale = t_now > 0 ? std::sqrt(temperature / t_now) : 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    s.vx[i] *= scale;
    s.vy[i] *= scale;
    s.vz[i] *= scale;
  }
}

}  // namespace md
