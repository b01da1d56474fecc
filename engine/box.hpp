// Simulation cell in LAMMPS' general triclinic convention: edge vectors a = (lx, 0, 0),
// b = (xy, ly, 0), c = (xz, yz, lz) from the origin `lo`, periodic per dimension.
// Lengths in the unit system's distance unit (Å for metal, σ for lj). Used on host and device.
#pragma once

#include <cmath>

#include "engine/backend.hpp"

namespace md {

struct Box {
  double lo[3] = {0, 0, 0};
  double l[3] = {1, 1, 1};  // lx, ly, lz
  double xy = 0, xz = 0, yz = 0;
  int periodic[3] = {1, 1, 1};

  MD_HD bool triclinic() const { return xy != 0.0 || xz != 0.0 || yz != 0.0; }
  MD_HD double volume() const { return l[0] * l[1] * l[2]; }
  MD_HD double hi(int d) const { return lo[d] + l[d]; }

  // Fractional coordinates s of a point r: r - lo = s0 a + s1 b + s2 c.
  MD_HD void to_fractional(double x, double y, double z, double s[3]) const {
    const double dz = z - lo[2];
    s[2] = dz / l[2];
    const double dy = y - lo[1] - s[2] * yz;
    s[1] = dy / l[1];
    s[0] = (x - lo[0] - s[1] * xy - s[2] * xz) / l[0];
  }
  MD_HD void to_cartesian(const double s[3], double r[3]) const {
    r[0] = lo[0] + s[0] * l[0] + s[1] * xy + s[2] * xz;
    r[1] = lo[1] + s[1] * l[1] + s[2] * yz;
    r[2] = lo[2] + s[2] * l[2];
  }
  // Cartesian translation by the lattice vector n0 a + n1 b + n2 c.
  MD_HD void image_shift(int n0, int n1, int n2, double t[3]) const {
    t[0] = n0 * l[0] + n1 * xy + n2 * xz;
    t[1] = n1 * l[1] + n2 * yz;
    t[2] = n2 * l[2];
  }
  // Distance between opposite faces along each fractional direction.
  MD_HD void perpendicular_widths(double w[3]) const {
    const double v = volume();
    // |b x c|, |c x a|, |a x b|
    const double bc0 = l[1] * l[2], bc1 = -xy * l[2], bc2 = xy * yz - l[1] * xz;
    w[0] = v / sqrt(bc0 * bc0 + bc1 * bc1 + bc2 * bc2);
    w[1] = v / (l[0] * sqrt(l[2] * l[2] + yz * yz));
    w[2] = l[2];
  }
};

}  // namespace md
