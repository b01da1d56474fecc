// DeePMD building blocks on the device: deepmd-kit's activation functions with their
// derivatives, dense layers y = phi(x W + b) * idt + shortcut(x) evaluated forward (keeping
// phi'(z)*idt for the backward pass) and backward, the tabulated (compressed) embedding and the
// se_e2_a smooth switch.
// Dimensionless except the switch (lengths in Å). Called by the fused kernel in deepmd_kernel.hpp.
#pragma once

#include <cmath>

#include "engine/backend.hpp"

namespace md::deepmd {

// Activation ids; names as in deepmd-kit's get_activation_fn (deepmd/dpmodel/utils/network.py).
enum Activation : int {
  act_linear = 0,  // "linear" / "none"
  act_tanh,
  act_gelu,  // "gelu" / "gelu_tf": deepmd-kit's tanh approximation
  act_relu,
  act_relu6,
  act_softplus,
  act_sigmoid,
  act_silu,
};

// Precision-preserving math (float stays float on both executors).
MD_INLINE double m_tanh(double x) { return tanh(x); }
MD_INLINE float m_tanh(float x) { return tanhf(x); }
MD_INLINE double m_exp(double x) { return exp(x); }
MD_INLINE float m_exp(float x) { return expf(x); }
MD_INLINE double m_log(double x) { return log(x); }
MD_INLINE float m_log(float x) { return logf(x); }

// phi(z); dphi = phi'(z).
template <class T>
MD_INLINE T activate(int kind, T z, T& dphi) {
  switch (kind) {
    case act_tanh: {
      const T t = m_tanh(z);
      dphi = T(1) - t * t;
      return t;
    }
    case act_gelu: {
      // 0.5 z (1 + m_tanh(k (z + 0.044715 z^3))), k = sqrt(2/pi)
      const T k = T(0.7978845608028654);
      const T c = T(0.044715);
      const T t = m_tanh(k * (z + c * z * z * z));
      dphi = T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * k * (T(1) + T(3) * c * z * z);
      return T(0.5) * z * (T(1) + t);
    }
    case act_relu:
      dphi = z > T(0) ? T(1) : T(0);
      return z > T(0) ? z : T(0);
    case act_relu6:
      dphi = (z > T(0) && z < T(6)) ? T(1) : T(0);
      return z < T(0) ? T(0) : (z > T(6) ? T(6) : z);
    case act_softplus: {
      // numerically stable form, as deepmd-kit: z>0: z + m_log(1+m_exp(-z)), else m_log(1+m_exp(z))
      const T e = m_exp(z > T(0) ? -z : z);
      dphi = z > T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      return z > T(0) ? z + m_log(T(1) + e) : m_log(T(1) + e);
    }
    case act_sigmoid: {
      const T s = T(1) / (T(1) + m_exp(-z));
      dphi = s * (T(1) - s);
      return s;
    }
    case act_silu: {
      const T s = T(1) / (T(1) + m_exp(-z));
      dphi = s + z * s * (T(1) - s);
      return z * s;
    }
    default:
      dphi = T(1);
      return z;
  }
}

// One dense layer. w: row-major [n_in x n_out] at offset w; b, idt offsets or -1.
// shortcut: 0 none, 1 identity (n_out == n_in), 2 doubled input (n_out == 2 n_in).
struct LayerDesc {
  int n_in, n_out, shortcut, act;
  Index w, b, idt;
  Index dphi;  // offset of this layer's phi'*idt in the network's backward store
};

struct NetDesc {
  int first_layer, n_layers;
  int n_in, n_out;
  int dphi_size;  // sum of n_out over layers
};

// Forward through `net`: input in a[0..n_in), returns the buffer holding the output (a or b).
// dphi (may be null) receives phi'(z)*idt per layer for net_backward.
template <class T>
MD_INLINE T* net_forward(const NetDesc& net, const LayerDesc* layers, const T* p, T* a, T* b,
                         T* dphi) {
  T* x = a;
  T* y = b;
  for (int l = 0; l < net.n_layers; ++l) {
    const LayerDesc& L = layers[net.first_layer + l];
    const T* w = p + L.w;
    for (int o = 0; o < L.n_out; ++o) {
      T z = L.b >= 0 ? p[L.b + o] : T(0);
      for (int i = 0; i < L.n_in; ++i) z += x[i] * w[static_cast<Index>(i) * L.n_out + o];
      T d;
      T v = activate(L.act, z, d);
      if (L.idt >= 0) {
        v *= p[L.idt + o];
        d *= p[L.idt + o];
      }
      if (L.shortcut == 1) v += x[o];
      if (L.shortcut == 2) v += x[o % L.n_in];
      y[o] = v;
      if (dphi) dphi[L.dphi + o] = d;
    }
    T* t = x;
    x = y;
    y = t;
  }
  return x;
}

// Backward: dE/d(output) in a[0..n_out); returns the buffer holding dE/d(input).
template <class T>
MD_INLINE T* net_backward(const NetDesc& net, const LayerDesc* layers, const T* p, const T* dphi,
                          T* a, T* b) {
  T* g = a;
  T* h = b;
  for (int l = net.n_layers - 1; l >= 0; --l) {
    const LayerDesc& L = layers[net.first_layer + l];
    const T* w = p + L.w;
    for (int i = 0; i < L.n_in; ++i) {
      T s = T(0);
      const T* wi = w + static_cast<Index>(i) * L.n_out;
      for (int o = 0; o < L.n_out; ++o) s += wi[o] * (g[o] * dphi[L.dphi + o]);
      if (L.shortcut == 1) s += g[i];
      if (L.shortcut == 2) s += g[i] + g[i + L.n_in];
      h[i] = s;
    }
    T* t = g;
    g = h;
    h = t;
  }
  return g;
}

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

// G[m] and (dG != nullptr) dG[m]/ds for m < n_out from the table; false (nothing written) when
// s is outside [lo, hi2) -- the caller then evaluates the net itself.
MD_INLINE bool table_eval(const TableDesc& t, const double* coef, int n_out, double s, double* G,
                          double* dG) {
  if (t.offset < 0 || !(s >= t.lo) || !(s < t.hi2)) return false;
  int k;
  double u;
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
  const double* c = coef + t.offset + static_cast<Index>(k) * n_out * 6;
  for (int m = 0; m < n_out; ++m, c += 6) {
    G[m] = c[0] + u * (c[1] + u * (c[2] + u * (c[3] + u * (c[4] + u * c[5]))));
    if (dG) dG[m] = c[1] + u * (2 * c[2] + u * (3 * c[3] + u * (4 * c[4] + u * 5 * c[5])));
  }
  return true;
}

// deepmd-kit's smooth switch: w = 1 - 10u^3 + 15u^4 - 6u^5, u = clip((r - rs)/(rc - rs), 0, 1);
// dw = dw/dr.
MD_INLINE double smooth_switch(double r, double rs, double rc, double& dw) {
  if (r <= rs) {
    dw = 0.0;
    return 1.0;
  }
  if (r >= rc) {
    dw = 0.0;
    return 0.0;
  }
  const double u = (r - rs) / (rc - rs);
  const double u2 = u * u;
  dw = (-30.0 * u2 + 60.0 * u2 * u - 30.0 * u2 * u2) / (rc - rs);
  return u2 * u * (-6.0 * u2 + 15.0 * u - 10.0) + 1.0;
}

}  // namespace md::deepmd
