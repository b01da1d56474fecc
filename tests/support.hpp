// Test helpers: the executors a test runs on (EXEC_TEST_CASE), small structures (perturbed
// lattices in any triclinic box), engine force evaluation on any executor, and relative-error
// comparisons. Used by every tests/test_*.cpp.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/potential.hpp"
#include "engine/structure.hpp"
#include "engine/units.hpp"

#include <doctest/doctest.h>

namespace md::test {

// Executors the tests run on: the CPU always; CUDA as well when the environment variable
// MDGPU_TEST_BACKEND is "cuda" or "all" and a device is usable (cuda_device_count() > 0).
std::vector<Backend> test_backends();
// True when MDGPU_TEST_BACKEND asks for the CUDA executor ("cuda" or "all").
bool cuda_requested();
// Why the CUDA pass cannot run here ("" when a device is usable).
std::string cuda_unusable_reason();

// The executor of the running EXEC_TEST_CASE subcase (the CPU outside one). Tests build their
// Context from it: `Context ctx(test::backend());`.
Backend backend();
inline std::string backend_str() { return backend_name(backend()); }

// Sets test::backend() for one subcase (used by EXEC_TEST_CASE).
class ExecutorScope {
 public:
  explicit ExecutorScope(Backend b);
  ~ExecutorScope();
  ExecutorScope(const ExecutorScope&) = delete;
  ExecutorScope& operator=(const ExecutorScope&) = delete;

 private:
  Backend saved_;
};

// Registers a test case's name as one that runs per executor (the gpu ctest pass skips the
// others: they run on the CPU only and the CPU pass covers them).
bool register_executor_test(const char* name);
bool is_executor_test(const std::string& name);

// fcc lattice of ncell^3 cells in fractional coordinates, each site displaced by up to
// `noise` (fractional units of one lattice cell), mapped into `box`. Types alternate over
// `ntypes`; masses 1.0 (overridable).
Structure perturbed_fcc(const Box& box, int ncell, double noise, std::uint64_t seed,
                        int ntypes = 1);

Box cubic_box(double side);
Box triclinic_box(double lx, double ly, double lz, double xy, double xz, double yz);

struct Forces {
  double energy = 0;
  std::vector<double> fx, fy, fz, e_atom;
  std::array<double, 6> virial{};
};

// Engine forces, energy and virial for a structure and potential, on ctx's executor.
Forces engine_forces(Context& ctx, const Structure& s, Potential& pot, const Units& units,
                     double skin = 0.3);

double rel_err(double a, double b, double floor = 1e-300);

inline std::string temp_dir() {
  return std::string(MDGPU_TEST_TMP);
}

// The zero-round-trip contract, watched step by step: every step that is not a multiple of
// `sync_every` (no output, no sync point) must make no host transfer in either direction, no
// synchronisation and must enqueue work; with `check_allocations` also no device allocation.
// Install with `obs.after_step = watch.observer()` or call step() from an observer of one's own.
class QuietStepWatch {
 public:
  QuietStepWatch(const Context& ctx, long sync_every, bool check_allocations = false);
  void step(long step);
  std::function<void(long)> observer() {
    return [this](long s) { step(s); };
  }
  long quiet = 0;             // steps checked
  long bad = 0;               // of those, steps that broke the contract
  std::string first_failure;  // "step N: d2h +1, syncs +1" for the first bad step

 private:
  const Context* ctx_;
  long every_;
  bool allocations_;
  Counters before_;
};

}  // namespace md::test

// A doctest TEST_CASE whose body runs once per selected executor, each as a subcase named
// after it ("cpu", "cuda"); inside, test::backend() is that executor. Use like TEST_CASE:
//   EXEC_TEST_CASE("name") { Context ctx(test::backend()); ... }
#define MD_EXEC_TEST_CASE_IMPL(body, reg, name)                                      \
  static void body();                                                                \
  [[maybe_unused]] static const bool reg = ::md::test::register_executor_test(name); \
  TEST_CASE(name) {                                                                  \
    for (const ::md::Backend md_exec_backend : ::md::test::test_backends())         \
      SUBCASE(::md::backend_name(md_exec_backend)) {                                 \
        ::md::test::ExecutorScope md_exec_scope(md_exec_backend);                    \
        body();                                                                      \
      }                                                                              \
  }                                                                                  \
  static void body()
#define EXEC_TEST_CASE(name) \
  MD_EXEC_TEST_CASE_IMPL(DOCTEST_ANONYMOUS(md_exec_body_), DOCTEST_ANONYMOUS(md_exec_reg_), name)
