// SNAP kernel pieces (models/snap/): the team-scratch U and dU/dr recursions against the
// former per-thread recursion (kept here as the reference), the GPU (atom-minor) work-array
// layout against the CPU one, the linear/quadratic descriptor model against the direct
// packed formula; and a CPU force-call timing harness (skipped unless asked for).
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/neighbor.hpp"
#include "engine/system.hpp"
#include "io/lattice.hpp"
#include "models/snap/descriptor_model.hpp"
#include "models/snap/snap.hpp"

using namespace md;

namespace {
std::string src_path(const std::string& rel) { return std::string(MDGPU_SOURCE_DIR) + "/" + rel; }

SnapModel model_of(const std::string& pot, const std::vector<std::string>& elements) {
  return read_snap_model(src_path("inputs/snap/" + pot + ".snapcoeff"),
                         src_path("inputs/snap/" + pot + ".snapparam"), elements);
}

// A perturbed bcc crystal of `cells`^3 cells, types alternating over ntypes.
Structure crystal(double a, int cells, int ntypes, const std::vector<std::string>& names) {
  LatticeSpec spec;
  spec.kind = "bcc";
  spec.a = a;
  spec.repeat = {cells, cells, cells};
  spec.elements = {names[0]};
  Structure s = make_lattice(spec);
  s.type_names = names;
  s.type_masses.assign(names.size(), 1.0);
  std::mt19937_64 rng(4711);
  std::uniform_real_distribution<double> d(-0.12, 0.12);
  for (std::size_t i = 0; i < s.size(); ++i) {
    s.x[i] += d(rng);
    s.y[i] += d(rng);
    s.z[i] += d(rng);
    s.type[i] = static_cast<int>(i % static_cast<std::size_t>(ntypes));
  }
  return s;
}

// ---------------------------------------------------------------- reference: the former
// per-thread layer recursion (one thread holds two full layers of u and du), as SNAP ran it
// before the team kernels. Layer j from layer j-1, full (j+1)^2 blocks, left half by recursion,
// the rest by the inversion symmetry (which also conjugates the centre entry).
void ref_u_layer(const std::vector<double>& rootpq, int rp, int j, double a_r, double a_i,
                 double b_r, double b_i, const double* pr, const double* pi, double* cr,
                 double* ci) {
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int jju = mb * (j + 1), jjup = mb * j;
    cr[jju] = 0.0;
    ci[jju] = 0.0;
    for (int ma = 0; ma < j; ++ma) {
      double rq = rootpq[(j - ma) * rp + (j - mb)];
      cr[jju] += rq * (a_r * pr[jjup] + a_i * pi[jjup]);
      ci[jju] += rq * (a_r * pi[jjup] - a_i * pr[jjup]);
      rq = rootpq[(ma + 1) * rp + (j - mb)];
      cr[jju + 1] = -rq * (b_r * pr[jjup] + b_i * pi[jjup]);
      ci[jju + 1] = -rq * (b_r * pi[jjup] - b_i * pr[jjup]);
      ++jju;
      ++jjup;
    }
  }
  int jju = 0, jjup = (j + 1) * (j + 1) - 1, mbpar = 1;
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int mapar = mbpar;
    for (int ma = 0; ma <= j; ++ma) {
      cr[jjup] = mapar == 1 ? cr[jju] : -cr[jju];
      ci[jjup] = mapar == 1 ? -ci[jju] : ci[jju];
      mapar = -mapar;
      ++jju;
      --jjup;
    }
    mbpar = -mbpar;
  }
}

void ref_du_layer(const std::vector<double>& rootpq, int rp, int j, double a_r, double a_i,
                  double b_r, double b_i, const double* da_r, const double* da_i,
                  const double* db_r, const double* db_i, const double* pr, const double* pi,
                  const double* dpr, const double* dpi, double* dcr, double* dci) {
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int jju = mb * (j + 1), jjup = mb * j;
    for (int k = 0; k < 3; ++k) dcr[3 * jju + k] = dci[3 * jju + k] = 0.0;
    for (int ma = 0; ma < j; ++ma) {
      double rq = rootpq[(j - ma) * rp + (j - mb)];
      for (int k = 0; k < 3; ++k) {
        dcr[3 * jju + k] += rq * (da_r[k] * pr[jjup] + da_i[k] * pi[jjup] +
                                  a_r * dpr[3 * jjup + k] + a_i * dpi[3 * jjup + k]);
        dci[3 * jju + k] += rq * (da_r[k] * pi[jjup] - da_i[k] * pr[jjup] +
                                  a_r * dpi[3 * jjup + k] - a_i * dpr[3 * jjup + k]);
      }
      rq = rootpq[(ma + 1) * rp + (j - mb)];
      for (int k = 0; k < 3; ++k) {
        dcr[3 * (jju + 1) + k] = -rq * (db_r[k] * pr[jjup] + db_i[k] * pi[jjup] +
                                        b_r * dpr[3 * jjup + k] + b_i * dpi[3 * jjup + k]);
        dci[3 * (jju + 1) + k] = -rq * (db_r[k] * pi[jjup] - db_i[k] * pr[jjup] +
                                        b_r * dpi[3 * jjup + k] - b_i * dpr[3 * jjup + k]);
      }
      ++jju;
      ++jjup;
    }
  }
  int jju = 0, jjup = (j + 1) * (j + 1) - 1, mbpar = 1;
  for (int mb = 0; 2 * mb <= j; ++mb) {
    int mapar = mbpar;
    for (int ma = 0; ma <= j; ++ma) {
      for (int k = 0; k < 3; ++k) {
        dcr[3 * jjup + k] = mapar == 1 ? dcr[3 * jju + k] : -dcr[3 * jju + k];
        dci[3 * jjup + k] = mapar == 1 ? -dci[3 * jju + k] : dci[3 * jju + k];
      }
      mapar = -mapar;
      ++jju;
      --jjup;
    }
    mbpar = -mbpar;
  }
}

// Switching function with the inner switch (as LAMMPS' compute_sfac/dsfac).
void ref_switch(const SnapModel& m, double r, double rcut, double sinner, double dinner,
                double& sfac, double& dsfac) {
  const double pi = 3.14159265358979323846;
  double so = 1.0, dso = 0.0;
  if (m.switchflag && r > m.rmin0) {
    if (r > rcut) {
      so = 0.0;
    } else {
      const double f = pi / (rcut - m.rmin0);
      so = 0.5 * (std::cos((r - m.rmin0) * f) + 1.0);
      dso = -0.5 * std::sin((r - m.rmin0) * f) * f;
    }
  }
  sfac = so;
  dsfac = dso;
  if (m.switchinnerflag && r < sinner + dinner) {
    if (r > sinner - dinner) {
      const double f = 0.5 * pi / dinner;
      const double si = 0.5 * (1.0 - std::cos(0.5 * pi + (r - sinner) * f));
      const double dsi = 0.5 * f * std::sin(0.5 * pi + (r - sinner) * f);
      sfac = so * si;
      dsfac = dso * si + so * dsi;
    } else {
      sfac = dsfac = 0.0;
    }
  }
}

// Host reference of one atom's U totals ([nchem][idxu_max][2]) and of dE_i/dr_ij for each of
// its neighbours given Y ([nchem][idxu_half_max][2]), with the former recursion.
struct RefAtom {
  std::vector<double> utot;
  std::vector<double> dedr;  // [count][3]
};

RefAtom ref_atom(const SnapModel& m, const SnapTablesHost& tb, int nchem,
                 const std::vector<double>& xs, const std::vector<double>& ys,
                 const std::vector<double>& zs, const std::vector<int>& types,
                 const std::vector<int>& neigh, int count, Index n_local, Index i,
                 const std::vector<double>& ylist) {
  const double pi = 3.14159265358979323846;
  const int J = m.twojmax, rp = J + 1, L = (J + 1) * (J + 1);
  RefAtom out;
  out.utot.assign(2 * static_cast<std::size_t>(nchem) * tb.idxu_max, 0.0);
  out.dedr.assign(3 * static_cast<std::size_t>(count), 0.0);
  const int ielem = m.type_element[types[i]];
  if (ielem < 0) return out;
  const int cself = m.chemflag ? ielem : 0;
  for (int c = 0; c < nchem; ++c)
    for (int j = 0; j <= J; ++j)
      for (int mb = 0; mb <= j; ++mb)
        for (int ma = 0; ma <= j; ++ma)
          if (ma == mb && (c == cself || m.wselfallflag))
            out.utot[2 * (c * tb.idxu_max + tb.idxu_block[j] + mb * (j + 1) + ma)] = 1.0;
  std::vector<double> ur(2 * L), ui(2 * L), dur(6 * L), dui(6 * L);
  for (int k = 0; k < count; ++k) {
    const int jn = neigh[static_cast<Index>(k) * n_local + i];
    const double x = xs[jn] - xs[i], y = ys[jn] - ys[i], z = zs[jn] - zs[i];
    const double rsq = x * x + y * y + z * z;
    const int jelem = m.type_element[types[jn]];
    if (jelem < 0) continue;
    const double rcut = (m.radius[ielem] + m.radius[jelem]) * m.rcutfac;
    if (!(rsq < rcut * rcut && rsq > 1e-20)) continue;
    double sinner = 0, dinner = 0;
    if (m.switchinnerflag) {
      sinner = 0.5 * (m.sinner[ielem] + m.sinner[jelem]);
      dinner = 0.5 * (m.dinner[ielem] + m.dinner[jelem]);
    }
    const double r = std::sqrt(rsq);
    const double rscale0 = m.rfac0 * pi / (rcut - m.rmin0);
    const double theta0 = (r - m.rmin0) * rscale0;
    const double z0 = r * std::cos(theta0) / std::sin(theta0);
    const double dz0dr = z0 / r - (r * rscale0) * (rsq + z0 * z0) / rsq;
    const double uvec[3] = {x / r, y / r, z / r};
    const double r0inv = 1.0 / std::sqrt(r * r + z0 * z0);
    const double a_r = z0 * r0inv, a_i = -z * r0inv, b_r = y * r0inv, b_i = -x * r0inv;
    const double dr0invdr = -std::pow(r0inv, 3.0) * (r + z0 * dz0dr);
    double da_r[3], da_i[3], db_r[3], db_i[3];
    for (int c = 0; c < 3; ++c) {
      const double dr0 = dr0invdr * uvec[c], dz0 = dz0dr * uvec[c];
      da_r[c] = dz0 * r0inv + z0 * dr0;
      da_i[c] = -z * dr0;
      db_r[c] = y * dr0;
      db_i[c] = -x * dr0;
    }
    da_i[2] += -r0inv;
    db_i[0] += -r0inv;
    db_r[1] += r0inv;
    double sfac, dsfac;
    ref_switch(m, r, rcut, sinner, dinner, sfac, dsfac);
    sfac *= m.weight[jelem];
    dsfac *= m.weight[jelem];
    const int ch = m.chemflag ? jelem : 0;
    double* uc = out.utot.data() + 2 * static_cast<std::size_t>(ch) * tb.idxu_max;
    const double* yl = ylist.data() + 2 * static_cast<std::size_t>(ch) * tb.idxu_half_max;
    ur[0] = 1.0;
    ui[0] = 0.0;
    for (int c = 0; c < 3; ++c) dur[c] = dui[c] = 0.0;
    uc[0] += sfac;
    double de[3];
    for (int c = 0; c < 3; ++c) de[c] = 0.5 * (dsfac * uvec[c]) * yl[0];
    for (int j = 1; j <= J; ++j) {
      const int cur = j & 1, prev = cur ^ 1;
      ref_u_layer(tb.rootpq, rp, j, a_r, a_i, b_r, b_i, &ur[prev * L], &ui[prev * L], &ur[cur * L],
                  &ui[cur * L]);
      ref_du_layer(tb.rootpq, rp, j, a_r, a_i, b_r, b_i, da_r, da_i, db_r, db_i, &ur[prev * L],
                   &ui[prev * L], &dur[prev * 3 * L], &dui[prev * 3 * L], &dur[cur * 3 * L],
                   &dui[cur * 3 * L]);
      for (int q = 0; q < (j + 1) * (j + 1); ++q) {
        uc[2 * (tb.idxu_block[j] + q)] += sfac * ur[cur * L + q];
        uc[2 * (tb.idxu_block[j] + q) + 1] += sfac * ui[cur * L + q];
      }
      const double* yj = yl + 2 * tb.idxu_half_block[j];
      for (int mb = 0; 2 * mb <= j; ++mb)
        for (int ma = 0; ma <= j; ++ma) {
          if (2 * mb == j && ma > mb) break;
          const int q = mb * (j + 1) + ma;
          const double h = (2 * mb == j && ma == mb) ? 0.5 : 1.0;
          for (int c = 0; c < 3; ++c) {
            const double du_r =
                dsfac * ur[cur * L + q] * uvec[c] + sfac * dur[cur * 3 * L + 3 * q + c];
            const double du_i =
                dsfac * ui[cur * L + q] * uvec[c] + sfac * dui[cur * 3 * L + 3 * q + c];
            de[c] += h * (du_r * yj[2 * q] + du_i * yj[2 * q + 1]);
          }
        }
    }
    for (int c = 0; c < 3; ++c) out.dedr[3 * k + c] = 2.0 * de[c];
  }
  return out;
}

// The U and dE/dr team passes (snap_launch_ui / snap_launch_deidrj) on a crystal against the
// reference, in the CPU layout (blk 1) and the GPU one (blk 32).
void check_team_recursions(const std::string& pot, const std::vector<std::string>& elements,
                           double a, int ntypes) {
  CAPTURE(pot);
  for (int blk : {1, 32}) {
    CAPTURE(blk);
    Context ctx(Backend::cpu);
    SnapModel model = model_of(pot, elements);
    const SnapTablesHost tb = snap_build_tables(model);
    SnapPotential sp(ctx, model);
    const SnapView s = sp.view();
    const Structure st = crystal(a, 2, ntypes, elements);
    System sys(ctx, st, Units::metal());
    NeighborList nl(sys, sp.cutoff(), 0.5);
    nl.build_now(sys);
    const SystemView sv = sys.view();
    const NeighborView nv = nl.view();
    const Index n = sys.n_local();
    const Index np = atom_blocks(n, blk) * blk;
    const int nchem = s.nchem;
    const Index cu = 2 * static_cast<Index>(nchem) * tb.idxu_max;
    const Index cy = 2 * static_cast<Index>(nchem) * tb.idxu_half_max;
    DeviceArray<double> utot(ctx, np * cu), ylist(ctx, np * cy);
    // Y: arbitrary smooth values per (atom, component)
    std::vector<double> yh(np * cy, 0.0), yref(n * cy);
    for (Index i = 0; i < n; ++i)
      for (Index c = 0; c < cy; ++c) {
        const double v = std::sin(0.37 * static_cast<double>(c) + 1.3 * static_cast<double>(i));
        yref[i * cy + c] = v;
        yh[atom_minor(i, cy, blk) + c * blk] = v;
      }
    ctx.to_device(yh, ylist);
    SnapWork w{};
    w.n = n;
    w.utot = utot.data();
    w.ylist = ylist.data();
    w.blk = blk;
    snap_launch_ui(ctx, s, sv, nv, w);
    PairPartials pp(ctx);
    pp.resize(nv);
    snap_launch_deidrj(ctx, s, sv, nv, w, pp.view());
    const std::vector<double> uh = ctx.to_host(utot), gh = ctx.to_host(pp.data);
    const std::vector<double> xs = ctx.to_host(sys.x), ys = ctx.to_host(sys.y),
                              zs = ctx.to_host(sys.z);
    const std::vector<int> types = ctx.to_host(sys.type), neigh = ctx.to_host(nl.neigh),
                           num = ctx.to_host(nl.num_neigh);
    const Index plane = static_cast<Index>(nv.max_neigh) * n;
    double uerr = 0, umax = 0, gerr = 0, gmax = 0;
    long pairs = 0;
    for (Index i = 0; i < n; ++i) {
      const std::vector<double> yi(yref.begin() + i * cy, yref.begin() + (i + 1) * cy);
      const RefAtom r = ref_atom(model, tb, nchem, xs, ys, zs, types, neigh, num[i], n, i, yi);
      for (Index c = 0; c < cu; ++c) {
        uerr = std::max(uerr, std::abs(uh[atom_minor(i, cu, blk) + c * blk] - r.utot[c]));
        umax = std::max(umax, std::abs(r.utot[c]));
      }
      for (int k = 0; k < num[i]; ++k, ++pairs)
        for (int c = 0; c < 3; ++c) {
          const double g = gh[c * plane + static_cast<Index>(k) * n + i];
          gerr = std::max(gerr, std::abs(g - r.dedr[3 * k + c]));
          gmax = std::max(gmax, std::abs(r.dedr[3 * k + c]));
        }
    }
    MESSAGE(pot << " blk " << blk << ": " << n << " atoms, " << pairs
                << " pairs; max |dU| = " << uerr << " (max |U| " << umax
                << "), max |d dE/dr| = " << gerr << " (max " << gmax << ")");
    CHECK(umax > 1.0);
    CHECK(gmax > 1e-3);
    CHECK(uerr <= 1e-13 * umax);
    CHECK(gerr <= 1e-13 * gmax);
  }
}

// Energies and forces of a potential with the CPU (blk 1) and GPU (blk 32) layouts.
void check_layouts(const std::string& pot, const std::vector<std::string>& elements, double a,
                   int ntypes) {
  CAPTURE(pot);
  const Structure st = crystal(a, 3, ntypes, elements);
  std::vector<double> res[2];
  for (int v = 0; v < 2; ++v) {
    Context ctx(Backend::cpu);
    SnapPotential sp(ctx, model_of(pot, elements));
    sp.set_atom_block(v == 0 ? 1 : 32);
    System sys(ctx, st, Units::metal());
    NeighborList nl(sys, sp.cutoff(), 0.5);
    nl.build_now(sys);
    const Index n = sys.n_local();
    DeviceArray<double> e(ctx, n), w(ctx, 6 * n);
    sp.compute(ctx, sys.view(), nl.view(),
               ForceOut{sys.fx.data(), sys.fy.data(), sys.fz.data(), e.data(), w.data(), false},
               ForceRequest{true, true});
    for (const DeviceArray<double>* arr : {&e, &w, &sys.fx, &sys.fy, &sys.fz}) {
      const std::vector<double> h = ctx.to_host(*arr, arr == &w ? 6 * n : n);
      res[v].insert(res[v].end(), h.begin(), h.end());
    }
    // a force-only call after it (Z not stored: the Y pass computes Z itself)
    sp.compute(ctx, sys.view(), nl.view(),
               ForceOut{sys.fx.data(), sys.fy.data(), sys.fz.data(), nullptr, nullptr, false},
               ForceRequest{false, false});
    for (const DeviceArray<double>* arr : {&sys.fx, &sys.fy, &sys.fz}) {
      const std::vector<double> h = ctx.to_host(*arr, n);
      res[v].insert(res[v].end(), h.begin(), h.end());
    }
  }
  REQUIRE(res[0].size() == res[1].size());
  double worst = 0, scale = 0;
  for (std::size_t k = 0; k < res[0].size(); ++k) {
    worst = std::max(worst, std::abs(res[0][k] - res[1][k]));
    scale = std::max(scale, std::abs(res[0][k]));
  }
  MESSAGE(pot << ": max |CPU layout - GPU layout| = " << worst << " (max value " << scale << ")");
  CHECK(scale > 0.1);
  CHECK(worst <= 1e-13 * scale);
}

}  // namespace
TEST_SUITE("snap") {
  TEST_CASE("snap kernels: team U and dE/dr recursions equal the per-thread recursion") {
    check_team_recursions("W_2940_2017_2", {"W"}, 3.1803, 1);           // 2J = 8
    check_team_recursions("Ta06A", {"Ta"}, 3.316, 1);                   // 2J = 6
    check_team_recursions("InP_JCPA2020", {"In", "P"}, 4.2, 2);         // chemflag, wselfall
    check_team_recursions("WBe_Wood_PRB2019", {"W", "Be"}, 3.1803, 2);  // two elements
  }

  TEST_CASE("snap kernels: the GPU work-array layout gives the CPU layout's results") {
    check_layouts("W_2940_2017_2", {"W"}, 3.1803, 1);
    check_layouts("InP_JCPA2020", {"In", "P"}, 4.2, 2);
    check_layouts("Ni_Zuo_JPCA2020.quadratic", {"Ni"}, 2.8, 1);  // quadratic
  }

  TEST_CASE("snap kernels: quadratic descriptor model equals the packed formula") {
    const int nd = 7, nelem = 2, stride = 1 + nd + nd * (nd + 1) / 2;
    std::mt19937_64 rng(99);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    std::vector<double> coeff(static_cast<std::size_t>(stride) * nelem);
    for (double& c : coeff) c = u(rng);
    const std::vector<int> type_element{1, -1, 0};  // three system types, one not handled
    for (int blk : {1, 32}) {
      for (bool quadratic : {true, false}) {
        CAPTURE(blk);
        CAPTURE(quadratic);
        Context ctx(Backend::cpu);
        DescriptorModel model(ctx, nd, quadratic, coeff, stride, nelem, type_element);
        const Index n = 37;  // not a multiple of the block nor of the tile
        const Index np = atom_blocks(n, blk) * blk;
        std::vector<int> types(n);
        std::vector<double> bh(np * nd, 0.0), bref(n * nd);
        for (Index i = 0; i < n; ++i) {
          types[i] = static_cast<int>((i * 5) % 3);
          for (int k = 0; k < nd; ++k) {
            bref[i * nd + k] = u(rng);
            bh[atom_minor(i, nd, blk) + static_cast<Index>(k) * blk] = bref[i * nd + k];
          }
        }
        DeviceArray<int> type(ctx, n);
        DeviceArray<double> b(ctx, np * nd), beta(ctx, np * nd), e(ctx, n);
        ctx.to_device(types, type);
        ctx.to_device(bh, b);
        ctx.to_device(std::vector<double>(np * nd, -7.0), beta);
        descriptor_model_launch(ctx, model, type.data(), n, blk, b.data(), beta.data(),
                                ForceOut{nullptr, nullptr, nullptr, e.data(), nullptr, false},
                                true);
        const std::vector<double> eh = ctx.to_host(e), betah = ctx.to_host(beta);
        double eerr = 0, berr = 0;
        for (Index i = 0; i < n; ++i) {
          const int el = type_element[types[i]];
          const double* bi = &bref[i * nd];
          double eref = 0.0;
          std::vector<double> g(nd, 0.0);
          if (el >= 0) {
            const double* c = &coeff[static_cast<std::size_t>(el) * stride];
            eref = c[0];
            for (int k = 0; k < nd; ++k) {
              eref += c[1 + k] * bi[k];
              g[k] = c[1 + k];
            }
            if (quadratic) {
              int q = 1 + nd;
              for (int k = 0; k < nd; ++k)
                for (int l = k; l < nd; ++l, ++q) {
                  if (l == k) {
                    eref += 0.5 * c[q] * bi[k] * bi[k];
                    g[k] += c[q] * bi[k];
                  } else {
                    eref += c[q] * bi[k] * bi[l];
                    g[k] += c[q] * bi[l];
                    g[l] += c[q] * bi[k];
                  }
                }
            }
          }
          eerr = std::max(eerr, std::abs(eh[i] - eref));
          if (quadratic)
            for (int k = 0; k < nd; ++k)
              berr = std::max(berr, std::abs(betah[atom_minor(i, nd, blk) + k * blk] - g[k]));
        }
        MESSAGE("blk " << blk << std::string(quadratic ? " quadratic" : " linear")
                       << ": max |dE_i| = " << eerr << ", max |d beta| = " << berr);
        CHECK(eerr < 1e-13);
        CHECK(berr < 1e-13);
        if (!quadratic)  // a linear model leaves beta alone (Y reads the coefficients)
          CHECK(betah[0] == -7.0);
      }
    }
  }
}

// Force-call timing on the two benchmark structures (bcc 10^3 cells = 2000 atoms, as
// benchmarks/run_benchmarks.py snap-ta06a-2k and snap-w2940-2k), best of 5 calls:
//   OMP_NUM_THREADS=1 build/tests/mdgpu_tests -ts=snap_timing --no-skip
TEST_SUITE("snap_timing" * doctest::skip()) {
  TEST_CASE("force call") {
    struct Case {
      const char* name;
      const char* pot;
      const char* element;
      double a;
    };
    for (const Case& c : {Case{"snap-ta06a-2k", "Ta06A", "Ta", 3.316},
                          Case{"snap-w2940-2k", "W_2940_2017_2", "W", 3.1803}}) {
      Context ctx(Backend::cpu);
      LatticeSpec spec;
      spec.kind = "bcc";
      spec.a = c.a;
      spec.repeat = {10, 10, 10};
      spec.elements = {c.element};
      Structure s = make_lattice(spec);
      s.type_masses = {1.0};
      // 0.05 A displacements so that neighbour distances differ as in a run
      for (std::size_t i = 0; i < s.size(); ++i) {
        s.x[i] += 0.05 * std::sin(1.7 * static_cast<double>(i));
        s.y[i] += 0.05 * std::cos(2.3 * static_cast<double>(i));
        s.z[i] += 0.05 * std::sin(0.9 * static_cast<double>(i) + 1.0);
      }
      SnapPotential pot(
          ctx, read_snap_model(src_path(std::string("inputs/snap/") + c.pot + ".snapcoeff"),
                               src_path(std::string("inputs/snap/") + c.pot + ".snapparam"),
                               {c.element}));
      System sys(ctx, s, Units::metal());
      NeighborList nl(sys, pot.cutoff(), 1.0);
      nl.build_now(sys);
      const Index n = sys.n_local();
      DeviceArray<double> e(ctx, n), v(ctx, 6 * n);
      const ForceOut out{sys.fx.data(), sys.fy.data(), sys.fz.data(), e.data(), v.data(), false};
      for (bool energy : {false, true}) {
        const ForceRequest req{energy, energy};
        pot.compute(ctx, sys.view(), nl.view(), out, req);  // warm-up
        double best = 1e30;
        for (int r = 0; r < 5; ++r) {
          const auto t0 = std::chrono::steady_clock::now();
          pot.compute(ctx, sys.view(), nl.view(), out, req);
          ctx.synchronize();
          best = std::min(
              best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        }
        MESSAGE(std::string(c.name) << " (" << n << " atoms), "
                                    << std::string(energy ? "force+energy+virial" : "force only")
                                    << ": best of 5 = " << best * 1e3 << " ms per call, "
                                    << static_cast<double>(n) / best << " atom-steps/s");
      }
      MESSAGE(std::string(c.name) << ": SNAP work arrays " << pot.work_bytes_per_atom()
                                  << " bytes per atom (U, Z, Y, B, pair partials, reverse map)");
    }
  }
}
