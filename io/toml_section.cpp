#include "io/toml_section.hpp"

namespace md {

static const toml::array& as_array(TomlReader& s, const toml::node* n, const std::string& key) {
  if (!n || !n->is_array()) s.fail(key, "expected an array");
  return *n->as_array();
}

std::vector<double> TomlReader::get_doubles(const std::string& key, std::size_t count) {
  const toml::array& a = as_array(*this, take(key), key);
  if (count && a.size() != count) fail(key, "expected " + std::to_string(count) + " numbers");
  std::vector<double> out;
  for (const auto& e : a) {
    auto v = e.value<double>();
    if (!v || !std::isfinite(*v)) fail(key, "expected finite numbers");
    out.push_back(*v);
  }
  return out;
}

std::vector<std::int64_t> TomlReader::get_ints(const std::string& key, std::size_t count) {
  const toml::array& a = as_array(*this, take(key), key);
  if (count && a.size() != count) fail(key, "expected " + std::to_string(count) + " integers");
  std::vector<std::int64_t> out;
  for (const auto& e : a) {
    if (!e.is_integer()) fail(key, "expected integers");
    out.push_back(*e.value<std::int64_t>());
  }
  return out;
}

std::vector<bool> TomlReader::get_bools(const std::string& key, std::size_t count) {
  const toml::array& a = as_array(*this, take(key), key);
  if (count && a.size() != count) fail(key, "expected " + std::to_string(count) + " booleans");
  std::vector<bool> out;
  for (const auto& e : a) {
    if (!e.is_boolean()) fail(key, "expected true or false values");
    out.push_back(*e.value<bool>());
  }
  return out;
}

std::vector<std::string> TomlReader::get_strings(const std::string& key) {
  const toml::node* n = take(key);
  if (n && n->is_string()) return {*n->value<std::string>()};
  const toml::array& a = as_array(*this, n, key);
  std::vector<std::string> out;
  for (const auto& e : a) {
    if (!e.is_string()) fail(key, "expected strings");
    out.push_back(*e.value<std::string>());
  }
  return out;
}

std::vector<Section> TomlReader::tables(const std::string& key) {
  const toml::array& a = as_array(*this, take(key), key);
  std::vector<Section> out;
  std::size_t k = 0;
  for (const auto& e : a) {
    if (!e.is_table()) fail(key, "expected an array of tables");
    out.emplace_back(std::make_shared<TomlReader>(
        *e.as_table(), (path_.empty() ? key : path_ + "." + key) + "[" + std::to_string(k++) + "]",
        file_));
  }
  return out;
}

}  // namespace md
