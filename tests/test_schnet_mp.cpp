// The message-passing layer (kernels/message_passing.hpp) against host loops on a toy model:
// coefficients c_f(r) = exp(-a_f r) (rc - r)^2 per pair, features x_a[f] fixed per owner atom,
// out_i = sum_pairs c(r_ij) (contraction) x_j, E = 1/2 sum_i |out_i|^2. Checked: the
// aggregation (diagonal and outer contractions), the pair partials through the many-body
// gather (forces, virial) and the adjoints summed per owner through the reverse-slot map, on a
// cubic box and a box thinner than the list radius (several images of one atom per list).
#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "engine/halo.hpp"
#include "engine/neighbor.hpp"
#include "engine/system.hpp"
#include "kernels/many_body.hpp"
#include "kernels/message_passing.hpp"
#include "support.hpp"

using namespace md;

namespace {

constexpr double kRc = 2.6;

double coeff(int q, double r, double& dc) {
  const double a = 0.3 * (q + 1);
  const double e = std::exp(-a * r);
  const double u = kRc - r;
  dc = -a * e * u * u - 2.0 * e * u;
  return e * u * u;
}

// The toy pair functor: n_coeff coefficients per pair, no model scratch.
struct ToyPairs {
  int n_coeff;
  std::size_t scratch_bytes(int) const { return 0; }
  MD_HD void forward(const Team& t, const mp::PairRow* rows, int n, double* c, int ldc,
                     unsigned char*) const {
    team_for(t, n * n_coeff, [&](int kk) {
      const int r = kk / n_coeff, q = kk % n_coeff;
      double d;
      c[r * ldc + q] = coeff(q, rows[r].r, d);
    });
    team_barrier(t);
  }
  MD_HD void backward(const Team& t, const mp::PairRow* rows, int n, const double* dc, int ldc,
                      unsigned char*, double* dr) const {
    team_for(t, n, [&](int r) {
      double s = 0.0;
      for (int q = 0; q < n_coeff; ++q) {
        double d;
        coeff(q, rows[r].r, d);
        s += dc[r * ldc + q] * d;
      }
      const double inv = 1.0 / rows[r].r;
      dr[3 * r] = s * rows[r].dx * inv;
      dr[3 * r + 1] = s * rows[r].dy * inv;
      dr[3 * r + 2] = s * rows[r].dz * inv;
    });
    team_barrier(t);
  }
};

double feature(int owner, int f) { return std::sin(0.7 * owner + 0.3 * f + 0.1); }

template <class Contract>
void check_toy(const Box& box, int ncell, int n_coeff, int width) {
  Context ctx{test::backend()};
  const Structure s = test::perturbed_fcc(box, ncell, 0.1, 5, 1);
  System sys(ctx, s, Units::lj());
  NeighborList list(sys, kRc, 0.3);
  list.build_now(sys);
  const NeighborView nl = list.view();
  const Index n = sys.n_local();
  const int n_out = Contract::n_out(n_coeff, width);

  // Host copies.
  const int n_ghost = list.read_status().n_ghost;
  const auto neigh = ctx.to_host(list.neigh);
  const auto num = ctx.to_host(list.num_neigh);
  const auto gown = ctx.to_host(list.ghost_owner);
  const auto hx = ctx.to_host(sys.x), hy = ctx.to_host(sys.y), hz = ctx.to_host(sys.z);
  auto own = [&](int j) { return j < n ? j : gown[j - n]; };
  CHECK(n_ghost > 0);

  // Features on local atoms, ghosts by halo_forward.
  mp::FeatureField<double> x(ctx, width), out(ctx, n_out), adj_sum(ctx, width);
  x.resize(nl);
  out.resize(nl);
  adj_sum.resize(nl);
  const Index stride = nl.n_local + nl.ghost_capacity;
  std::vector<double> hxf(x.data.size(), 0.0);
  for (Index a = 0; a < n; ++a)
    for (int f = 0; f < width; ++f) hxf[f * stride + a] = feature(static_cast<int>(a), f);
  ctx.to_device(hxf, x.data);
  halo_forward(ctx, nl, x.data.data(), width);

  const ToyPairs pairs{n_coeff};
  mp::MpOptions opt;
  opt.rows = 5;  // several tiles per atom
  mp::aggregate<Contract>(ctx, sys.view(), nl, kRc, pairs, x.view(), out.view(), opt);

  // Host forward and analytic backward.
  std::vector<double> ho(static_cast<std::size_t>(n) * n_out, 0.0);
  for (Index i = 0; i < n; ++i)
    for (int k = 0; k < num[i]; ++k) {
      const int j = neigh[k * n + i];
      const double d[3] = {hx[j] - hx[i], hy[j] - hy[i], hz[j] - hz[i]};
      const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (r >= kRc) continue;
      for (int o = 0; o < n_out; ++o) {
        const int q = n_out == width ? o : o / width, f = o % width;
        double dc;
        ho[i * n_out + o] += coeff(q, r, dc) * feature(own(j), f);
      }
    }
  const auto got = ctx.to_host(out.data);
  double err = 0, scale = 0;
  for (Index i = 0; i < n; ++i)
    for (int o = 0; o < n_out; ++o) {
      err = std::max(err, std::fabs(got[o * stride + i] - ho[i * n_out + o]));
      scale = std::max(scale, std::fabs(ho[i * n_out + o]));
    }
  CHECK(scale > 0.1);
  CHECK(err <= 1e-13 * scale);

  // Backward: dE/dout = out. Forces F_a = -dE/dx_a, virial W = -sum r_ij (x) g_ij, adjoint
  // dE/dx_a[f] = sum over pairs whose neighbour is owned by a.
  std::vector<double> hf(3 * n, 0.0), hadj(static_cast<std::size_t>(n) * width, 0.0), hw(6, 0.0);
  for (Index i = 0; i < n; ++i)
    for (int k = 0; k < num[i]; ++k) {
      const int j = neigh[k * n + i];
      const double d[3] = {hx[j] - hx[i], hy[j] - hy[i], hz[j] - hz[i]};
      const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (r >= kRc) continue;
      double dedr = 0;
      for (int o = 0; o < n_out; ++o) {
        const int q = n_out == width ? o : o / width, f = o % width;
        double dc;
        const double c = coeff(q, r, dc);
        const double g = ho[i * n_out + o];
        dedr += g * dc * feature(own(j), f);
        hadj[own(j) * width + f] += g * c;
      }
      const double gv[3] = {dedr * d[0] / r, dedr * d[1] / r, dedr * d[2] / r};
      for (int c = 0; c < 3; ++c) {
        hf[3 * i + c] += gv[c];
        hf[3 * own(j) + c] -= gv[c];
      }
      const double w[6] = {d[0] * gv[0], d[1] * gv[1], d[2] * gv[2],
                           d[0] * gv[1], d[0] * gv[2], d[1] * gv[2]};
      for (int c = 0; c < 6; ++c) hw[c] -= w[c];
    }

  ManyBodyForces mb(ctx);
  mb.prepare(ctx, nl);
  mp::SlotField<double> adj(ctx, width);
  adj.resize(nl);
  mp::aggregate_backward<Contract>(ctx, sys.view(), nl, kRc, pairs, x.view(), out.view(),
                                   mb.partials(), adj.view(), opt);
  mp::gather_slot_adjoints(ctx, sys.view(), nl, mb.reverse.view(), kRc, adj.view(), adj_sum.view(),
                           false);
  DeviceArray<double> fx(ctx, n), fy(ctx, n), fz(ctx, n), vir(ctx, 6 * n);
  mb.gather(ctx, sys.view(), nl,
            ForceOut{fx.data(), fy.data(), fz.data(), nullptr, vir.data(), false}, true);
  const auto gfx = ctx.to_host(fx), gfy = ctx.to_host(fy), gfz = ctx.to_host(fz);
  const auto gv = ctx.to_host(vir);
  const auto gadj = ctx.to_host(adj_sum.data);
  double ferr = 0, fscale = 0, aerr = 0, ascale = 0;
  for (Index a = 0; a < n; ++a) {
    const double f[3] = {gfx[a], gfy[a], gfz[a]};
    for (int c = 0; c < 3; ++c) {
      ferr = std::max(ferr, std::fabs(f[c] - hf[3 * a + c]));
      fscale = std::max(fscale, std::fabs(hf[3 * a + c]));
    }
    for (int f2 = 0; f2 < width; ++f2) {
      aerr = std::max(aerr, std::fabs(gadj[f2 * stride + a] - hadj[a * width + f2]));
      ascale = std::max(ascale, std::fabs(hadj[a * width + f2]));
    }
  }
  double werr = 0, wscale = 0;
  for (int c = 0; c < 6; ++c) {
    double s = 0;
    for (Index a = 0; a < n; ++a) s += gv[c * n + a];
    werr = std::max(werr, std::fabs(s - hw[c]));
    wscale = std::max(wscale, std::fabs(hw[c]));
  }
  CHECK(fscale > 0.1);
  CHECK(ferr <= 1e-12 * fscale);
  CHECK(ascale > 0.1);
  CHECK(aerr <= 1e-12 * ascale);
  CHECK(werr <= 1e-12 * wscale);
}

}  // namespace

TEST_SUITE("message_passing") {
  TEST_CASE("diagonal contraction: cubic and thin boxes") {
    check_toy<mp::ContractDiagonal>(test::cubic_box(6.7), 4, 7, 7);
    check_toy<mp::ContractDiagonal>(test::triclinic_box(3.3, 3.5, 3.1, 1.2, 0.4, -1.0), 2, 6, 6);
  }
  TEST_CASE("outer contraction: cubic and thin boxes") {
    check_toy<mp::ContractOuter>(test::cubic_box(6.7), 4, 3, 5);
    check_toy<mp::ContractOuter>(test::triclinic_box(3.3, 3.5, 3.1, 1.2, 0.4, -1.0), 2, 2, 4);
  }
}
