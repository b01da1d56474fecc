// Copies of HDF5 + JSON model files with an edited header; see model_file_edit.hpp.
#include "model_file_edit.hpp"

#include <doctest/doctest.h>

#include <filesystem>

namespace md::test {

std::string edited_model_copy(const std::string& source, const std::string& copy,
                              const std::function<void(nlohmann::json&)>& edit,
                              const std::function<void(hid_t)>& h5edit) {
  std::filesystem::copy_file(source, copy, std::filesystem::copy_options::overwrite_existing);
  const hid_t f = H5Fopen(copy.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
  REQUIRE(f >= 0);
  const hid_t attr = H5Aopen(f, "json", H5P_DEFAULT);
  const hid_t type = H5Aget_type(attr);
  const hid_t mem = H5Tcopy(H5T_C_S1);
  H5Tset_size(mem, H5T_VARIABLE);
  H5Tset_cset(mem, H5Tget_cset(type));
  char* text = nullptr;
  REQUIRE(H5Aread(attr, mem, &text) >= 0);
  nlohmann::json j = nlohmann::json::parse(text);
  H5free_memory(text);
  H5Aclose(attr);
  H5Tclose(type);
  edit(j);
  H5Adelete(f, "json");
  const std::string dumped = j.dump();
  const char* p = dumped.c_str();
  const hid_t space = H5Screate(H5S_SCALAR);
  const hid_t rewritten = H5Acreate2(f, "json", mem, space, H5P_DEFAULT, H5P_DEFAULT);
  REQUIRE(H5Awrite(rewritten, mem, &p) >= 0);
  H5Aclose(rewritten);
  H5Sclose(space);
  H5Tclose(mem);
  if (h5edit) h5edit(f);
  H5Fclose(f);
  return copy;
}

}  // namespace md::test
