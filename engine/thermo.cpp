#include "engine/thermo.hpp"

#include <cmath>
#include <string>

#include "engine/exact_sum.hpp"
#include "engine/safety.hpp"
#include "kernels/launch.hpp"

namespace md {

namespace {
struct ThermoTerms {
  const int* type;
  const double* mass_of_type;
  const double *vx, *vy, *vz;
  const double* energy;
  const double* virial;
  Index n;
  MD_HD ThermoSums operator()(Index i) const {
    ThermoSums s;
    mvv_tensor(mass_of_type[type[i]], vx[i], vy[i], vz[i], s.v);
    s.v[6] = energy[i];
    for (int c = 0; c < 6; ++c) s.v[7 + c] = virial[c * n + i];
    s.v[13] = 1.0;
    return s;
  }
};
}  // namespace

void ThermoCompute::enqueue(Context& ctx, const System& sys, const double* energy,
                            const double* virial) {
  exact_sum<14>(ctx, sys,
               ThermoTerms{sys.type.data(), sys.mass_of_type.data(), sys.vx.data(),
                           sys.vy.data(), sys.vz.data(), energy, virial, sys.n_local()},
               work_.data(), sums_.data());
}

void cell_parameters(const Box& b, double abc[3], double angles[3]) {
  const double a[3] = {b.l[0], 0.0, 0.0}, bb[3] = {b.xy, b.l[1], 0.0}, c[3] = {b.xz, b.yz, b.l[2]};
  auto dot = [](const double* p, const double* q) { return p[0] * q[0] + p[1] * q[1] + p[2] * q[2]; };
  abc[0] = std::sqrt(dot(a, a));
  abc[1] = std::sqrt(dot(bb, bb));
  abc[2] = std::sqrt(dot(c, c));
  const double deg = 180.0 / 3.14159265358979323846;
  angles[0] = std::acos(dot(bb, c) / (abc[1] * abc[2])) * deg;
  angles[1] = std::acos(dot(a, c) / (abc[0] * abc[2])) * deg;
  angles[2] = std::acos(dot(a, bb) / (abc[0] * abc[1])) * deg;
}

ThermoSample ThermoCompute::fetch(Context& ctx, const System& sys, long step, double time) {
  const ThermoSums s = ctx.to_host(sums_, 1)[0];
  // NaN only when a per-atom term was rejected by the exact sums (non-finite or |x| >= 2^62,
  // engine/fixed_point.hpp): a blow-up, handled like a failed safety check (last good state).
  if (std::isnan(s.v[13]))
    throw SafetyError("step " + std::to_string(step) +
                      ": a per-atom energy, virial or kinetic term is non-finite or beyond "
                      "the exact-sum range |x| < 2^62 (atoms flying apart or overlapping?)");
  const Units& u = sys.units();
  ThermoSample t;
  t.step = step;
  t.time = time;
  // All ranks' owned atoms (exact: a sum of ones); n_local() if the sums are not finite.
  t.natoms = std::isfinite(s.v[13]) ? static_cast<Index>(std::llround(s.v[13])) : sys.n_local();
  t.volume = sys.box().volume();
  const double mvv = s.v[0] + s.v[1] + s.v[2];
  t.ke = 0.5 * mvv * u.mvv2e;
  const double dof = 3.0 * static_cast<double>(t.natoms) - 3.0;
  t.temp = dof > 0 ? mvv * u.mvv2e / (dof * u.boltz) : 0.0;
  t.pe = s.v[6];
  t.etotal = t.pe + t.ke;
  for (int c = 0; c < 6; ++c) {
    t.virial[c] = s.v[7 + c];
    t.ptensor[c] = (s.v[c] * u.mvv2e + s.v[7 + c]) / t.volume * u.nktv2p;
  }
  t.press = (dof * u.boltz * t.temp + s.v[7] + s.v[8] + s.v[9]) / 3.0 / t.volume * u.nktv2p;
  t.enthalpy = t.etotal + t.press * t.volume / u.nktv2p;
  t.box = sys.box();
  return t;
}

}  // namespace md
