// Locating and reading potential files (LAMMPS-format text files: EAM, tables, ...).
// A relative name is looked up next to the input file, then in $MDGPU_POTENTIALS, then in
// the repository's inputs/potentials/. Host-only; used by the models' *_config/_io files.
#pragma once

#include <fstream>
#include <string>
#include <vector>

namespace md {

// Folders searched after the input file's folder: $MDGPU_POTENTIALS (':'-separated), then
// the repository's inputs/potentials/ (compile definition MDGPU_POTENTIALS_DIR).
std::vector<std::string> potential_search_path();

// Full path of an existing potential file, or an empty string (`tried` lists the candidates).
std::string find_potential_file(const std::string& name, const std::string& input_dir,
                                std::vector<std::string>* tried = nullptr);

// Line-oriented reader of a text potential file whose errors name the file and line
// (md::InputError). Numbers are parsed as C's strtod does (correctly rounded).
class PotentialFileReader {
 public:
  explicit PotentialFileReader(const std::string& path);
  const std::string& path() const { return path_; }
  long line_number() const { return line_; }
  // Next line (without the newline); throws at end of file, naming `what` was expected.
  std::string next_line(const std::string& what);
  // False at end of file.
  bool try_next_line(std::string& line);
  // Reads n numbers spread over as many whole lines as needed (several per line). As LAMMPS'
  // readers do, values after the n-th on the last line are ignored.
  void read_values(std::size_t n, double* out, const std::string& what);
  [[noreturn]] void fail(const std::string& message) const;

  static std::vector<std::string> split(const std::string& line);
  // Parses a whole token as a finite double / integer, else fail()s naming `what`.
  double to_double(const std::string& token, const std::string& what) const;
  long to_int(const std::string& token, const std::string& what) const;
  // A count read from the file (a grid size, an element count): an integer in [lo, hi],
  // else fail()s naming `what` and the limits (no silent narrowing to int).
  int to_count(const std::string& token, const std::string& what, long lo, long hi) const;
  // Before allocating for n numbers: fail()s when n > 65536 and the rest of the file is too
  // short to hold them (each needs a digit and a separator), naming `what`, n and the bytes
  // left (smaller counts are cheap; the reader then names the line where the data ends).
  void require_values(long long n, const std::string& what);

 private:
  std::string path_;
  std::ifstream in_;
  long line_ = 0;
  long long size_ = 0;  // bytes in the file
};

// Every potential file find_potential_file returned since the last clear (the run's
// output check treats them as inputs that no output may overwrite).
std::vector<std::string>& potential_files_found();

class Section;
// Resolves `key` of a [potential] table (a file name) with find_potential_file; a missing
// file is an InputError naming the input file, line and key, and the folders searched.
std::string potential_file_from(Section& s, const std::string& key, const std::string& input_dir);
std::string potential_file_named(Section& s, const std::string& key, const std::string& name,
                                 const std::string& input_dir);
}  // namespace md
