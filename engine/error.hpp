// Typed errors. Library code throws; the CLI prints the one-line message and exits non-zero.
// InputError names the offending file and line (and key) so users can fix their input.
#pragma once

#include <stdexcept>
#include <string>

namespace md {

// A run-time failure that is not the user's input (device error, lost atoms, NaN, ...).
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Bad user input. what() reads "file:line: message" (line omitted when 0, file when empty).
struct InputError : Error {
  InputError(const std::string& file, long line, const std::string& message)
      : Error(compose(file, line, message)), file_(file), line_(line) {}
  const std::string& file() const { return file_; }
  long line() const { return line_; }

 private:
  static std::string compose(const std::string& file, long line, const std::string& message) {
    std::string s;
    if (!file.empty()) s += file;
    if (line > 0) s += ":" + std::to_string(line);
    if (!s.empty()) s += ": ";
    return s + message;
  }
  std::string file_;
  long line_;
};

}  // namespace md
