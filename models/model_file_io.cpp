// Shared reader of HDF5 + JSON model files (host only); see models/model_file_io.hpp.
#include "models/model_file_io.hpp"

#include <hdf5.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <type_traits>

#include "engine/error.hpp"

namespace md::model_file {

static_assert(std::is_same_v<hid_t, std::int64_t>, "hid_t is stored as std::int64_t");

using nlohmann::json;

Reader::Reader(std::string path, std::string label)
    : path_(std::move(path)), label_(std::move(label)) {}

Reader::~Reader() {
  if (file_ >= 0) H5Fclose(file_);
}

void Reader::fail(const std::string& msg) const { throw InputError(path_, 0, label_ + ": " + msg); }

unsigned long long Reader::file_bytes() const {
  std::error_code ec;
  const auto n = std::filesystem::file_size(path_, ec);
  return ec ? 0 : static_cast<unsigned long long>(n);
}

namespace {
std::string shape_text(const std::vector<unsigned long long>& d) {
  std::string s = "[";
  for (std::size_t k = 0; k < d.size(); ++k) s += (k ? ", " : "") + std::to_string(d[k]);
  return s + "]";
}
}  // namespace

std::vector<double> Reader::named_dataset(const json& j, const std::string& where, const char* key,
                                          const std::vector<unsigned long long>& shape) const {
  const std::string what = where + "." + key;
  if (!j.is_object() || !j.contains(key)) fail(what + ": missing key");
  if (!j[key].is_string()) fail(what + ": expected the name of a dataset");
  const std::string name = j[key].get<std::string>();
  const std::string shown = "\"" + name + "\"";
  Array a = read(name, what, shown, /*integers_ok=*/false, &shape);
  switch (a.status) {
    case ReadStatus::ok:
      break;
    case ReadStatus::not_found:
      fail(what + ": dataset " + shown + " not found");
    case ReadStatus::not_dataset:
      fail(what + ": " + shown + " is not a dataset");
    case ReadStatus::wrong_type:
      fail(what + ": dataset " + shown + " is not floating point");
    case ReadStatus::wrong_shape:
      fail(what + ": dataset " + shown + " has shape " + shape_text(a.dims) + ", expected " +
           shape_text(shape) + shape_hint_);
    case ReadStatus::read_error:
      fail(what + ": cannot read dataset " + shown);
  }
  for (double x : a.values)
    if (!std::isfinite(x)) fail(what + ": dataset " + shown + " has a non-finite value");
  return std::move(a.values);
}

json Reader::open(const std::string& not_hdf5) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors are reported by us
  if (H5Fis_hdf5(path_.c_str()) <= 0) fail(not_hdf5);
  file_ = H5Fopen(path_.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) fail("cannot open the HDF5 file");
  if (H5Aexists(file_, "json") <= 0) fail("no \"json\" attribute at the file root");
  const hid_t attr = H5Aopen(file_, "json", H5P_DEFAULT);
  const hid_t type = H5Aget_type(attr);
  std::string text;
  const bool is_string = H5Tget_class(type) == H5T_STRING;
  if (is_string && H5Tis_variable_str(type) > 0) {
    char* s = nullptr;
    const hid_t mem = H5Tcopy(H5T_C_S1);
    H5Tset_size(mem, H5T_VARIABLE);
    H5Tset_cset(mem, H5Tget_cset(type));
    if (H5Aread(attr, mem, &s) >= 0 && s) {
      text = s;
      H5free_memory(s);
    }
    H5Tclose(mem);
  } else if (is_string) {
    std::string buf(H5Tget_size(type), '\0');
    if (H5Aread(attr, type, buf.data()) >= 0) text = buf.c_str();
  }
  H5Tclose(type);
  H5Aclose(attr);
  if (!is_string) fail("the \"json\" attribute is not a string");
  try {
    return json::parse(text);
  } catch (const std::exception& e) {
    fail(std::string("the \"json\" attribute is not valid JSON: ") + e.what());
  }
}

Array Reader::read(const std::string& name, const std::string& what, const std::string& shown,
                   bool integers_ok, const std::vector<unsigned long long>* shape) const {
  Array out;
  if (name.empty() || H5Lexists(file_, name.c_str(), H5P_DEFAULT) <= 0) {
    out.status = ReadStatus::not_found;
    return out;
  }
  const hid_t ds = H5Dopen2(file_, name.c_str(), H5P_DEFAULT);
  if (ds < 0) {
    out.status = ReadStatus::not_dataset;
    return out;
  }
  const hid_t space = H5Dget_space(ds);
  const int rank = H5Sget_simple_extent_ndims(space);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)), 0);
  if (rank > 0) H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  H5Sclose(space);
  out.dims.assign(dims.begin(), dims.end());
  const hid_t type = H5Dget_type(ds);
  const H5T_class_t cls = H5Tget_class(type);
  H5Tclose(type);
  const bool type_ok = cls == H5T_FLOAT || (integers_ok && cls == H5T_INTEGER);
  if (shape && (!type_ok || out.dims != *shape)) {
    H5Dclose(ds);
    out.status = type_ok ? ReadStatus::wrong_shape : ReadStatus::wrong_type;
    return out;
  }
  // Sizes before allocations: the element count (64-bit, overflow-checked) must fit in what
  // the file can hold (uncompressed datasets; generous factor for compression).
  std::size_t count = 1;
  bool too_big = false;
  const unsigned long long cap = std::max<unsigned long long>(1ull << 20, 16ull * file_bytes());
  for (unsigned long long d : out.dims) {
    if (d != 0 && count > cap / d) too_big = true;
    count = too_big ? count : count * static_cast<std::size_t>(d);
  }
  if (too_big || count > cap) {
    H5Dclose(ds);
    std::string text;
    for (unsigned long long d : out.dims) text += (text.empty() ? "" : " x ") + std::to_string(d);
    fail(what + ": dataset " + shown + " claims " + text + " elements, more than the file (" +
         std::to_string(file_bytes()) + " bytes) can hold");
  }
  if (!type_ok) {
    H5Dclose(ds);
    out.status = ReadStatus::wrong_type;
    return out;
  }
  out.values.resize(count);
  const herr_t st =
      count == 0 ? 0
                 : H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data());
  H5Dclose(ds);
  if (st < 0) {
    out.values.clear();
    out.status = ReadStatus::read_error;
  }
  return out;
}

}  // namespace md::model_file
