// Test helper for the HDF5 + JSON model files (DeePMD .dp, SchNet, HIP-NN exports): a copy of a
// model file with its root "json" attribute edited and, optionally, the open file changed
// further (datasets replaced or deleted), for the loaders' bad-input tests.
#pragma once

#include <hdf5.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace md::test {

// Copies `source` to `copy` (overwriting an earlier copy), parses its "json" attribute, calls
// `edit` on it, writes it back, then calls `h5edit` (if given) on the open file. Returns `copy`.
std::string edited_model_copy(const std::string& source, const std::string& copy,
                              const std::function<void(nlohmann::json&)>& edit,
                              const std::function<void(hid_t)>& h5edit = {});

}  // namespace md::test
