// The many-body layer (kernels/many_body.hpp) and the halo (engine/halo.hpp) against host
// loops: the reverse-slot map equals the brute-force transpose of the list (cubic, triclinic
// and thin boxes where an atom sees several images of another; after rebuilds and capacity
// growth; rebuilt only when the list was); the gather of random partials equals the host sum
// of forces, per-atom and global virial, is bitwise the same with 1 and 2 OpenMP threads, and
// reproduces the pair driver's forces and per-atom virial for pair partials; per-type slots
// equal DeePMD's insertion selection; halo forward/reverse equal host loops.
#include <doctest/doctest.h>
#include <omp.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "engine/halo.hpp"
#include "engine/neighbor.hpp"
#include "engine/random.hpp"
#include "engine/system.hpp"
#include "kernels/many_body.hpp"
#include "kernels/pair_driver.hpp"
#include "support.hpp"

using namespace md;

namespace {

struct Case {
  const char* name;
  Box box;
  int ncell;
  double cutoff, skin;
};

std::vector<Case> cases() {
  return {
      {"cubic", test::cubic_box(6.7), 4, 2.5, 0.3},
      {"triclinic", test::triclinic_box(7.0, 6.5, 6.8, 2.0, -1.5, 1.1), 4, 2.5, 0.3},
      // thinner than the list radius: an atom's list holds several images of one atom
      {"thin", test::triclinic_box(3.3, 3.5, 3.1, 1.2, 0.4, -1.0), 2, 3.0, 0.5},
  };
}

struct Setup {
  Context ctx{Backend::cpu};
  std::unique_ptr<System> sys;
  std::unique_ptr<NeighborList> nl;
  Setup(const Case& c, int ntypes = 1, std::uint64_t seed = 11) {
    const Structure s = test::perturbed_fcc(c.box, c.ncell, 0.1, seed, ntypes);
    sys = std::make_unique<System>(ctx, s, Units::lj());
    nl = std::make_unique<NeighborList>(*sys, c.cutoff, c.skin);
    nl->build_now(*sys);
  }
};

// Host copy of the list and the positions of all atom slots.
struct HostList {
  Index n = 0;
  int n_ghost = 0;
  std::vector<int> neigh, num, owner, ghost_image;
  std::vector<std::int64_t> id;
  std::vector<double> x, y, z;
  int own(int j) const { return j < n ? j : owner[j - n]; }
  // periodic image of atom slot j relative to its owner, packed (views.hpp pack_image)
  int image(int j) const {
    if (j < n) return 0;
    const int g = j - n;
    return pack_image(ghost_image[3 * g], ghost_image[3 * g + 1], ghost_image[3 * g + 2]);
  }
};

HostList host_list(Setup& s) {
  HostList h;
  h.n = s.sys->n_local();
  h.n_ghost = s.nl->read_status().n_ghost;
  h.neigh = s.ctx.to_host(s.nl->neigh);
  h.num = s.ctx.to_host(s.nl->num_neigh);
  h.owner = s.ctx.to_host(s.nl->ghost_owner);
  h.ghost_image = s.ctx.to_host(s.nl->ghost_image);
  h.id = s.ctx.to_host(s.sys->id);
  h.x = s.ctx.to_host(s.sys->x);
  h.y = s.ctx.to_host(s.sys->y);
  h.z = s.ctx.to_host(s.sys->z);
  return h;
}

// Brute-force transpose: row a = slots (i, k) whose neighbour is owned by a, in canonical
// order: by atom i as seen from a (id of i, image of i relative to a = -image of the
// neighbour slot), then (i, k).
std::vector<std::vector<Index>> brute_transpose(const HostList& h) {
  std::vector<std::vector<Index>> rows(h.n);
  for (Index i = 0; i < h.n; ++i)
    for (int k = 0; k < h.num[i]; ++k) {
      const Index s = k * h.n + i;
      rows[h.own(h.neigh[s])].push_back(s);
    }
  for (auto& row : rows)
    std::stable_sort(row.begin(), row.end(), [&](Index p, Index q) {
      const std::int64_t ip = h.id[p % h.n], iq = h.id[q % h.n];
      if (ip != iq) return ip < iq;
      return -h.image(h.neigh[p]) < -h.image(h.neigh[q]);
    });
  return rows;
}

// Returns how many entries repeat the previous entry's atom (one atom seeing several images).
std::size_t check_reverse(Setup& s, ReverseSlots& rev) {
  const HostList h = host_list(s);
  const auto rows = brute_transpose(h);
  const auto first = s.ctx.to_host(rev.first);
  const auto slot = s.ctx.to_host(rev.slot);
  REQUIRE(first.size() == static_cast<std::size_t>(h.n + 1));
  std::size_t bad = 0, total = 0, multi = 0;
  for (Index a = 0; a < h.n; ++a) {
    const std::vector<Index> got(slot.begin() + first[a], slot.begin() + first[a + 1]);
    if (got != rows[a]) ++bad;
    total += rows[a].size();
    for (std::size_t e = 1; e < rows[a].size(); ++e)
      if (rows[a][e] % h.n == rows[a][e - 1] % h.n) ++multi;  // same atom sees a twice
  }
  CHECK(first[h.n] == static_cast<int>(total));
  CHECK(total > 0);
  CHECK(bad == 0);
  return multi;
}

// Moves every atom by up to `amp` per Cartesian component (random, reproducible).
void shake(Context& ctx, System& sys, double amp, std::uint64_t seed) {
  Structure st = sys.download();
  std::vector<double>* host[3] = {&st.x, &st.y, &st.z};
  DeviceArray<double>* dev[3] = {&sys.x, &sys.y, &sys.z};
  for (int d = 0; d < 3; ++d) {
    std::vector<double>& r = *host[d];
    for (std::size_t i = 0; i < r.size(); ++i) {
      double g, unused;
      gaussian_pair(seed, i, 10u + d, g, unused);
      r[i] += amp * std::tanh(g);
    }
    ctx.to_device(r, *dev[d]);
  }
}

// Random partials on every used slot (zero elsewhere), uploaded into `p`.
std::vector<double> random_partials(Setup& s, const HostList& h, PairPartials& p,
                                    std::uint64_t seed) {
  p.resize(s.nl->view());
  const Index plane = static_cast<Index>(s.nl->max_neigh()) * h.n;
  std::vector<double> g(3 * plane, 0.0);
  for (Index i = 0; i < h.n; ++i)
    for (int k = 0; k < h.num[i]; ++k) {
      const Index sl = k * h.n + i;
      double a, b, c, d;
      gaussian_pair(seed, static_cast<std::uint64_t>(sl), 1u, a, b);
      gaussian_pair(seed, static_cast<std::uint64_t>(sl), 2u, c, d);
      g[sl] = a;
      g[plane + sl] = b;
      g[2 * plane + sl] = c;
    }
  s.ctx.to_device(g, p.data);
  return g;
}

struct Out {
  DeviceArray<double> fx, fy, fz, virial;
  Out(Context& ctx, Index n) : fx(ctx, n), fy(ctx, n), fz(ctx, n), virial(ctx, 6 * n) {}
  ForceOut view(bool accumulate = false) {
    return ForceOut{fx.data(), fy.data(), fz.data(), nullptr, virial.data(), accumulate};
  }
};

struct HostForces {
  std::vector<double> f, v;  // f[3 * a + c], v[c * n + a]
};

HostForces brute_gather(const HostList& h, const std::vector<double>& g) {
  const Index plane = static_cast<Index>(g.size() / 3);
  HostForces r;
  r.f.assign(3 * h.n, 0.0);
  r.v.assign(6 * h.n, 0.0);
  for (Index i = 0; i < h.n; ++i)
    for (int k = 0; k < h.num[i]; ++k) {
      const Index sl = k * h.n + i;
      const int j = h.neigh[sl];
      const int a = h.own(j);
      const double gk[3] = {g[sl], g[plane + sl], g[2 * plane + sl]};
      const double d[3] = {h.x[j] - h.x[i], h.y[j] - h.y[i], h.z[j] - h.z[i]};
      for (int c = 0; c < 3; ++c) {
        r.f[3 * i + c] += gk[c];
        r.f[3 * a + c] -= gk[c];
      }
      const double w[6] = {d[0] * gk[0], d[1] * gk[1], d[2] * gk[2],
                           d[0] * gk[1], d[0] * gk[2], d[1] * gk[2]};
      for (int c = 0; c < 6; ++c) {
        r.v[c * h.n + i] -= 0.5 * w[c];
        r.v[c * h.n + a] -= 0.5 * w[c];
      }
    }
  return r;
}

// Moves the atoms, updates the list, writes random partials and gathers them (virial on).
struct GatherRun {
  HostList h;
  std::vector<double> g;  // the partials
  std::unique_ptr<ManyBodyForces> mb;
  std::unique_ptr<PairPartials> p;
  std::unique_ptr<Out> out;
  GatherRun(Setup& s, double amp, std::uint64_t seed) {
    shake(s.ctx, *s.sys, amp, seed);
    s.nl->update(*s.sys);
    h = host_list(s);
    mb = std::make_unique<ManyBodyForces>(s.ctx);
    mb->prepare(s.ctx, s.nl->view());
    p = std::make_unique<PairPartials>(s.ctx);
    g = random_partials(s, h, *p, seed + 1);
    out = std::make_unique<Out>(s.ctx, h.n);
    gather(s, false);
  }
  void gather(Setup& s, bool accumulate) const {
    gather_pair_forces(s.ctx, s.sys->view(), s.nl->view(), mb->reverse.view(), p->view(),
                       out->view(accumulate), true);
  }
};

}  // namespace

TEST_SUITE("many_body") {
  TEST_CASE("reverse-slot map equals the brute-force transpose after rebuilds and growth") {
    const int threads0 = omp_get_max_threads();
    omp_set_num_threads(2);  // the atomics then hand out row positions out of order
    for (const Case& c : cases()) {
      CAPTURE(std::string(c.name));
      Setup s(c);
      ReverseSlots rev(s.ctx);
      rev.update(s.ctx, s.nl->view());
      const std::size_t multi = check_reverse(s, rev);
      if (std::string(c.name) == "thin") CHECK(multi > 0);  // images interact several times
      // device-decided rebuilds after large moves
      for (int round = 0; round < 3; ++round) {
        shake(s.ctx, *s.sys, 1.2, 40 + round);
        s.nl->update(*s.sys);
        const NeighborStatus st = s.nl->read_status();
        if (s.nl->overflowed(st, *s.sys)) {
          s.nl->grow(*s.sys, st);
          s.nl->build_now(*s.sys);
        }
        rev.update(s.ctx, s.nl->view());
        check_reverse(s, rev);
      }
      // neighbour capacity overflow and growth: the map follows the new capacity
      s.nl->set_max_neigh(*s.sys, 3);
      s.nl->update(*s.sys);
      const NeighborStatus st = s.nl->read_status();
      REQUIRE(s.nl->overflowed(st, *s.sys));
      s.nl->grow(*s.sys, st);
      s.nl->build_now(*s.sys);
      rev.update(s.ctx, s.nl->view());
      check_reverse(s, rev);
    }
    omp_set_num_threads(threads0);
  }

  TEST_CASE("the map is rebuilt exactly when the list was, and for a new list") {
    const Case c = cases()[1];
    Setup s(c);
    ReverseSlots rev(s.ctx);
    rev.update(s.ctx, s.nl->view());
    const int builds = s.nl->read_status().n_builds;
    // a small move does not rebuild the list; a poisoned map must then stay untouched
    shake(s.ctx, *s.sys, 0.02, 7);
    s.nl->update(*s.sys);
    REQUIRE(s.nl->read_status().n_builds == builds);
    const auto good = s.ctx.to_host(rev.first);
    s.ctx.to_device(std::vector<int>(good.size(), -5), rev.first);
    rev.update(s.ctx, s.nl->view());
    CHECK(s.ctx.to_host(rev.first)[0] == -5);
    // a rebuild of the list rebuilds the map
    s.nl->request_rebuild();
    s.nl->update(*s.sys);
    rev.update(s.ctx, s.nl->view());
    check_reverse(s, rev);
    // the same map object given another list (same sizes) transposes that one
    Setup other(c, 1, 99);
    rev.update(other.ctx, other.nl->view());
    check_reverse(other, rev);
  }

  TEST_CASE("gather of random partials equals the host sum (forces, per-atom and global virial)") {
    for (const Case& c : cases()) {
      CAPTURE(std::string(c.name));
      Setup s(c);
      const GatherRun run(s, 0.1, 5);
      const HostList& h = run.h;
      const std::vector<double>& g = run.g;
      Out& out = *run.out;
      const HostForces ref = brute_gather(h, g);
      const auto fx = s.ctx.to_host(out.fx), fy = s.ctx.to_host(out.fy),
                 fz = s.ctx.to_host(out.fz), v = s.ctx.to_host(out.virial);
      double worst_f = 0, worst_v = 0, sum_f[3] = {0, 0, 0};
      std::array<double, 6> w{}, wref{};
      for (Index a = 0; a < h.n; ++a) {
        const double f[3] = {fx[a], fy[a], fz[a]};
        for (int d = 0; d < 3; ++d) {
          worst_f = std::max(worst_f, std::abs(f[d] - ref.f[3 * a + d]));
          sum_f[d] += f[d];
        }
        for (int d = 0; d < 6; ++d) {
          worst_v = std::max(worst_v, std::abs(v[d * h.n + a] - ref.v[d * h.n + a]));
          w[d] += v[d * h.n + a];
        }
      }
      // global virial straight from the pairs: -sum r_ik (x) g_ik
      const Index plane = static_cast<Index>(g.size() / 3);
      for (Index i = 0; i < h.n; ++i)
        for (int k = 0; k < h.num[i]; ++k) {
          const Index sl = k * h.n + i;
          const int j = h.neigh[sl];
          const double d[3] = {h.x[j] - h.x[i], h.y[j] - h.y[i], h.z[j] - h.z[i]};
          const double gk[3] = {g[sl], g[plane + sl], g[2 * plane + sl]};
          wref[0] -= d[0] * gk[0];
          wref[1] -= d[1] * gk[1];
          wref[2] -= d[2] * gk[2];
          wref[3] -= d[0] * gk[1];
          wref[4] -= d[0] * gk[2];
          wref[5] -= d[1] * gk[2];
        }
      CHECK(worst_f < 1e-12);
      CHECK(worst_v < 1e-12);
      for (int d = 0; d < 3; ++d) CHECK(std::abs(sum_f[d]) < 1e-10);  // Newton's third law
      for (int d = 0; d < 6; ++d) CHECK(std::abs(w[d] - wref[d]) < 1e-10 * (1 + std::abs(wref[d])));
      // accumulate mode adds to what is there
      run.gather(s, true);
      const auto fx2 = s.ctx.to_host(out.fx);
      for (Index a = 0; a < h.n; ++a) CHECK(fx2[a] == 2.0 * fx[a]);
    }
  }

  TEST_CASE("pair partials reproduce the pair driver's forces and per-atom virial") {
    // E_i = 1/2 sum_j phi(r_ij), phi = LJ (eps = sigma = 1, rc = 2.5): g_ij = -1/2 f_over_r d.
    struct LJ {
      MD_HD bool operator()(int, int, double r2, double& f_over_r, double& e, bool) const {
        if (r2 >= 6.25) return false;
        const double s6 = 1.0 / (r2 * r2 * r2);
        f_over_r = 24.0 * s6 * (2.0 * s6 - 1.0) / r2;
        e = 4.0 * s6 * (s6 - 1.0);
        return true;
      }
    };
    struct LJPartials {
      SystemView sys;
      NeighborView nl;
      PairPartialsView g;
      MD_HD void operator()(Index i) const {
        const AtomEnv env(sys, nl, i);
        for (int k = 0; k < env.count; ++k) {
          const NeighborSlot p = env.neighbor(k);
          double f_over_r = 0.0, e = 0.0;
          if (!LJ{}(0, 0, p.rsq, f_over_r, e, false)) f_over_r = 0.0;
          g.store(p.slot, -0.5 * f_over_r * p.dx, -0.5 * f_over_r * p.dy,
                  -0.5 * f_over_r * p.dz);
        }
      }
    };
    for (const Case& c : cases()) {
      CAPTURE(std::string(c.name));
      Setup s(c);
      const Index n = s.sys->n_local();
      ManyBodyForces mb(s.ctx);
      mb.prepare(s.ctx, s.nl->view());
      parallel_for(s.ctx, n, LJPartials{s.sys->view(), s.nl->view(), mb.partials()});
      Out a(s.ctx, n), b(s.ctx, n);
      mb.gather(s.ctx, s.sys->view(), s.nl->view(), a.view(), true);
      compute_pair(s.ctx, LJ{}, s.sys->view(), s.nl->view(), b.view(), ForceRequest{false, true});
      const auto fa = s.ctx.to_host(a.fx), fb = s.ctx.to_host(b.fx);
      const auto va = s.ctx.to_host(a.virial), vb = s.ctx.to_host(b.virial);
      double worst_f = 0, worst_v = 0, scale = 0;
      for (Index i = 0; i < n; ++i) {
        worst_f = std::max(worst_f, std::abs(fa[i] - fb[i]));
        scale = std::max(scale, std::abs(fb[i]));
      }
      for (std::size_t i = 0; i < va.size(); ++i) worst_v = std::max(worst_v, std::abs(va[i] - vb[i]));
      CHECK(scale > 1.0);
      CHECK(worst_f < 1e-12 * scale);
      CHECK(worst_v < 1e-12 * scale);
    }
  }

  TEST_CASE("gather and reverse map are bitwise the same with 1 and 2 OpenMP threads") {
    const int threads0 = omp_get_max_threads();
    const Case c = cases()[2];
    std::vector<double> result[2];
    std::vector<Index> maps[2];
    for (int t = 0; t < 2; ++t) {
      omp_set_num_threads(t + 1);
      Setup s(c);
      const GatherRun run(s, 1.2, 3);
      const HostList& h = run.h;
      ManyBodyForces& mb = *run.mb;
      Out& out = *run.out;
      for (auto* arr : {&out.fx, &out.fy, &out.fz, &out.virial}) {
        const auto v = s.ctx.to_host(*arr);
        result[t].insert(result[t].end(), v.begin(), v.end());
      }
      maps[t] = s.ctx.to_host(mb.reverse.slot, s.ctx.to_host(mb.reverse.first)[h.n]);
    }
    omp_set_num_threads(threads0);
    CHECK(maps[0] == maps[1]);
    REQUIRE(result[0].size() == result[1].size());
    CHECK(std::equal(result[0].begin(), result[0].end(), result[1].begin(),
                     [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }));
  }

  TEST_CASE("per-type slots equal DeePMD's nearest-sel selection") {
    // host emulation: nearest sum(sel) within rcut by (r^2, list order), then per type the
    // nearest sel[t] of those
    struct Spec {
      std::vector<int> sel;
      double rcut;
    };
    const Spec specs[] = {{{6, 4}, 2.4}, {{40, 40}, 2.6}, {{3, 9}, 2.6}};
    const Case c = cases()[1];
    Setup s(c, 2);
    shake(s.ctx, *s.sys, 0.1, 9);
    s.nl->update(*s.sys);
    const HostList h = host_list(s);
    const auto type = s.ctx.to_host(s.sys->type);
    for (const Spec& sp : specs) {
      const int nt = static_cast<int>(sp.sel.size());
      std::vector<int> start(nt + 1, 0);
      for (int t = 0; t < nt; ++t) start[t + 1] = start[t] + sp.sel[t];
      const int width = start[nt];
      DeviceArray<int> start_d(s.ctx, 0), map_d(s.ctx, 0);
      s.ctx.to_device(start, start_d);
      s.ctx.to_device(std::vector<int>{1, 0}, map_d);  // system type t -> model type 1 - t
      TypedSlots ts(s.ctx);
      PairPartials p(s.ctx);
      random_partials(s, h, p, 5);
      const PairPartialsView pv = p.view();
      ts.build(s.ctx, s.sys->view(), s.nl->view(), TypedSlotSpec{nt, sp.rcut, start_d.data(), map_d.data()},
               width, &pv);
      const auto got = s.ctx.to_host(ts.k);
      std::size_t bad = 0, filled = 0;
      for (Index i = 0; i < h.n; ++i) {
        std::vector<std::pair<double, int>> cand;  // (r2, k), insertion keeps list order on ties
        for (int k = 0; k < h.num[i]; ++k) {
          const int j = h.neigh[k * h.n + i];
          const double dx = h.x[j] - h.x[i], dy = h.y[j] - h.y[i], dz = h.z[j] - h.z[i];
          const double r2 = dx * dx + dy * dy + dz * dz;
          if (r2 <= sp.rcut * sp.rcut) cand.emplace_back(r2, k);
        }
        std::stable_sort(cand.begin(), cand.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
        if (static_cast<int>(cand.size()) > width) cand.resize(width);
        for (int t = 0; t < nt; ++t) {
          int sl = start[t];
          for (const auto& ca : cand)
            if (sl < start[t + 1] && 1 - type[h.neigh[ca.second * h.n + i]] == t) {
              if (got[sl * h.n + i] != ca.second) ++bad;
              ++sl;
              ++filled;
            }
          for (; sl < start[t + 1]; ++sl)
            if (got[sl * h.n + i] != -1) ++bad;
        }
      }
      CHECK(filled > 0);
      CHECK(bad == 0);
      const auto g = s.ctx.to_host(p.data);
      CHECK(std::all_of(g.begin(), g.end(), [](double x) { return x == 0.0; }));
    }
  }

  TEST_CASE("halo forward copies owners onto ghosts; reverse adds ghosts onto owners") {
    for (const Case& c : cases()) {
      CAPTURE(std::string(c.name));
      Setup s(c);
      const NeighborView nl = s.nl->view();
      const HostList h = host_list(s);
      const Index stride = halo_stride(nl);
      REQUIRE(stride == s.sys->n_local() + s.sys->ghost_capacity());
      REQUIRE(h.n_ghost > 0);
      std::vector<double> f(2 * stride);
      for (std::size_t q = 0; q < f.size(); ++q) {
        double a, b;
        gaussian_pair(77, q, 0u, a, b);
        f[q] = a;
      }
      DeviceArray<double> d(s.ctx, 0);
      s.ctx.to_device(f, d);
      halo_forward(s.ctx, nl, d.data(), 2);
      auto got = s.ctx.to_host(d);
      std::size_t bad = 0;
      for (int cc = 0; cc < 2; ++cc)
        for (Index q = 0; q < stride; ++q) {
          const Index at = cc * stride + q;
          double want = f[at];
          if (q >= h.n && q < h.n + h.n_ghost) want = f[cc * stride + h.owner[q - h.n]];
          if (got[at] != want) ++bad;
        }
      CHECK(bad == 0);
      // reverse: owners += their ghosts in slot order; ghosts unchanged
      s.ctx.to_device(f, d);
      halo_reverse(s.ctx, nl, d.data(), 2);
      got = s.ctx.to_host(d);
      std::vector<double> want = f;
      for (int cc = 0; cc < 2; ++cc)
        for (int gi = 0; gi < h.n_ghost; ++gi)
          want[cc * stride + h.owner[gi]] += f[cc * stride + h.n + gi];
      bad = 0;
      for (std::size_t q = 0; q < f.size(); ++q)
        if (got[q] != want[q]) ++bad;
      CHECK(bad == 0);
      // integer fields travel forward as well
      std::vector<int> fi(stride, -1);
      for (Index q = 0; q < h.n; ++q) fi[q] = static_cast<int>(3 * q + 1);
      DeviceArray<int> di(s.ctx, 0);
      s.ctx.to_device(fi, di);
      halo_forward(s.ctx, nl, di.data(), 1);
      const auto gi = s.ctx.to_host(di);
      bad = 0;
      for (int g = 0; g < h.n_ghost; ++g)
        if (gi[h.n + g] != 3 * h.owner[g] + 1) ++bad;
      CHECK(bad == 0);
    }
  }
}
