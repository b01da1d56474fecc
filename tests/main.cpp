// doctest entry point for the unit-test binary. With --gpu-pass (the ctest entries labelled
// gpu) it runs only executor tests (EXEC_TEST_CASE) and only when a CUDA device is usable;
// otherwise it says why and exits 77, which ctest reports as skipped.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "support.hpp"

namespace {

// The test case named by --test-case=NAME (ctest runs one per entry; commas escaped as \,).
std::string requested_case(const std::vector<char*>& args) {
  const char* key = "--test-case=";
  for (const char* a : args)
    if (std::strncmp(a, key, std::strlen(key)) == 0) {
      std::string name, raw = a + std::strlen(key);
      for (std::size_t k = 0; k < raw.size(); ++k) {
        if (raw[k] == '\\' && k + 1 < raw.size() && raw[k + 1] == ',') continue;
        name += raw[k];
      }
      return name;
    }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args;
  bool gpu_pass = false;
  for (int k = 0; k < argc; ++k) {
    if (std::strcmp(argv[k], "--gpu-pass") == 0)
      gpu_pass = true;
    else
      args.push_back(argv[k]);
  }
  if (gpu_pass) {
    const int skipped = 77;
    if (!md::test::cuda_requested()) {
      std::printf("gpu pass: MDGPU_TEST_BACKEND is not \"cuda\" or \"all\": skipped, nothing "
                  "tested on CUDA\n");
      return skipped;
    }
    const std::string why = md::test::cuda_unusable_reason();
    if (!why.empty()) {
      std::printf("no usable CUDA device (%s): skipped, nothing tested on CUDA\n", why.c_str());
      return skipped;
    }
    const std::string name = requested_case(args);
    if (!name.empty() && !md::test::is_executor_test(name)) {
      std::printf("gpu pass: \"%s\" runs on the CPU only (covered by the CPU pass): skipped\n",
                  name.c_str());
      return skipped;
    }
  }
  doctest::Context context;
  context.applyCommandLine(static_cast<int>(args.size()), args.data());
  return context.run();
}
