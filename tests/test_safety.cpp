// Safety checks: NaN/Inf, atoms leaving a non-periodic box, an atom moving more than the skin
// within one step, overlapping atoms at the start; each names the step, atom ids and cause;
// the run pipeline stops with exit code 4 after writing the last good state.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>

#include "engine/safety.hpp"
#include "io/app.hpp"
#include "io/signals.hpp"
#include "support.hpp"

using namespace md;

namespace {

std::string input(const std::string& system_extra = "", const std::string& safety = "") {
  return R"(units = "lj"
[system]
lattice = { kind = "fcc", a = 1.6796, repeat = [3, 3, 3], elements = ["A"] }
masses = { A = 1.0 }
)" + system_extra + R"(
[velocity]
temperature = 1.0
seed = 7
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[run]
steps = 40
)" + safety;
}

Job load_text(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path) << text;
  RunOverrides ov;
  ov.backend = test::backend_str();
  ov.quiet = true;
  return load_job(path, ov);
}

void set_value(Job& job, DeviceArray<double>& a, std::size_t i, double v) {
  auto h = job.ctx->to_host(a, static_cast<std::size_t>(job.system->n_local()));
  h[i] = v;
  job.ctx->to_device(h, a);
}

}  // namespace

TEST_SUITE("safety") {
  EXEC_TEST_CASE("non-finite velocity is reported with the atom id") {
    Job job = load_text("sf_nan.toml", input());
    job.sim->setup();
    SafetyMonitor mon(*job.ctx, SafetyLimits{}, 0.3);
    CHECK_NOTHROW(mon.check(*job.system, 0));
    set_value(job, job.system->vx, 4, std::numeric_limits<double>::quiet_NaN());
    CHECK_THROWS_WITH_AS(mon.check(*job.system, 12), doctest::Contains("step 12: non-finite"),
                         SafetyError);
    CHECK_THROWS_WITH_AS(mon.check(*job.system, 12), doctest::Contains("ids 5 "), SafetyError);
  }

  EXEC_TEST_CASE("an atom outside a non-periodic box is lost") {
    Job job = load_text("sf_lost.toml", input("periodic = [true, true, false]\n"));
    job.sim->setup();
    SafetyMonitor mon(*job.ctx, SafetyLimits{}, 0.3);
    CHECK_NOTHROW(mon.check(*job.system, 0));
    set_value(job, job.system->z, 7, job.system->box().hi(2) + 1.0);
    CHECK_THROWS_WITH_AS(mon.check(*job.system, 3),
                         doctest::Contains("left the box through a non-periodic boundary, ids 8"),
                         SafetyError);
  }

  EXEC_TEST_CASE("overlapping atoms at the start name both ids") {
    Job job = load_text("sf_overlap.toml", input());
    job.sim->setup();
    auto x = job.ctx->to_host(job.system->x, 108);
    auto y = job.ctx->to_host(job.system->y, 108);
    auto z = job.ctx->to_host(job.system->z, 108);
    x[1] = x[0] + 0.1;
    y[1] = y[0];
    z[1] = z[0];
    job.ctx->to_device(x, job.system->x);
    job.ctx->to_device(y, job.system->y);
    job.ctx->to_device(z, job.system->z);
    job.sim->neighbors().build_now(*job.system);
    SafetyMonitor mon(*job.ctx, SafetyLimits{0.5, 0}, 0.3);
    CHECK_THROWS_WITH_AS(mon.check_overlaps(*job.system, job.sim->neighbors(), 0),
                         doctest::Contains("atoms 1 and 2 are 0.1 length units apart"),
                         SafetyError);
  }

  EXEC_TEST_CASE("an atom jumping more than the skin in one step stops the run with code 4") {
    // a huge velocity on one atom: it crosses more than the skin in a single step
    Job job = load_text("sf_jump.toml", input());
    job.sim->setup();
    set_value(job, job.system->vx, 10, 200.0);  // 200 * 0.005 = 1.0 > skin 0.3
    const std::string last_good = job.last_good_file;
    std::filesystem::remove(last_good);
    RunOverrides ov;
    ov.quiet = true;
    const int code = run_job(job, ov);
    CHECK(code == kExitSafety);
    CHECK(std::filesystem::exists(last_good));
  }
}
