// libFuzzer harness for mdgpu's input parsers, built with ASan and UBSan (tests/fuzz/run.sh,
// CMake option MDGPU_FUZZ with clang). One binary per parser, chosen by MDGPU_FUZZ_TARGET:
// 1 LAMMPS data file, 2 extended XYZ, 3 checkpoint, 4 TOML input (the whole `mdgpu run`
// setup: lattice/structure, potential, integrator, outputs; no steps), 5 EAM files (funcfl,
// setfl, Finnis-Sinclair), 6 LAMMPS pair table, 7 SNAP coefficient + parameter files (split
// at the first "@@" line), 8 DeePMD .dp model dictionary
// (the JSON attribute of a copy of inputs/deepmd/cu_small.dp), 9 checkpoint fields (the bytes get a
// valid checksum and trailer, so every field check is reached). A parser may reject its input
// only with md::InputError / md::Error; anything else (crash, other exception, sanitizer
// report, hang, or an allocation above run.sh's -malloc_limit_mb) is a finding.
#include <hdf5.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/error.hpp"
#include "io/app.hpp"
#include "io/checkpoint.hpp"
#include "io/extxyz.hpp"
#include "io/lammps_data.hpp"
#include "models/deepmd/deepmd.hpp"
#include "models/eam/eam.hpp"
#include "models/snap/snap.hpp"
#include "models/table/table.hpp"

namespace {

[[maybe_unused]] std::string scratch_file(const char* ext) {
  static std::string path;
  if (path.empty()) path = "/tmp/mdgpu_fuzz_" + std::to_string(getpid());
  return path + ext;
}

[[maybe_unused]] void write_bytes(const std::string& path, const std::uint8_t* data, std::size_t size) {
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
    // The memory estimate refuses what would not fit in 256 MB: an allocation above run.sh's
    // -malloc_limit_mb after the estimate passed is a finding (an estimate that is wrong).
    setenv("MDGPU_MAX_MEMORY_GB", "0.25", 1);
    md::Job job = md::load_job(p, ov);
#elif MDGPU_FUZZ_TARGET == 5
    const std::string p = scratch_file(".eam");
    write_bytes(p, data, size);
    try {
      md::read_funcfl(p);
    } catch (const md::Error&) {
    }
    try {
      md::read_setfl(p, false);
    } catch (const md::Error&) {
    }
    md::read_setfl(p, true);
#elif MDGPU_FUZZ_TARGET == 6
    const std::string p = scratch_file(".table");
    write_bytes(p, data, size);
    const md::TableFile t = md::read_table_file(p, "PAIR");
    md::build_pair_table(t, md::TableStyle::spline, 100, t.rflag ? t.rhi : 3.0);
#elif MDGPU_FUZZ_TARGET == 7
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::size_t cut = text.find("\n@@\n");
    const std::string coeff = scratch_file(".snapcoeff"), param = scratch_file(".snapparam");
    write_bytes(coeff, data, cut == std::string::npos ? size : cut + 1);
    if (cut == std::string::npos)
      write_bytes(param, data, 0);
    else
      write_bytes(param, data + cut + 4, size - cut - 4);
    md::read_snap_model(coeff, param, {"Ta"});
#elif MDGPU_FUZZ_TARGET == 8
    // The model dictionary (the "json" root attribute) of a copy of a real .dp: every array
    // reference, shape and key is the fuzzer's (HDF5's own parser is not the target).
    const std::string p = scratch_file(".dp");
    {
      std::ifstream in(MDGPU_DP_TEMPLATE, std::ios::binary);
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << in.rdbuf();
    }
    const hid_t f = H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    if (f < 0) return 0;
    H5Adelete(f, "json");
    const hid_t type = H5Tcopy(H5T_C_S1);
    H5Tset_size(type, size > 0 ? size : 1);
    const hid_t space = H5Screate(H5S_SCALAR);
    const hid_t attr = H5Acreate2(f, "json", type, space, H5P_DEFAULT, H5P_DEFAULT);
    std::string text(reinterpret_cast<const char*>(data), size);
    if (text.empty()) text.push_back('\0');
    H5Awrite(attr, type, text.data());
    H5Aclose(attr);
    H5Sclose(space);
    H5Tclose(type);
    H5Fclose(f);
    md::deepmd::load_model(p);
#elif MDGPU_FUZZ_TARGET == 9
    std::string b(reinterpret_cast<const char*>(data), size);
    if (b.size() < 16 || b.compare(0, 8, "MDGPUCKP") != 0) b = "MDGPUCKP" + b;
    const std::uint64_t h = md::fnv1a(b.data(), b.size());
    b.append(reinterpret_cast<const char*>(&h), 8);
    b.append("CKPTEND!");
    md::decode_checkpoint(b, "fuzz.ckpt");
#else
#error "define MDGPU_FUZZ_TARGET (1..9)"
#endif
  } catch (const md::Error&) {
    // a clean rejection (InputError is an Error)
  }
  return 0;
}
