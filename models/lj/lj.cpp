// Lennard-Jones: host-side parameter completion and the kernel instantiation.
#include "models/lj/lj.hpp"

#include <algorithm>
#include <cmath>

#include "engine/error.hpp"
#include "kernels/pair_driver.hpp"

namespace md {

static double mix_energy(Mixing m, double ei, double ej, double si, double sj) {
  if (m == Mixing::sixthpower) {
    const double si3 = si * si * si, sj3 = sj * sj * sj;
    return 2.0 * std::sqrt(ei * ej) * si3 * sj3 / (si3 * si3 + sj3 * sj3);
  }
  return std::sqrt(ei * ej);
}

static double mix_distance(Mixing m, double si, double sj) {
  switch (m) {
    case Mixing::geometric: return std::sqrt(si * sj);
    case Mixing::arithmetic: return 0.5 * (si + sj);
    case Mixing::sixthpower: return std::pow(0.5 * (std::pow(si, 6) + std::pow(sj, 6)), 1.0 / 6.0);
  }
  return 0.0;
}

void LJParams::complete(const std::vector<std::string>& type_names) {
  for (int i = 0; i < n_types; ++i)
    for (int j = 0; j < n_types; ++j) {
      LJPairParams& p = pair[i * n_types + j];
      if (p.set) continue;
      const LJPairParams& a = pair[i * n_types + i];
      const LJPairParams& b = pair[j * n_types + j];
      if (!a.set || !b.set)
        throw Error("[potential] lj: no parameters for the pair " + type_names[i] + "-" +
                    type_names[j] + " and none to mix from");
      p.epsilon = mix_energy(mixing, a.epsilon, b.epsilon, a.sigma, b.sigma);
      p.sigma = mix_distance(mixing, a.sigma, b.sigma);
      p.cutoff = mix_distance(mixing, a.cutoff, b.cutoff);
      p.set = true;
    }
}

std::vector<LJCoeff> LJParams::coefficients() const {
  std::vector<LJCoeff> c(pair.size());
  for (std::size_t k = 0; k < pair.size(); ++k) {
    const LJPairParams& p = pair[k];
    const double s6 = std::pow(p.sigma, 6.0), s12 = std::pow(p.sigma, 12.0);
    c[k].lj1 = 48.0 * p.epsilon * s12;
    c[k].lj2 = 24.0 * p.epsilon * s6;
    c[k].lj3 = 4.0 * p.epsilon * s12;
    c[k].lj4 = 4.0 * p.epsilon * s6;
    c[k].cutsq = p.cutoff * p.cutoff;
    c[k].offset = 0.0;
    if (shift && p.cutoff > 0.0) {
      const double ratio = p.sigma / p.cutoff;
      c[k].offset = 4.0 * p.epsilon * (std::pow(ratio, 12.0) - std::pow(ratio, 6.0));
    }
  }
  return c;
}

LJPotential::LJPotential(Context& ctx, LJParams params)
    : params_(std::move(params)), coeff_(ctx, 0) {
  ctx.to_device(params_.coefficients(), coeff_);
  for (const auto& p : params_.pair) cutoff_ = std::max(cutoff_, p.cutoff);
}

void LJPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                          const ForceOut& out, ForceRequest req) {
  compute_pair(ctx, LJEval{coeff_.data(), params_.n_types}, sys, nl, out, req);
}

}  // namespace md
