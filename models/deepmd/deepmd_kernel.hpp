// The fused DeePMD se_e2_a kernel (one thread per atom) and the deterministic force/virial
// gather. Energies eV, lengths Å, forces eV/Å, virial eV. Launched by deepmd.cpp (gather)
// and deepmd_double.cpp / deepmd_float.cpp (the fused kernel, one instantiation per TU).
//
// Per local atom i, DescriptorKernel:
//  1. neighbour slots exactly as deepmd-kit's dpmodel: the nearest sum(sel) neighbours with
//     r <= rcut over all types, then per type the nearest sel[t] of those, sorted by
//     distance, padded with -1 (deepmd.dpmodel.utils.nlist build_neighbor_list +
//     nlist_distinguish_types);
//  2. environment rows R = (w/r, w x/r^2, w y/r^2, w z/r^2) (r -> r + env_protection),
//     normalised (R - davg)/dstd -- padded slots are normalised too (R_raw = 0) and
//     contribute; embedding G = N(R[0]) per slot; gr = sum_slots G (x) R / nnei with
//     nnei = sum(sel) (deepmd/dpmodel/descriptor/se_e2_a.py);
//  3. D = gr gr[:axis_neuron]^T, fitting net of the centre type, E_i = fit(D) + bias_atom_e
//     + out_bias;
//  4. backward: dE/dD -> dE/dgr; per real slot the embedding net is re-evaluated (nothing
//     per slot is stored but the result) and back-propagated, giving the partial force
//     g_is = dE_i/d(r_j - r_i), stored per (slot, atom).
// With a table (tabd != null) the embedding G(s) and dG/ds come from piecewise quintics
// (table_eval, deepmd_net.hpp) wherever s lies in the table's range, else from the net.
// GatherKernel then gives each local atom i its force without atomics:
//     f_i = sum_s g_is - sum_{(o,s): slot s of o is an image of i} g_os,
// finding the reverse slots through i's own Verlet neighbours j (o = owner(j); the slot of o
// holding the image of i at displacement r_i - r_j), and the virial -sum d (x) g split half
// to the centre, half to the neighbour (LAMMPS sign convention, W = sum r (x) f).
#pragma once

#include "engine/neighbor.hpp"
#include "engine/potential.hpp"
#include "engine/system.hpp"
#include "models/deepmd/deepmd_net.hpp"

namespace md::deepmd {

template <class T>
struct DescriptorKernel {
  // model
  int ntypes, nnei, m1, m2, type_one_side;
  int max_width, fit_dphi, emb_dphi;
  Index ws_d, ws_t;  // per-atom workspace sizes (doubles, T)
  double rcut, rcut_smth, protection;
  const int* sel_start;  // [ntypes + 1]
  const double* davg;    // [ntypes * nnei * 4]
  const double* dstd;
  const double* e_shift;  // [ntypes]
  const int* model_type;  // system type -> model type
  const LayerDesc* layers;
  const NetDesc* emb;     // embedding nets
  const NetDesc* fit;     // fitting nets
  const T* p;             // all weights
  const TableDesc* tabd;  // per embedding net; null: no tabulation
  const double* tab;      // table coefficients (double in both precisions)
  // system
  SystemView sys;
  NeighborView nl;
  // outputs per (slot, atom): slot-major [s * n_local + i]
  int* slot_atom;
  double* slot_g;  // [3][nnei][n_local]
  // per chunk-atom workspace
  double* wsd;
  int* wsi;
  T* wst;
  Index begin;  // first atom of this chunk
  double* energy;
  bool eflag, accumulate;

  MD_HD void env_row(int ti, int s, int j, double xi, double yi, double zi, double R[4]) const {
    double raw[4] = {0, 0, 0, 0};
    if (j >= 0) {
      const double dx = sys.x[j] - xi, dy = sys.y[j] - yi, dz = sys.z[j] - zi;
      const double r = sqrt(dx * dx + dy * dy + dz * dz);
      double dw;
      const double w = smooth_switch(r, rcut_smth, rcut, dw);
      const double q = r + protection;
      raw[0] = w / q;
      raw[1] = w * dx / (q * q);
      raw[2] = w * dy / (q * q);
      raw[3] = w * dz / (q * q);
    }
    const Index o = (static_cast<Index>(ti) * nnei + s) * 4;
    for (int c = 0; c < 4; ++c) R[c] = (raw[c] - davg[o + c]) / dstd[o + c];
  }

  MD_HD int net_index(int ti, int tj) const { return type_one_side ? tj : ti + ntypes * tj; }

  MD_HD void operator()(Index k) const {
    const Index i = begin + k;
    const Index n = nl.n_local;
    double* gr = wsd + k * ws_d;     // [m1][4]
    double* dgr = gr + 4 * m1;       // [m1][4]
    double* cand_r2 = dgr + 4 * m1;  // [nnei]
    double* tg = cand_r2 + nnei;     // [m1] tabulated G
    double* tdg = tg + m1;           // [m1] tabulated dG/ds
    int* cand_j = wsi + k * nnei;    // [nnei]
    T* bufa = wst + k * ws_t;
    T* bufb = bufa + max_width;
    T* dphi_f = bufb + max_width;
    T* dphi_e = dphi_f + fit_dphi;

    const double xi = sys.x[i], yi = sys.y[i], zi = sys.z[i];
    const int ti = model_type[sys.type[i]];
    const double rc2 = rcut * rcut;

    // 1. the nearest nnei neighbours within rcut (insertion keeps list order on ties)
    int ncand = 0;
    const int nn = nl.num_neigh[i];
    for (int a = 0; a < nn; ++a) {
      const int j = nl.neigh[static_cast<Index>(a) * n + i];
      const double dx = sys.x[j] - xi, dy = sys.y[j] - yi, dz = sys.z[j] - zi;
      const double r2 = dx * dx + dy * dy + dz * dz;
      if (r2 > rc2) continue;
      if (ncand == nnei && r2 >= cand_r2[nnei - 1]) continue;
      int pos = ncand < nnei ? ncand : nnei - 1;
      while (pos > 0 && cand_r2[pos - 1] > r2) {
        cand_r2[pos] = cand_r2[pos - 1];
        cand_j[pos] = cand_j[pos - 1];
        --pos;
      }
      cand_r2[pos] = r2;
      cand_j[pos] = j;
      if (ncand < nnei) ++ncand;
    }
    //    per type, the nearest sel[t] of those
    for (int t = 0; t < ntypes; ++t) {
      int s = sel_start[t];
      const int end = sel_start[t + 1];
      for (int c = 0; c < ncand && s < end; ++c)
        if (model_type[sys.type[cand_j[c]]] == t)
          slot_atom[static_cast<Index>(s++) * n + i] = cand_j[c];
      for (; s < end; ++s) slot_atom[static_cast<Index>(s) * n + i] = -1;
    }

    // 2. gr = sum_s G_s (x) R_s / nnei
    for (int m = 0; m < 4 * m1; ++m) gr[m] = 0.0;
    for (int t = 0; t < ntypes; ++t) {
      const int ni = net_index(ti, t);
      const NetDesc& net = emb[ni];
      for (int s = sel_start[t]; s < sel_start[t + 1]; ++s) {
        double R[4];
        env_row(ti, s, slot_atom[static_cast<Index>(s) * n + i], xi, yi, zi, R);
        if (tabd && table_eval(tabd[ni], tab, m1, R[0], tg, nullptr)) {
          for (int m = 0; m < m1; ++m)
            for (int c = 0; c < 4; ++c) gr[m * 4 + c] += tg[m] * R[c];
          continue;
        }
        bufa[0] = static_cast<T>(R[0]);
        const T* G = net_forward(net, layers, p, bufa, bufb, static_cast<T*>(nullptr));
        for (int m = 0; m < m1; ++m) {
          const double g = static_cast<double>(G[m]);
          for (int c = 0; c < 4; ++c) gr[m * 4 + c] += g * R[c];
        }
      }
    }
    const double inv_nnei = 1.0 / nnei;
    for (int m = 0; m < 4 * m1; ++m) gr[m] *= inv_nnei;

    // 3. D = gr gr<^T, fitting net
    for (int m = 0; m < m1; ++m)
      for (int a = 0; a < m2; ++a) {
        double d = 0.0;
        for (int c = 0; c < 4; ++c) d += gr[m * 4 + c] * gr[a * 4 + c];
        bufa[m * m2 + a] = static_cast<T>(d);
      }
    const NetDesc& fnet = fit[ti];
    T* out = net_forward(fnet, layers, p, bufa, bufb, dphi_f);
    if (eflag) {
      const double e = static_cast<double>(out[0]) + e_shift[ti];
      energy[i] = accumulate ? energy[i] + e : e;
    }

    // 4. backward: dE/dD, then dE/d(gr_raw) = dE/dgr / nnei
    T* ga = out == bufa ? bufb : bufa;  // a free buffer
    T* gb = out;
    ga[0] = T(1);
    const T* dD = net_backward(fnet, layers, p, dphi_f, ga, gb);
    for (int m = 0; m < m1; ++m)
      for (int c = 0; c < 4; ++c) {
        double s = 0.0;
        for (int a = 0; a < m2; ++a) s += static_cast<double>(dD[m * m2 + a]) * gr[a * 4 + c];
        if (m < m2)
          for (int q = 0; q < m1; ++q) s += static_cast<double>(dD[q * m2 + m]) * gr[q * 4 + c];
        dgr[m * 4 + c] = s * inv_nnei;
      }

    //    per real slot: re-evaluate the embedding net and back-propagate
    for (int t = 0; t < ntypes; ++t) {
      const int ni = net_index(ti, t);
      const NetDesc& net = emb[ni];
      for (int s = sel_start[t]; s < sel_start[t + 1]; ++s) {
        const Index so = static_cast<Index>(s) * n + i;
        const int j = slot_atom[so];
        if (j < 0) {
          // padded slots do not depend on positions
          slot_g[so] = 0.0;
          slot_g[static_cast<Index>(nnei) * n + so] = 0.0;
          slot_g[2 * static_cast<Index>(nnei) * n + so] = 0.0;
          continue;
        }
        double R[4];
        env_row(ti, s, j, xi, yi, zi, R);
        double dR[4] = {0, 0, 0, 0};
        if (tabd && table_eval(tabd[ni], tab, m1, R[0], tg, tdg)) {
          // dE/dR_c = sum_m dgr_mc G_m; dE/ds += sum_m (sum_c dgr_mc R_c) G_m'(s)
          for (int m = 0; m < m1; ++m) {
            double s2 = 0.0;
            for (int c = 0; c < 4; ++c) {
              dR[c] += dgr[m * 4 + c] * tg[m];
              s2 += dgr[m * 4 + c] * R[c];
            }
            dR[0] += s2 * tdg[m];
          }
        } else {
          bufa[0] = static_cast<T>(R[0]);
          const T* G = net_forward(net, layers, p, bufa, bufb, dphi_e);
          for (int m = 0; m < m1; ++m)
            for (int c = 0; c < 4; ++c) dR[c] += dgr[m * 4 + c] * static_cast<double>(G[m]);
          T* ya = G == bufa ? bufb : bufa;
          T* yb = const_cast<T*>(G);
          for (int m = 0; m < m1; ++m) {
            double s2 = 0.0;
            for (int c = 0; c < 4; ++c) s2 += dgr[m * 4 + c] * R[c];
            ya[m] = static_cast<T>(s2);
          }
          const T* ds = net_backward(net, layers, p, dphi_e, ya, yb);
          dR[0] += static_cast<double>(ds[0]);
        }
        // through the normalisation and R_raw(d), d = r_j - r_i
        const Index o = (static_cast<Index>(ti) * nnei + s) * 4;
        double draw[4];
        for (int c = 0; c < 4; ++c) draw[c] = dR[c] / dstd[o + c];
        const double d[3] = {sys.x[j] - xi, sys.y[j] - yi, sys.z[j] - zi};
        const double r = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
        double dw;
        const double w = smooth_switch(r, rcut_smth, rcut, dw);
        const double q = r + protection;
        const double q2 = q * q;
        const double A = draw[1] * d[0] + draw[2] * d[1] + draw[3] * d[2];
        const double radial = draw[0] * (dw / q - w / q2) + A * (dw / q2 - 2.0 * w / (q2 * q));
        for (int l = 0; l < 3; ++l)
          slot_g[static_cast<Index>(l) * nnei * n + so] = radial * d[l] / r + draw[l + 1] * w / q2;
      }
    }
  }
};

// Forces (and per-atom virial) of local atom i from the per-slot partials.
struct GatherKernel {
  int ntypes, nnei;
  double rcut;
  const int* sel_start;
  const int* model_type;
  SystemView sys;
  NeighborView nl;
  const int* slot_atom;
  const double* slot_g;
  ForceOut out;
  bool vflag;

  MD_HD void operator()(Index i) const {
    const Index n = nl.n_local;
    const Index plane = static_cast<Index>(nnei) * n;
    const double xi = sys.x[i], yi = sys.y[i], zi = sys.z[i];
    double f[3] = {0, 0, 0};
    double v[6] = {0, 0, 0, 0, 0, 0};
    // own partials: dE_i/dr_i = -sum_s g_is
    for (int s = 0; s < nnei; ++s) {
      const Index so = static_cast<Index>(s) * n + i;
      const int j = slot_atom[so];
      if (j < 0) continue;
      const double g[3] = {slot_g[so], slot_g[plane + so], slot_g[2 * plane + so]};
      const double d[3] = {sys.x[j] - xi, sys.y[j] - yi, sys.z[j] - zi};
      for (int l = 0; l < 3; ++l) f[l] += g[l];
      if (vflag) add_virial(v, d, g, -0.5);
    }
    // partials of the atoms that have (an image of) i in their slots
    const int ti = model_type[sys.type[i]];
    const double rc2 = rcut * rcut * (1.0 + 1e-12) + 1e-12;
    const int nn = nl.num_neigh[i];
    for (int a = 0; a < nn; ++a) {
      const int j = nl.neigh[static_cast<Index>(a) * n + i];
      const double e[3] = {xi - sys.x[j], yi - sys.y[j],
                           zi - sys.z[j]};  // displacement o -> image of i
      const double r2 = e[0] * e[0] + e[1] * e[1] + e[2] * e[2];
      if (r2 > rc2) continue;
      const int o = nl.owner(j);
      const double xo = sys.x[o], yo = sys.y[o], zo = sys.z[o];
      for (int s = sel_start[ti]; s < sel_start[ti + 1]; ++s) {
        const Index so = static_cast<Index>(s) * n + o;
        const int b = slot_atom[so];
        if (b < 0) break;
        const double d[3] = {sys.x[b] - xo, sys.y[b] - yo, sys.z[b] - zo};
        const double db2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
        if (db2 > r2 + 1e-8) break;  // slots are sorted by distance
        if (nl.owner(b) != i) continue;
        const double m0 = d[0] - e[0], m1 = d[1] - e[1], m2 = d[2] - e[2];
        if (m0 * m0 + m1 * m1 + m2 * m2 > 1e-12) continue;
        const double g[3] = {slot_g[so], slot_g[plane + so], slot_g[2 * plane + so]};
        for (int l = 0; l < 3; ++l) f[l] -= g[l];
        if (vflag) add_virial(v, d, g, -0.5);
        break;
      }
    }
    store_force(out, i, f[0], f[1], f[2]);
    if (vflag) store_virial(out, i, n, v);
  }

  // v += scale * d (x) g, components xx yy zz xy xz yz
  MD_HD static void add_virial(double v[6], const double d[3], const double g[3], double scale) {
    v[0] += scale * d[0] * g[0];
    v[1] += scale * d[1] * g[1];
    v[2] += scale * d[2] * g[2];
    v[3] += scale * d[0] * g[1];
    v[4] += scale * d[0] * g[2];
    v[5] += scale * d[1] * g[2];
  }
};

template <class T>
void launch_descriptor(Context& ctx, const DescriptorKernel<T>& k, Index count);

}  // namespace md::deepmd
