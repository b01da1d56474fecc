// Checkpoints: encode/decode round trip; corrupt, truncated, foreign and future-version files
// are refused with a clear message; a restart (in-process, through the stop flag) ends
// bitwise identical to an uninterrupted run, while rebuilding the neighbour list from the
// restart positions instead of the stored build reference does not (why the reference is
// stored); a checkpoint of another system is refused.
#include <doctest/doctest.h>

#include <csignal>
#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "io/app.hpp"
#include "io/checkpoint.hpp"
#include "support.hpp"

using namespace md;

namespace {

std::string input(int cells, const std::string& run_extra = "") {
  return R"(units = "lj"
[system]
lattice = { kind = "fcc", a = 1.6796, repeat = [)" +
         std::to_string(cells) + ", " + std::to_string(cells) + ", " + std::to_string(cells) +
         R"(], elements = ["A"] }
masses = { A = 1.0 }
[velocity]
temperature = 1.5
seed = 7
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[run]
steps = 200
)" + run_extra;
}

std::string write_input(const std::string& name, const std::string& text) {
  const std::string path = test::temp_dir() + "/" + name;
  std::ofstream(path) << text;
  return path;
}

Job load(const std::string& path) {
  RunOverrides ov;
  ov.backend = test::backend_str();
  ov.quiet = true;
  return load_job(path, ov);
}

struct State {
  std::vector<double> x, y, z, vx, vy, vz;
};
State state_of(Job& job) {
  Context& ctx = *job.ctx;
  System& s = *job.system;
  return {ctx.to_host(s.x, s.n_local()),  ctx.to_host(s.y, s.n_local()),
          ctx.to_host(s.z, s.n_local()),  ctx.to_host(s.vx, s.n_local()),
          ctx.to_host(s.vy, s.n_local()), ctx.to_host(s.vz, s.n_local())};
}
bool bitwise_equal(const State& a, const State& b) {
  return a.x == b.x && a.y == b.y && a.z == b.z && a.vx == b.vx && a.vy == b.vy && a.vz == b.vz;
}

// Runs to `stop_at` (stopping through the stop flag, as a signal would), returns the
// checkpoint written at the stop.
Checkpoint run_and_stop(Job& job, long stop_at) {
  volatile std::sig_atomic_t flag = 0;
  Observers obs;
  obs.max_check_interval = 50;
  obs.stop = &flag;
  obs.after_step = [&](long step) {
    if (step + 1 == stop_at) flag = 1;  // "signal" arrives during step stop_at
  };
  Checkpoint c;
  obs.on_checkpoint = [&]() { c = capture_checkpoint(*job.sim); };
  const RunStats st = job.sim->run(job.steps, obs);
  REQUIRE(st.stopped);
  REQUIRE(c.step == stop_at);
  c.system_hash = job.system_hash;
  c.input_hash = job.input_hash;
  return c;
}

}  // namespace

TEST_SUITE("checkpoint") {
  EXEC_TEST_CASE("encode -> decode round trip; damaged files are refused") {
    const std::string path = write_input("ck_rt.toml", input(2));
    Job job = load(path);
    job.sim->setup();
    job.sim->run(20, Observers{});
    Checkpoint c = capture_checkpoint(*job.sim);
    c.outputs.push_back({"thermo.csv", 1234});
    const std::string bytes = encode_checkpoint(c);
    const Checkpoint d = decode_checkpoint(bytes, "x.ckpt");
    CHECK(d.step == 20);
    CHECK(d.x == c.x);
    CHECK(d.x0 == c.x0);
    CHECK(d.type_names == c.type_names);
    CHECK(d.outputs.size() == 1);
    CHECK(d.outputs[0].position == 1234);
    CHECK(d.integrator == "nve");

    std::string flipped = bytes;
    flipped[bytes.size() / 2] ^= 0x10;
    CHECK_THROWS_WITH_AS(decode_checkpoint(flipped, "x.ckpt"),
                         doctest::Contains("checksum mismatch"), InputError);
    CHECK_THROWS_WITH_AS(decode_checkpoint(bytes.substr(0, bytes.size() - 100), "x.ckpt"),
                         doctest::Contains("truncated"), InputError);
    CHECK_THROWS_WITH_AS(decode_checkpoint("hello", "x.ckpt"),
                         doctest::Contains("not an mdgpu checkpoint"), InputError);
    std::string future = bytes;
    future[8] = 99;
    CHECK_THROWS_WITH_AS(decode_checkpoint(future, "x.ckpt"),
                         doctest::Contains("version 99 is not supported"), InputError);
  }

  EXEC_TEST_CASE("stop + restart is bitwise identical to an uninterrupted run") {
    const std::string path = write_input("ck_exact.toml", input(4));
    Job ref = load(path);
    ref.sim->setup();
    ref.sim->run(ref.steps, Observers{});
    const State want = state_of(ref);

    Job first = load(path);
    first.sim->setup();
    const Checkpoint c = run_and_stop(first, 97);
    const std::string bytes = encode_checkpoint(c);

    Job second = load(path);
    const Checkpoint d = decode_checkpoint(bytes, "mem.ckpt");
    CHECK(check_compatible(d, "mem.ckpt", *second.sim, second.system_hash, second.input_hash)
              .empty());
    restore_checkpoint(d, *second.sim);
    CHECK(second.sim->step() == 97);
    second.sim->run(second.steps - 97, Observers{});
    CHECK(bitwise_equal(state_of(second), want));

    // Ablation: the same restart, but the list rebuilt from the restored (current) positions
    // rather than from the stored build reference, is not bitwise identical.
    Checkpoint naive = d;
    naive.x0 = d.x;
    naive.y0 = d.y;
    naive.z0 = d.z;
    naive.box_at_build = d.box;
    Job third = load(path);
    restore_checkpoint(naive, *third.sim);
    third.sim->run(third.steps - 97, Observers{});
    CHECK_FALSE(bitwise_equal(state_of(third), want));
  }

  EXEC_TEST_CASE("a checkpoint of another system or integrator is refused") {
    Job a = load(write_input("ck_a.toml", input(2)));
    a.sim->setup();
    Checkpoint c = capture_checkpoint(*a.sim);
    c.system_hash = a.system_hash;
    c.input_hash = a.input_hash;
    Job bigger = load(write_input("ck_b.toml", input(3)));
    CHECK_THROWS_WITH_AS(
        check_compatible(c, "a.ckpt", *bigger.sim, bigger.system_hash, bigger.input_hash),
        doctest::Contains("it holds 32 atoms, the input's system has 108"), InputError);
    Job nvt = load(write_input(
        "ck_c.toml",
        input(2, "ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = 1.0, seed = 3 }\n")));
    CHECK_THROWS_WITH_AS(check_compatible(c, "a.ckpt", *nvt.sim, nvt.system_hash, nvt.input_hash),
                         doctest::Contains("written by the nve integrator"), InputError);
    // same system, changed settings: accepted with a warning
    Job dt = load(write_input("ck_d.toml", input(2, "timestep = 0.002\n")));
    CHECK(check_compatible(c, "a.ckpt", *dt.sim, dt.system_hash, dt.input_hash)
              .find("not bitwise identical") != std::string::npos);
  }

  EXEC_TEST_CASE("atomic write keeps the previous checkpoint as .prev") {
    Job a = load(write_input("ck_w.toml", input(2)));
    a.sim->setup();
    const std::string file = test::temp_dir() + "/atomic.ckpt";
    std::remove((file + ".prev").c_str());
    Checkpoint c = capture_checkpoint(*a.sim);
    write_checkpoint(file, c);
    a.sim->run(10, Observers{});
    Checkpoint c2 = capture_checkpoint(*a.sim);
    write_checkpoint(file, c2);
    CHECK(read_checkpoint(file).step == 10);
    CHECK(read_checkpoint(file + ".prev").step == 0);
  }
}
