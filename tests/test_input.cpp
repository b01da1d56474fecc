// Input validation: every bad input gives an InputError naming the file, the line and the
// key; a good input loads. Uses load_job (the same path as `mdgpu run`).
#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "io/app.hpp"
#include "support.hpp"

using namespace md;

namespace {

const char* kGood = R"(units = "lj"
[system]
lattice = { kind = "fcc", a = 1.68, repeat = [3, 3, 3], elements = ["A"] }
masses = { A = 1.0 }
[velocity]
temperature = 1.0
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[run]
steps = 10
)";

std::string write_input(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

// Replaces the first occurrence of `from` in the good input by `to`.
std::string variant(const std::string& from, const std::string& to) {
  std::string s = kGood;
  const auto pos = s.find(from);
  REQUIRE(pos != std::string::npos);
  s.replace(pos, from.size(), to);
  return s;
}

void expect_error(const std::string& text, const std::string& fragment, long line) {
  // One file per process: ctest runs the test cases of this file in parallel processes.
  const std::string path = write_input("bad_" + std::to_string(getpid()) + ".toml", text);
  CAPTURE(text);
  try {
    load_job(path, RunOverrides{});
    FAIL("no error for bad input");
  } catch (const InputError& e) {
    const std::string msg = e.what();
    CAPTURE(msg);
    CHECK(msg.find(fragment) != std::string::npos);
    CHECK(msg.find(path) == 0);
    if (line > 0) CHECK(msg.find(path + ":" + std::to_string(line) + ":") == 0);
    CHECK(msg.find('\n') == std::string::npos);
  }
}

}  // namespace

TEST_SUITE("input") {
  TEST_CASE("a valid input loads") {
    RunOverrides ov;
    ov.backend = "cpu";
    ov.steps = 5;
    ov.quiet = true;
    Job job = load_job(write_input("good.toml", kGood), ov);
    CHECK(job.system->n_local() == 108);
    CHECK(job.steps == 5);
    CHECK(job.dt == doctest::Approx(0.005));  // lj default
    CHECK(job.thermo_norm);                  // lj default, as LAMMPS
  }
  TEST_CASE("bad inputs name file, line and key") {
    expect_error(variant("steps = 10", "steps = 10\nstesp = 3"), "unknown key [run] stesp", 13);
    expect_error(variant("steps = 10", "steps = \"ten\""), "[run] steps: expected an integer", 12);
    expect_error(variant("steps = 10", "steps = -1"), "[run] steps: must be non-negative", 12);
    expect_error(variant("cutoff = 2.5", "cutoff = -2.5"), "[potential] cutoff: must be positive", 9);
    expect_error(variant("style = \"lj\"", "style = \"ljj\""), "[potential] style: \"ljj\" is not one of", 8);
    expect_error(variant("units = \"lj\"", "units = \"real\""), "units: \"real\" is not one of", 1);
    expect_error(variant("[velocity]", "[velocity]\nseed = 0"), "[velocity] seed", 6);
    expect_error(variant("temperature = 1.0", "temperature = -1.0"), "[velocity] temperature", 6);
    expect_error(variant("epsilon = 1.0", "epsilon = 1.0, colour = 2"), "unknown key [potential.pairs[0]] colour", 10);
    expect_error(variant("types = [\"A\", \"A\"]", "types = [\"A\", \"B\"]"), "type \"B\" is not in the system", 10);
    expect_error(variant("masses = { A = 1.0 }", "masses = { A = 0.0 }"), "mass must be positive", 4);
    expect_error(variant("masses = { A = 1.0 }\n", ""), "no mass for type \"A\"", 0);
    expect_error(variant("kind = \"fcc\"", "kind = \"fcx\""), "unknown lattice", 3);
    expect_error(variant("repeat = [3, 3, 3]", "repeat = [3, 3]"), "repeat: expected 3 integers", 3);
    expect_error(variant("lattice = {", "data = \"missing.data\"\nlattice = {"), "needs exactly one of", 0);
    expect_error(variant("[run]", "[run]\ntimestep = 0.0"), "[run] timestep: must be positive", 12);
    expect_error(variant("[run]", "[run]\nensemble = \"nvz\""), "[run] ensemble: \"nvz\" is not one of", 12);
    expect_error(variant("[run]", "[neighbor]\nskin = -0.1\n[run]"), "[neighbor] skin", 12);
    expect_error(variant("[run]\nsteps = 10\n", ""), "missing [run] section", 0);
    expect_error(variant("steps = 10", "steps = 10\n[output]\nthermo = { every = 10, fiel = \"x\" }"),
                 "unknown key [output.thermo] fiel", 14);
    expect_error(std::string(kGood) + "[run\n", "malformed TOML", 13);
    expect_error(variant("[potential]", "[potential]\nmixing = \"cubic\""), "mixing", 8);
  }
  TEST_CASE("bad output, checkpoint, safety and size settings") {
    const std::string out = "steps = 10\n[output]\n";
    expect_error(variant("steps = 10", out + "trajectory = { every = 10, file = \"t.txt\" }"),
                 "[output.trajectory] file: cannot tell the format from the extension", 14);
    expect_error(variant("steps = 10", out + "trajectory = { every = 10, file = \"t.xyz\", format = \"pdb\" }"),
                 "[output.trajectory] format: \"pdb\" is not one of: extxyz, lammps-dump, h5md", 14);
    expect_error(variant("steps = 10", out + "trajectory = { every = 0, file = \"t.xyz\" }"),
                 "[output.trajectory] every: must be at least 1", 14);
    expect_error(variant("steps = 10", out + "trajectory = [{ every = 5, file = \"t.xyz\" }, { every = 2, file = \"t.xyz\" }]"),
                 "two trajectories write", 0);
    expect_error(variant("steps = 10", out + "trajectory = { every = 5, file = \"t.xyz\", wrapped = true }"),
                 "unknown key [output.trajectory] wrapped", 14);
    expect_error(variant("steps = 10", out + "checkpoint = { every = -5, file = \"c.ckpt\" }"),
                 "[output.checkpoint] every: must be non-negative", 14);
    expect_error(variant("steps = 10", out + "checkpoint = { every = 5 }"),
                 "missing required key [output.checkpoint] file", 14);
    expect_error(variant("steps = 10", "steps = 10\n[safety]\nmin_distance = -1.0"),
                 "[safety] min_distance: must be non-negative", 14);
    expect_error(variant("steps = 10", "steps = 10\n[safety]\nenabled = \"yes\""),
                 "[safety] enabled: expected true or false", 14);
    expect_error(variant("repeat = [3, 3, 3]", "repeat = [100000, 100000, 100000]"),
                 "[system] lattice: repeat gives more than", 3);
    expect_error(variant("a = 1.68", "a = -1.68"), "lattice", 3);
    expect_error(variant("[velocity]", "[velocity]\ntemperature = inf\n[unused]"), "[velocity] temperature", 0);
  }
  TEST_CASE("missing restart checkpoint") {
    RunOverrides ov;
    ov.backend = "cpu";
    ov.restart = test::temp_dir() + "/no_such.ckpt";
    CHECK_THROWS_WITH_AS(load_job(write_input("rs.toml", kGood), ov),
                         doctest::Contains("no_such.ckpt: checkpoint file not found"), InputError);
  }
  TEST_CASE("missing input and missing structure files") {
    CHECK_THROWS_WITH_AS(load_job(test::temp_dir() + "/nope.toml", RunOverrides{}),
                         doctest::Contains("input file not found"), InputError);
    const std::string text = variant(
        "lattice = { kind = \"fcc\", a = 1.68, repeat = [3, 3, 3], elements = [\"A\"] }",
        "data = \"does_not_exist.data\"");
    CHECK_THROWS_WITH_AS(load_job(write_input("nodata.toml", text), RunOverrides{}),
                         doctest::Contains("does_not_exist.data"), InputError);
  }
}
