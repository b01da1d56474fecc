// DeePMD building blocks on the device: deepmd-kit's activation names mapped to kernels/nn.hpp
// (which holds the activations and dense layers), the tabulated (compressed) embedding and the
// se_e2_a smooth switch.
// Dimensionless except the switch (lengths in Å). Called by the fused kernel in deepmd_kernel.hpp.
#pragma once

#include <cmath>

#include "engine/backend.hpp"
#include "kernels/basis.hpp"
#include "kernels/nn.hpp"

namespace md::deepmd {

// deepmd-kit's activation names (deepmd/dpmodel/utils/network.py get_activation_fn) as
// kernels/nn.hpp activation ids: "gelu"/"gelu_tf" is the tanh approximation, "softplus" the
// threshold-free log(1 + e^z).
enum Activation : int {
  act_linear = nn::act_linear,  // "linear" / "none"
  act_tanh = nn::act_tanh,
  act_gelu = nn::act_gelu_tanh,
  act_relu = nn::act_relu,
  act_relu6 = nn::act_relu6,
  act_softplus = nn::act_softplus_log,
  act_sigmoid = nn::act_sigmoid,
  act_silu = nn::act_silu,
};

using nn::activate;
using nn::LayerDesc;
using nn::NetDesc;

// Tabulated embedding net (model compression, as deepmd-kit's `dp compress`): per net, the
// n_out outputs as piecewise quintic polynomials of the input s on a fine grid [lo, hi)
// (n0 intervals of step0) and a coarse grid [hi, hi2) (n1 intervals of step1). Interval k
// holds 6 coefficients per output, c[(k * n_out + m) * 6 + p], of G_m(x_k + u) = sum_p c_p u^p.
// Built on the host by build_table (deepmd_tabulate.cpp).
struct TableDesc {
  double lo, hi, hi2, step0, step1;
  int n0, n1;
  Index offset;  // first coefficient of this net; -1: not tabulated
};

// Interval k and offset u of s in the table; false when s is outside [lo, hi2) (the caller
// then evaluates the net itself).
MD_INLINE bool table_locate(const TableDesc& t, double s, int& k, double& u) {
  if (t.offset < 0 || !(s >= t.lo) || !(s < t.hi2)) return false;
  if (s < t.hi) {
    k = static_cast<int>((s - t.lo) / t.step0);
    if (k > t.n0 - 1) k = t.n0 - 1;
    u = s - (t.lo + k * t.step0);
  } else {
    int k1 = static_cast<int>((s - t.hi) / t.step1);
    if (k1 > t.n1 - 1) k1 = t.n1 - 1;
    u = s - (t.hi + k1 * t.step1);
    k = t.n0 + k1;
  }
  return true;
}

// Output m of interval k at offset u: G, and dG/ds when dG != nullptr.
MD_INLINE void table_value(const TableDesc& t, const double* coef, int n_out, int k, double u,
                           int m, double* G, double* dG) {
  const double* c = coef + t.offset + (static_cast<Index>(k) * n_out + m) * 6;
  *G = c[0] + u * (c[1] + u * (c[2] + u * (c[3] + u * (c[4] + u * c[5]))));
  if (dG) *dG = c[1] + u * (2 * c[2] + u * (3 * c[3] + u * (4 * c[4] + u * 5 * c[5])));
}

// All outputs: G[m] and (dG != nullptr) dG[m]/ds for m < n_out; false (nothing written) when
// s is outside the table.
MD_INLINE bool table_eval(const TableDesc& t, const double* coef, int n_out, double s, double* G,
                          double* dG) {
  int k;
  double u;
  if (!table_locate(t, s, k, u)) return false;
  for (int m = 0; m < n_out; ++m) table_value(t, coef, n_out, k, u, m, G + m, dG ? dG + m : nullptr);
  return true;
}

// deepmd-kit's smooth switch: w = 1 - 10u^3 + 15u^4 - 6u^5, u = clip((r - rs)/(rc - rs), 0, 1);
// dw = dw/dr. The basis library's quintic cutoff (kernels/basis.hpp).
MD_INLINE double smooth_switch(double r, double rs, double rc, double& dw) {
  return basis::cutoff_quintic(r, rs, rc, dw);
}

}  // namespace md::deepmd
