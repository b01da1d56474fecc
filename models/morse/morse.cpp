// Morse: coefficient precomputation (LAMMPS PairMorse::init_one) and kernel instantiation.
#include "models/morse/morse.hpp"

#include <algorithm>

#include "kernels/pair_driver.hpp"

namespace md {

std::vector<MorseCoeff> MorseParams::coefficients() const {
  std::vector<MorseCoeff> out(pair.size());
  for (std::size_t k = 0; k < pair.size(); ++k) {
    const MorsePairParams& p = pair[k];
    MorseCoeff& c = out[k];
    c.d0 = p.d0;
    c.alpha = p.alpha;
    c.r0 = p.r0;
    c.morse1 = 2.0 * p.d0 * p.alpha;
    c.offset = 0.0;
    if (shift && p.set) {
      const double alpha_dr = -p.alpha * (p.cutoff - p.r0);
      c.offset = p.d0 * (std::exp(2.0 * alpha_dr) - 2.0 * std::exp(alpha_dr));
    }
    c.cutsq = p.set ? p.cutoff * p.cutoff : 0.0;
  }
  return out;
}

MorsePotential::MorsePotential(Context& ctx, MorseParams params)
    : params_(std::move(params)), coeff_(ctx, 0) {
  ctx.to_device(params_.coefficients(), coeff_);
  for (const auto& p : params_.pair)
    if (p.set) cutoff_ = std::max(cutoff_, p.cutoff);
}

void MorsePotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                             const ForceOut& out, ForceRequest req) {
  compute_pair(ctx, MorseEval{coeff_.data(), params_.n_types}, sys, nl, out, req);
}

}  // namespace md
