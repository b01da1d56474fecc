// Extended XYZ reader (with rotation of a general cell into LAMMPS' triclinic convention)
// and frame writer (see extxyz.hpp). The reader scans frame boundaries first, then parses
// only the requested frame, so long trajectories are not held in memory.

#include "io/extxyz.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <ostream>
#include <system_error>
#include <unordered_map>

#include "engine/error.hpp"

namespace md {

namespace {

constexpr const char* kWhitespace = " \t\r\n\f\v";

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string trim(const std::string& s) {
  const std::size_t first = s.find_first_not_of(kWhitespace);
  if (first == std::string::npos) return {};
  const std::size_t last = s.find_last_not_of(kWhitespace);
  return s.substr(first, last - first + 1);
}

std::vector<std::string> split(const std::string& s, const char* separators) {
  std::vector<std::string> tokens;
  std::size_t pos = 0;
  while (true) {
    const std::size_t first = s.find_first_not_of(separators, pos);
    if (first == std::string::npos) break;
    const std::size_t last = s.find_first_of(separators, first);
    tokens.push_back(s.substr(first, last == std::string::npos ? std::string::npos : last - first));
    if (last == std::string::npos) break;
    pos = last;
  }
  return tokens;
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
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

double dot(const double a[3], const double b[3]) { return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]; }

void cross(const double a[3], const double b[3], double c[3]) {
  c[0] = a[1] * b[2] - a[2] * b[1];
  c[1] = a[2] * b[0] - a[0] * b[2];
  c[2] = a[0] * b[1] - a[1] * b[0];
}

struct KeyValue {
  std::string key;
  std::string value;
};

// One column group of Properties=name:type:count.
struct Column {
  std::string name;
  char kind;  // S, R, I or L
  int count;
  int first;  // index of its first token on an atom line
};

class ExtxyzParser {
 public:
  explicit ExtxyzParser(const std::string& path) : path_(path) {}

  Structure parse(int frame) {
    std::error_code ec;
    if (!std::filesystem::exists(path_, ec)) fail(0, "extended XYZ file not found");
    in_.open(path_, std::ios::binary);
    if (!in_) fail(0, "cannot open extended XYZ file for reading");
    scan_frames();
    if (frames_.empty()) fail(0, "no frames (empty file)");
    const long nframes = static_cast<long>(frames_.size());
    const long index = frame < 0 ? nframes + frame : frame;
    if (index < 0 || index >= nframes) {
      fail(0, fmt::format("frame {} requested, but the file has {} frame{} (0..{}; -1 = last)",
                          frame, nframes, nframes == 1 ? "" : "s", nframes - 1));
    }
    return parse_frame(frames_[index], index);
  }

 private:
  struct FrameStart {
    std::streamoff offset;
    long line;
    std::int64_t natoms;
  };

  [[noreturn]] void fail(long line, const std::string& message) const {
    throw InputError(path_, line, message);
  }

  bool next_line(std::string& line) {
    if (!std::getline(in_, line)) return false;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return true;
  }

  // Records where each frame starts; checks counts and that no frame is truncated.
  void scan_frames() {
    std::string line;
    long lineno = 0;
    long first_blank = 0;
    while (true) {
      const std::streamoff offset = in_.tellg();
      if (!next_line(line)) break;
      ++lineno;
      const std::string count_text = trim(line);
      if (count_text.empty()) {
        if (first_blank == 0) first_blank = lineno;
        continue;
      }
      const std::size_t k = frames_.size();
      if (first_blank != 0) {
        fail(first_blank, fmt::format("blank line before frame {} (frames must follow each "
                                      "other directly)",
                                      k));
      }
      std::int64_t natoms = 0;
      if (!parse_integer(count_text, natoms) || natoms < 0) {
        fail(lineno,
             fmt::format("expected the number of atoms of frame {}, found \"{}\"", k, count_text));
      }
      frames_.push_back({offset, lineno, natoms});
      if (!next_line(line)) {
        fail(lineno, fmt::format("file ends after the atom count of frame {}; expected a "
                                 "comment line with Lattice=... and Properties=...",
                                 k));
      }
      ++lineno;
      for (std::int64_t a = 0; a < natoms; ++a) {
        if (!next_line(line)) {
          fail(lineno, fmt::format("file ends inside frame {}: expected {} atom lines, found {}", k,
                                   natoms, a));
        }
        ++lineno;
      }
    }
    if (in_.bad()) fail(0, "read error");
  }

  // Splits the comment line into key=value pairs. Values may be "quoted" (a backslash
  // escapes the next character), {braced} or [bracketed]; a bare key means key=T.
  std::vector<KeyValue> parse_comment(const std::string& line, long lineno) const {
    std::vector<KeyValue> pairs;
    const std::size_t n = line.size();
    std::size_t i = 0;
    auto skip_space = [&](std::size_t& p) {
      while (p < n && is_space(line[p])) ++p;
    };
    while (true) {
      skip_space(i);
      if (i >= n) break;
      const std::size_t key_start = i;
      while (i < n && !is_space(line[i]) && line[i] != '=') ++i;
      KeyValue kv;
      kv.key = line.substr(key_start, i - key_start);
      if (kv.key.empty()) fail(lineno, fmt::format("'=' without a key at column {}", i + 1));
      std::size_t j = i;
      skip_space(j);
      if (j >= n || line[j] != '=') {
        kv.value = "T";
        pairs.push_back(std::move(kv));
        continue;
      }
      i = j + 1;
      skip_space(i);
      if (i < n && line[i] == '"') {
        ++i;
        bool closed = false;
        while (i < n) {
          const char c = line[i++];
          if (c == '\\' && i < n) {
            kv.value += line[i++];
          } else if (c == '"') {
            closed = true;
            break;
          } else {
            kv.value += c;
          }
        }
        if (!closed) fail(lineno, fmt::format("unterminated quoted value for key \"{}\"", kv.key));
      } else if (i < n && (line[i] == '{' || line[i] == '[')) {
        const char open = line[i], close = open == '{' ? '}' : ']';
        int depth = 0;
        const std::size_t value_start = i;
        for (; i < n; ++i) {
          if (line[i] == open) ++depth;
          if (line[i] == close && --depth == 0) break;
        }
        if (i >= n)
          fail(lineno, fmt::format("unterminated '{}' in value of key \"{}\"", open, kv.key));
        ++i;
        kv.value = line.substr(value_start + 1, i - value_start - 2);
      } else {
        const std::size_t value_start = i;
        while (i < n && !is_space(line[i])) ++i;
        kv.value = line.substr(value_start, i - value_start);
      }
      pairs.push_back(std::move(kv));
    }
    return pairs;
  }

  // Reads `n` numbers from a Lattice/Origin style value (spaces, commas or brackets).
  std::vector<double> numbers(const std::string& value, std::size_t n, const char* key,
                              long lineno) const {
    const std::vector<std::string> tokens = split(value, " \t,[]");
    if (tokens.size() != n) {
      fail(lineno,
           fmt::format("{}=\"{}\" must hold {} numbers, found {}", key, value, n, tokens.size()));
    }
    std::vector<double> v(n);
    for (std::size_t k = 0; k < n; ++k) {
      if (!parse_real(tokens[k], v[k]) || !std::isfinite(v[k])) {
        fail(lineno, fmt::format("{}: \"{}\" is not a finite number", key, tokens[k]));
      }
    }
    return v;
  }

  std::vector<Column> parse_properties(const std::string& value, long lineno) const {
    const std::vector<std::string> parts = split(value, ":");
    if (parts.empty() || parts.size() % 3 != 0) {
      fail(lineno, fmt::format("Properties=\"{}\" must be name:type:count triples", value));
    }
    std::vector<Column> columns;
    int first = 0;
    for (std::size_t k = 0; k < parts.size(); k += 3) {
      Column c;
      c.name = parts[k];
      if (parts[k + 1].size() != 1 ||
          std::string("SRIL").find(parts[k + 1][0]) == std::string::npos) {
        fail(lineno, fmt::format("Properties: column \"{}\" has type \"{}\" (expected S, R, I "
                                 "or L)",
                                 c.name, parts[k + 1]));
      }
      c.kind = parts[k + 1][0];
      std::int64_t count = 0;
      if (!parse_integer(parts[k + 2], count) || count < 1 || count > 1000) {
        fail(lineno, fmt::format("Properties: column \"{}\" has count \"{}\" (expected a "
                                 "positive integer)",
                                 c.name, parts[k + 2]));
      }
      c.count = static_cast<int>(count);
      c.first = first;
      first += c.count;
      columns.push_back(c);
    }
    return columns;
  }

  Structure parse_frame(const FrameStart& start, long index) {
    in_.clear();
    in_.seekg(start.offset);
    std::string line;
    next_line(line);  // atom count, validated by scan_frames
    next_line(line);
    const long comment_line = start.line + 1;
    const std::vector<KeyValue> pairs = parse_comment(line, comment_line);
    auto find = [&](const char* key) -> const KeyValue* {
      const KeyValue* found = nullptr;
      for (const KeyValue& kv : pairs) {
        if (lower(kv.key) == key) found = &kv;
      }
      return found;
    };
    if (start.natoms == 0) fail(start.line, fmt::format("frame {} has no atoms", index));

    // Cell.
    const KeyValue* lattice = find("lattice");
    if (!lattice) {
      fail(comment_line,
           "no Lattice=\"ax ay az bx by bz cx cy cz\" on the comment line: a "
           "periodic cell is required (non-periodic extended XYZ is not "
           "supported)");
    }
    const std::vector<double> cell = numbers(lattice->value, 9, "Lattice", comment_line);
    const double* a = &cell[0];
    const double* b = &cell[3];
    const double* c = &cell[6];
    double origin[3] = {0, 0, 0};
    if (const KeyValue* o = find("origin")) {
      const std::vector<double> v = numbers(o->value, 3, "Origin", comment_line);
      for (int d = 0; d < 3; ++d) origin[d] = v[d];
    }
    int periodic[3] = {1, 1, 1};
    if (const KeyValue* p = find("pbc")) {
      const std::vector<std::string> flags = split(p->value, " \t,[]");
      if (flags.size() != 3) {
        fail(comment_line, fmt::format("pbc=\"{}\" must hold 3 flags (T or F)", p->value));
      }
      for (int d = 0; d < 3; ++d) {
        const std::string f = lower(flags[d]);
        if (f == "t" || f == "true" || f == "1") {
          periodic[d] = 1;
        } else if (f == "f" || f == "false" || f == "0") {
          periodic[d] = 0;
        } else {
          fail(comment_line, fmt::format("pbc: \"{}\" is not T or F", flags[d]));
        }
      }
    }

    // Rotation into LAMMPS form: rows e1, e2, e3 of `rot`.
    double a_cross_b[3];
    cross(a, b, a_cross_b);
    const double len_a = std::sqrt(dot(a, a)), len_b = std::sqrt(dot(b, b));
    const double len_c = std::sqrt(dot(c, c));
    const double len_ab = std::sqrt(dot(a_cross_b, a_cross_b));
    const double volume = dot(a_cross_b, c);
    const double tol = 1e-10;
    if (!(len_a > 0) || !(len_ab > tol * len_a * len_b) ||
        !(std::abs(volume) > tol * len_a * len_b * len_c)) {
      fail(comment_line, fmt::format("degenerate cell: Lattice vectors are (nearly) linearly "
                                     "dependent (volume {})",
                                     volume));
    }
    if (volume < 0) {
      fail(comment_line, fmt::format("left-handed cell (a x b . c = {} < 0); reorder or negate "
                                     "the Lattice vectors to make it right-handed",
                                     volume));
    }
    double rot[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    const bool lammps_form = a[1] == 0 && a[2] == 0 && b[2] == 0 && a[0] > 0 && b[1] > 0;
    if (!lammps_form) {
      for (int d = 0; d < 3; ++d) {
        rot[0][d] = a[d] / len_a;
        rot[2][d] = a_cross_b[d] / len_ab;
      }
      cross(rot[2], rot[0], rot[1]);
    }
    auto rotate = [&](const double r[3], double out[3]) {
      for (int d = 0; d < 3; ++d) out[d] = dot(rot[d], r);
    };

    Structure s;
    double ra[3], rb[3], rc[3], ro[3];
    rotate(a, ra);
    rotate(b, rb);
    rotate(c, rc);
    rotate(origin, ro);
    s.box.l[0] = ra[0];
    s.box.l[1] = rb[1];
    s.box.l[2] = rc[2];
    s.box.xy = rb[0];
    s.box.xz = rc[0];
    s.box.yz = rc[1];
    for (int d = 0; d < 3; ++d) {
      s.box.lo[d] = ro[d];
      s.box.periodic[d] = periodic[d];
    }

    // Columns.
    std::vector<Column> columns;
    if (const KeyValue* p = find("properties")) {
      columns = parse_properties(p->value, comment_line);
    } else {
      columns = parse_properties("species:S:1:pos:R:3", comment_line);
    }
    const Column* species = nullptr;
    const Column* pos = nullptr;
    const Column* vel = nullptr;
    int ntokens = 0;
    for (const Column& col : columns) {
      ntokens += col.count;
      const std::string name = lower(col.name);
      if (name == "species") {
        if (col.kind != 'S' || col.count != 1) {
          fail(comment_line, "Properties: species must be species:S:1");
        }
        species = &col;
      } else if (name == "pos") {
        if (col.kind != 'R' || col.count != 3)
          fail(comment_line, "Properties: pos must be pos:R:3");
        pos = &col;
      } else if (name == "velo" || name == "vel" || name == "velocities") {
        if (col.kind != 'R' || col.count != 3) {
          fail(comment_line, fmt::format("Properties: {} must be {}:R:3", col.name, col.name));
        }
        vel = &col;
      }
    }
    if (!species) {
      fail(comment_line, "Properties has no species:S:1 column (element names are required)");
    }
    if (!pos) fail(comment_line, "Properties has no pos:R:3 column");

    // Atoms.
    s.has_velocities = vel != nullptr;
    std::unordered_map<std::string, int> type_of_species;
    const std::size_t natoms = static_cast<std::size_t>(start.natoms);
    for (std::size_t k = 0; k < natoms; ++k) {
      const long lineno = comment_line + 1 + static_cast<long>(k);
      next_line(line);
      const std::vector<std::string> tok = split(line, kWhitespace);
      if (static_cast<int>(tok.size()) != ntokens) {
        fail(lineno, fmt::format("atom line has {} columns, but Properties declares {}", tok.size(),
                                 ntokens));
      }
      auto real = [&](const Column* col, int component) {
        const std::string& t = tok[col->first + component];
        double v = 0;
        if (!parse_real(t, v)) {
          fail(lineno, fmt::format("{}: expected a number, found \"{}\"", col->name, t));
        }
        if (!std::isfinite(v)) fail(lineno, fmt::format("{}: \"{}\" is not finite", col->name, t));
        return v;
      };
      const std::string& name = tok[species->first];
      const auto [it, inserted] =
          type_of_species.emplace(name, static_cast<int>(s.type_names.size()));
      if (inserted) {
        s.type_names.push_back(name);
        s.type_masses.push_back(element_mass(name));
      }
      const double r[3] = {real(pos, 0), real(pos, 1), real(pos, 2)};
      double rr[3];
      rotate(r, rr);
      s.add_atom(static_cast<std::int64_t>(k) + 1, it->second, rr[0], rr[1], rr[2]);
      if (vel) {
        const double v[3] = {real(vel, 0), real(vel, 1), real(vel, 2)};
        double rv[3];
        rotate(v, rv);
        s.vx.back() = rv[0];
        s.vy.back() = rv[1];
        s.vz.back() = rv[2];
      }
    }
    return s;
  }

  std::string path_;
  std::ifstream in_;
  std::vector<FrameStart> frames_;
};

// A real for the comment line that parses back as a float (ASE reads "5" as an int).
std::string info_real(double v) {
  std::string text = fmt::format("{}", v);
  if (text.find_first_of(".eEn") == std::string::npos) text += ".0";
  return text;
}

}  // namespace

Structure read_extxyz(const std::string& path, int frame) {
  return ExtxyzParser(path).parse(frame);
}

void append_extxyz_frame(std::ostream& out, const Structure& s, long step, double time,
                         double potential_energy, bool write_velocities,
                         const std::vector<double>* forces_xyz_interleaved,
                         const std::vector<double>* per_atom_energy,
                         const std::vector<double>* per_atom_std) {
  const std::size_t n = s.size();
  if (s.type.size() != n || s.y.size() != n || s.z.size() != n ||
      (s.has_velocities && (s.vx.size() != n || s.vy.size() != n || s.vz.size() != n))) {
    throw Error("append_extxyz_frame: inconsistent Structure array sizes");
  }
  if (forces_xyz_interleaved && forces_xyz_interleaved->size() != 3 * n) {
    throw Error(fmt::format("append_extxyz_frame: {} force components for {} atoms",
                            forces_xyz_interleaved->size(), n));
  }
  if (per_atom_std && per_atom_std->size() != n)
    throw Error(fmt::format("append_extxyz_frame: {} per-atom std values for {} atoms",
                            per_atom_std->size(), n));
  if (per_atom_energy && per_atom_energy->size() != n) {
    throw Error(fmt::format("append_extxyz_frame: {} per-atom energies for {} atoms",
                            per_atom_energy->size(), n));
  }
  for (const std::string& name : s.type_names) {
    if (name.empty() || name.find_first_of(kWhitespace) != std::string::npos ||
        name.find('"') != std::string::npos) {
      throw Error(
          fmt::format("append_extxyz_frame: type name \"{}\" cannot be written as an "
                      "extended XYZ species",
                      name));
    }
  }
  for (int t : s.type) {
    if (t < 0 || t >= static_cast<int>(s.type_names.size())) {
      throw Error(fmt::format("append_extxyz_frame: atom type {} has no name", t));
    }
  }

  const Box& b = s.box;
  fmt::memory_buffer buf;
  auto put = std::back_inserter(buf);
  fmt::format_to(put, "{}\n", n);
  fmt::format_to(put, "Lattice=\"{} 0 0 {} {} 0 {} {} {}\" Properties=species:S:1:pos:R:3", b.l[0],
                 b.xy, b.l[1], b.xz, b.yz, b.l[2]);
  if (write_velocities) fmt::format_to(put, ":vel:R:3");
  if (forces_xyz_interleaved) fmt::format_to(put, ":forces:R:3");
  if (per_atom_energy) fmt::format_to(put, ":energies:R:1");
  if (per_atom_std) fmt::format_to(put, ":c_std:R:1");
  fmt::format_to(put, " energy={} step={} time={} pbc=\"{} {} {}\"", info_real(potential_energy),
                 step, info_real(time), b.periodic[0] ? 'T' : 'F', b.periodic[1] ? 'T' : 'F',
                 b.periodic[2] ? 'T' : 'F');
  if (b.lo[0] != 0 || b.lo[1] != 0 || b.lo[2] != 0) {
    fmt::format_to(put, " Origin=\"{} {} {}\"", b.lo[0], b.lo[1], b.lo[2]);
  }
  fmt::format_to(put, "\n");

  const bool have_velocities = s.has_velocities;
  for (std::size_t k = 0; k < n; ++k) {
    fmt::format_to(put, "{} {} {} {}", s.type_names[s.type[k]], s.x[k], s.y[k], s.z[k]);
    if (write_velocities) {
      if (have_velocities) {
        fmt::format_to(put, " {} {} {}", s.vx[k], s.vy[k], s.vz[k]);
      } else {
        fmt::format_to(put, " 0 0 0");
      }
    }
    if (forces_xyz_interleaved) {
      const std::vector<double>& f = *forces_xyz_interleaved;
      fmt::format_to(put, " {} {} {}", f[3 * k], f[3 * k + 1], f[3 * k + 2]);
    }
    if (per_atom_energy) fmt::format_to(put, " {}", (*per_atom_energy)[k]);
    if (per_atom_std) fmt::format_to(put, " {}", (*per_atom_std)[k]);
    fmt::format_to(put, "\n");
    if (buf.size() > (1u << 20)) {
      out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
      buf.clear();
    }
  }
  out.write(buf.data(), static_cast<std::streamsize>(buf.size()));
}

}  // namespace md
