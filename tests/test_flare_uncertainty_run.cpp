// [uncertainty] through the run pipeline (load_job + io/uncertainty_output's UncertaintyRun,
// as run_job wires it): thermo values at the start and at sync points, the harvest action's
// frames, and zero host transfers / syncs on steps without output. FLARE example model.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "io/app.hpp"
#include "io/uncertainty_output.hpp"
#include "support.hpp"

using namespace md;

namespace {

std::string flare_input(const std::string& uncertainty) {
  const std::string dir = std::string(MDGPU_SOURCE_DIR) + "/inputs/flare/";
  return R"(units = "metal"
[system]
lattice = { kind = "fcc", a = 3.85, repeat = [2, 2, 2], elements = ["Cu", "Cu", "Ag", "Ag"] }
[velocity]
temperature = 600.0
seed = 4928459
[potential]
style = "flare"
file = ")" + dir + R"(CuAg_p2.flare"
species = ["Cu", "Ag"]
l_inv = ")" + dir + R"(L_inv_CuAg_p2.flare"
sparse_desc = ")" + dir + R"(sparse_desc_CuAg_p2.flare"
[neighbor]
skin = 1.0
[run]
timestep = 0.001
steps = 40
)" + uncertainty;
}

Job load(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path) << text;
  RunOverrides ov;
  ov.backend = test::backend_str();
  ov.quiet = true;
  return load_job(path, ov);
}

}  // namespace

EXEC_TEST_CASE("flare [uncertainty] in the run pipeline: harvest at sync points, no transfers between") {
  const std::string dir = test::temp_dir();
  Job job = load("unc_run.toml", flare_input("[uncertainty]\nevery = 5\nthreshold = 1e-9\n"
                                             "action = \"harvest\"\nharvest_file = \"" +
                                             dir + "/h.extxyz\"\n"));
  REQUIRE(job.uncertainty);
  CHECK(job.uncertainty->every == 5);
  Simulation& sim = *job.sim;
  Context& ctx = *job.ctx;
  sim.setup();
  UncertaintyRun unc(ctx, sim, *job.potential, *job.uncertainty, false);
  unc.start();
  const std::vector<double> v0 = unc.thermo_values();
  CHECK(std::isfinite(v0[0]));
  CHECK(v0[0] >= v0[1]);
  CHECK(v0[1] > 0.0);
  Observers obs;
  obs.thermo_every = 20;
  std::vector<std::vector<double>> values;
  obs.on_thermo = [&](const ThermoSample&) { values.push_back(unc.thermo_values()); };
  unc.attach(obs);
  test::QuietStepWatch watch(ctx, 20);
  obs.after_step = watch.observer();
  sim.run(40, obs);
  CHECK_MESSAGE(watch.bad == 0, watch.first_failure);
  CHECK(watch.quiet == 38);
  REQUIRE(values.size() == 3);  // steps 0, 20, 40
  for (const auto& v : values) CHECK((std::isfinite(v[0]) && v[0] >= v[1] && v[1] > 0.0));
  CHECK(unc.harvested() == 2);  // sync points 20 and 40
  std::ifstream h(dir + "/h.extxyz");
  std::string first;
  std::getline(h, first);
  CHECK(first == "32");
}

TEST_CASE("[uncertainty] is refused for a potential without uncertainty, naming the table") {
  const std::string lj = R"(units = "lj"
[system]
lattice = { kind = "fcc", a = 1.6796, repeat = [3, 3, 3], elements = ["A"] }
masses = { A = 1.0 }
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[run]
steps = 10
[uncertainty]
threshold = 0.1
)";
  CHECK_THROWS_WITH_AS(load("unc_lj.toml", lj),
                       doctest::Contains("unc_lj.toml:11: [uncertainty]: potential style \"lj\""),
                       InputError);
}
