// The input-section interface through which models and integrators read their keys: typed
// getters with defaults, sub-tables, finish() rejecting unread keys, and errors that name the
// file, line and key. Host-only. Implemented by io/ over toml++ (io/toml_section.*).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "engine/error.hpp"

namespace md {

class SectionReader;

// One table of the input, as a copyable handle to an input format's reader. Errors thrown
// are InputError("file:line: [path] key: message").
class Section {
 public:
  explicit Section(std::shared_ptr<SectionReader> reader) : r_(std::move(reader)) {}

  const std::string& path() const;
  const std::string& file() const;
  bool has(const std::string& key) const;
  // Line of `key` in the file (the table's own line when the key is absent).
  long line_of(const std::string& key) const;
  std::string name(const std::string& key) const {
    return path().empty() ? key : "[" + path() + "] " + key;
  }
  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw InputError(file(), line_of(key), name(key) + ": " + msg);
  }

  // Typed getters: without a default the key is required.
  double get_double(const std::string& key, std::optional<double> def = std::nullopt);
  std::int64_t get_int(const std::string& key, std::optional<std::int64_t> def = std::nullopt);
  bool get_bool(const std::string& key, std::optional<bool> def = std::nullopt);
  std::string get_string(const std::string& key, std::optional<std::string> def = std::nullopt);
  // Accepts one of `choices`.
  std::string get_choice(const std::string& key, const std::vector<std::string>& choices,
                         std::optional<std::string> def = std::nullopt) {
    std::string v = get_string(key, def);
    for (const auto& c : choices)
      if (c == v) return v;
    std::string list;
    for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
    fail(key, "\"" + v + "\" is not one of: " + list);
  }
  // Arrays; count 0: any length. get_strings also accepts a single string.
  std::vector<double> get_doubles(const std::string& key, std::size_t count);
  std::vector<std::int64_t> get_ints(const std::string& key, std::size_t count);
  std::vector<std::string> get_strings(const std::string& key);
  std::vector<bool> get_bools(const std::string& key, std::size_t count);

  // Sub-table; nullopt when absent.
  std::optional<Section> table(const std::string& key);
  // Array of tables.
  std::vector<Section> tables(const std::string& key);
  // Rejects keys that were never read.
  void finish() const;

 private:
  std::shared_ptr<SectionReader> r_;
};

// What an input format implements for one table (io/toml_section.hpp: TOML). Getters mark
// the key as read; a missing key without a default is an error.
class SectionReader {
 public:
  virtual ~SectionReader() = default;
  virtual const std::string& path() const = 0;
  virtual const std::string& file() const = 0;
  virtual bool has(const std::string& key) const = 0;
  virtual long line_of(const std::string& key) const = 0;
  virtual double get_double(const std::string& key, std::optional<double> def) = 0;
  virtual std::int64_t get_int(const std::string& key, std::optional<std::int64_t> def) = 0;
  virtual bool get_bool(const std::string& key, std::optional<bool> def) = 0;
  virtual std::string get_string(const std::string& key, std::optional<std::string> def) = 0;
  virtual std::vector<double> get_doubles(const std::string& key, std::size_t count) = 0;
  virtual std::vector<std::int64_t> get_ints(const std::string& key, std::size_t count) = 0;
  virtual std::vector<std::string> get_strings(const std::string& key) = 0;
  virtual std::vector<bool> get_bools(const std::string& key, std::size_t count) = 0;
  virtual std::optional<Section> table(const std::string& key) = 0;
  virtual std::vector<Section> tables(const std::string& key) = 0;
  virtual void finish() const = 0;
};

inline const std::string& Section::path() const { return r_->path(); }
inline const std::string& Section::file() const { return r_->file(); }
inline bool Section::has(const std::string& key) const { return r_->has(key); }
inline long Section::line_of(const std::string& key) const { return r_->line_of(key); }
inline double Section::get_double(const std::string& key, std::optional<double> def) {
  return r_->get_double(key, def);
}
inline std::int64_t Section::get_int(const std::string& key, std::optional<std::int64_t> def) {
  return r_->get_int(key, def);
}
inline bool Section::get_bool(const std::string& key, std::optional<bool> def) {
  return r_->get_bool(key, def);
}
inline std::string Section::get_string(const std::string& key, std::optional<std::string> def) {
  return r_->get_string(key, std::move(def));
}
inline std::vector<double> Section::get_doubles(const std::string& key, std::size_t count) {
  return r_->get_doubles(key, count);
}
inline std::vector<std::int64_t> Section::get_ints(const std::string& key, std::size_t count) {
  return r_->get_ints(key, count);
}
inline std::vector<std::string> Section::get_strings(const std::string& key) {
  return r_->get_strings(key);
}
inline std::vector<bool> Section::get_bools(const std::string& key, std::size_t count) {
  return r_->get_bools(key, count);
}
inline std::optional<Section> Section::table(const std::string& key) { return r_->table(key); }
inline std::vector<Section> Section::tables(const std::string& key) { return r_->tables(key); }
inline void Section::finish() const { r_->finish(); }

}  // namespace md
