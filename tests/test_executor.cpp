// Executor contracts: device-memory accounting, the strict CPU executor (device memory is
// inaccessible to the host outside launches and transfers: a planted host read crashes),
// zero allocations/transfers/syncs on steady steps for every ensemble, the gated scan,
// debug-sync kernel names, backend selection and the checkpoint's executor record.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <numeric>
#include <regex>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "ensemble_support.hpp"
#include "io/checkpoint.hpp"
#include "kernels/launch.hpp"

using namespace md;

namespace {

// Sets an environment variable for the lifetime of the object (restores the old value).
struct ScopedEnv {
  std::string name, old;
  bool had;
  ScopedEnv(const char* n, const char* value) : name(n) {
    const char* o = std::getenv(n);
    had = o != nullptr;
    if (had) old = o;
    setenv(n, value, 1);
  }
  ~ScopedEnv() {
    if (had)
      setenv(name.c_str(), old.c_str(), 1);
    else
      unsetenv(name.c_str());
  }
};

struct AddOne {
  double* a;
  MD_HD void operator()(Index i) const { a[i] += 1.0; }
};

enum class Planted { none, host_read, host_write, fresh_array };

// Runs `what` in a forked child on a strict CPU Context; returns the child's wait status.
int run_in_child(Planted what) {
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("MDGPU_STRICT_MEMORY", "1", 1);
    omp_set_num_threads(1);  // no OpenMP thread pool in a forked child
    Context ctx(Backend::cpu);
    if (!ctx.strict_memory()) _exit(10);
    DeviceArray<double> a(ctx, 1000);
    fill(ctx, a.data(), 1000, 2.0);
    parallel_for(ctx, 1000, AddOne{a.data()});  // device access inside a kernel: fine
    const std::vector<double> h = ctx.to_host(a);  // explicit transfer: fine
    if (h[999] != 3.0) _exit(11);
    volatile double sink = 0;
    switch (what) {
      case Planted::none:
        break;
      case Planted::host_read:
        sink = a.data()[0];  // the bug a GPU would fault on
        break;
      case Planted::host_write:
        a.data()[5] = 1.0;
        break;
      case Planted::fresh_array: {
        DeviceArray<double> b(ctx, 10);
        sink = b.data()[3];
        break;
      }
    }
    _exit(sink == 0 ? 0 : 12);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return status;
}

}  // namespace

TEST_SUITE("executor") {
  TEST_CASE("Context counts current and peak device bytes and allocations") {
    Context ctx(Backend::cpu);
    const long a0 = ctx.counters().allocations;
    const std::size_t b0 = ctx.device_bytes();
    {
      DeviceArray<double> a(ctx, 1000);
      DeviceArray<int> b(ctx, 10);
      CHECK(ctx.device_bytes() == b0 + 8000 + 40);
      CHECK(ctx.counters().allocations == a0 + 2);
      a.resize(10);
      CHECK(ctx.device_bytes() == b0 + 80 + 40);
      CHECK(ctx.peak_device_bytes() >= b0 + 8040);
    }
    CHECK(ctx.device_bytes() == b0);
    CHECK(ctx.peak_device_bytes() >= b0 + 8040);
    CHECK(ctx.counters().allocations == a0 + 3);
  }

  TEST_CASE("strict memory: a planted host read or write of a device array crashes (SIGSEGV)") {
    const int ok = run_in_child(Planted::none);
    REQUIRE(WIFEXITED(ok));
    CHECK(WEXITSTATUS(ok) == 0);  // kernels and transfers may touch device memory
    for (Planted p : {Planted::host_read, Planted::host_write, Planted::fresh_array}) {
      const int st = run_in_child(p);
      CHECK(WIFSIGNALED(st));
      if (WIFSIGNALED(st)) CHECK(WTERMSIG(st) == SIGSEGV);
    }
  }

  TEST_CASE("strict memory arena: first fit, coalescing, reuse, contents kept across launches") {
    ScopedEnv strict("MDGPU_STRICT_MEMORY", "1");
    Context ctx(Backend::cpu);
    REQUIRE(ctx.strict_memory());
    DeviceArray<double> a(ctx, 100), b(ctx, 100), c(ctx, 100);
    double* pa = a.data();
    fill(ctx, c.data(), 100, 7.0);
    a = DeviceArray<double>();
    b = DeviceArray<double>();
    DeviceArray<double> d(ctx, 200);  // fits into the coalesced hole of a and b
    CHECK(d.data() == pa);
    DeviceArray<double> big(ctx, 1 << 20);
    fill(ctx, big.data(), 1 << 20, 1.5);
    parallel_for(ctx, 1 << 20, AddOne{big.data()});
    const auto h = ctx.to_host(big);
    CHECK(h.front() == 2.5);
    CHECK(h.back() == 2.5);
    CHECK(ctx.to_host(c)[42] == 7.0);
    std::vector<double> up(200);
    std::iota(up.begin(), up.end(), 0.0);
    ctx.to_device(up, d);
    DeviceArray<double> e(ctx, 0);
    copy_device(ctx, d, e, 200);
    CHECK(ctx.to_host(e)[199] == 199.0);
  }

  TEST_CASE("gated exclusive scan: block scan of the chunk offsets equals a serial scan") {
    for (int shuffle = 0; shuffle < 2; ++shuffle) {
      Context ctx(Backend::cpu);
      ctx.set_lane_shuffle(shuffle == 1);
      for (Index n : {Index{0}, Index{1}, Index{255}, Index{257}, Index{256 * 256 + 3},
                      Index{256 * 700 + 17}}) {
        std::vector<int> in(static_cast<std::size_t>(n));
        for (Index i = 0; i < n; ++i) in[i] = static_cast<int>((i * 7919) % 13);
        DeviceArray<int> din(ctx, 0), dout(ctx, static_cast<std::size_t>(n + 1)),
            work(ctx, static_cast<std::size_t>(scan_work_size(n))), total(ctx, 1), gate(ctx, 1);
        ctx.to_device(in, din);
        ctx.to_device(std::vector<int>{1}, gate);
        exclusive_scan_gated(ctx, gate.data(), n, din.data(), dout.data(), total.data(),
                             work.data());
        const auto out = ctx.to_host(dout, static_cast<std::size_t>(n));
        int run = 0;
        bool same = true;
        for (Index i = 0; i < n; ++i) {
          same = same && out[i] == run;
          run += in[i];
        }
        CHECK_MESSAGE(same, "n = " << n);
        CHECK(ctx.to_host(total)[0] == run);
        // gate closed: nothing is written
        ctx.to_device(std::vector<int>{0}, gate);
        ctx.to_device(std::vector<int>{-1}, total);
        exclusive_scan_gated(ctx, gate.data(), n, din.data(), dout.data(), total.data(),
                             work.data());
        CHECK(ctx.to_host(total)[0] == -1);
      }
    }
  }

  TEST_CASE("debug sync names the kernel of every launch") {
    Context ctx(Backend::cpu);
    ctx.set_debug_sync(true);
    DeviceArray<double> a(ctx, 10);
    const long syncs = ctx.counters().syncs;
    fill(ctx, a.data(), 10, 1.0);
    CHECK(ctx.last_kernel().find("FillFunctor") != std::string::npos);
    parallel_for(ctx, 10, AddOne{a.data()});
    CHECK(ctx.last_kernel().find("AddOne") != std::string::npos);
    CHECK(ctx.counters().syncs == syncs);  // debug checks are not counted as syncs
    {
      ScopedEnv dbg("MDGPU_DEBUG_SYNC", "1");
      Context c2(Backend::cpu);
      CHECK(c2.debug_sync());
    }
  }

  TEST_CASE("auto backend says why it falls back to the CPU") {
    std::string why;
    const Backend b = resolve_backend("auto", &why);
    if (!cuda_compiled()) {
      CHECK(b == Backend::cpu);
      CHECK(why.find("built without the CUDA executor") != std::string::npos);
      CHECK_THROWS(resolve_backend("cuda"));
    }
    if (b == Backend::cpu) CHECK(!cuda_unusable_reason().empty());
    MESSAGE("auto: " << why);
    CHECK(resolve_backend("cpu") == Backend::cpu);
    {
      ScopedEnv rank("OMPI_COMM_WORLD_LOCAL_RANK", "3");
      if (!cuda_compiled()) CHECK(selected_cuda_device() == 3);  // no devices to wrap around
      set_cuda_device(1);
      CHECK(selected_cuda_device() == 1);  // --device wins over the local rank
      set_cuda_device(-1);
    }
    CHECK(Context(Backend::cpu).device_description() == "cpu");
  }

  TEST_CASE("steady steps: no allocations, transfers or syncs for NVE, the thermostats and barostats") {
    const char* runs[] = {
        "ensemble = \"nve\"",
        "ensemble = \"nvt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.1, tdamp = 0.1 }",
        "ensemble = \"nvt\"\nthermostat = { kind = \"csvr\", temperature = 1.1, tdamp = 0.1, seed = 5 }",
        "ensemble = \"nvt\"\nthermostat = { kind = \"langevin\", temperature = 1.1, tdamp = 0.3, seed = 5 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"csvr\", temperature = 1.1, tdamp = 0.1, seed = 5 }\n"
        "barostat = { kind = \"scr\", pressure = 1.0, pdamp = 0.5, compressibility = 0.1 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.1, tdamp = 0.1 }\n"
        "barostat = { kind = \"mtk\", coupling = \"aniso\", pressure = 1.0, pdamp = 0.5 }",
        "ensemble = \"npt\"\nthermostat = { kind = \"nose-hoover\", temperature = 1.1, tdamp = 0.1 }\n"
        "barostat = { kind = \"mtk\", coupling = \"iso\", pressure = 1.0, pdamp = 0.5 }",
    };
    for (const char* run : runs) {
      test::LJEnsemble e(4, 0.8442, 1.1, 3);
      e.use(run, 0.004);
      e.sim->run(20, Observers{});  // warm-up: first-step workspaces
      Observers obs;
      obs.thermo_every = 20;
      obs.on_thermo = [](const ThermoSample&) {};
      test::QuietStepWatch watch(e.ctx, 20, true);
      obs.after_step = watch.observer();
      const RunStats st = e.sim->run(100, obs);
      CHECK_MESSAGE(watch.bad == 0, run << ": " << watch.first_failure);
      CHECK_MESSAGE(watch.quiet == 95, run);
      CHECK_MESSAGE(st.allocations == 0, run);
      CHECK(st.launches > 0);
    }
  }

  TEST_CASE("mdgpu run prints the device, peak device memory and launches per step") {
    const std::string dir = std::string(MDGPU_TEST_TMP);
    const std::string input = dir + "/executor_summary.toml";
    std::ofstream(input) << "units = \"lj\"\n[system]\nlattice = { kind = \"fcc\", a = 1.6795962, "
                            "repeat = [4, 4, 4], elements = [\"A\"] }\nmasses = { A = 1.0 }\n"
                            "[velocity]\ntemperature = 1.0\nseed = 1\n[potential]\nstyle = \"lj\"\n"
                            "cutoff = 2.5\npairs = [{ types = [\"A\", \"A\"], epsilon = 1.0, sigma = 1.0 }]\n"
                            "[run]\nensemble = \"nve\"\ntimestep = 0.005\nsteps = 50\n";
    const std::string cmd = std::string("OMP_NUM_THREADS=1 ") + MDGPU_BINARY + " run " + input +
                            " --backend cpu --progress-interval 1000 2>&1";
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    std::string out;
    char buf[4096];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    CHECK(pclose(p) == 0);
    std::smatch m;
    REQUIRE_MESSAGE(std::regex_search(out, m, std::regex("\npeak device memory: ([0-9]+\\.[0-9]) MiB "
                                                         "\\(([0-9]+) bytes/atom\\)\n")),
                    out);
    const double mib = std::stod(m[1]);
    const long per_atom = std::stol(m[2]);
    CHECK(mib > 0.0);
    CHECK(per_atom > 100);  // positions, velocities, forces, images, neighbour list, ...
    CHECK(per_atom < 100000);
    REQUIRE_MESSAGE(std::regex_search(out, m, std::regex("\nkernel launches per step: ([0-9]+\\.[0-9])\n")), out);
    CHECK(std::stod(m[1]) > 5.0);
    CHECK(out.find("mdgpu: device cpu") != std::string::npos);
  }

  TEST_CASE("checkpoints record the executor and device and warn when another executor continues") {
    test::LJEnsemble e(3, 0.8442, 1.1, 3);
    e.use("ensemble = \"nve\"", 0.004);
    e.sim->run(5, Observers{});
    Checkpoint c = capture_checkpoint(*e.sim);
    CHECK(c.executor == "cpu");
    CHECK(c.device == "cpu");
    const Checkpoint d = decode_checkpoint(encode_checkpoint(c), "x.ckpt");
    CHECK(d.version == kCheckpointVersion);
    CHECK(d.executor == "cpu");
    CHECK(d.device == "cpu");
    CHECK(check_compatible(d, "x.ckpt", *e.sim, c.system_hash, c.input_hash).empty());
    Checkpoint old = c;  // version 1 files are still read (no executor record, no warning)
    old.version = 1;
    const Checkpoint v1 = decode_checkpoint(encode_checkpoint(old), "v1.ckpt");
    CHECK(v1.version == 1);
    CHECK(v1.executor.empty());
    CHECK(encode_checkpoint(old).size() < encode_checkpoint(c).size());
    CHECK(check_compatible(v1, "v1.ckpt", *e.sim, c.system_hash, c.input_hash).empty());
    Checkpoint gpu = c;
    gpu.executor = "cuda";
    gpu.device = "cuda:0 NVIDIA H200 (sm_90, 143771 MiB)";
    const std::string w = check_compatible(gpu, "g.ckpt", *e.sim, c.system_hash, c.input_hash);
    CHECK(w.find("cuda executor") != std::string::npos);
    CHECK(w.find("not bitwise identical") != std::string::npos);
  }
}
