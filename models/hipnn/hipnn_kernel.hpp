// HIP-NN device functors (MD_HD, both executors): the per-pair sensitivities s_nu(r) as a
// message-passing pair functor (kernels/message_passing.hpp, ContractOuter gives the
// environment env[nu][f] = sum_j s_nu(r_ij) z_j[f]), and the per-atom team kernels: one-hot
// input with the level-0 energy head, one interaction layer with its atom layers and energy
// head, and its backward (recomputing the layer's forward in team scratch). T: float or double
// weights/activations, sums in double. Model units. Launched by models/hipnn/hipnn.cpp.
#pragma once

#include <cmath>

#include "kernels/message_passing.hpp"
#include "kernels/nn.hpp"

namespace md::hipnn {

// hippynn's CosCutoff: fc = cos^2(pi r / (2 rc)) for r <= rc (pair rows have r < rc).
MD_INLINE double cutoff_cos2(double r, double rc, double& dfc) {
  const double a = 1.5707963267948966 / rc;  // pi / (2 rc)
  const double c = cos(a * r);
  dfc = -2.0 * c * sin(a * r) * a;
  return c * c;
}

// ---------------------------------------------------------------- pair sensitivities

// c[nu] = exp(-0.5 (1/r - inv_mu_nu)^2 / sig_m2_nu) fc(r), with inv_mu = 1/mu and
// sig_m2 = sigma^-2 (computed in double on the host from the float64 file values).
template <class T>
struct SensitivityPairs {
  const double* inv_mu;
  const double* sig_m2;
  double rc;
  int n_coeff;  // number of sensitivities

  std::size_t scratch_bytes(int /*rows*/) const { return 0; }

  MD_HD void forward(const Team& t, const mp::PairRow* rows, int n, T* c, int ldc,
                     unsigned char* /*scratch*/) const {
    team_for(t, n * n_coeff, [&](int kk) {
      const int r = kk / n_coeff, nu = kk % n_coeff;
      const double rr = rows[r].r;
      double dfc;
      const double fc = cutoff_cos2(rr, rc, dfc);
      const double d = 1.0 / rr - inv_mu[nu];
      c[r * ldc + nu] = static_cast<T>(exp(-0.5 * (d * d / sig_m2[nu])) * fc);
    });
    team_barrier(t);
  }

  // dE/d(r_j - r_i) = sum_nu dc[nu] ds_nu/dr * d / r.
  MD_HD void backward(const Team& t, const mp::PairRow* rows, int n, const T* dc, int ldc,
                      unsigned char* /*scratch*/, double* dr) const {
    team_for(t, n, [&](int r) {
      const double rr = rows[r].r;
      double dfc;
      const double fc = cutoff_cos2(rr, rc, dfc);
      double g = 0.0;
      for (int nu = 0; nu < n_coeff; ++nu) {
        const double d = 1.0 / rr - inv_mu[nu];
        const double base = exp(-0.5 * (d * d / sig_m2[nu]));
        // d base / dr = base * (d / sig_m2) / r^2
        const double ds = base * (fc * (d / sig_m2[nu]) / (rr * rr) + dfc);
        g += static_cast<double>(dc[r * ldc + nu]) * ds;
      }
      const double inv = 1.0 / rr;
      dr[3 * r] = g * rows[r].dx * inv;
      dr[3 * r + 1] = g * rows[r].dy * inv;
      dr[3 * r + 2] = g * rows[r].dz * inv;
    });
    team_barrier(t);
  }
};

// ---------------------------------------------------------------- layer descriptors

// Descriptor slots of interaction layer b in the layer array: base = b * block_stride.
// V (env -> middle, no bias), self (z -> middle), res (middle -> out, resnet), adjust (z ->
// out, no bias; n_in = 0 when absent), then per atom layer k: linear_k (out -> middle,
// softplus), res_k (middle -> out, resnet). Unused slots have n_in = 0.
enum : int { slot_v = 0, slot_self = 1, slot_res = 2, slot_adjust = 3, slot_atom = 4 };
MD_INLINE int block_stride(int n_atom_layers) { return slot_atom + 2 * n_atom_layers; }

// Scratch rows of the per-atom kernels (T, `ld` each): 0 A input z, 1 E environment, 2 H
// middle, 3 O output, 4 G1, 5 G2, 6 U, 7 ones, 8.. dphi per activation (1 + n_atom_layers).
template <class T>
MD_INLINE T* row(const Team& t, int ld, int which) {
  return t.scratch_as<T>(0) + static_cast<Index>(which) * ld;
}
MD_INLINE std::size_t atom_scratch_rows(int n_atom_layers) { return 9 + n_atom_layers; }

// z^0(i, :) = one-hot of the atom's species; e_atom(i) = head_0(z^0) (0 without a head).
template <class T>
struct OneHotKernel {
  const T* p;
  nn::LayerDesc head;  // n_in = 0: none at level 0
  const int* type;
  const int* species_of_type;
  mp::FieldView<T> z;
  double* e_atom;
  MD_HD void operator()(Index i) const {
    const int s = species_of_type[type[i]];
    for (int f = 0; f < z.width; ++f) z(i, f) = static_cast<T>(f == s ? 1 : 0);
    double e = 0.0;
    if (head.n_in > 0) {
      e = static_cast<double>(p[head.w + s]);
      if (head.b >= 0) e += static_cast<double>(p[head.b]);
    }
    e_atom[i] = e;
  }
};

// The forward of interaction layer b for atom i in team scratch: A = z_in(i), E = env(i),
// H = act(E V + self(A)) (dphi row 8), O = res(H) + adjust(A) or H, then the atom layers
// (dphi rows 9..). Leaves the output in O; every lane calls it (barriers inside).
template <class T>
MD_HD void block_forward(const Team& t, const T* p, const nn::LayerDesc* L, bool resnet,
                         int n_atom, const mp::FieldView<T>& z_in, const mp::FieldView<T>& env,
                         Index i, int ld) {
  T* A = row<T>(t, ld, 0);
  T* E = row<T>(t, ld, 1);
  T* H = row<T>(t, ld, 2);
  T* O = row<T>(t, ld, 3);
  const nn::LayerDesc& V = L[slot_v];
  const nn::LayerDesc& S = L[slot_self];
  team_for(t, S.n_in, [&](int f) { A[f] = z_in(i, f); });
  team_for(t, V.n_in, [&](int q) { E[q] = env(i, q); });
  team_barrier(t);
  T* D0 = row<T>(t, ld, 8);
  team_for(t, V.n_out, [&](int o) {
    T d;
    const double y = static_cast<double>(nn::dense_output<T, double>(V, p, E, o, &d)) +
                     static_cast<double>(nn::dense_output<T, double>(S, p, A, o, &d));
    T dphi;
    H[o] = nn::activate<T>(nn::act_softplus, static_cast<T>(y), dphi);
    D0[o] = dphi;
  });
  team_barrier(t);
  const int n_out = resnet ? L[slot_res].n_out : V.n_out;
  team_for(t, n_out, [&](int o) {
    if (resnet) {
      T d;
      const nn::LayerDesc& J = L[slot_adjust];
      const double skip =
          J.n_in > 0 ? static_cast<double>(nn::dense_output<T, double>(J, p, A, o, &d))
                     : static_cast<double>(A[o]);
      O[o] = static_cast<T>(static_cast<double>(nn::dense_output<T, double>(L[slot_res], p, H, o, &d)) +
                            skip);
    } else {
      O[o] = H[o];
    }
  });
  team_barrier(t);
  for (int k = 0; k < n_atom; ++k) {
    const nn::LayerDesc& Lin = L[slot_atom + 2 * k];
    T* Dk = row<T>(t, ld, 9 + k);
    team_for(t, Lin.n_out, [&](int m) { H[m] = nn::dense_output<T, double>(Lin, p, O, m, &Dk[m]); });
    team_barrier(t);
    if (resnet) {
      const nn::LayerDesc& R = L[slot_atom + 2 * k + 1];
      team_for(t, R.n_out, [&](int o) {
        T d;
        O[o] = static_cast<T>(static_cast<double>(nn::dense_output<T, double>(R, p, H, o, &d)) +
                              static_cast<double>(O[o]));
      });
    } else {
      team_for(t, Lin.n_out, [&](int o) { O[o] = H[o]; });
    }
    team_barrier(t);
  }
}

// Interaction layer b forward: z_out(i) = layer(z_in(i), env(i)); e_atom(i) += head(z_out(i)).
template <class T>
struct BlockKernel {
  const T* p;
  const nn::LayerDesc* L;  // this block's descriptors
  nn::LayerDesc head;      // n_in = 0: no head at this level
  bool resnet;
  int n_atom, ld;
  mp::FieldView<T> z_in, env, z_out;
  double* e_atom;
  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    block_forward<T>(t, p, L, resnet, n_atom, z_in, env, i, ld);
    const T* O = row<T>(t, ld, 3);
    team_for(t, z_out.width, [&](int f) { z_out(i, f) = O[f]; });
    if (head.n_in > 0)
      team_single(t, [&]() {
        T d;
        e_atom[i] += static_cast<double>(nn::dense_output<T, double>(head, p, O, 0, &d));
      });
  }
};

// Energies out: E_i = e_atom(i); dE/dz^L(i) = head_L weights (gz).
template <class T>
struct EnergyOutKernel {
  const T* p;
  nn::LayerDesc head;  // the last level's head (n_in = 0: none)
  const double* e_atom;
  ForceOut out;
  bool eflag;
  mp::FieldView<T> gz;
  MD_HD void operator()(Index i) const {
    if (eflag) store_energy(out, i, e_atom[i]);
    for (int f = 0; f < gz.width; ++f) gz(i, f) = head.n_in > 0 ? p[head.w + f] : T(0);
  }
};

// Backward of interaction layer b for atom i: from g_out = dE/dz_out(i) (gz_out) to
// g_env(i) = dE/denv(i) and gz_in(i) = dE/dz_in(i) through self and the skip path, plus the
// level's head weights (the pair path is added later by mp::gather_slot_adjoints).
template <class T>
struct BlockBackwardKernel {
  const T* p;
  const nn::LayerDesc* L;
  nn::LayerDesc head_in;  // head at the input level (n_in = 0: none)
  bool resnet;
  int n_atom, ld;
  mp::FieldView<T> z_in, env, gz_out, g_env, gz_in;
  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    block_forward<T>(t, p, L, resnet, n_atom, z_in, env, i, ld);
    T* G1 = row<T>(t, ld, 4);
    T* G2 = row<T>(t, ld, 5);
    T* U = row<T>(t, ld, 6);
    T* ones = row<T>(t, ld, 7);
    const T* D0 = row<T>(t, ld, 8);
    const nn::LayerDesc& V = L[slot_v];
    const nn::LayerDesc& S = L[slot_self];
    const int n_out = gz_out.width;
    team_for(t, ld, [&](int f) {
      ones[f] = static_cast<T>(1);
      if (f < n_out) G1[f] = gz_out(i, f);
    });
    team_barrier(t);
    for (int k = n_atom - 1; k >= 0; --k) {
      const nn::LayerDesc& Lin = L[slot_atom + 2 * k];
      const T* Dk = row<T>(t, ld, 9 + k);
      if (resnet) {
        const nn::LayerDesc& R = L[slot_atom + 2 * k + 1];
        team_for(t, R.n_in, [&](int m) { U[m] = nn::dense_input_grad<T, double>(R, p, G1, ones, m); });
        team_barrier(t);
        team_for(t, Lin.n_in, [&](int f) {
          G2[f] = static_cast<T>(static_cast<double>(nn::dense_input_grad<T, double>(Lin, p, U, Dk, f)) +
                                 static_cast<double>(G1[f]));
        });
      } else {
        team_for(t, Lin.n_in, [&](int f) { G2[f] = nn::dense_input_grad<T, double>(Lin, p, G1, Dk, f); });
      }
      team_barrier(t);
      T* s = G1;
      G1 = G2;
      G2 = s;
    }
    const T* gy = G1;  // dE/d(act output) of the interaction
    if (resnet) {
      team_for(t, L[slot_res].n_in,
               [&](int m) { U[m] = nn::dense_input_grad<T, double>(L[slot_res], p, G1, ones, m); });
      team_barrier(t);
      gy = U;
    }
    team_for(t, V.n_in, [&](int q) { g_env(i, q) = nn::dense_input_grad<T, double>(V, p, gy, D0, q); });
    team_for(t, S.n_in, [&](int f) {
      double g = static_cast<double>(nn::dense_input_grad<T, double>(S, p, gy, D0, f));
      if (resnet) {
        const nn::LayerDesc& J = L[slot_adjust];
        g += J.n_in > 0 ? static_cast<double>(nn::dense_input_grad<T, double>(J, p, G1, ones, f))
                        : static_cast<double>(G1[f]);
      }
      if (head_in.n_in > 0) g += static_cast<double>(p[head_in.w + f]);
      gz_in(i, f) = static_cast<T>(g);
    });
  }
};

}  // namespace md::hipnn
