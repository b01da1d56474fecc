// Dense neural networks on the device: activation functions with their derivatives, and dense
// layers y = phi(x W + b) * idt + shortcut(x) forward (keeping phi'(z) * idt) and backward, in
// two shapes: per-thread (one row, caller buffers) for narrow nets, and team (rows x features
// in team scratch, lanes across output features) for wide ones. Dimensionless. Used by DeePMD
// (models/deepmd); meant for SchNet's filter nets and HIP-NN's interaction layers as well.
//
// Weights live in one flat array p (float or double); a layer is a LayerDesc of offsets into it
// (w row-major [n_in x n_out], optional bias b and timestep idt), a net a NetDesc (a range of
// layers). T is the type of weights and activations, A the type dot products accumulate in
// (A = double with T = float: float weights with double accumulation).
//
// Team shape (kernels/team.hpp rules): activations of `rows` rows in scratch, row r at
// x[r * ld] (ld >= the widest layer); every lane calls the function (it contains barriers);
// the caller puts a team_barrier between writing the input rows and the call. In one layer
// lane (r, o) computes output o of row r (forward) or input gradient i of row r (backward),
// with exactly the operations of the per-thread shape, so both shapes give identical numbers.
#pragma once

#include <cmath>
#include <cstddef>
#include <type_traits>

#include "kernels/team.hpp"

namespace md::nn {

// Activation ids. Where libraries differ, the variant is named.
enum Activation : int {
  act_linear = 0,        // z
  act_tanh,              // tanh z
  act_gelu_tanh,         // 0.5 z (1 + tanh(sqrt(2/pi) (z + 0.044715 z^3))) (deepmd-kit "gelu")
  act_relu,              // max(z, 0); derivative 0 at z = 0
  act_relu6,             // min(max(z, 0), 6); derivative 0 at 0 and 6
  act_softplus_log,      // log(1 + e^z) for every z (deepmd-kit's numpy form, no threshold)
  act_sigmoid,           // 1 / (1 + e^-z)
  act_silu,              // z sigmoid(z)
  act_gelu_erf,          // 0.5 z (1 + erf(z / sqrt 2)) (exact GELU, torch's default)
  act_softplus,          // torch.nn.Softplus (beta 1, threshold 20): z above 20
  act_shifted_softplus,  // softplus(z) - ln 2 (SchNet), torch threshold form
  act_count
};

// Precision-preserving math (float stays float on both executors).
MD_INLINE double m_tanh(double x) { return tanh(x); }
MD_INLINE float m_tanh(float x) { return tanhf(x); }
MD_INLINE double m_exp(double x) { return exp(x); }
MD_INLINE float m_exp(float x) { return expf(x); }
MD_INLINE double m_log(double x) { return log(x); }
MD_INLINE float m_log(float x) { return logf(x); }
MD_INLINE double m_erf(double x) { return erf(x); }
MD_INLINE float m_erf(float x) { return erff(x); }

// phi(z); dphi = phi'(z).
template <class T>
MD_INLINE T activate(int kind, T z, T& dphi) {
  switch (kind) {
    case act_tanh: {
      const T t = m_tanh(z);
      dphi = T(1) - t * t;
      return t;
    }
    case act_gelu_tanh: {
      const T k = T(0.7978845608028654);  // sqrt(2/pi)
      const T c = T(0.044715);
      const T t = m_tanh(k * (z + c * z * z * z));
      dphi = T(0.5) * (T(1) + t) + T(0.5) * z * (T(1) - t * t) * k * (T(1) + T(3) * c * z * z);
      return T(0.5) * z * (T(1) + t);
    }
    case act_gelu_erf: {
      const T e = m_erf(z * T(0.7071067811865476));             // 1/sqrt(2)
      const T g = T(0.3989422804014327) * m_exp(T(-0.5) * z * z);  // 1/sqrt(2 pi)
      dphi = T(0.5) * (T(1) + e) + z * g;
      return T(0.5) * z * (T(1) + e);
    }
    case act_relu:
      dphi = z > T(0) ? T(1) : T(0);
      return z > T(0) ? z : T(0);
    case act_relu6:
      dphi = (z > T(0) && z < T(6)) ? T(1) : T(0);
      return z < T(0) ? T(0) : (z > T(6) ? T(6) : z);
    case act_softplus_log: {
      // stable form: z > 0: z + log(1 + e^-z), else log(1 + e^z)
      const T e = m_exp(z > T(0) ? -z : z);
      dphi = z > T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      return z > T(0) ? z + m_log(T(1) + e) : m_log(T(1) + e);
    }
    case act_softplus:
    case act_shifted_softplus: {
      const T shift = kind == act_shifted_softplus ? T(0.6931471805599453) : T(0);
      if (z > T(20)) {
        dphi = T(1);
        return z - shift;
      }
      const T e = m_exp(z > T(0) ? -z : z);
      dphi = z > T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
      return (z > T(0) ? z + m_log(T(1) + e) : m_log(T(1) + e)) - shift;
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

// One dense layer: offsets of w (row-major [n_in x n_out]), b and idt in the weight array
// (-1: absent). shortcut: 0 none, 1 identity (n_out == n_in), 2 doubled input
// (n_out == 2 n_in, y += [x, x]). dphi: offset of this layer's phi'(z) * idt in the net's
// backward store (the sum of n_out of the layers before it).
struct LayerDesc {
  int n_in, n_out, shortcut, act;
  Index w, b, idt;
  Index dphi;
};

// A net: layers [first_layer, first_layer + n_layers) of a LayerDesc array.
struct NetDesc {
  int first_layer, n_layers;
  int n_in, n_out;
  int dphi_size;  // sum of n_out over the layers (size of the backward store)
  int width;      // widest layer input or output
};

// ------------------------------------------------------------------ one output / one input

// Output o of layer L for input row x; *dphi_o = phi'(z) * idt.
template <class T, class A = T>
MD_INLINE T dense_output(const LayerDesc& L, const T* p, const T* x, int o, T* dphi_o) {
  const T* w = p + L.w;
  A z = L.b >= 0 ? A(p[L.b + o]) : A(0);
  for (int i = 0; i < L.n_in; ++i) z += A(x[i]) * A(w[static_cast<Index>(i) * L.n_out + o]);
  T d;
  T v = activate(L.act, T(z), d);
  if (L.idt >= 0) {
    v *= p[L.idt + o];
    d *= p[L.idt + o];
  }
  if (L.shortcut == 1) v += x[o];
  if (L.shortcut == 2) v += x[o % L.n_in];
  *dphi_o = d;
  return v;
}

// dE/dx_i of layer L from g = dE/dy and the layer's stored phi'*idt (dphi[o]).
template <class T, class A = T>
MD_INLINE T dense_input_grad(const LayerDesc& L, const T* p, const T* g, const T* dphi, int i) {
  const T* wi = p + L.w + static_cast<Index>(i) * L.n_out;
  A s = A(0);
  for (int o = 0; o < L.n_out; ++o) s += A(wi[o]) * A(g[o] * dphi[o]);
  if (L.shortcut == 1) s += A(g[i]);
  if (L.shortcut == 2) s += A(g[i]) + A(g[i + L.n_in]);
  return T(s);
}

// ------------------------------------------------------------------ per-thread shape

// y = layer(x) for one row; dphi (may be null) receives phi'(z) * idt per output.
template <class T, class A = T>
MD_INLINE void dense_forward(const LayerDesc& L, const T* p, const T* x, T* y, T* dphi) {
  for (int o = 0; o < L.n_out; ++o) {
    T d;
    y[o] = dense_output<T, A>(L, p, x, o, &d);
    if (dphi) dphi[o] = d;
  }
}

// dE/dx from dE/dy (g) for one row.
template <class T, class A = T>
MD_INLINE void dense_backward(const LayerDesc& L, const T* p, const T* g, const T* dphi, T* h) {
  for (int i = 0; i < L.n_in; ++i) h[i] = dense_input_grad<T, A>(L, p, g, dphi, i);
}

// Forward through `net`: input in a[0..n_in); a and b hold net.width values each. Returns the
// buffer holding the output (a or b). dphi (may be null): net.dphi_size values for backward.
template <class T, class A = T>
MD_INLINE T* forward(const NetDesc& net, const LayerDesc* layers, const T* p, T* a, T* b,
                     T* dphi) {
  T* x = a;
  T* y = b;
  for (int l = 0; l < net.n_layers; ++l) {
    const LayerDesc& L = layers[net.first_layer + l];
    dense_forward<T, A>(L, p, x, y, dphi ? dphi + L.dphi : nullptr);
    T* s = x;
    x = y;
    y = s;
  }
  return x;
}

// Backward: dE/d(output) in a[0..n_out), dphi from forward; returns the buffer holding
// dE/d(input) (a or b).
template <class T, class A = T>
MD_INLINE T* backward(const NetDesc& net, const LayerDesc* layers, const T* p, const T* dphi,
                      T* a, T* b) {
  T* g = a;
  T* h = b;
  for (int l = net.n_layers - 1; l >= 0; --l) {
    const LayerDesc& L = layers[net.first_layer + l];
    dense_backward<T, A>(L, p, g, dphi + L.dphi, h);
    T* s = g;
    g = h;
    h = s;
  }
  return g;
}

// ------------------------------------------------------------------ team shape

// body(r, c) for r < rows, c < cols over the team's lanes (c fastest: neighbouring lanes take
// neighbouring features, so weight reads coalesce). Plain nested loops on the CPU executor
// (permuted as one lane loop in strict mode).
template <class Body>
MD_INLINE void team_for_rows(const Team& t, int rows, int cols, Body&& body) {
#if !defined(__CUDA_ARCH__)
  if (t.shuffle == 0) {
    for (int r = 0; r < rows; ++r)
      for (int c = 0; c < cols; ++c) body(r, c);
    return;
  }
#endif
  team_for(t, rows * cols, [&](int k) { body(k / cols, k % cols); });
}

// Y = layer(X) for `rows` rows (x, y: row stride ld; dphi: row stride dphi_ld, may be null).
// Ends with a barrier.
template <class T, class A = T>
MD_INLINE void team_dense_forward(const Team& t, const LayerDesc& L, const T* p, int rows,
                                  const T* x, T* y, int ld, T* dphi, int dphi_ld) {
#if !defined(__CUDA_ARCH__)
  if (t.shuffle == 0 && std::is_same<T, A>::value) {
    // CPU, lanes in order (a team of one lane): the same sums in the same order as
    // dense_output (bias, then inputs i = 0, 1, ...) with the input index outermost, so the
    // weights are read along their rows and the output loop vectorises. y[r][o] holds the
    // running sum z_o until the activation pass (x and y never alias).
    const T* w = p + L.w;
    for (int r = 0; r < rows; ++r) {
      const T* xr = x + static_cast<Index>(r) * ld;
      T* yr = y + static_cast<Index>(r) * ld;
      for (int o = 0; o < L.n_out; ++o) yr[o] = L.b >= 0 ? p[L.b + o] : T(0);
      for (int i = 0; i < L.n_in; ++i) {
        const T xi = xr[i];
        const T* wi = w + static_cast<Index>(i) * L.n_out;
        for (int o = 0; o < L.n_out; ++o) yr[o] += xi * wi[o];
      }
      for (int o = 0; o < L.n_out; ++o) {
        T d;
        T v = activate(L.act, yr[o], d);
        if (L.idt >= 0) {
          v *= p[L.idt + o];
          d *= p[L.idt + o];
        }
        if (L.shortcut == 1) v += xr[o];
        if (L.shortcut == 2) v += xr[o % L.n_in];
        yr[o] = v;
        if (dphi) dphi[static_cast<Index>(r) * dphi_ld + o] = d;
      }
    }
    team_barrier(t);
    return;
  }
#endif
  team_for_rows(t, rows, L.n_out, [&](int r, int o) {
    T d;
    y[static_cast<Index>(r) * ld + o] =
        dense_output<T, A>(L, p, x + static_cast<Index>(r) * ld, o, &d);
    if (dphi) dphi[static_cast<Index>(r) * dphi_ld + o] = d;
  });
  team_barrier(t);
}

// dE/dX from dE/dY (g) for `rows` rows. Ends with a barrier.
template <class T, class A = T>
MD_INLINE void team_dense_backward(const Team& t, const LayerDesc& L, const T* p, int rows,
                                   const T* g, const T* dphi, int dphi_ld, T* h, int ld) {
  team_for_rows(t, rows, L.n_in, [&](int r, int i) {
    h[static_cast<Index>(r) * ld + i] = dense_input_grad<T, A>(
        L, p, g + static_cast<Index>(r) * ld, dphi + static_cast<Index>(r) * dphi_ld, i);
  });
  team_barrier(t);
}

// Forward through `net` for `rows` rows: inputs in a (row stride ld >= net.width), b the other
// buffer; returns the buffer holding the outputs. dphi (may be null): [rows][dphi_ld] with
// dphi_ld >= net.dphi_size. Every lane calls it; ends with a barrier.
template <class T, class A = T>
MD_INLINE T* team_forward(const Team& t, const NetDesc& net, const LayerDesc* layers, const T* p,
                          int rows, T* a, T* b, int ld, T* dphi, int dphi_ld) {
  T* x = a;
  T* y = b;
  for (int l = 0; l < net.n_layers; ++l) {
    const LayerDesc& L = layers[net.first_layer + l];
    team_dense_forward<T, A>(t, L, p, rows, x, y, ld, dphi ? dphi + L.dphi : nullptr, dphi_ld);
    T* s = x;
    x = y;
    y = s;
  }
  return x;
}

// Backward for `rows` rows: dE/d(outputs) in a, returns the buffer holding dE/d(inputs).
template <class T, class A = T>
MD_INLINE T* team_backward(const Team& t, const NetDesc& net, const LayerDesc* layers,
                           const T* p, int rows, const T* dphi, int dphi_ld, T* a, T* b, int ld) {
  T* g = a;
  T* h = b;
  for (int l = net.n_layers - 1; l >= 0; --l) {
    const LayerDesc& L = layers[net.first_layer + l];
    team_dense_backward<T, A>(t, L, p, rows, g, dphi + L.dphi, dphi_ld, h, ld);
    T* s = g;
    g = h;
    h = s;
  }
  return g;
}

// Host: rows per tile so that `bytes_per_row` times the rows fit in `budget` bytes
// (at least 1, at most max_rows).
inline int rows_per_tile(std::size_t budget, std::size_t bytes_per_row, int max_rows) {
  std::size_t r = bytes_per_row ? budget / bytes_per_row : static_cast<std::size_t>(max_rows);
  if (r < 1) r = 1;
  if (r > static_cast<std::size_t>(max_rows)) r = static_cast<std::size_t>(max_rows);
  return static_cast<int>(r);
}

}  // namespace md::nn
