// Potential-file lookup, the line/number reader shared by the classical models, and the
// [potential] file-key helpers. Host only.
#include "models/potential_files.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include "engine/config.hpp"
#include "engine/error.hpp"

namespace md {

namespace fs = std::filesystem;

std::vector<std::string> potential_search_path() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("MDGPU_POTENTIALS")) {
    std::string s(env);
    std::size_t start = 0;
    while (start <= s.size()) {
      const std::size_t colon = s.find(':', start);
      const std::string d = s.substr(start, colon == std::string::npos ? colon : colon - start);
      if (!d.empty()) dirs.push_back(d);
      if (colon == std::string::npos) break;
      start = colon + 1;
    }
  }
#ifdef MDGPU_POTENTIALS_DIR
  dirs.emplace_back(MDGPU_POTENTIALS_DIR);
#endif
  return dirs;
}

std::vector<std::string>& potential_files_found() {
  static std::vector<std::string> files;
  return files;
}

std::string find_potential_file(const std::string& name, const std::string& input_dir,
                                std::vector<std::string>* tried) {
  std::vector<std::string> candidates;
  if (fs::path(name).is_absolute()) {
    candidates.push_back(name);
  } else {
    candidates.push_back((fs::path(input_dir.empty() ? "." : input_dir) / name).lexically_normal());
    for (const std::string& d : potential_search_path())
      candidates.push_back((fs::path(d) / name).lexically_normal());
  }
  for (const std::string& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) {
      potential_files_found().push_back(c);
      return c;
    }
  }
  if (tried) *tried = candidates;
  return {};
}

PotentialFileReader::PotentialFileReader(const std::string& path) : path_(path), in_(path) {
  if (!in_) throw InputError(path, 0, "cannot open potential file");
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw InputError(path, 0, "potential file is not a regular file");
  size_ = static_cast<long long>(fs::file_size(path, ec));
  if (ec) throw InputError(path, 0, "cannot read the size of the potential file");
}

int PotentialFileReader::to_count(const std::string& token, const std::string& what, long lo,
                                  long hi) const {
  errno = 0;
  char* end = nullptr;
  const long long v = std::strtoll(token.c_str(), &end, 10);
  if (token.empty() || end != token.c_str() + token.size())
    fail("expected an integer for " + what + ", found \"" + token + "\"");
  if (errno == ERANGE || v < lo || v > hi)
    fail(what + " = " + token + " is out of range (" + std::to_string(lo) + " to " +
         std::to_string(hi) + ")");
  return static_cast<int>(v);
}

void PotentialFileReader::require_values(long long n, const std::string& what) {
  const std::streamoff at = in_.tellg();
  const long long left = at < 0 ? 0 : size_ - static_cast<long long>(at);
  // Small counts cost little to allocate: the reader then reports the exact line where the
  // data ends or goes wrong. Large ones must fit in the rest of the file first.
  if (n < 0 || (n > 65536 && n > left / 2))
    fail(what + ": the file says " + std::to_string(n) + " values follow, but only " +
         std::to_string(left) + " bytes are left in the file (truncated file or a wrong count?)");
}

bool PotentialFileReader::try_next_line(std::string& line) {
  if (!std::getline(in_, line)) return false;
  ++line_;
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return true;
}

std::string PotentialFileReader::next_line(const std::string& what) {
  std::string line;
  if (!try_next_line(line))
    throw InputError(path_, line_, "unexpected end of file: expected " + what);
  return line;
}

void PotentialFileReader::fail(const std::string& message) const {
  throw InputError(path_, line_, message);
}

std::vector<std::string> PotentialFileReader::split(const std::string& line) {
  std::vector<std::string> out;
  std::size_t i = 0;
  const char* ws = " \t\f\v\r\n";
  while (true) {
    i = line.find_first_not_of(ws, i);
    if (i == std::string::npos) break;
    std::size_t j = line.find_first_of(ws, i);
    out.push_back(line.substr(i, j == std::string::npos ? std::string::npos : j - i));
    if (j == std::string::npos) break;
    i = j;
  }
  return out;
}

double PotentialFileReader::to_double(const std::string& token, const std::string& what) const {
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(token.c_str(), &end);
  if (token.empty() || end != token.c_str() + token.size() || !std::isfinite(v))
    fail("expected a number for " + what + ", found \"" + token + "\"");
  return v;
}

long PotentialFileReader::to_int(const std::string& token, const std::string& what) const {
  errno = 0;
  char* end = nullptr;
  const long v = std::strtol(token.c_str(), &end, 10);
  if (token.empty() || end != token.c_str() + token.size() || errno == ERANGE)
    fail("expected an integer for " + what + ", found \"" + token + "\"");
  return v;
}

void PotentialFileReader::read_values(std::size_t n, double* out, const std::string& what) {
  std::size_t k = 0;
  while (k < n) {
    std::string line = next_line(std::to_string(n - k) + " more values of " + what);
    const std::size_t hash = line.find('#');  // comments, as LAMMPS' file readers strip them
    if (hash != std::string::npos) line.erase(hash);
    for (const std::string& t : split(line)) {
      if (k == n) break;
      out[k] = to_double(t, what + " (value " + std::to_string(k + 1) + " of " +
                                std::to_string(n) + ")");
      ++k;
    }
  }
}


std::string potential_file_named(Section& s, const std::string& key, const std::string& name,
                                 const std::string& input_dir) {
  std::vector<std::string> tried;
  const std::string path = find_potential_file(name, input_dir, &tried);
  if (path.empty()) {
    std::string list;
    for (const auto& t : tried) list += (list.empty() ? "" : ", ") + t;
    s.fail(key, "cannot find potential file \"" + name + "\" (looked for " + list +
                    "; set MDGPU_POTENTIALS to add folders)");
  }
  return path;
}

std::string potential_file_from(Section& s, const std::string& key, const std::string& input_dir) {
  return potential_file_named(s, key, s.get_string(key), input_dir);
}

}  // namespace md
