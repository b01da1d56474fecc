// libFuzzer harness for mdgpu's input parsers, built with ASan and UBSan (tests/fuzz/run.sh,
// CMake option MDGPU_FUZZ with clang). One binary per parser, chosen by MDGPU_FUZZ_TARGET:
// 1 LAMMPS data file, 2 extended XYZ, 3 checkpoint, 4 TOML input (the whole `mdgpu run`
// setup: lattice/structure, potential, integrator, outputs; no steps). A parser may reject
// its input only with md::InputError / md::Error; anything else (crash, other exception,
// sanitizer report, hang) is a finding.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "io/app.hpp"
#include "io/checkpoint.hpp"
#include "io/extxyz.hpp"
#include "io/lammps_data.hpp"

namespace {

std::string scratch_file(const char* ext) {
  static std::string path;
  if (path.empty()) path = "/tmp/mdgpu_fuzz_" + std::to_string(getpid());
  return path + ext;
}

void write_bytes(const std::string& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 1 << 16) return 0;
  try {
#if MDGPU_FUZZ_TARGET == 1
    const std::string p = scratch_file(".data");
    write_bytes(p, data, size);
    md::read_lammps_data(p, {});
#elif MDGPU_FUZZ_TARGET == 2
    const std::string p = scratch_file(".xyz");
    write_bytes(p, data, size);
    md::read_extxyz(p, -1);
    md::read_extxyz(p, 0);
#elif MDGPU_FUZZ_TARGET == 3
    md::decode_checkpoint(std::string(reinterpret_cast<const char*>(data), size), "fuzz.ckpt");
#elif MDGPU_FUZZ_TARGET == 4
    const std::string p = scratch_file(".toml");
    write_bytes(p, data, size);
    md::RunOverrides ov;
    ov.backend = "cpu";
    ov.quiet = true;
    ov.max_atoms = 4000;  // keep each input small: the harness looks for parser bugs
    md::Job job = md::load_job(p, ov);
#else
#error "define MDGPU_FUZZ_TARGET (1..4)"
#endif
  } catch (const md::Error&) {
    // a clean rejection (InputError is an Error)
  }
  return 0;
}
