// ZBL: coefficients and switching polynomial (LAMMPS PairZBL::set_coeff, e_zbl, dzbldr,
// d2zbldr2; https://docs.lammps.org/pair_zbl.html) and the kernel instantiation.
#include "models/zbl/zbl.hpp"

#include "kernels/pair_driver.hpp"

namespace md {

static double d2edr2(const ZBLCoeff& c, double r) {
  using namespace zbl;
  const double rinv = 1.0 / r;
  const double e1 = std::exp(-c.d1a * r), e2 = std::exp(-c.d2a * r), e3 = std::exp(-c.d3a * r),
               e4 = std::exp(-c.d4a * r);
  double sum = c1 * e1;
  sum += c2 * e2;
  sum += c3 * e3;
  sum += c4 * e4;
  double sum_p = c1 * e1 * c.d1a;
  sum_p += c2 * e2 * c.d2a;
  sum_p += c3 * e3 * c.d3a;
  sum_p += c4 * e4 * c.d4a;
  double sum_pp = c1 * e1 * c.d1a * c.d1a;
  sum_pp += c2 * e2 * c.d2a * c.d2a;
  sum_pp += c3 * e3 * c.d3a * c.d3a;
  sum_pp += c4 * e4 * c.d4a * c.d4a;
  return c.zze * (sum_pp + 2.0 * sum_p * rinv + 2.0 * sum * rinv * rinv) * rinv;
}

std::vector<ZBLCoeff> ZBLParams::coefficients() const {
  std::vector<ZBLCoeff> out(static_cast<std::size_t>(n_types) * n_types);
  for (int i = 0; i < n_types; ++i)
    for (int j = 0; j < n_types; ++j) {
      ZBLCoeff& c = out[i * n_types + j];
      const double ainv = (std::pow(z[i], zbl::pzbl) + std::pow(z[j], zbl::pzbl)) / zbl::a0;
      c.d1a = zbl::d1 * ainv;
      c.d2a = zbl::d2 * ainv;
      c.d3a = zbl::d3 * ainv;
      c.d4a = zbl::d4 * ainv;
      c.zze = z[i] * z[j] * qqr2e;
      // Switching: E_sw(t) = A/3 t^3 + B/4 t^4 + C with t = r - inner, chosen so that E, E'
      // and E'' of the sum vanish at t_c = outer - inner.
      const double tc = outer - inner;
      const double fc = zbl::energy(c, outer);
      const double fcp = zbl::dedr(c, outer);
      const double fcpp = d2edr2(c, outer);
      const double swa = (-3.0 * fcp + tc * fcpp) / (tc * tc);
      const double swb = (2.0 * fcp - tc * fcpp) / (tc * tc * tc);
      const double swc = -fc + (tc / 2.0) * fcp - (tc * tc / 12.0) * fcpp;
      c.sw1 = swa;
      c.sw2 = swb;
      c.sw3 = swa / 3.0;
      c.sw4 = swb / 4.0;
      c.sw5 = swc;
      c.cut_inner = inner;
      c.cut_innersq = inner * inner;
      c.cutsq = outer * outer;
    }
  return out;
}

ZBLPotential::ZBLPotential(Context& ctx, ZBLParams params)
    : params_(std::move(params)), coeff_(ctx, 0) {
  ctx.to_device(params_.coefficients(), coeff_);
}

void ZBLPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                           const ForceOut& out, ForceRequest req) {
  compute_pair(ctx, ZBLEval{coeff_.data(), params_.n_types}, sys, nl, out, req);
}

}  // namespace md
