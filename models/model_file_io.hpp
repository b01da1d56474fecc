// Shared reader of HDF5 + JSON model files (host only): the root string attribute "json"
// parsed with nlohmann-json, and root datasets it names read as doubles with their shape.
// Used by models/deepmd/deepmd_io.cpp (.dp files), models/schnet and models/hipnn loaders.
#pragma once

#include <cstdint>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace md::model_file {

// Outcome of Reader::read that the caller words itself (each model keeps its own messages).
enum class ReadStatus { ok, not_found, not_dataset, wrong_type, wrong_shape, read_error };

struct Array {
  ReadStatus status = ReadStatus::ok;
  std::vector<unsigned long long> dims;  // the dataset's shape, as stored
  std::vector<double> values;            // row-major; filled only when status == ok
};

class Reader {
 public:
  // label names the model in every message: "deepmd model", "schnet model".
  Reader(std::string path, std::string label);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  // InputError(path, 0, "<label>: <msg>").
  [[noreturn]] void fail(const std::string& msg) const;

  // Opens the file and returns the root "json" attribute, parsed; fails with not_hdf5 when
  // the file is not HDF5 or cannot be read.
  nlohmann::json open(const std::string& not_hdf5);

  // Reads root dataset `name` as doubles. Floating-point datasets are read, integer ones too
  // when integers_ok. With `shape`, the type and then the shape are checked before anything
  // is allocated. A dataset whose element count (64-bit, overflow-checked) exceeds what the
  // file can hold fails here: "<what>: dataset <shown> claims A x B elements, more than the
  // file (N bytes) can hold". Other problems come back in Array::status.
  Array read(const std::string& name, const std::string& what, const std::string& shown,
             bool integers_ok, const std::vector<unsigned long long>* shape = nullptr) const;

  // The floating-point dataset named by the string j[key], all values finite, with exactly
  // `shape`; every problem fails with a message naming `where.key` and the dataset
  // (with the shape hint, below, appended to a wrong-shape message).
  std::vector<double> named_dataset(const nlohmann::json& j, const std::string& where,
                                    const char* key,
                                    const std::vector<unsigned long long>& shape) const;
  // Appended to every wrong-shape message (what the expected shape follows from).
  void set_shape_hint(std::string hint) { shape_hint_ = std::move(hint); }

  // Size of the file in bytes (0 when it cannot be read).
  unsigned long long file_bytes() const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string label_;
  std::string shape_hint_;
  std::int64_t file_ = -1;  // hid_t of the open file
};

// Header (JSON) accessors shared by the model-file loaders. R is the loader's reader: any type
// with `[[noreturn]] void fail(const std::string&) const`; messages name the key path
// `where.key`.
template <class R>
const nlohmann::json& member(const R& r, const nlohmann::json& j, const std::string& where,
                             const char* key) {
  if (!j.is_object()) r.fail(where + ": expected an object");
  if (!j.contains(key)) r.fail(where + "." + key + ": missing key");
  return j[key];
}

template <class T, class R>
T value(const R& r, const nlohmann::json& j, const std::string& where, const char* key) {
  const nlohmann::json& v = member(r, j, where, key);
  try {
    return v.get<T>();
  } catch (const std::exception&) {
    r.fail(where + "." + key + ": unexpected type");
  }
}

template <class R>
int positive(const R& r, const nlohmann::json& j, const std::string& where, const char* key) {
  const int v = value<int>(r, j, where, key);
  if (v < 1) r.fail(where + "." + key + ": must be positive");
  return v;
}

}  // namespace md::model_file
