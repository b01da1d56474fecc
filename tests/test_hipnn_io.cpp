// HIP-NN model files (tests/data/hipnn, written by tools/export_hippynn.py from hippynn
// training directories): the loader's shapes and values against numbers read from the torch
// modules (hipnn_values.json), the plain double-precision reference energy against hippynn's
// float64 fixtures ({resnet,plain}.json, tools/hipnn_fixtures.py), and bad model files refused
// naming the key.
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iomanip>
#include <nlohmann/json.hpp>

#include "engine/error.hpp"
#include "models/hipnn/hipnn_io.hpp"
#include "reference/hipnn_reference.hpp"
#include "model_file_edit.hpp"
#include "support.hpp"

using namespace md;
using nlohmann::json;

namespace {

std::string data_dir() { return std::string(MDGPU_SOURCE_DIR) + "/tests/data/hipnn/"; }
std::string model_path(const std::string& variant) { return data_dir() + variant + ".hipnn.h5"; }

json read_json(const std::string& path) {
  std::ifstream f(path);
  REQUIRE(f.good());
  return json::parse(f);
}

// Copy of a model file with its JSON changed by `edit` and then `h5edit` run on the open file.
std::string mutated(const std::string& name, const std::function<void(json&)>& edit,
                    const std::function<void(hid_t)>& h5edit = {},
                    const std::string& variant = "resnet") {
  return test::edited_model_copy(model_path(variant), test::temp_dir() + "/hipnn_" + name + ".h5",
                                 edit, h5edit);
}

void check_refused(const std::string& path, const std::string& message) {
  CAPTURE(message);
  CHECK_THROWS_WITH_AS(hipnn::load_model(path), doctest::Contains(message.c_str()), InputError);
}

// Replaces dataset `name` by a float64 array of the given shape (zeros).
void replace_dataset(hid_t f, const std::string& name, const std::vector<hsize_t>& dims) {
  REQUIRE(H5Ldelete(f, name.c_str(), H5P_DEFAULT) >= 0);
  hsize_t count = 1;
  for (hsize_t d : dims) count *= d;
  const std::vector<double> zeros(count, 0.0);
  const hid_t sp = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  const hid_t ds =
      H5Dcreate2(f, name.c_str(), H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(H5Dwrite(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, zeros.data()) >= 0);
  H5Dclose(ds);
  H5Sclose(sp);
}

}  // namespace

TEST_SUITE("hipnn_io") {
  TEST_CASE("loader reads the exported models: shapes and values equal the torch modules'") {
    const json all = read_json(data_dir() + "hipnn_values.json");
    for (const std::string variant : {"resnet", "plain"}) {
      CAPTURE(variant);
      const hipnn::Params p = hipnn::load_model(model_path(variant));
      const json& v = all[variant];
      CHECK(p.hippynn_version == all["hippynn"].get<std::string>());
      CHECK(p.length_unit == "Angstrom");
      CHECK(p.energy_unit == "eV");
      CHECK(hipnn::units_mismatch(p, "metal").empty());
      CHECK(p.symbols == std::vector<std::string>{"Cu", "Au"});
      CHECK(p.z == std::vector<int>{29, 79});
      CHECK(p.species_index("Au") == 1);
      CHECK(p.species_index("Ni") == -1);
      CHECK(p.feature_sizes == v["feature_sizes"].get<std::vector<int>>());
      CHECK(p.n_sensitivities == v["n_sensitivities"].get<int>());
      CHECK(p.n_atom_layers == v["n_atom_layers"].get<int>());
      CHECK(p.resnet == v["resnet"].get<bool>());
      CHECK(p.cutoff == v["rc"].get<double>());
      REQUIRE(p.n_interactions() == 2);
      const hipnn::Interaction& last = p.interactions.back();
      CHECK(last.mu == v["last_mu"].get<std::vector<double>>());
      CHECK(last.sigma == v["last_sigma"].get<std::vector<double>>());
      CHECK(last.self.b == v["last_selfint_bias"].get<std::vector<double>>());
      // torch int_weights[nu][o][f] is stored as V[nu][f][o].
      const auto shape = v["last_int_weights_shape"].get<std::vector<int>>();
      const auto tw = v["last_int_weights"].get<std::vector<double>>();
      REQUIRE(shape == std::vector<int>{p.n_sensitivities, last.n_middle, last.n_in});
      for (int nu = 0; nu < shape[0]; ++nu)
        for (int o = 0; o < shape[1]; ++o)
          for (int f = 0; f < shape[2]; ++f)
            CHECK(last.int_weights[(static_cast<std::size_t>(nu) * last.n_in + f) * last.n_middle +
                                   o] == tw[(static_cast<std::size_t>(nu) * shape[1] + o) * shape[2] + f]);
      for (const auto& it : p.interactions) {
        CHECK(static_cast<int>(it.atom_layers.size()) == p.n_atom_layers);
        CHECK(it.res.n_in == (p.resnet ? it.n_middle : 0));
        // resnet: adjust exactly where widths change (the first layer: one-hot -> features)
        CHECK(it.adjust.n_in == (p.resnet && it.n_in != it.n_out ? it.n_in : 0));
      }
      // Heads: level 0 (one-hot, no bias) and one per interaction layer (with bias).
      REQUIRE(p.heads.size() == 3);
      CHECK(p.heads[0].level == 0);
      CHECK(p.heads[0].dense.b.empty());
      CHECK(p.heads[0].dense.w == v["head0_weight"].get<std::vector<double>>());
      CHECK(p.heads[2].level == 2);
      CHECK(p.heads[2].dense.b == v["last_head_bias"].get<std::vector<double>>());
    }
  }

  TEST_CASE("reference energy (plain loops, double) equals hippynn float64 on every fixture") {
    for (const std::string variant : {"resnet", "plain"}) {
      const hipnn::Params p = hipnn::load_model(model_path(variant));
      const json fx = read_json(data_dir() + variant + ".json");
      CHECK(fx["schema"] == "mdgpu-reference-fixture/1");
      REQUIRE(fx["frames"].size() == 3);
      for (const json& fr : fx["frames"]) {
        const std::string name = variant + "/" + fr["name"].get<std::string>();
        CAPTURE(name);
        std::array<std::array<double, 3>, 3> cell{};
        for (int a = 0; a < 3; ++a)
          for (int k = 0; k < 3; ++k) cell[a][k] = fr["cell"][a][k].get<double>();
        std::vector<std::array<double, 3>> x;
        std::vector<int> species;
        for (const json& r : fr["positions"])
          x.push_back({r[0].get<double>(), r[1].get<double>(), r[2].get<double>()});
        for (const json& s : fr["species"])
          species.push_back(p.species_index(s.get<std::string>()));
        std::vector<double> ea, eh;
        const double e = ref::hipnn_energy(p, cell, x, species, &ea, &eh);
        const double e_ref = fr["energy"].get<double>();
        const double rel = std::fabs(e - e_ref) / std::fabs(e_ref);
        MESSAGE(name << ": E = " << std::setprecision(17) << e << " vs hippynn " << e_ref
                     << ", relative difference " << rel);
        CHECK(rel < 1e-13);
        const auto& ref_atoms = fr["atom_energies"];
        REQUIRE(ref_atoms.size() == ea.size());
        double worst = 0;
        for (std::size_t i = 0; i < ea.size(); ++i)
          worst = std::max(worst, std::fabs(ea[i] - ref_atoms[i].get<double>()));
        MESSAGE(name << ": worst per-atom energy difference " << worst << " eV");
        CHECK(worst < 1e-13 * std::fabs(e_ref));
        const auto& ref_heads = fr["extra"]["layer_energies"];
        REQUIRE(ref_heads.size() == eh.size());
        for (std::size_t h = 0; h < eh.size(); ++h)
          CHECK(std::fabs(eh[h] - ref_heads[h].get<double>()) < 1e-13 * std::fabs(e_ref));
      }
    }
  }

  TEST_CASE("bad model files are refused naming the key") {
    check_refused(data_dir() + "no_such_file.h5", "not an HDF5 file");
    check_refused(data_dir() + "resnet.json", "not an HDF5 file");
    check_refused(mutated("version", [](json& j) { j["schema"]["version"] = 2; }),
                  "schema.version: unknown version 2");
    check_refused(mutated("name", [](json& j) { j["schema"]["name"] = "mdgpu-schnet"; }),
                  "is not an mdgpu-hipnn model file");
    // Unknown layer classes.
    check_refused(mutated("net", [](json& j) { j["network"]["type"] = "HipnnQuad"; }),
                  "network.type: \"HipnnQuad\" is not supported");
    check_refused(
        mutated("class",
                [](json& j) { j["network"]["interactions"][1]["class"] = "InteractLayerVec"; }),
        "network.interactions[1].class: interaction layer class \"InteractLayerVec\" is not "
        "supported");
    check_refused(mutated("sens",
                          [](json& j) {
                            j["network"]["interactions"][0]["sensitivity"]["type"] = "bottleneck";
                          }),
                  "network.interactions[0].sensitivity.type: \"bottleneck\" is not supported");
    check_refused(mutated("act", [](json& j) { j["network"]["activation"]["type"] = "tanh"; }),
                  "network.activation.type: unsupported activation \"tanh\"");
    check_refused(mutated("beta", [](json& j) { j["network"]["activation"]["beta"] = 2.0; }),
                  "network.activation: softplus with beta 1 and threshold 20 only");
    check_refused(mutated("cutoff", [](json& j) { j["network"]["cutoff"]["type"] = "cosine"; }),
                  "network.cutoff.type: \"cosine\" is not supported");
    check_refused(mutated("energy", [](json& j) { j["energy"]["type"] = "LocalChargeEnergy"; }),
                  "energy.type: \"LocalChargeEnergy\" is not supported");
    // Inconsistent widths: in the description, and a dataset disagreeing with it.
    check_refused(mutated("widths", [](json& j) { j["network"]["feature_sizes"][2] = 15; }),
                  "network.interactions[1]: widths 16 -> 16 inconsistent with "
                  "network.feature_sizes");
    check_refused(mutated("species", [](json& j) { j["network"]["feature_sizes"][0] = 3; }),
                  "network.feature_sizes: input width 3 differs from the number of species 2");
    check_refused(
        mutated("layer",
                [](json& j) { j["network"]["interactions"][0]["atom_layers"][1]["linear"]["n_out"] = 8; }),
        "network.interactions[0].atom_layers[1].linear: layer widths 16 -> 8 inconsistent");
    check_refused(mutated(
                      "dataset", [](json&) {},
                      [](hid_t f) { replace_dataset(f, "interaction_1.int_weights", {8, 16, 12}); }),
                  "network.interactions[1].int_weights: dataset \"interaction_1.int_weights\" has "
                  "shape [8, 16, 12], expected [8, 16, 16]");
    check_refused(mutated(
                      "missing", [](json&) {},
                      [](hid_t f) {
                        REQUIRE(H5Ldelete(f, "interaction_0.atom_1.res.b", H5P_DEFAULT) >= 0);
                      }),
                  "network.interactions[0].atom_layers[1].res.b: dataset "
                  "\"interaction_0.atom_1.res.b\" not found");
    check_refused(mutated("nokey", [](json& j) { j["network"].erase("n_sensitivities"); }),
                  "network.n_sensitivities: missing key");
    check_refused(mutated("units", [](json& j) { j.erase("units"); }), "json.units: missing key");
    check_refused(mutated("count", [](json& j) { j["network"]["n_atom_layers"] = 3; }),
                  "network.interactions[0].atom_layers: expected a list of n_atom_layers = 3");
    check_refused(mutated("plain", [](json& j) { j["network"]["resnet"] = false; }),
                  "network.interactions[0]: res/adjust layers in a network without resnet");
    // Unit mismatch: a model trained in kcal/mol loads, but a metal run refuses it.
    const hipnn::Params kcal =
        hipnn::load_model(mutated("kcal", [](json& j) { j["units"]["energy"] = "kcal/mol"; }));
    CHECK(hipnn::units_mismatch(kcal, "metal").find("is in kcal/mol and Angstrom") !=
          std::string::npos);
    CHECK(hipnn::units_mismatch(kcal, "lj").find("metal units only") != std::string::npos);
    // The unchanged copy still loads (the mutation helper itself changes nothing else).
    CHECK_NOTHROW(hipnn::load_model(mutated("same", [](json&) {})));
  }
}
