#include "support.hpp"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "engine/neighbor.hpp"
#include "engine/random.hpp"
#include "engine/system.hpp"

namespace md::test {

bool cuda_requested() {
  const char* env = std::getenv("MDGPU_TEST_BACKEND");
  const std::string v = env ? env : "";
  return v == "cuda" || v == "all";
}

std::string cuda_unusable_reason() {
  if (cuda_device_count() > 0) return "";
  return cuda_device_descriptions().front();
}

std::vector<Backend> test_backends() {
  static const std::vector<Backend> list = [] {
    std::vector<Backend> b{Backend::cpu};
    if (cuda_requested() && cuda_device_count() > 0) b.push_back(Backend::cuda);
    return b;
  }();
  return list;
}

namespace {
Backend current_backend = Backend::cpu;
std::set<std::string>& executor_tests() {
  static std::set<std::string> names;
  return names;
}
}  // namespace

Backend backend() { return current_backend; }

ExecutorScope::ExecutorScope(Backend b) : saved_(current_backend) { current_backend = b; }
ExecutorScope::~ExecutorScope() { current_backend = saved_; }

bool register_executor_test(const char* name) {
  executor_tests().insert(name);
  return true;
}

bool is_executor_test(const std::string& name) { return executor_tests().count(name) > 0; }

Box cubic_box(double side) { return triclinic_box(side, side, side, 0, 0, 0); }

Box triclinic_box(double lx, double ly, double lz, double xy, double xz, double yz) {
  Box b;
  b.lo[0] = -0.5 * lx;
  b.lo[1] = 0.25;
  b.lo[2] = 1.0;
  b.l[0] = lx;
  b.l[1] = ly;
  b.l[2] = lz;
  b.xy = xy;
  b.xz = xz;
  b.yz = yz;
  return b;
}

Structure perturbed_fcc(const Box& box, int ncell, double noise, std::uint64_t seed, int ntypes) {
  Structure s;
  s.box = box;
  for (int t = 0; t < ntypes; ++t) {
    s.type_names.push_back(std::string(1, static_cast<char>('A' + t)));
    s.type_masses.push_back(1.0 + t);
  }
  const double basis[4][3] = {{0, 0, 0}, {0.5, 0.5, 0}, {0.5, 0, 0.5}, {0, 0.5, 0.5}};
  std::int64_t id = 0;
  for (int k = 0; k < ncell; ++k)
    for (int j = 0; j < ncell; ++j)
      for (int i = 0; i < ncell; ++i)
        for (const auto& b : basis) {
          ++id;
          double g[4];
          gaussian_pair(seed, static_cast<std::uint64_t>(id), 7u, g[0], g[1]);
          gaussian_pair(seed, static_cast<std::uint64_t>(id), 8u, g[2], g[3]);
          double f[3] = {(i + b[0] + noise * std::clamp(g[0], -1.0, 1.0)) / ncell,
                         (j + b[1] + noise * std::clamp(g[1], -1.0, 1.0)) / ncell,
                         (k + b[2] + noise * std::clamp(g[2], -1.0, 1.0)) / ncell};
          double r[3];
          box.to_cartesian(f, r);
          s.add_atom(id, static_cast<int>((id - 1) % ntypes), r[0], r[1], r[2]);
        }
  return s;
}

Forces engine_forces(Context& ctx, const Structure& s, Potential& pot, const Units& units,
                     double skin) {
  System sys(ctx, s, units);
  NeighborList nl(sys, pot.cutoff(), skin);
  nl.build_now(sys);
  const Index n = sys.n_local();
  DeviceArray<double> e(ctx, n), v(ctx, 6 * n);
  pot.compute(ctx, sys.view(), nl.view(),
              ForceOut{sys.fx.data(), sys.fy.data(), sys.fz.data(), e.data(), v.data(), false},
              ForceRequest{true, true});
  Forces f;
  f.fx = ctx.to_host(sys.fx);
  f.fy = ctx.to_host(sys.fy);
  f.fz = ctx.to_host(sys.fz);
  f.e_atom = ctx.to_host(e);
  const std::vector<double> vir = ctx.to_host(v);
  for (Index i = 0; i < n; ++i) {
    f.energy += f.e_atom[i];
    for (int c = 0; c < 6; ++c) f.virial[c] += vir[c * n + i];
  }
  return f;
}

double rel_err(double a, double b, double floor) {
  const double scale = std::max({std::abs(a), std::abs(b), floor});
  return std::abs(a - b) / scale;
}

QuietStepWatch::QuietStepWatch(const Context& ctx, long sync_every, bool check_allocations)
    : ctx_(&ctx), every_(sync_every), allocations_(check_allocations), before_(ctx.counters()) {}

void QuietStepWatch::step(long step) {
  const Counters now = ctx_->counters();
  if (every_ <= 0 || step % every_ != 0) {
    ++quiet;
    std::string why;
    auto note = [&](const char* what, long d) {
      if (d != 0) why += (why.empty() ? "" : ", ") + std::string(what) + " +" + std::to_string(d);
    };
    note("d2h", now.d2h - before_.d2h);
    note("h2d", now.h2d - before_.h2d);
    note("syncs", now.syncs - before_.syncs);
    if (allocations_) note("allocations", now.allocations - before_.allocations);
    if (now.launches <= before_.launches) why += (why.empty() ? "" : ", ") + std::string("no launch");
    if (!why.empty()) {
      if (bad++ == 0) first_failure = "step " + std::to_string(step) + ": " + why;
    }
  }
  before_ = now;
}

}  // namespace md::test
