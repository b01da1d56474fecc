// SchNet model files (tests/data/schnet, written by tools/export_schnetpack.py from a
// schnetpack best_model): the loader's shapes and values against numbers read from the torch
// module (cuau_values.json), the plain double-precision reference energy against schnetpack's
// float64 fixtures (cuau.json, tools/schnet_fixtures.py), and bad model files refused naming
// the key.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "models/schnet/schnet_io.hpp"
#include "reference/schnet_reference.hpp"
#include "model_file_edit.hpp"
#include "support.hpp"

using namespace md;
using nlohmann::json;

namespace {

std::string data_dir() { return std::string(MDGPU_SOURCE_DIR) + "/tests/data/schnet/"; }
std::string model_path() { return data_dir() + "cuau.schnet.h5"; }

json read_json(const std::string& path) {
  std::ifstream f(path);
  REQUIRE(f.good());
  return json::parse(f);
}

// Copy of the model file with its JSON changed by `edit` and then `h5edit` run on the open file.
std::string mutated(const std::string& name, const std::function<void(json&)>& edit,
                    const std::function<void(hid_t)>& h5edit = {}) {
  return test::edited_model_copy(model_path(), test::temp_dir() + "/schnet_" + name + ".h5",
                                 edit, h5edit);
}

void check_refused(const std::string& path, const std::string& message) {
  CAPTURE(message);
  CHECK_THROWS_WITH_AS(schnet::load_model(path), doctest::Contains(message.c_str()), InputError);
}

}  // namespace

TEST_SUITE("schnet_io") {
  TEST_CASE("loader reads the exported model: shapes and values equal the torch module's") {
    const schnet::Params p = schnet::load_model(model_path());
    const json v = read_json(data_dir() + "cuau_values.json");
    CHECK(p.schnetpack_version == v["schnetpack"].get<std::string>());
    CHECK(p.length_unit == "Angstrom");
    CHECK(p.energy_unit == "eV");
    CHECK(p.symbols == std::vector<std::string>{"Cu", "Au"});
    CHECK(p.z == std::vector<int>{29, 79});
    CHECK(p.species_index("Au") == 1);
    CHECK(p.species_index("Ni") == -1);
    CHECK(p.n_atom_basis == v["n_atom_basis"].get<int>());
    CHECK(p.n_filters == v["n_filters"].get<int>());
    CHECK(p.n_rbf == v["n_rbf"].get<int>());
    CHECK(p.n_interactions() == v["n_interactions"].get<int>());
    CHECK(p.cutoff == v["cutoff"].get<double>());
    CHECK(p.cutoff_function == "cosine");
    REQUIRE(p.rbf_centres.size() == static_cast<std::size_t>(p.n_rbf));
    CHECK(p.rbf_centres == v["rbf_centres"].get<std::vector<double>>());
    CHECK(p.rbf_widths == v["rbf_widths"].get<std::vector<double>>());
    CHECK(p.embedding.size() == static_cast<std::size_t>(2 * p.n_atom_basis));
    // Embedding row of Au (Z = 79) equals torch's embedding.weight[79].
    const auto au = v["embedding_z79"].get<std::vector<double>>();
    for (int f = 0; f < p.n_atom_basis; ++f) CHECK(p.embedding[p.n_atom_basis + f] == au[f]);
    for (const auto& it : p.interactions) {
      CHECK(it.in2f.n_in == p.n_atom_basis);
      CHECK(it.in2f.n_out == p.n_filters);
      CHECK(it.in2f.b.empty());
      CHECK(it.filter[0].n_in == p.n_rbf);
      CHECK(it.filter[0].act == schnet::Activation::shifted_softplus);
      CHECK(it.filter[1].act == schnet::Activation::linear);
      CHECK(it.f2out[0].act == schnet::Activation::shifted_softplus);
      CHECK(it.f2out[1].act == schnet::Activation::linear);
    }
    // torch weight[out][in] is stored transposed: w[in][out].
    const auto& last = p.interactions.back();
    const auto tw = v["interaction_last_filter0_weight"].get<std::vector<std::vector<double>>>();
    REQUIRE(tw.size() == static_cast<std::size_t>(p.n_filters));
    for (int o = 0; o < p.n_filters; ++o)
      for (int k = 0; k < p.n_rbf; ++k)
        CHECK(last.filter[0].w[static_cast<std::size_t>(k) * p.n_filters + o] == tw[o][k]);
    CHECK(last.f2out[1].b == v["interaction_last_f2out1_bias"].get<std::vector<double>>());
    // Atomwise head: SiLU, widths halving, one output.
    REQUIRE(p.head.size() == 2);
    CHECK(p.head[0].n_in == p.n_atom_basis);
    CHECK(p.head[0].n_out == p.n_atom_basis / 2);
    CHECK(p.head[0].act == schnet::Activation::silu);
    CHECK(p.head[1].n_out == 1);
    CHECK(p.head[1].act == schnet::Activation::linear);
    CHECK(p.head[1].b == v["head_last_bias"].get<std::vector<double>>());
    CHECK(p.mean == v["mean"].get<double>());
    CHECK(p.mean_per_atom);
    CHECK(p.atomref == v["atomref_cu_au"].get<std::vector<double>>());
  }

  TEST_CASE("reference energy (plain loops, double) equals schnetpack float64 on every fixture") {
    const schnet::Params p = schnet::load_model(model_path());
    const json fx = read_json(data_dir() + "cuau.json");
    CHECK(fx["schema"] == "mdgpu-reference-fixture/1");
    REQUIRE(fx["frames"].size() == 3);
    for (const json& fr : fx["frames"]) {
      CAPTURE(fr["name"].get<std::string>());
      std::array<std::array<double, 3>, 3> cell{};
      for (int a = 0; a < 3; ++a)
        for (int k = 0; k < 3; ++k) cell[a][k] = fr["cell"][a][k].get<double>();
      std::vector<std::array<double, 3>> x;
      std::vector<int> species;
      for (const json& r : fr["positions"])
        x.push_back({r[0].get<double>(), r[1].get<double>(), r[2].get<double>()});
      for (const json& s : fr["species"]) species.push_back(p.species_index(s.get<std::string>()));
      std::vector<double> y;
      const double e = ref::schnet_energy(p, cell, x, species, &y);
      const double e_ref = fr["energy"].get<double>();
      const double rel = std::fabs(e - e_ref) / std::fabs(e_ref);
      MESSAGE(fr["name"].get<std::string>()
              << ": E = " << std::setprecision(17) << e << " vs schnetpack " << e_ref
              << ", relative difference " << rel);
      CHECK(rel < 1e-12);
      // Per-atom energies: Atomwise output y_i + mean + atomref[species_i].
      const auto& ea = fr["atom_energies"];
      REQUIRE(ea.size() == y.size());
      double worst = 0;
      for (std::size_t i = 0; i < y.size(); ++i)
        worst =
            std::max(worst, std::fabs(y[i] + p.mean + p.atomref[species[i]] - ea[i].get<double>()));
      MESSAGE(fr["name"].get<std::string>()
              << ": worst per-atom energy difference " << worst << " eV");
      CHECK(worst < 1e-12 * std::fabs(e_ref));
    }
  }

  TEST_CASE("bad model files are refused naming the key") {
    check_refused(data_dir() + "no_such_file.h5", "not an HDF5 file");
    check_refused(data_dir() + "cuau.json", "not an HDF5 file");
    check_refused(mutated("version", [](json& j) { j["schema"]["version"] = 2; }),
                  "schema.version: unknown version 2");
    check_refused(mutated("name", [](json& j) { j["schema"]["name"] = "mdgpu-painn"; }),
                  "is not an mdgpu-schnet model file");
    check_refused(mutated("rep", [](json& j) { j["representation"]["type"] = "PaiNN"; }),
                  "representation.type: \"PaiNN\" is not supported");
    check_refused(mutated("act", [](json& j) { j["head"]["layers"][0]["activation"] = "tanh"; }),
                  "head.layers[0].activation: unsupported activation \"tanh\"");
    check_refused(
        mutated("cutoff", [](json& j) { j["representation"]["cutoff"]["function"] = "mollifier"; }),
        "\"mollifier\" is not supported (cosine only)");
    check_refused(mutated("nokey", [](json& j) { j["offsets"].erase("mean"); }),
                  "offsets.mean: missing key");
    check_refused(mutated("units", [](json& j) { j.erase("units"); }), "json.units: missing key");
    check_refused(mutated("count", [](json& j) { j["representation"]["n_interactions"] = 4; }),
                  "representation.interactions: expected a list of n_interactions = 4");
    check_refused(
        mutated(
            "missing", [](json&) {},
            [](hid_t f) { REQUIRE(H5Ldelete(f, "interaction_1.filter_1.b", H5P_DEFAULT) >= 0); }),
        "representation.interactions[1].filter[1].b: dataset \"interaction_1.filter_1.b\" not "
        "found");
    check_refused(
        mutated(
            "shape", [](json&) {},
            [](hid_t f) {
              REQUIRE(H5Ldelete(f, "radial_basis.widths", H5P_DEFAULT) >= 0);
              const hsize_t n = 3;
              const double w[3] = {1, 1, 1};
              const hid_t sp = H5Screate_simple(1, &n, nullptr);
              const hid_t ds = H5Dcreate2(f, "radial_basis.widths", H5T_IEEE_F64LE, sp, H5P_DEFAULT,
                                          H5P_DEFAULT, H5P_DEFAULT);
              H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, w);
              H5Dclose(ds);
              H5Sclose(sp);
            }),
        "representation.radial_basis.widths: dataset \"radial_basis.widths\" has shape [3]");
    // A dataset of the expected shape that claims more elements than the file can hold
    // (chunked, nothing written) is refused before anything is allocated.
    std::string emb;
    const std::string huge = mutated(
        "huge",
        [&emb](json& j) {
          j["representation"]["n_atom_basis"] = 2147483647;
          emb = j["representation"]["species"]["embedding"].get<std::string>();
        },
        [&emb](hid_t f) {
          REQUIRE(H5Ldelete(f, emb.c_str(), H5P_DEFAULT) >= 0);
          const hsize_t dims[2] = {2, 2147483647ull};
          const hsize_t chunk[2] = {1, 1024};
          const hid_t sp = H5Screate_simple(2, dims, nullptr);
          const hid_t pl = H5Pcreate(H5P_DATASET_CREATE);
          H5Pset_chunk(pl, 2, chunk);
          const hid_t ds =
              H5Dcreate2(f, emb.c_str(), H5T_IEEE_F64LE, sp, H5P_DEFAULT, pl, H5P_DEFAULT);
          REQUIRE(ds >= 0);
          H5Dclose(ds);
          H5Pclose(pl);
          H5Sclose(sp);
        });
    check_refused(huge, "representation.species.embedding: dataset \"" + emb +
                            "\" claims 2 x 2147483647 elements, more than the file (");
    // The unchanged copy still loads (the mutation helper itself changes nothing else).
    CHECK_NOTHROW(schnet::load_model(mutated("same", [](json&) {})));
  }
}
