// LAMMPS data file reader/writer for atom_style atomic (see lammps_data.hpp). The reader is
// strict: every malformed line raises InputError with the file name and 1-based line number.
// Units are those of the file; nothing is converted.

#include "io/lammps_data.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <system_error>
#include <unordered_map>

#include "engine/error.hpp"

namespace md {

namespace {

constexpr const char* kWhitespace = " \t\r\n\f\v";

std::string trim(const std::string& s) {
  const std::size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string::npos) return {};
  const std::size_t last = s.find_last_not_of(kWhitespace);
  return s.substr(first, last - first + 1);
}

std::vector<std::string> split_ws(const std::string& s) {
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  while (true) {
    const std::size_t first = s.find_first_not_of(kWhitespace, pos);
    if (first == std::string::npos) break;
    const std::size_t last = s.find_first_of(kWhitespace, first);
    tokens.push_back(s.substr(first, last == std::string::npos ? std::string::npos : last - first));
    if (last == std::string::npos) break;
    pos = last;
  }
  return tokens;
}

std::string join(const std::vector<std::string>& tokens, std::size_t from = 0) {
  std::string s;
  for (std::size_t k = from; k < tokens.size(); ++k) {
    if (!s.empty()) s += ' ';
    s += tokens[k];
  }
  return s;
}

// Returns the text before '#'; the trimmed text after it goes to *comment.
std::string split_comment(const std::string& line, std::string* comment) {
  const std::size_t hash = line.find('#');
  if (hash == std::string::npos) {
    comment->clear();
    return line;
  }
  *comment = trim(line.substr(hash + 1));
  return line.substr(0, hash);
}

// Whole-token parses (locale independent); a leading '+' is accepted.
bool parse_integer(const std::string& token, std::int64_t& value) {
  const char* first = token.data();
  const char* last = first + token.size();
  if (first != last && *first == '+') ++first;
  const auto [end, ec] = std::from_chars(first, last, value);
  return ec == std::errc() && end == last && first != last;
}

bool parse_real(const std::string& token, double& value) {
  const char* first = token.data();
  const char* last = first + token.size();
  if (first != last && *first == '+') ++first;
  const auto [end, ec] = std::from_chars(first, last, value, std::chars_format::general);
  return ec == std::errc() && end == last && first != last;
}

bool starts_numeric(const std::string& token) {
  if (token.empty()) return false;
  const char c = token[0];
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.';
}

// Header count keywords that atom_style atomic cannot use; accepted only with value 0.
const char* const kTopologyCounts[] = {"bonds",
                                       "angles",
                                       "dihedrals",
                                       "impropers",
                                       "bond types",
                                       "angle types",
                                       "dihedral types",
                                       "improper types",
                                       "extra bond per atom",
                                       "extra angle per atom",
                                       "extra dihedral per atom",
                                       "extra improper per atom",
                                       "extra special per atom",
                                       "ellipsoids",
                                       "lines",
                                       "triangles",
                                       "bodies"};

// Sections LAMMPS knows that atom_style atomic data cannot carry.
const char* const kUnsupportedSections[] = {"Bonds",
                                            "Angles",
                                            "Dihedrals",
                                            "Impropers",
                                            "Ellipsoids",
                                            "Lines",
                                            "Triangles",
                                            "Bodies",
                                            "Bond Coeffs",
                                            "Angle Coeffs",
                                            "Dihedral Coeffs",
                                            "Improper Coeffs",
                                            "BondBond Coeffs",
                                            "BondAngle Coeffs",
                                            "MiddleBondTorsion Coeffs",
                                            "EndBondTorsion Coeffs",
                                            "AngleTorsion Coeffs",
                                            "AngleAngleTorsion Coeffs",
                                            "BondBond13 Coeffs",
                                            "AngleAngle Coeffs",
                                            "Bond Type Labels",
                                            "Angle Type Labels",
                                            "Dihedral Type Labels",
                                            "Improper Type Labels"};

const char* const kSupportedSections[] = {"Masses",           "Atoms",       "Velocities",
                                          "Atom Type Labels", "Pair Coeffs", "PairIJ Coeffs"};

template <std::size_t N>
bool contains(const char* const (&names)[N], const std::string& name) {
  for (const char* n : names) {
    if (name == n) return true;
  }
  return false;
}

bool is_section_keyword(const std::string& keyword) {
  return contains(kSupportedSections, keyword) || contains(kUnsupportedSections, keyword);
}

// One non-blank line of a section: its 1-based line number; tokenised again when used so
// large files are not held twice in memory.
struct DataLine {
  long line;
};

struct Section {
  long keyword_line = 0;
  std::string hint;  // comment on the keyword line, e.g. "atomic"
  std::vector<DataLine> lines;
};

class DataFileParser {
 public:
  explicit DataFileParser(const std::string& path) : path_(path) {}

  Structure parse(const std::vector<std::string>& type_names) {
    load();
    std::size_t next = parse_header();
    parse_sections(next);
    return build(type_names);
  }

 private:
  [[noreturn]] void fail(long line, const std::string& message) const {
    throw InputError(path_, line, message);
  }

  double real(const std::string& token, long line, const char* what) const {
    double value = 0;
    if (!parse_real(token, value)) {
      fail(line, fmt::format("expected a number for {}, found \"{}\"", what, token));
    }
    if (!std::isfinite(value)) fail(line, fmt::format("{} is not finite (\"{}\")", what, token));
    return value;
  }

  std::int64_t integer(const std::string& token, long line, const char* what) const {
    std::int64_t value = 0;
    if (!parse_integer(token, value)) {
      fail(line, fmt::format("expected an integer for {}, found \"{}\"", what, token));
    }
    return value;
  }

  int image_flag(const std::string& token, long line) const {
    const std::int64_t n = integer(token, line, "image flag");
    if (n < std::numeric_limits<int>::min() || n > std::numeric_limits<int>::max()) {
      fail(line, fmt::format("image flag {} out of range", n));
    }
    return static_cast<int>(n);
  }

  // 0-based type of a numeric type or a type label.
  int type_index(const std::string& token, long line) const {
    std::int64_t t = 0;
    if (parse_integer(token, t)) {
      if (t < 1 || t > ntypes_) {
        fail(line, fmt::format("atom type {} out of range 1..{} (header: {} atom types)", t,
                               ntypes_, ntypes_));
      }
      return static_cast<int>(t - 1);
    }
    const auto it = label_type_.find(token);
    if (it != label_type_.end()) return it->second;
    fail(line, fmt::format("invalid atom type \"{}\" (expected an integer 1..{}{})", token, ntypes_,
                           label_type_.empty() ? "" : " or a type label"));
  }

  void load() {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) fail(0, "LAMMPS data file not found");
    std::ifstream in(path_, std::ios::binary);
    if (!in) fail(0, "cannot open LAMMPS data file for reading");
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      lines_.push_back(line);
    }
    if (in.bad()) fail(0, "read error");
    if (lines_.empty())
      fail(0, "empty file (expected a title line, a header and an Atoms section)");
  }

  // Header lines from line 2 (line 1 is the title) up to the first section keyword.
  // Returns the index of that keyword line (or lines_.size()).
  std::size_t parse_header() {
    std::map<std::string, long> seen;
    std::size_t i = 1;
    for (; i < lines_.size(); ++i) {
      const long lineno = static_cast<long>(i) + 1;
      std::string comment;
      const std::vector<std::string> tokens = split_ws(split_comment(lines_[i], &comment));
      if (tokens.empty()) continue;
      if (!starts_numeric(tokens[0])) break;  // first section keyword

      std::size_t nvalues = 0;
      double scratch = 0;
      while (nvalues < tokens.size() && parse_real(tokens[nvalues], scratch)) ++nvalues;
      const std::string keyword = join(tokens, nvalues);
      if (keyword.empty()) {
        fail(lineno, fmt::format("header line \"{}\" has no keyword", trim(lines_[i])));
      }
      const auto [previous, inserted] = seen.emplace(keyword, lineno);
      if (!inserted) {
        fail(lineno, fmt::format("duplicate header line \"{}\" (first on line {})", keyword,
                                 previous->second));
      }
      auto expect_values = [&](std::size_t n) {
        if (nvalues != n) {
          fail(lineno, fmt::format("expected {} value{} before \"{}\", found {}", n,
                                   n == 1 ? "" : "s", keyword, nvalues));
        }
      };

      if (keyword == "atoms") {
        expect_values(1);
        natoms_ = integer(tokens[0], lineno, "the number of atoms");
        if (natoms_ < 1)
          fail(lineno, fmt::format("number of atoms must be positive, got {}", natoms_));
        atoms_line_ = lineno;
      } else if (keyword == "atom types") {
        expect_values(1);
        ntypes_ = integer(tokens[0], lineno, "the number of atom types");
        if (ntypes_ < 1 || ntypes_ > 1000000) {
          fail(lineno, fmt::format("number of atom types must be in 1..1000000, got {}", ntypes_));
        }
        types_line_ = lineno;
      } else if (contains(kTopologyCounts, keyword)) {
        expect_values(1);
        const std::int64_t n = integer(tokens[0], lineno, keyword.c_str());
        if (n != 0) {
          fail(lineno, fmt::format("\"{} {}\": only atom_style atomic is supported (no "
                                   "bonds, angles, ... or other non-point particles)",
                                   n, keyword));
        }
      } else if (keyword == "xlo xhi" || keyword == "ylo yhi" || keyword == "zlo zhi") {
        expect_values(2);
        const int d = keyword[0] - 'x';
        const double lo = real(tokens[0], lineno, "the box lower bound");
        const double hi = real(tokens[1], lineno, "the box upper bound");
        if (!(hi > lo)) {
          fail(lineno, fmt::format("box length along {} must be positive ({} {} gives {})",
                                   keyword[0], lo, hi, hi - lo));
        }
        box_lo_[d] = lo;
        box_hi_[d] = hi;
        box_line_[d] = lineno;
      } else if (keyword == "xy xz yz") {
        expect_values(3);
        for (int k = 0; k < 3; ++k) tilt_[k] = real(tokens[k], lineno, "a tilt factor");
      } else if (keyword == "avec" || keyword == "bvec" || keyword == "cvec" ||
                 keyword == "abc origin") {
        fail(lineno, fmt::format("general triclinic header \"{}\" is not supported; write the "
                                 "box as xlo xhi / ylo yhi / zlo zhi / xy xz yz",
                                 keyword));
      } else {
        fail(lineno, fmt::format("unknown header line \"{}\"", trim(lines_[i])));
      }
    }
    if (atoms_line_ == 0) fail(0, "missing header line \"N atoms\"");
    if (types_line_ == 0) fail(0, "missing header line \"N atom types\"");
    const char* box_keys[3] = {"xlo xhi", "ylo yhi", "zlo zhi"};
    for (int d = 0; d < 3; ++d) {
      if (box_line_[d] == 0) fail(0, fmt::format("missing header line \"lo hi {}\"", box_keys[d]));
    }
    return i;
  }

  // Collects `count` non-blank lines after the keyword line at index i; returns the index
  // after the last one.
  std::size_t read_section(std::size_t i, const std::string& keyword, std::int64_t count,
                           const std::string& declared, Section& section) const {
    const long keyword_line = static_cast<long>(i) + 1;
    section.keyword_line = keyword_line;
    ++i;
    while (static_cast<std::int64_t>(section.lines.size()) < count) {
      if (i >= lines_.size()) {
        fail(static_cast<long>(lines_.size()),
             fmt::format("{} section (line {}) has only {} lines at the end of the file, but "
                         "the header declares {}",
                         keyword, keyword_line, section.lines.size(), declared));
      }
      const long lineno = static_cast<long>(i) + 1;
      std::string comment;
      const std::vector<std::string> tokens = split_ws(split_comment(lines_[i], &comment));
      ++i;
      if (tokens.empty()) continue;
      if (is_section_keyword(join(tokens))) {
        fail(lineno,
             fmt::format("{} section (line {}) has only {} lines before \"{}\", but the "
                         "header declares {}",
                         keyword, keyword_line, section.lines.size(), join(tokens), declared));
      }
      section.lines.push_back({lineno});
    }
    return i;
  }

  void parse_sections(std::size_t i) {
    std::map<std::string, long> seen;
    while (i < lines_.size()) {
      const long lineno = static_cast<long>(i) + 1;
      std::string hint;
      const std::vector<std::string> tokens = split_ws(split_comment(lines_[i], &hint));
      if (tokens.empty()) {
        ++i;
        continue;
      }
      const std::string keyword = join(tokens);
      if (starts_numeric(tokens[0])) {
        fail(lineno, fmt::format("data line \"{}\" outside any section (does the previous "
                                 "section have more lines than the header declares?)",
                                 trim(lines_[i])));
      }
      if (contains(kUnsupportedSections, keyword)) {
        fail(lineno, fmt::format("section \"{}\" is not supported (atom_style atomic only: "
                                 "Masses, Atoms, Velocities)",
                                 keyword));
      }
      if (!contains(kSupportedSections, keyword)) {
        fail(lineno, fmt::format("unknown section \"{}\" (expected Masses, Atoms, Velocities, "
                                 "Atom Type Labels, Pair Coeffs or PairIJ Coeffs)",
                                 keyword));
      }
      const auto [previous, inserted] = seen.emplace(keyword, lineno);
      if (!inserted) {
        fail(lineno,
             fmt::format("duplicate {} section (first on line {})", keyword, previous->second));
      }
      const std::string types_declared = fmt::format("{} atom types", ntypes_);
      const std::string atoms_declared = fmt::format("{} atoms", natoms_);
      if (keyword == "Masses") {
        i = read_section(i, keyword, ntypes_, types_declared, masses_);
      } else if (keyword == "Atom Type Labels") {
        i = read_section(i, keyword, ntypes_, types_declared, labels_);
      } else if (keyword == "Atoms") {
        if (!hint.empty()) {
          const std::string style = split_ws(hint)[0];
          if (style != "atomic") {
            fail(lineno, fmt::format("Atoms section is for atom_style \"{}\"; only atom_style "
                                     "atomic (id type x y z [ix iy iz]) is supported",
                                     style));
          }
        }
        i = read_section(i, keyword, natoms_, atoms_declared, atoms_);
        atoms_.hint = hint;
      } else if (keyword == "Velocities") {
        i = read_section(i, keyword, natoms_, atoms_declared, velocities_);
      } else if (keyword == "Pair Coeffs") {
        Section skipped;
        i = read_section(i, keyword, ntypes_, types_declared, skipped);
      } else {  // PairIJ Coeffs: one line per type pair i <= j
        Section skipped;
        i = read_section(
            i, keyword, ntypes_ * (ntypes_ + 1) / 2,
            fmt::format("{} atom types, i.e. {} type pairs", ntypes_, ntypes_ * (ntypes_ + 1) / 2),
            skipped);
      }
    }
    if (atoms_.keyword_line == 0) {
      fail(0, fmt::format("no Atoms section, but the header (line {}) declares {} atoms",
                          atoms_line_, natoms_));
    }
  }

  Structure build(const std::vector<std::string>& type_names) {
    Structure s;
    const int ntypes = static_cast<int>(ntypes_);

    // Type labels first: Masses and Atoms may refer to types by label.
    std::vector<std::string> labels(ntypes);
    std::string comment;
    std::vector<std::string> tok;
    auto tokenize = [&](const DataLine& dl) {
      tok = split_ws(split_comment(lines_[dl.line - 1], &comment));
    };
    for (const DataLine& dl : labels_.lines) {
      tokenize(dl);
      if (tok.size() != 2) {
        fail(dl.line, fmt::format("Atom Type Labels line has {} columns, expected 2 (type label)",
                                  tok.size()));
      }
      const int t = type_index(tok[0], dl.line);
      if (!labels[t].empty()) fail(dl.line, fmt::format("duplicate label for atom type {}", t + 1));
      const std::string& label = tok[1];
      if (starts_numeric(label)) {
        fail(dl.line, fmt::format("type label \"{}\" must not start with a digit or sign", label));
      }
      if (!label_type_.emplace(label, t).second) {
        fail(dl.line, fmt::format("type label \"{}\" used twice", label));
      }
      labels[t] = label;
    }

    s.type_masses.assign(ntypes, 0.0);
    std::vector<std::string> mass_names(ntypes);
    std::vector<long> mass_line(ntypes, 0);
    for (const DataLine& dl : masses_.lines) {
      tokenize(dl);
      if (tok.size() != 2) {
        fail(dl.line,
             fmt::format("Masses line has {} columns, expected 2 (type mass)", tok.size()));
      }
      const int t = type_index(tok[0], dl.line);
      if (mass_line[t] != 0) {
        fail(dl.line, fmt::format("duplicate mass for atom type {} (first on line {})", t + 1,
                                  mass_line[t]));
      }
      mass_line[t] = dl.line;
      const double m = real(tok[1], dl.line, "the mass");
      if (!(m > 0))
        fail(dl.line, fmt::format("mass of atom type {} must be positive, got {}", t + 1, m));
      s.type_masses[t] = m;
      if (!comment.empty()) mass_names[t] = split_ws(comment)[0];
    }

    if (!type_names.empty()) {
      if (static_cast<std::int64_t>(type_names.size()) != ntypes_) {
        fail(types_line_, fmt::format("{} type names were given but the data file declares {} "
                                      "atom types",
                                      type_names.size(), ntypes_));
      }
      s.type_names = type_names;
    } else {
      s.type_names.resize(ntypes);
      for (int t = 0; t < ntypes; ++t) {
        s.type_names[t] = !labels[t].empty()       ? labels[t]
                          : !mass_names[t].empty() ? mass_names[t]
                                                   : std::to_string(t + 1);
      }
    }

    // Box.
    for (int d = 0; d < 3; ++d) {
      s.box.lo[d] = box_lo_[d];
      s.box.l[d] = box_hi_[d] - box_lo_[d];
      s.box.periodic[d] = 1;
    }
    s.box.xy = tilt_[0];
    s.box.xz = tilt_[1];
    s.box.yz = tilt_[2];

    // Atoms, in file order.
    const std::size_t n = atoms_.lines.size();
    s.id.reserve(n);
    s.type.reserve(n);
    s.x.reserve(n);
    s.y.reserve(n);
    s.z.reserve(n);
    std::unordered_map<std::int64_t, std::size_t> index_of_id;
    index_of_id.reserve(n);
    for (const DataLine& dl : atoms_.lines) {
      tokenize(dl);
      if (tok.size() != 5 && tok.size() != 8) {
        fail(dl.line, fmt::format("Atoms line has {} columns; atom_style atomic expects 5 "
                                  "(id type x y z) or 8 (id type x y z ix iy iz)",
                                  tok.size()));
      }
      const std::int64_t atom_id = integer(tok[0], dl.line, "the atom id");
      if (atom_id < 1) fail(dl.line, fmt::format("atom id must be positive, got {}", atom_id));
      const int t = type_index(tok[1], dl.line);
      const double px = real(tok[2], dl.line, "x");
      const double py = real(tok[3], dl.line, "y");
      const double pz = real(tok[4], dl.line, "z");
      const auto [it, inserted] = index_of_id.emplace(atom_id, s.size());
      if (!inserted) {
        fail(dl.line, fmt::format("duplicate atom id {} (first on line {})", atom_id,
                                  atoms_.lines[it->second].line));
      }
      s.add_atom(atom_id, t, px, py, pz);
      if (tok.size() == 8) {
        s.ix.back() = image_flag(tok[5], dl.line);
        s.iy.back() = image_flag(tok[6], dl.line);
        s.iz.back() = image_flag(tok[7], dl.line);
      }
    }

    if (velocities_.keyword_line != 0) {
      s.has_velocities = true;
      s.vx.assign(n, 0.0);
      s.vy.assign(n, 0.0);
      s.vz.assign(n, 0.0);
      std::vector<long> velocity_line(n, 0);
      for (const DataLine& dl : velocities_.lines) {
        tokenize(dl);
        if (tok.size() != 4) {
          fail(dl.line,
               fmt::format("Velocities line has {} columns, expected 4 (id vx vy vz)", tok.size()));
        }
        const std::int64_t atom_id = integer(tok[0], dl.line, "the atom id");
        const auto it = index_of_id.find(atom_id);
        if (it == index_of_id.end()) {
          fail(dl.line,
               fmt::format("velocity for atom id {}, which is not in the Atoms section", atom_id));
        }
        const std::size_t k = it->second;
        if (velocity_line[k] != 0) {
          fail(dl.line, fmt::format("duplicate velocity for atom id {} (first on line {})", atom_id,
                                    velocity_line[k]));
        }
        velocity_line[k] = dl.line;
        s.vx[k] = real(tok[1], dl.line, "vx");
        s.vy[k] = real(tok[2], dl.line, "vy");
        s.vz[k] = real(tok[3], dl.line, "vz");
      }
    }
    return s;
  }

  std::string path_;
  std::vector<std::string> lines_;
  std::int64_t natoms_ = 0, ntypes_ = 0;
  long atoms_line_ = 0, types_line_ = 0;
  double box_lo_[3] = {0, 0, 0}, box_hi_[3] = {0, 0, 0};
  long box_line_[3] = {0, 0, 0};
  double tilt_[3] = {0, 0, 0};
  Section masses_, labels_, atoms_, velocities_;
  std::unordered_map<std::string, int> label_type_;
};

}  // namespace

Structure read_lammps_data(const std::string& path, const std::vector<std::string>& type_names) {
  return DataFileParser(path).parse(type_names);
}

void write_lammps_data(const std::string& path, const Structure& s,
                       const std::string& units_comment) {
  const std::size_t n = s.size();
  const std::size_t ntypes = s.type_names.size();
  const bool images = s.ix.size() == n && s.iy.size() == n && s.iz.size() == n;
  if (s.id.size() != n || s.type.size() != n || s.y.size() != n || s.z.size() != n ||
      s.type_masses.size() != ntypes ||
      (s.has_velocities && (s.vx.size() != n || s.vy.size() != n || s.vz.size() != n))) {
    throw Error("write_lammps_data: inconsistent Structure array sizes");
  }

  std::string title = "LAMMPS data file written by mdgpu";
  if (!units_comment.empty()) title += " (" + units_comment + ")";
  for (char& c : title) {
    if (c == '\n' || c == '\r') c = ' ';
  }

  const std::string tmp_path = path + ".tmp";
  std::ofstream out(tmp_path, std::ios::binary | std::ios::trunc);
  if (!out) throw InputError(path, 0, "cannot open " + tmp_path + " for writing");

  fmt::memory_buffer buf;
  auto flush_if_large = [&](bool force) {
    if (force || buf.size() > (1u << 20)) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  };
  auto put = std::back_inserter(buf);

  const Box& b = s.box;
  fmt::format_to(put, "{}\n\n{} atoms\n{} atom types\n\n", title, n, ntypes);
  fmt::format_to(put, "{} {} xlo xhi\n", b.lo[0], b.hi(0));
  fmt::format_to(put, "{} {} ylo yhi\n", b.lo[1], b.hi(1));
  fmt::format_to(put, "{} {} zlo zhi\n", b.lo[2], b.hi(2));
  if (b.triclinic()) fmt::format_to(put, "{} {} {} xy xz yz\n", b.xy, b.xz, b.yz);

  bool all_masses_positive = ntypes > 0;
  for (double m : s.type_masses)
    all_masses_positive = all_masses_positive && m > 0 && std::isfinite(m);
  if (all_masses_positive) {
    fmt::format_to(put, "\nMasses\n\n");
    for (std::size_t t = 0; t < ntypes; ++t) {
      fmt::format_to(put, "{} {} # {}\n", t + 1, s.type_masses[t], s.type_names[t]);
    }
  }

  fmt::format_to(put, "\nAtoms # atomic\n\n");
  for (std::size_t k = 0; k < n; ++k) {
    fmt::format_to(put, "{} {} {} {} {} {} {} {}\n", s.id[k], s.type[k] + 1, s.x[k], s.y[k], s.z[k],
                   images ? s.ix[k] : 0, images ? s.iy[k] : 0, images ? s.iz[k] : 0);
    flush_if_large(false);
  }
  if (s.has_velocities) {
    fmt::format_to(put, "\nVelocities\n\n");
    for (std::size_t k = 0; k < n; ++k) {
      fmt::format_to(put, "{} {} {} {}\n", s.id[k], s.vx[k], s.vy[k], s.vz[k]);
      flush_if_large(false);
    }
  }
  flush_if_large(true);
  out.close();
  std::error_code ec;
  if (!out) {
    std::filesystem::remove(tmp_path, ec);
    throw InputError(path, 0, "error while writing " + tmp_path);
  }
  std::filesystem::rename(tmp_path, path, ec);
  if (ec) {
    const std::string reason = ec.message();
    std::filesystem::remove(tmp_path, ec);
    throw InputError(path, 0, "cannot rename " + tmp_path + " to it: " + reason);
  }
}

}  // namespace md
