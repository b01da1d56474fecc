// Linear/quadratic descriptor model: dense symmetric A unpacked once at load, and the
// launcher of its per-tile kernel (energy and beta = dE/dB per atom).
#include "models/snap/descriptor_model.hpp"

#include <algorithm>

#include "engine/error.hpp"

namespace md {

DescriptorModel::DescriptorModel(Context& ctx, int ndesc, bool quadratic,
                                 const std::vector<double>& coeff, int stride, int nelem,
                                 const std::vector<int>& type_element)
    : ndesc_(ndesc), nelem_(nelem), quadratic_(quadratic) {
  const std::size_t nd = static_cast<std::size_t>(ndesc);
  const std::size_t need = 1 + nd + (quadratic ? nd * (nd + 1) / 2 : 0);
  if (stride < static_cast<int>(need) || coeff.size() < static_cast<std::size_t>(stride) * nelem)
    throw Error("descriptor model: " + std::to_string(coeff.size()) + " coefficients for " +
                std::to_string(nelem) + " elements of " + std::to_string(need));
  std::vector<double> c0(nelem), lin(nelem * nd), quad(quadratic ? nelem * nd * nd : 0);
  for (int e = 0; e < nelem; ++e) {
    const double* c = coeff.data() + static_cast<std::size_t>(e) * stride;
    c0[e] = c[0];
    for (std::size_t k = 0; k < nd; ++k) lin[e * nd + k] = c[1 + k];
    if (!quadratic) continue;
    // packed upper triangle: 1/2 a_kk B_k^2 + a_kl B_k B_l (k < l) = 1/2 B.A.B
    const double* q = c + 1 + nd;
    double* a = quad.data() + e * nd * nd;
    for (std::size_t k = 0; k < nd; ++k)
      for (std::size_t l = k; l < nd; ++l) {
        a[k * nd + l] = *q;
        a[l * nd + k] = *q;
        ++q;
      }
  }
  // tile of atoms per team: the tile's B and A.B in scratch stay within ~32 KB
  tile_ = static_cast<int>(std::clamp<std::size_t>(2048 / std::max<std::size_t>(nd, 1), 1, 8));
  upload(ctx, type_element, type_element_);
  upload(ctx, c0, c0_);
  upload(ctx, lin, lin_);
  if (quadratic) upload(ctx, quad, quad_);
}

DescriptorModelView DescriptorModel::view() const {
  return DescriptorModelView{ndesc_,     nelem_,      type_element_.data(),
                             c0_.data(), lin_.data(), quadratic_ ? quad_.data() : nullptr};
}

std::size_t DescriptorModel::device_bytes() const {
  return sizeof(double) * (c0_.size() + lin_.size() + quad_.size()) +
         sizeof(int) * type_element_.size();
}

void descriptor_model_launch(Context& ctx, const DescriptorModel& model, const int* type, Index n,
                             int blk, const double* b, double* beta, const ForceOut& out,
                             bool eflag) {
  if (!model.quadratic() && !eflag) return;  // linear: beta is the coefficients
  const int tile = model.tile();
  const Index teams = (n + tile - 1) / tile;
  const std::size_t scratch = 2 * sizeof(double) * static_cast<std::size_t>(tile) * model.ndesc();
  int lanes = 32;
  while (lanes < model.ndesc() && lanes < 256) lanes *= 2;
  parallel_for_team(ctx, teams, lanes, scratch,
                    DescriptorModelKernel{model.view(), type, n, tile, blk, b,
                                          model.quadratic() ? beta : nullptr, out, eflag});
}

}  // namespace md
