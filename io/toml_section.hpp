// Validated access to one TOML table of the input: typed getters with defaults, errors that
// name the file, line and full key ("input.toml:12: [run] timestep: expected a number"), and
// finish() rejecting keys nobody read (typos). Host-only: the TOML implementation of the
// engine's Section interface (engine/config.hpp) that io/ builds from the parsed input.
#pragma once

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "engine/config.hpp"
#include "engine/error.hpp"

namespace md {

class TomlReader final : public SectionReader {
 public:
  TomlReader(const toml::table& table, std::string path, std::string file)
      : table_(&table), path_(std::move(path)), file_(std::move(file)) {}

  const std::string& path() const override { return path_; }
  const std::string& file() const override { return file_; }
  bool has(const std::string& key) const override { return table_->contains(key); }
  long line_of(const std::string& key) const override {
    const toml::node* n = table_->get(key);
    return n ? static_cast<long>(n->source().begin.line)
             : static_cast<long>(table_->source().begin.line);
  }
  std::string name(const std::string& key) const {
    return path_.empty() ? key : "[" + path_ + "] " + key;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw InputError(file_, line_of(key), name(key) + ": " + msg);
  }

  double get_double(const std::string& key, std::optional<double> def) override {
    const toml::node* n = take(key);
    if (!n) return require_default(key, def);
    if (auto v = n->value<double>()) {
      if (!std::isfinite(*v)) fail(key, "must be a finite number");
      return *v;
    }
    fail(key, "expected a number");
  }
  std::int64_t get_int(const std::string& key, std::optional<std::int64_t> def) override {
    const toml::node* n = take(key);
    if (!n) return require_default(key, def);
    if (n->is_integer()) return *n->value<std::int64_t>();
    fail(key, "expected an integer");
  }
  bool get_bool(const std::string& key, std::optional<bool> def) override {
    const toml::node* n = take(key);
    if (!n) return require_default(key, def);
    if (n->is_boolean()) return *n->value<bool>();
    fail(key, "expected true or false");
  }
  std::string get_string(const std::string& key, std::optional<std::string> def) override {
    const toml::node* n = take(key);
    if (!n) return require_default(key, def);
    if (n->is_string()) return *n->value<std::string>();
    fail(key, "expected a string");
  }
  std::vector<double> get_doubles(const std::string& key, std::size_t count) override;
  std::vector<std::int64_t> get_ints(const std::string& key, std::size_t count) override;
  std::vector<std::string> get_strings(const std::string& key) override;
  std::vector<bool> get_bools(const std::string& key, std::size_t count) override;

  // Sub-table (inline or [a.b]); nullopt when absent.
  std::optional<Section> table(const std::string& key) override {
    const toml::node* n = take(key);
    if (!n) return std::nullopt;
    if (!n->is_table()) fail(key, "expected a table");
    return Section(std::make_shared<TomlReader>(
        *n->as_table(), path_.empty() ? key : path_ + "." + key, file_));
  }
  // Array of tables (inline tables or [[a.b]]).
  std::vector<Section> tables(const std::string& key) override;
  // Rejects keys that were never read.
  void finish() const override {
    for (const auto& kv : *table_) {
      const std::string k(kv.first.str());
      if (!used_.count(k))
        throw InputError(file_, static_cast<long>(kv.second.source().begin.line),
                         "unknown key " + name(k));
    }
  }

 private:
  const toml::node* take(const std::string& key) {
    used_.insert(key);
    return table_->get(key);
  }
  template <class T>
  T require_default(const std::string& key, const std::optional<T>& def) const {
    if (!def) throw InputError(file_, static_cast<long>(table_->source().begin.line),
                               "missing required key " + name(key));
    return *def;
  }
  const toml::table* table_;
  std::string path_, file_;
  std::set<std::string> used_;
};

// A Section over a TOML table: path is the dotted table name ("" for the root), file the
// input file named in errors.
class TomlSection : public Section {
 public:
  TomlSection(const toml::table& table, std::string path, std::string file)
      : Section(std::make_shared<TomlReader>(table, std::move(path), std::move(file))) {}
};

}  // namespace md
