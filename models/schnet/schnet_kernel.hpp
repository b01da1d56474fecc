// SchNet device functors (MD_HD, both executors): the per-pair filter network (Gaussian RBF x
// cosine cutoff -> dense(ssp) -> dense) as a message-passing pair functor, and the per-atom
// team kernels (embedding, in2f, update, Atomwise head with its backward, update and in2f
// backward). T: float or double weights/activations, sums in double. Lengths/energies in the
// model's units. Launched by models/schnet/schnet.cpp.
#pragma once

#include "kernels/basis.hpp"
#include "kernels/message_passing.hpp"
#include "kernels/nn.hpp"

namespace md::schnet {

// ---------------------------------------------------------------- dense layers

// A dense layer: nn's descriptor plus the offset of its transposed weights wt[n_out][n_in]
// (for the CPU path of the backward).
struct Layer {
  nn::LayerDesc d;
  Index wt;
};

// Widest layer the CPU path takes (wider ones use the team path).
constexpr int kCpuMaxWidth = 512;

// Y = act(X W + b) for `rows` rows (row stride ld; dphi row stride dphi_ld, may be null).
// CUDA and strict-lane mode: nn::team_dense_forward (lanes across rows x outputs). CPU
// executor otherwise: the same sums in the same order per output (so the same numbers),
// with the outputs innermost over contiguous weights (vectorised). Ends with a barrier.
template <class T>
MD_INLINE void dense_rows_forward(const Team& t, const Layer& L, const T* p, int rows, const T* x,
                                  T* y, int ld, T* dphi, int dphi_ld) {
#if !defined(__CUDA_ARCH__)
  if (t.shuffle == 0 && L.d.n_out <= kCpuMaxWidth && L.d.shortcut == 0 && L.d.idt < 0) {
    const int n_in = L.d.n_in, n_out = L.d.n_out;
    const T* w = p + L.d.w;
    double z[kCpuMaxWidth];
    for (int r = 0; r < rows; ++r) {
      const T* xr = x + static_cast<Index>(r) * ld;
      for (int o = 0; o < n_out; ++o) z[o] = L.d.b >= 0 ? static_cast<double>(p[L.d.b + o]) : 0.0;
      for (int i = 0; i < n_in; ++i) {
        const double xi = static_cast<double>(xr[i]);
        const T* wi = w + static_cast<Index>(i) * n_out;
        for (int o = 0; o < n_out; ++o) z[o] += xi * static_cast<double>(wi[o]);
      }
      T* yr = y + static_cast<Index>(r) * ld;
      for (int o = 0; o < n_out; ++o) {
        T d;
        yr[o] = nn::activate(L.d.act, static_cast<T>(z[o]), d);
        if (dphi) dphi[static_cast<Index>(r) * dphi_ld + o] = d;
      }
    }
    return;
  }
#endif
  nn::team_dense_forward<T, double>(t, L.d, p, rows, x, y, ld, dphi, dphi_ld);
}

// dE/dX = (dE/dY * dphi) W^T for `rows` rows; as nn::team_dense_backward (same sums in the
// same order per input), the CPU path over the transposed weights. Ends with a barrier.
template <class T>
MD_INLINE void dense_rows_backward(const Team& t, const Layer& L, const T* p, int rows, const T* g,
                                   const T* dphi, int dphi_ld, T* h, int ld) {
#if !defined(__CUDA_ARCH__)
  if (t.shuffle == 0 && L.d.n_in <= kCpuMaxWidth && L.d.shortcut == 0) {
    const int n_in = L.d.n_in, n_out = L.d.n_out;
    const T* wt = p + L.wt;
    double s[kCpuMaxWidth];
    for (int r = 0; r < rows; ++r) {
      const T* gr = g + static_cast<Index>(r) * ld;
      const T* dr = dphi + static_cast<Index>(r) * dphi_ld;
      for (int i = 0; i < n_in; ++i) s[i] = 0.0;
      for (int o = 0; o < n_out; ++o) {
        const double go = static_cast<double>(gr[o] * dr[o]);
        const T* wo = wt + static_cast<Index>(o) * n_in;
        for (int i = 0; i < n_in; ++i) s[i] += static_cast<double>(wo[i]) * go;
      }
      T* hr = h + static_cast<Index>(r) * ld;
      for (int i = 0; i < n_in; ++i) hr[i] = static_cast<T>(s[i]);
    }
    return;
  }
#endif
  nn::team_dense_backward<T, double>(t, L.d, p, rows, g, dphi, dphi_ld, h, ld);
}

// ---------------------------------------------------------------- pair filter W_ij

// c_f(r) = (ssp(e(r) W1 + b1) W2 + b2)_f * fc(r), e_k(r) = exp(coeff_k (r - centre_k)^2).
template <class T>
struct FilterPairs {
  const T* p;
  Layer f1, f2;
  const double* centre;
  const double* coeff;  // -1 / (2 width^2)
  double rc;
  int n_rbf, n_filters, ld, rows_max;
  int n_coeff;  // = n_filters

  // fc, dfc, gfc per row and the radial basis e [rows][n_rbf] (double), then a, b, c
  // [rows][ld] and d1, d2 [rows][n_filters] (T).
  std::size_t scratch_bytes(int rows) const {
    return sizeof(double) * static_cast<std::size_t>(rows) * (3 + n_rbf) +
           sizeof(T) * static_cast<std::size_t>(rows) * (3 * ld + 2 * n_filters);
  }

  struct Parts {
    double *fc, *dfc, *gfc, *e;
    T *a, *b, *c, *d1, *d2;
  };
  MD_HD Parts parts(unsigned char* s) const {
    Parts q;
    q.fc = reinterpret_cast<double*>(s);
    q.dfc = q.fc + rows_max;
    q.gfc = q.dfc + rows_max;
    q.e = q.gfc + rows_max;
    q.a = reinterpret_cast<T*>(q.e + rows_max * n_rbf);
    q.b = q.a + rows_max * ld;
    q.c = q.b + rows_max * ld;
    q.d1 = q.c + rows_max * ld;
    q.d2 = q.d1 + rows_max * n_filters;
    return q;
  }

  MD_HD void forward(const Team& t, const mp::PairRow* rows, int n, T* c, int ldc,
                     unsigned char* s) const {
    const Parts q = parts(s);
    nn::team_for_rows(t, n, n_rbf, [&](int r, int k) {
      const double diff = rows[r].r - centre[k];
      const double e = exp(coeff[k] * diff * diff);
      q.e[r * n_rbf + k] = e;
      q.a[r * ld + k] = static_cast<T>(e);
    });
    team_for(t, n, [&](int r) { q.fc[r] = basis::cutoff_cosine(rows[r].r, rc, q.dfc[r]); });
    team_barrier(t);
    dense_rows_forward<T>(t, f1, p, n, q.a, q.b, ld, q.d1, n_filters);
    dense_rows_forward<T>(t, f2, p, n, q.b, q.a, ld, q.d2, n_filters);
    nn::team_for_rows(t, n, n_filters, [&](int r, int f) {
      c[r * ldc + f] = static_cast<T>(static_cast<double>(q.a[r * ld + f]) * q.fc[r]);
    });
    team_barrier(t);
  }

  MD_HD void backward(const Team& t, const mp::PairRow* rows, int n, const T* dc, int ldc,
                      unsigned char* s, double* dr) const {
    const Parts q = parts(s);
    nn::team_for_rows(t, n, n_filters, [&](int r, int f) {
      q.b[r * ld + f] = static_cast<T>(static_cast<double>(dc[r * ldc + f]) * q.fc[r]);
    });
    team_for(t, n, [&](int r) {
      double g = 0.0;
      for (int f = 0; f < n_filters; ++f)
        g += static_cast<double>(dc[r * ldc + f]) * static_cast<double>(q.a[r * ld + f]);
      q.gfc[r] = g;
    });
    team_barrier(t);
    dense_rows_backward<T>(t, f2, p, n, q.b, q.d2, n_filters, q.c, ld);
    dense_rows_backward<T>(t, f1, p, n, q.c, q.d1, n_filters, q.b, ld);
    team_for(t, n, [&](int r) {
      const double rr = rows[r].r;
      double g = q.gfc[r] * q.dfc[r];
      for (int k = 0; k < n_rbf; ++k) {
        const double diff = rr - centre[k];
        g += static_cast<double>(q.b[r * ld + k]) * (2.0 * coeff[k] * diff * q.e[r * n_rbf + k]);
      }
      const double inv = 1.0 / rr;
      dr[3 * r] = g * rows[r].dx * inv;
      dr[3 * r + 1] = g * rows[r].dy * inv;
      dr[3 * r + 2] = g * rows[r].dz * inv;
    });
    team_barrier(t);
  }
};

// Tabulated filter (option `tabulate`): per block the filter network's output W~(r) and
// dW~/dr, computed exactly on the grid r_g = g h, interpolated by cubic Hermite splines; forces
// are the exact derivative of the interpolated energy. Table layout tab[(g * n_filters + f) * 2
// + {0: W~, 1: dW~/dr}] (double).
template <class T>
struct TabFilterPairs {
  const double* tab;
  double h, rc;
  int n_grid, n_filters;
  int rows_max;
  int n_coeff;

  // fc, dfc per row (double), W~ and dW~/dr [rows][n_filters] (double).
  std::size_t scratch_bytes(int rows) const {
    return sizeof(double) * static_cast<std::size_t>(rows) * (2 + 2 * n_filters);
  }

  MD_HD void forward(const Team& t, const mp::PairRow* rows, int n, T* c, int ldc,
                     unsigned char* s) const {
    double* fc = reinterpret_cast<double*>(s);
    double* dfc = fc + rows_max;
    double* w = dfc + rows_max;
    double* dw = w + rows_max * n_filters;
    team_for(t, n, [&](int r) { fc[r] = basis::cutoff_cosine(rows[r].r, rc, dfc[r]); });
    team_barrier(t);
    nn::team_for_rows(t, n, n_filters, [&](int r, int f) {
      const double x = rows[r].r / h;
      int g = static_cast<int>(x);
      if (g > n_grid - 2) g = n_grid - 2;
      const double u = x - g;
      const double* a = tab + (static_cast<Index>(g) * n_filters + f) * 2;
      const double* b = a + 2 * n_filters;
      const double u2 = u * u, u3 = u2 * u;
      const double h00 = 2 * u3 - 3 * u2 + 1, h10 = u3 - 2 * u2 + u, h01 = -2 * u3 + 3 * u2,
                   h11 = u3 - u2;
      const double d00 = 6 * u2 - 6 * u, d10 = 3 * u2 - 4 * u + 1, d01 = -6 * u2 + 6 * u,
                   d11 = 3 * u2 - 2 * u;
      const double v = h00 * a[0] + h10 * h * a[1] + h01 * b[0] + h11 * h * b[1];
      w[r * n_filters + f] = v;
      dw[r * n_filters + f] = (d00 * a[0] + d01 * b[0]) / h + d10 * a[1] + d11 * b[1];
      c[r * ldc + f] = static_cast<T>(v * fc[r]);
    });
    team_barrier(t);
  }

  MD_HD void backward(const Team& t, const mp::PairRow* rows, int n, const T* dc, int ldc,
                      unsigned char* s, double* dr) const {
    const double* fc = reinterpret_cast<const double*>(s);
    const double* dfc = fc + rows_max;
    const double* w = dfc + rows_max;
    const double* dw = w + rows_max * n_filters;
    team_for(t, n, [&](int r) {
      double g = 0.0;
      for (int f = 0; f < n_filters; ++f)
        g += static_cast<double>(dc[r * ldc + f]) *
             (dw[r * n_filters + f] * fc[r] + w[r * n_filters + f] * dfc[r]);
      const double inv = 1.0 / rows[r].r;
      dr[3 * r] = g * rows[r].dx * inv;
      dr[3 * r + 1] = g * rows[r].dy * inv;
      dr[3 * r + 2] = g * rows[r].dz * inv;
    });
    team_barrier(t);
  }
};

// ---------------------------------------------------------------- per-atom kernels

// x(i, f) = embedding[species(type_i)][f]; one thread per (atom, feature).
template <class T>
struct EmbedKernel {
  const int* type;
  const int* species_of_type;
  const T* emb;
  mp::FieldView<T> x;
  Index n_local;
  MD_HD void operator()(Index k) const {
    const Index i = k % n_local;
    const int f = static_cast<int>(k / n_local);
    x(i, f) = emb[static_cast<Index>(species_of_type[type[i]]) * x.width + f];
  }
};

// Scratch of the per-atom kernels: three rows of `ld` values (T).
template <class T>
MD_INLINE T* row_buf(const Team& t, int ld, int which) {
  return t.scratch_as<T>(0) + which * ld;
}

// h(i, :) = x(i, :) W_in2f.
template <class T>
struct In2fKernel {
  const T* p;
  Layer L;
  mp::FieldView<T> x, h;
  int ld;
  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    T* a = row_buf<T>(t, ld, 0);
    T* b = row_buf<T>(t, ld, 1);
    team_for(t, L.d.n_in, [&](int c) { a[c] = x(i, c); });
    team_barrier(t);
    dense_rows_forward<T>(t, L, p, 1, a, b, ld, nullptr, 0);
    team_for(t, L.d.n_out, [&](int f) { h(i, f) = b[f]; });
  }
};

// x(i, :) += f2out2(ssp(f2out1(m(i, :)))); keeps ssp'(z) of f2out1 in dphi(i, :).
template <class T>
struct UpdateKernel {
  const T* p;
  Layer L1, L2;
  mp::FieldView<T> m, x, dphi;
  int ld;
  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    T* a = row_buf<T>(t, ld, 0);
    T* b = row_buf<T>(t, ld, 1);
    T* d = row_buf<T>(t, ld, 2);
    team_for(t, L1.d.n_in, [&](int f) { a[f] = m(i, f); });
    team_barrier(t);
    dense_rows_forward<T>(t, L1, p, 1, a, b, ld, d, ld);
    dense_rows_forward<T>(t, L2, p, 1, b, a, ld, nullptr, 0);
    team_for(t, L2.d.n_out, [&](int f) {
      x(i, f) = static_cast<T>(static_cast<double>(x(i, f)) + static_cast<double>(a[f]));
    });
    team_for(t, L1.d.n_out, [&](int f) { dphi(i, f) = d[f]; });
  }
};

// Atomwise head: y_i = head(x_i); E_i = y_i + mean + atomref(species); then gx = dE/dx_i.
template <class T>
struct HeadKernel {
  const T* p;
  const nn::LayerDesc* layers;
  nn::NetDesc net;
  const int* type;
  const int* species_of_type;
  const double* atomref;
  double mean_per_atom;  // mean, or mean / N for a model whose mean is not per atom
  mp::FieldView<T> x, gx;
  ForceOut out;
  bool eflag;
  int ld;
  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    T* a = row_buf<T>(t, ld, 0);
    T* b = row_buf<T>(t, ld, 1);
    T* c = row_buf<T>(t, ld, 2);
    T* dphi = row_buf<T>(t, ld, 3);  // net.dphi_size <= 2 ld (checked on the host)
    team_for(t, net.n_in, [&](int f) { a[f] = x(i, f); });
    team_barrier(t);
    T* y = nn::team_forward<T, double>(t, net, layers, p, 1, a, b, ld, dphi, 2 * ld);
    T* other = y == a ? b : a;
    team_single(t, [&]() {
      if (eflag)
        store_energy(out, i,
                     static_cast<double>(y[0]) + mean_per_atom + atomref[species_of_type[type[i]]]);
      c[0] = static_cast<T>(1);
    });
    T* g = nn::team_backward<T, double>(t, net, layers, p, 1, dphi, 2 * ld, c, other, ld);
    team_for(t, net.n_in, [&](int f) { gx(i, f) = g[f]; });
  }
};

// G(i, :) = dE/dm_i = W1 (dphi1 * (W2 gx_i)) (the update's backward; gx = dE/dx after it).
template <class T>
struct UpdateBackwardKernel {
  const T* p;
  Layer L1, L2;
  mp::FieldView<T> gx, dphi, G;
  int ld;
  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    T* a = row_buf<T>(t, ld, 0);
    T* b = row_buf<T>(t, ld, 1);
    T* ones = row_buf<T>(t, ld, 2);
    T* d = row_buf<T>(t, ld, 3);
    team_for(t, L2.d.n_out, [&](int f) {
      a[f] = gx(i, f);
      ones[f] = static_cast<T>(1);
    });
    team_for(t, L1.d.n_out, [&](int f) { d[f] = dphi(i, f); });
    team_barrier(t);
    dense_rows_backward<T>(t, L2, p, 1, a, ones, ld, b, ld);
    dense_rows_backward<T>(t, L1, p, 1, b, d, ld, a, ld);
    team_for(t, L1.d.n_in, [&](int f) { G(i, f) = a[f]; });
  }
};

// gx(i, :) += W_in2f dh(i, :) (in2f's backward; dh = dE/dh_i summed over the pairs reading it).
template <class T>
struct In2fBackwardKernel {
  const T* p;
  Layer L;
  mp::FieldView<T> dh, gx;
  int ld;
  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    T* a = row_buf<T>(t, ld, 0);
    T* b = row_buf<T>(t, ld, 1);
    T* ones = row_buf<T>(t, ld, 2);
    team_for(t, L.d.n_out, [&](int f) {
      a[f] = dh(i, f);
      ones[f] = static_cast<T>(1);
    });
    team_barrier(t);
    dense_rows_backward<T>(t, L, p, 1, a, ones, ld, b, ld);
    team_for(t, L.d.n_in, [&](int c) {
      gx(i, c) = static_cast<T>(static_cast<double>(gx(i, c)) + static_cast<double>(b[c]));
    });
  }
};

}  // namespace md::schnet
