// The DeePMD se_e2_a kernels: slot selection (SlotKernel, one thread per atom) and the per-atom
// team kernel (DescriptorKernel: descriptor, fitting net, backward pass, on kernels/nn.hpp's team
// shape); forces and virial come from the shared many-body gather (kernels/many_body.hpp).
// Energies eV, lengths Å, forces eV/Å, virial eV. Launched by deepmd.cpp (slots, gather) and
// deepmd_double.cpp / deepmd_float.cpp (the team kernel, one instantiation per TU).
//
// Per local atom i:
//  1. (SlotKernel) neighbour slots exactly as deepmd-kit's dpmodel: the nearest sum(sel)
//     neighbours with r <= rcut over all types, then per type the nearest sel[t] of those, sorted by
//     distance, padded with -1 (deepmd.dpmodel.utils.nlist build_neighbor_list +
//     nlist_distinguish_types); each real slot remembers its Verlet-list slot k, and every list
//     slot's partial is cleared;
//  2. environment rows R = (w/r, w x/r^2, w y/r^2, w z/r^2) (r -> r + env_protection),
//     normalised (R - davg)/dstd -- padded slots are normalised too (R_raw = 0) and
//     contribute; embedding G = N(R[0]) per slot; gr = sum_slots G (x) R / nnei with
//     nnei = sum(sel) (deepmd/dpmodel/descriptor/se_e2_a.py);
//  3. D = gr gr[:axis_neuron]^T, fitting net of the centre type, E_i = fit(D) + bias_atom_e
//     + out_bias;
//  4. backward: dE/dD -> dE/dgr; per tile of real slots the embedding net is re-evaluated
//     (nothing per slot is stored but the result) and back-propagated, giving the partial
//     g_ik = dE_i/d(r_j - r_i), stored in the shared PairPartials at the slot's list slot k
//     (list slots not selected -- beyond rcut or beyond sel -- keep the zero of step 1).
// With a table (tabd != null) the embedding G(s) and dG/ds come from piecewise quintics
// (table_eval, deepmd_net.hpp) wherever s lies in the table's range, else from the net.
// ManyBodyForces::gather then gives forces and per-atom virial (sign convention at the top of
// kernels/many_body.hpp: W = -1/2 sum d (x) g to each end, LAMMPS' convention).
#pragma once

#include "engine/neighbor.hpp"
#include "engine/potential.hpp"
#include "engine/system.hpp"
#include "kernels/many_body.hpp"
#include "kernels/team.hpp"
#include "models/deepmd/deepmd_net.hpp"

namespace md::deepmd {

// Scratch layout of one DescriptorKernel team (byte offsets; host: make_layout in deepmd.cpp).
// rows = the row tile (slots per embedding evaluation), ld = the embedding row stride (widest
// embedding layer), T-buffers a and b hold max(rows * ld, widest fitting layer) values, dphi
// max(rows * emb_dphi, fit_dphi).
struct TeamLayout {
  int rows, ld, fit_ld;
  std::size_t gr, dgr, R, dR, tabG, tabdG, flag, tu, a, b, dphi, bytes;
};

// Candidate neighbours of atom i, then its slots (step 1 above): one thread per atom. Candidate
// arrays are the chunk workspace, candidate c of chunk atom k at c * cstride + k * astride:
// atom-minor on CUDA (cstride = chunk, astride = 1: a warp's accesses coalesce), atom-major on
// the CPU (cstride = 1, astride = nnei: one atom's candidates share cache lines). A candidate
// is its Verlet-list slot a (atom neigh[a * n_local + i]); slot s of atom i records both the
// atom (slot_atom) and a (slot_list). The atom's partials of list slots 0 .. num_neigh-1 are
// zeroed here, so the descriptor kernel writes only its selected slots.
struct SlotKernel {
  int ntypes, nnei;
  double rcut;
  const int* sel_start;
  const int* model_type;
  SystemView sys;
  NeighborView nl;
  int* slot_atom;  // [s * n_local + i]: neighbour atom, -1 = padding
  int* slot_list;  // [s * n_local + i]: its Verlet-list slot a (-1 = padding)
  PairPartialsView partials;
  double* cand_r2;
  int* cand_a;
  Index begin, cstride, astride;

  MD_HD void operator()(Index k) const {
    const Index i = begin + k;
    double* cr2 = cand_r2 + k * astride;
    int* ca = cand_a + k * astride;
    const Index n = nl.n_local;
    const double xi = sys.x[i], yi = sys.y[i], zi = sys.z[i];
    const double rc2 = rcut * rcut;
    // the nearest nnei neighbours within rcut (insertion keeps list order on ties)
    int ncand = 0;
    const int nn = nl.num_neigh[i];
    for (int a = 0; a < nn; ++a) {
      const Index la = static_cast<Index>(a) * n + i;
      partials.store(la, 0.0, 0.0, 0.0);
      const int j = nl.neigh[la];
      const double dx = sys.x[j] - xi, dy = sys.y[j] - yi, dz = sys.z[j] - zi;
      const double r2 = dx * dx + dy * dy + dz * dz;
      if (r2 > rc2) continue;
      if (ncand == nnei && r2 >= cr2[(nnei - 1) * cstride]) continue;
      int pos = ncand < nnei ? ncand : nnei - 1;
      while (pos > 0 && cr2[(pos - 1) * cstride] > r2) {
        cr2[pos * cstride] = cr2[(pos - 1) * cstride];
        ca[pos * cstride] = ca[(pos - 1) * cstride];
        --pos;
      }
      cr2[pos * cstride] = r2;
      ca[pos * cstride] = a;
      if (ncand < nnei) ++ncand;
    }
    // per type, the nearest sel[t] of those
    for (int t = 0; t < ntypes; ++t) {
      int s = sel_start[t];
      const int end = sel_start[t + 1];
      for (int c = 0; c < ncand && s < end; ++c) {
        const int a = ca[c * cstride];
        const int j = nl.neigh[static_cast<Index>(a) * n + i];
        if (model_type[sys.type[j]] != t) continue;
        slot_atom[static_cast<Index>(s) * n + i] = j;
        slot_list[static_cast<Index>(s++) * n + i] = a;
      }
      for (; s < end; ++s) {
        slot_atom[static_cast<Index>(s) * n + i] = -1;
        slot_list[static_cast<Index>(s) * n + i] = -1;
      }
    }
  }
};

// Steps 2-4 for one atom per team: lanes across embedding features and slot rows (row tiles of
// layout.rows slots), the fitting net one row with lanes across its features.
template <class T>
struct DescriptorKernel {
  // model
  int ntypes, nnei, m1, m2, type_one_side;
  int fit_dphi, emb_dphi;
  TeamLayout lay;
  double rcut, rcut_smth, protection;
  const int* sel_start;  // [ntypes + 1]
  const double* davg;    // [ntypes * nnei * 4]
  const double* dstd;
  const double* e_shift;  // [ntypes]
  const int* model_type;  // system type -> model type
  const int* pad_uniform;  // [ntypes * ntypes]: davg/dstd equal over the segment (centre, type)
  const LayerDesc* layers;
  const NetDesc* emb;     // embedding nets
  const NetDesc* fit;     // fitting nets
  const T* p;             // all weights
  const TableDesc* tabd;  // per embedding net; null: no tabulation
  const double* tab;      // table coefficients (double in both precisions)
  // system
  SystemView sys;
  NeighborView nl;
  const int* slot_atom;  // [s * n_local + i]
  const int* slot_list;  // [s * n_local + i]: Verlet-list slot of a real slot
  PairPartialsView partials;  // dE_i/dr_ij at list slot k * n_local + i
  double* energy;
  bool eflag, accumulate;

  MD_HD void env_row(int ti, int s, int j, double xi, double yi, double zi, double* R) const {
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

  // Embedding of slots [s0, s0 + rows) of one type: environment rows in R, the net input in a,
  // G (in double, tabG) from the table (flag[r] = interval >= 0, tu; tabdG) or from the net
  // (whose output buffer is returned; dphi filled when dphi != null). Ends with a barrier.
  MD_HD const T* embed_tile(const Team& t, int ti, int ni, int s0, int rows, double xi, double yi,
                            double zi, T* dphi, bool grad) const {
    const Index n = nl.n_local;
    double* R = t.scratch_as<double>(lay.R);
    int* flag = t.scratch_as<int>(lay.flag);
    double* tu = t.scratch_as<double>(lay.tu);
    double* tG = t.scratch_as<double>(lay.tabG);
    double* tdG = t.scratch_as<double>(lay.tabdG);
    T* a = t.scratch_as<T>(lay.a);
    T* b = t.scratch_as<T>(lay.b);
    team_for(t, rows, [&](int r) {
      const int s = s0 + r;
      env_row(ti, s, slot_atom[static_cast<Index>(s) * n + t.item], xi, yi, zi, R + 4 * r);
      a[static_cast<Index>(r) * lay.ld] = static_cast<T>(R[4 * r]);
      int k = -1;
      double u = 0.0;
      if (tabd && !table_locate(tabd[ni], R[4 * r], k, u)) k = -1;
      flag[r] = k;
      tu[r] = u;
    });
    team_barrier(t);
    int on_net = rows;
    if (tabd) {
      nn::team_for_rows(t, rows, m1, [&](int r, int m) {
        if (flag[r] < 0) return;
        table_value(tabd[ni], tab, m1, flag[r], tu[r], m, tG + r * m1 + m,
                    grad ? tdG + r * m1 + m : nullptr);
      });
      on_net = static_cast<int>(
          team_sum<double>(t, rows, [&](int r) { return flag[r] < 0 ? 1.0 : 0.0; }));
    }
    if (on_net == 0) return a;
    const T* G = nn::team_forward(t, emb[ni], layers, p, rows, a, b, lay.ld, dphi, emb_dphi);
    nn::team_for_rows(t, rows, m1, [&](int r, int m) {
      if (flag[r] < 0) tG[r * m1 + m] = static_cast<double>(G[static_cast<Index>(r) * lay.ld + m]);
    });
    team_barrier(t);
    return G;
  }

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const Index n = nl.n_local;
    double* gr = t.scratch_as<double>(lay.gr);    // [m1][4]
    double* dgr = t.scratch_as<double>(lay.dgr);  // [m1][4]
    double* R = t.scratch_as<double>(lay.R);      // [rows][4]
    double* dR = t.scratch_as<double>(lay.dR);    // [rows][4]
    double* tG = t.scratch_as<double>(lay.tabG);  // [rows][m1]
    double* tdG = t.scratch_as<double>(lay.tabdG);
    int* flag = t.scratch_as<int>(lay.flag);    // [rows] table interval, -1: net
    T* a = t.scratch_as<T>(lay.a);
    T* b = t.scratch_as<T>(lay.b);
    T* dphi = t.scratch_as<T>(lay.dphi);
    const int rows_max = lay.rows;

    const double xi = sys.x[i], yi = sys.y[i], zi = sys.z[i];
    const int ti = model_type[sys.type[i]];

    // 2. gr = sum_s G_s (x) R_s / nnei
    team_for(t, 4 * m1, [&](int k) { gr[k] = 0.0; });
    team_barrier(t);
    for (int ty = 0; ty < ntypes; ++ty) {
      const int ni = net_index(ti, ty);
      const int begin = sel_start[ty], end = sel_start[ty + 1];
      // padded slots of a segment with one davg/dstd row have one G (R_raw = 0): evaluate the
      // first and weight it by their number
      const int real = static_cast<int>(team_sum<double>(t, end - begin, [&](int r) {
        return slot_atom[static_cast<Index>(begin + r) * n + i] >= 0 ? 1.0 : 0.0;
      }));
      const bool merge = pad_uniform[ti * ntypes + ty] != 0 && real < end - begin;
      const int stop = merge ? begin + real + 1 : end;
      const double pad_weight = end - begin - real;
      for (int s0 = begin; s0 < stop; s0 += rows_max) {
        const int rows = stop - s0 < rows_max ? stop - s0 : rows_max;
        embed_tile(t, ti, ni, s0, rows, xi, yi, zi, nullptr, false);
        const int pad_row = merge ? begin + real - s0 : -1;
        team_for(t, m1, [&](int m) {
          double acc[4] = {gr[4 * m], gr[4 * m + 1], gr[4 * m + 2], gr[4 * m + 3]};
          for (int r = 0; r < rows; ++r) {
            const double g = r == pad_row ? tG[r * m1 + m] * pad_weight : tG[r * m1 + m];
            for (int c = 0; c < 4; ++c) acc[c] += g * R[4 * r + c];
          }
          for (int c = 0; c < 4; ++c) gr[4 * m + c] = acc[c];
        });
        team_barrier(t);
      }
    }
    const double inv_nnei = 1.0 / nnei;
    team_for(t, 4 * m1, [&](int k) { gr[k] *= inv_nnei; });
    team_barrier(t);

    // 3. D = gr gr<^T, fitting net
    nn::team_for_rows(t, m1, m2, [&](int m, int q) {
      double d = 0.0;
      for (int c = 0; c < 4; ++c) d += gr[m * 4 + c] * gr[q * 4 + c];
      a[m * m2 + q] = static_cast<T>(d);
    });
    team_barrier(t);
    const NetDesc& fnet = fit[ti];
    T* out = nn::team_forward(t, fnet, layers, p, 1, a, b, lay.fit_ld, dphi, fit_dphi);
    T* ga = out == a ? b : a;  // a free buffer
    team_single(t, [&] {
      if (eflag) {
        const double e = static_cast<double>(out[0]) + e_shift[ti];
        energy[i] = accumulate ? energy[i] + e : e;
      }
      ga[0] = T(1);
    });

    // 4. backward: dE/dD, then dE/d(gr_raw) = dE/dgr / nnei
    const T* dD = nn::team_backward(t, fnet, layers, p, 1, dphi, fit_dphi, ga, out, lay.fit_ld);
    nn::team_for_rows(t, m1, 4, [&](int m, int c) {
      const int k = 4 * m + c;
      double s = 0.0;
      for (int q = 0; q < m2; ++q) s += static_cast<double>(dD[m * m2 + q]) * gr[q * 4 + c];
      if (m < m2)
        for (int q = 0; q < m1; ++q) s += static_cast<double>(dD[q * m2 + m]) * gr[q * 4 + c];
      dgr[k] = s * inv_nnei;
    });
    team_barrier(t);

    //    per real slot (the first `real` of each type segment): re-evaluate the embedding and
    //    back-propagate
    for (int ty = 0; ty < ntypes; ++ty) {
      const int ni = net_index(ti, ty);
      const int begin = sel_start[ty], end = sel_start[ty + 1];
      const int real = static_cast<int>(team_sum<double>(t, end - begin, [&](int r) {
        return slot_atom[static_cast<Index>(begin + r) * n + i] >= 0 ? 1.0 : 0.0;
      }));
      // padded slots do not depend on positions (and have no list slot)
      for (int s0 = begin; s0 < begin + real; s0 += rows_max) {
        const int rows = begin + real - s0 < rows_max ? begin + real - s0 : rows_max;
        const T* G = embed_tile(t, ti, ni, s0, rows, xi, yi, zi, dphi, true);
        T* ya = G == a ? b : a;
        T* yb = const_cast<T*>(G);
        // dE/dR_c = sum_m dgr_mc G_m; dE/dG_m = sum_c dgr_mc R_c
        team_for(t, rows, [&](int r) {
          double acc[4] = {0.0, 0.0, 0.0, 0.0};
          for (int m = 0; m < m1; ++m) {
            const double g = tG[r * m1 + m];
            for (int c = 0; c < 4; ++c) acc[c] += dgr[m * 4 + c] * g;
          }
          for (int c = 0; c < 4; ++c) dR[4 * r + c] = acc[c];
        });
        nn::team_for_rows(t, rows, m1, [&](int r, int m) {
          double acc = 0.0;
          for (int c = 0; c < 4; ++c) acc += dgr[m * 4 + c] * R[4 * r + c];
          if (flag[r] >= 0)
            tdG[r * m1 + m] *= acc;  // table row: dE/dG_m dG_m/ds
          else
            ya[static_cast<Index>(r) * lay.ld + m] = static_cast<T>(acc);
        });
        team_barrier(t);
        const int on_net =
            tabd ? static_cast<int>(team_sum<double>(t, rows, [&](int r) { return flag[r] < 0 ? 1.0 : 0.0; }))
                 : rows;
        const T* ds = on_net ? nn::team_backward(t, emb[ni], layers, p, rows, dphi, emb_dphi, ya,
                                                 yb, lay.ld)
                             : ya;
        team_for(t, rows, [&](int r) {
          const int s = s0 + r;
          const int j = slot_atom[static_cast<Index>(s) * n + i];
          // dE/ds from the table or the net
          double dsr = 0.0;
          if (flag[r] >= 0) {
            for (int m = 0; m < m1; ++m) dsr += tdG[r * m1 + m];
          } else {
            dsr = static_cast<double>(ds[static_cast<Index>(r) * lay.ld]);
          }
          // through the normalisation and R_raw(d), d = r_j - r_i
          const Index o = (static_cast<Index>(ti) * nnei + s) * 4;
          double draw[4];
          for (int c = 0; c < 4; ++c) draw[c] = (dR[4 * r + c] + (c == 0 ? dsr : 0.0)) / dstd[o + c];
          const double d[3] = {sys.x[j] - xi, sys.y[j] - yi, sys.z[j] - zi};
          const double rr = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
          double dw;
          const double w = smooth_switch(rr, rcut_smth, rcut, dw);
          const double q = rr + protection;
          const double q2 = q * q;
          const double A = draw[1] * d[0] + draw[2] * d[1] + draw[3] * d[2];
          const double radial = draw[0] * (dw / q - w / q2) + A * (dw / q2 - 2.0 * w / (q2 * q));
          partials.store(static_cast<Index>(slot_list[static_cast<Index>(s) * n + i]) * n + i,
                  radial * d[0] / rr + draw[1] * w / q2, radial * d[1] / rr + draw[2] * w / q2,
                  radial * d[2] / rr + draw[3] * w / q2);
        });
        team_barrier(t);
      }
    }
  }
};

// Team size of the DescriptorKernel launch on CUDA.
constexpr int kDescriptorTeam = 128;

template <class T>
void launch_descriptor(Context& ctx, const DescriptorKernel<T>& k, Index count);

}  // namespace md::deepmd
