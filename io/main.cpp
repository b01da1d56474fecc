// mdgpu command line: `mdgpu run input.toml [--backend B] [--device N] [--debug-sync]
// [--steps N] [--quiet] [--restart CKPT]`, `mdgpu check input.toml`, `mdgpu inspect CKPT`, `mdgpu info`,
// `mdgpu --version`. Errors print one line and exit non-zero (exit codes in kUsage).
#include <omp.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <cstdlib>
#include <string>
#include <vector>

#include <unistd.h>

#include <fmt/format.h>

#include "engine/backend.hpp"
#include "engine/comm.hpp"
#include "engine/error.hpp"
#include "integrators/registry.hpp"
#include "io/app.hpp"
#include "io/checkpoint.hpp"
#include "io/signals.hpp"
#include "models/registry.hpp"

#ifndef MDGPU_VERSION
#define MDGPU_VERSION "0.0.0"
#endif
#ifndef MDGPU_CUDA_ARCHS
#define MDGPU_CUDA_ARCHS ""
#endif

namespace {

// A malformed command line: exit status 2 (as the usage text says), the usage follows.
struct UsageError : md::Error {
  using md::Error::Error;
};

constexpr long kMaxSteps = 1000000000000000L;  // 10^15: step arithmetic stays far from overflow

const char* kUsage =
    "usage: mdgpu run INPUT.toml [--backend auto|cpu|cuda] [--steps N] [--quiet]\n"
    "                            [--restart CHECKPOINT] [--progress-interval SECONDS]\n"
    "                            [--device N] [--debug-sync] [--cuda-graphs|--no-cuda-graphs]\n"
    "                            [--report FILE.html]\n"
    "         --device N    CUDA device (default: the node-local MPI/Slurm rank, else 0)\n"
    "         --debug-sync  synchronise and check after every kernel, naming it (slow)\n"
    "         --cuda-graphs capture the steady step once and replay it (default: [run]\n"
    "                       cuda_graphs, off)\n"
    "         --report FILE write an HTML run report at the end (default: [output] report)\n"
    "       mdgpu check INPUT.toml [--restart CHECKPOINT]   validate without running\n"
    "       mdgpu inspect CHECKPOINT                        validate and describe a checkpoint\n"
    "       mdgpu info\n"
    "       mdgpu --version\n"
    "exit status: 0 done, 1 error, 2 usage, 3 stopped by SIGINT/SIGTERM (checkpoint written),\n"
    "             4 safety check failed (last good state written), 128+N killed by a second\n"
    "             signal N\n";

int cmd_info() {
  fmt::print("mdgpu {}\n", MDGPU_VERSION);
  fmt::print("executors: cpu (OpenMP, {} threads)", omp_get_max_threads());
  if (md::cuda_compiled()) fmt::print(", cuda (compiled for {})", MDGPU_CUDA_ARCHS);
  fmt::print("\n");
  fmt::print("CUDA devices:\n");
  for (const auto& d : md::cuda_device_descriptions()) fmt::print("  {}\n", d);
  std::string why;
  md::resolve_backend("auto", &why);
  fmt::print("--backend auto: {}\n", why);
  fmt::print("potential styles:\n");
  for (const auto& s : md::potential_styles()) fmt::print("  {:<10} {}\n", s.name, s.summary);
  fmt::print("ensembles ([run] ensemble):\n");
  for (const auto& s : md::integrator_styles()) fmt::print("  {:<10} {}\n", s.name, s.summary);
  fmt::print("units: metal (default), lj\n");
  return 0;
}

int cmd_inspect(int argc, char** argv) {
  if (argc != 3) throw UsageError(std::string("inspect needs one checkpoint file\n") + kUsage);
  const md::Checkpoint c = md::read_checkpoint(argv[2]);
  fmt::print("{}: mdgpu checkpoint version {}, step {}, {} atoms, {} types (", argv[2], c.version,
             c.step, c.natoms(), c.type_names.size());
  for (std::size_t t = 0; t < c.type_names.size(); ++t)
    fmt::print("{}{}", t ? " " : "", c.type_names[t]);
  fmt::print("), units {}, timestep {:g}, integrator {}, cell {:g} x {:g} x {:g}\n", c.units,
             c.dt, c.integrator, c.box.l[0], c.box.l[1], c.box.l[2]);
  for (const auto& o : c.outputs) {
    if (o.path.rfind("#run ", 0) == 0) fmt::print("  written by run {}\n", o.path.substr(5));
    if (o.path.empty() || o.path[0] == '#') continue;  // run id, output signatures
    fmt::print("  output {} at {}\n", o.path, o.position);
  }
  return 0;
}

int cmd_run(int argc, char** argv, bool check_only) {
  std::string input;
  md::RunOverrides ov;
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* opt) -> std::string {
      if (i + 1 >= argc) throw UsageError(std::string("option ") + opt + " needs a value\n" + kUsage);
      return argv[++i];
    };
    if (a == "--backend") {
      ov.backend = value("--backend");
      if (ov.backend != "auto" && ov.backend != "cpu" && ov.backend != "cuda")
        throw UsageError("--backend must be auto, cpu or cuda");
    } else if (a == "--steps") {
      const std::string v = value("--steps");
      char* end = nullptr;
      errno = 0;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || n < 0) throw UsageError("--steps needs a non-negative integer");
      if (errno == ERANGE || n > kMaxSteps)
        throw UsageError("--steps " + v + " is more than the 10^15 steps mdgpu supports");
      ov.steps = n;
    } else if (a == "--report") {
      ov.report = value("--report");
      if (ov.report.empty()) throw UsageError("--report needs a file name");
    } else if (a == "--restart") {
      ov.restart = value("--restart");
    } else if (a == "--progress-interval") {
      const std::string v = value("--progress-interval");
      char* end = nullptr;
      ov.progress_interval = std::strtod(v.c_str(), &end);
      if (v.empty() || *end != '\0' || !(ov.progress_interval > 0))
        throw UsageError("--progress-interval needs a positive number of seconds");
    } else if (a == "--device") {
      const std::string v = value("--device");
      char* end = nullptr;
      const long d = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || d < 0 || d > 1023)
        throw UsageError("--device needs a non-negative integer");
      md::set_cuda_device(static_cast<int>(d));
    } else if (a == "--debug-sync") {
      md::set_debug_sync_default(true);
    } else if (a == "--cuda-graphs" || a == "--no-cuda-graphs") {
      ov.cuda_graphs = a == "--cuda-graphs";
    } else if (a == "--quiet" || a == "-q") {
      ov.quiet = true;
    } else if (!a.empty() && a[0] == '-') {
      throw UsageError("unknown option " + a + "\n" + kUsage);
    } else if (input.empty()) {
      input = a;
    } else {
      throw UsageError(std::string("more than one input file given\n") + kUsage);
    }
  }
  if (input.empty()) throw UsageError(std::string("no input file given\n") + kUsage);
  if (check_only) {
    ov.backend = "cpu";
    ov.quiet = true;
    md::Job job = md::load_job(input, ov);
    md::check_job(job, ov);
    return 0;
  }
  ov.handle_signals = true;
  if (md::world().rank() != 0) ov.quiet = true;  // several ranks: rank 0 prints
  md::Job job = md::load_job(input, ov);
  if (!ov.quiet) {
    const md::Context& ctx = *job.ctx;
    std::string line = "mdgpu: device " + ctx.device_description();
    if (!ctx.on_cuda() && md::cuda_compiled()) {
      const std::string why = md::cuda_unusable_reason();
      line += why.empty() ? " (CUDA usable but not requested)" : " (CUDA not used: " + why + ")";
    }
    if (ctx.strict_memory()) line += ", strict memory";
    if (ctx.debug_sync()) line += ", debug sync after every kernel";
    if (job.cuda_graphs) line += ", step graphs";
    fmt::print("{}\n", line);
  }
  return md::run_job(job, ov);
}

// `mdgpu plot|report ...`: the Python package's tools (io/python/mdgpu/__main__.py), run as
// `python3 -m mdgpu ...` (MDGPU_PYTHON overrides the interpreter) with the package found
// next to this binary: BUILD/python in a build tree, the wheel's site-packages when installed.
int cmd_python(int argc, char** argv) {
  char self[4096];
  const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
  std::string path;
  if (len > 0) {
    const std::string exe(self, static_cast<std::size_t>(len));
    const std::string dir = exe.substr(0, exe.rfind('/'));
    for (const std::string& d : {dir + "/python", dir + "/../.."})
      if (access((d + "/mdgpu/__main__.py").c_str(), R_OK) == 0) path += (path.empty() ? "" : ":") + d;
  }
  if (const char* old = std::getenv("PYTHONPATH")) path += (path.empty() ? "" : ":") + std::string(old);
  if (!path.empty()) setenv("PYTHONPATH", path.c_str(), 1);
  const char* py = std::getenv("MDGPU_PYTHON") ? std::getenv("MDGPU_PYTHON") : "python3";
  std::vector<char*> args = {const_cast<char*>(py), const_cast<char*>("-m"),
                             const_cast<char*>("mdgpu")};
  for (int i = 1; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execvp(py, args.data());
  std::fprintf(stderr, "mdgpu: error: %s needs Python 3 with the mdgpu package (%s: %s)\n",
               argv[1], py, std::strerror(errno));
  return 1;
}

}  // namespace

int run_main(int argc, char** argv, bool parallel) {
  try {
    if (argc < 2) {
      std::fputs(kUsage, stderr);
      return 2;
    }
    const std::string cmd = argv[1];
    if (cmd == "--version" || cmd == "version") {
      fmt::print("mdgpu {}\n", MDGPU_VERSION);
      return 0;
    }
    if (cmd == "info") return cmd_info();
    if (cmd == "run") return cmd_run(argc, argv, false);
    if (cmd == "check") return cmd_run(argc, argv, true);
    if (cmd == "inspect") return cmd_inspect(argc, argv);
    if (cmd == "plot" || cmd == "report") return cmd_python(argc, argv);  // io/python
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    std::fprintf(stderr, "mdgpu: unknown command \"%s\"\n%s", cmd.c_str(), kUsage);
    return 2;
  } catch (const UsageError& e) {
    if (md::world().rank() == 0) std::fprintf(stderr, "mdgpu: %s\n", e.what());
    return 2;
  } catch (const md::InputError& e) {
    if (parallel) throw;
    std::fprintf(stderr, "mdgpu: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    if (parallel) throw;
    std::fprintf(stderr, "mdgpu: error: %s\n", e.what());
    return 1;
  }
}

// Several ranks (engine/comm.hpp): MPI starts here when launched by mpirun. An input error
// is found identically by every rank (rank 0 reports it, all finish normally); any other
// error may be one rank's alone, so that rank reports it and stops every rank.
int main(int argc, char** argv) {
  md::init_world(&argc, &argv);
  md::Comm& w = md::world();
  if (w.size() == 1) {
    const int rc = run_main(argc, argv, false);
    md::finalize_world();
    return rc;
  }
  int rc = 0;
  try {
    rc = run_main(argc, argv, true);
  } catch (const md::InputError& e) {
    if (w.rank() == 0) std::fprintf(stderr, "mdgpu: error: %s\n", e.what());
    rc = 1;
  } catch (const std::exception& e) {
    w.abort(e.what(), 1);
  }
  md::finalize_world();
  return rc;
}
