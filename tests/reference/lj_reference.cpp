#include "reference/lj_reference.hpp"

#include <cmath>

namespace md::ref {

Result lj_bruteforce(const Structure& s, const std::vector<LJPair>& pair, bool shift) {
  const std::size_t n = s.size();
  const int nt = static_cast<int>(s.type_names.size());
  Result r;
  r.fx.assign(n, 0);
  r.fy.assign(n, 0);
  r.fz.assign(n, 0);
  r.e_atom.assign(n, 0);
  double rcmax = 0;
  for (const auto& p : pair) rcmax = std::max(rcmax, p.cutoff);
  // Cell vectors as columns: a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz).
  const Box& b = s.box;
  const double A[3][3] = {{b.l[0], 0, 0}, {b.xy, b.l[1], 0}, {b.xz, b.yz, b.l[2]}};
  // Enough images: any image farther than rcmax from the central cell is skipped by distance.
  double w[3];
  b.perpendicular_widths(w);
  int m[3];
  for (int d = 0; d < 3; ++d) m[d] = b.periodic[d] ? static_cast<int>(std::ceil(rcmax / w[d])) + 1 : 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) {
      const LJPair& p = pair[s.type[i] * nt + s.type[j]];
      for (int n0 = -m[0]; n0 <= m[0]; ++n0)
        for (int n1 = -m[1]; n1 <= m[1]; ++n1)
          for (int n2 = -m[2]; n2 <= m[2]; ++n2) {
            if (i == j && n0 == 0 && n1 == 0 && n2 == 0) continue;
            const double t[3] = {n0 * A[0][0] + n1 * A[1][0] + n2 * A[2][0],
                                 n0 * A[0][1] + n1 * A[1][1] + n2 * A[2][1],
                                 n0 * A[0][2] + n1 * A[1][2] + n2 * A[2][2]};
            // r_ij = r_i - (r_j + t)
            const double dx = s.x[i] - s.x[j] - t[0];
            const double dy = s.y[i] - s.y[j] - t[1];
            const double dz = s.z[i] - s.z[j] - t[2];
            const double rr = std::sqrt(dx * dx + dy * dy + dz * dz);
            if (rr >= p.cutoff) continue;
            const double sr6 = std::pow(p.sigma / rr, 6);
            double e = 4 * p.epsilon * (sr6 * sr6 - sr6);
            if (shift) {
              const double sc6 = std::pow(p.sigma / p.cutoff, 6);
              e -= 4 * p.epsilon * (sc6 * sc6 - sc6);
            }
            // -dE/dr / r
            const double fr = 24 * p.epsilon * (2 * sr6 * sr6 - sr6) / (rr * rr);
            r.fx[i] += fr * dx;
            r.fy[i] += fr * dy;
            r.fz[i] += fr * dz;
            r.e_atom[i] += 0.5 * e;
            r.energy += 0.5 * e;
            r.virial[0] += 0.5 * fr * dx * dx;
            r.virial[1] += 0.5 * fr * dy * dy;
            r.virial[2] += 0.5 * fr * dz * dz;
            r.virial[3] += 0.5 * fr * dx * dy;
            r.virial[4] += 0.5 * fr * dx * dz;
            r.virial[5] += 0.5 * fr * dy * dz;
          }
    }
  }
  return r;
}

}  // namespace md::ref
