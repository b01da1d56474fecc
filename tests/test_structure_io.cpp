// Tests for structure input/output: lattice builder (counts, nearest-neighbour shells),
// LAMMPS data files (triclinic read, exact write/read round trip) and extended XYZ (round
// trip, general-cell rotation), plus one test per kind of bad input (InputError file:line).

#include <doctest/doctest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/structure.hpp"
#include "io/extxyz.hpp"
#include "io/lammps_data.hpp"
#include "io/lattice.hpp"

namespace fs = std::filesystem;

namespace {

// A fresh directory under the system temp directory, removed with its contents at scope end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    const auto ticks = std::chrono::steady_clock::now().time_since_epoch().count();
    path = fs::temp_directory_path() /
           ("mdgpu_structure_io_" + std::to_string(rd()) + "_" + std::to_string(ticks));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// Replaces 1-based line `lineno` of `text` by `replacement` (which may hold several lines).
std::string replace_line(const std::string& text, int lineno, const std::string& replacement) {
  std::istringstream in(text);
  std::string line, result;
  int k = 0;
  while (std::getline(in, line)) {
    ++k;
    result += (k == lineno ? replacement : line) + "\n";
  }
  return result;
}

template <class F>
std::string input_error_message(F&& f) {
  try {
    f();
  } catch (const md::InputError& e) {
    return e.what();
  }
  return "<no md::InputError thrown>";
}

// Checks that `expr` throws md::InputError whose message contains every given part.
#define CHECK_INPUT_ERROR(expr, ...)                                                   \
  do {                                                                                 \
    const std::string message_ = input_error_message([&] { (void)(expr); });           \
    for (const std::string& part_ : std::initializer_list<std::string>{__VA_ARGS__}) { \
      CHECK_MESSAGE(message_.find(part_) != std::string::npos,                         \
                    "message \"" << message_ << "\" lacks \"" << part_ << "\"");       \
    }                                                                                  \
  } while (0)

// Smallest minimum-image distance in an orthogonal periodic box, and how many neighbours
// each atom has at that distance on average.
struct FirstShell {
  double r12 = 1e300;
  double neighbours_per_atom = 0;
};

FirstShell first_shell(const md::Structure& s) {
  const std::size_t n = s.size();
  std::vector<double> dist;
  dist.reserve(n * (n - 1) / 2);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      double d[3] = {s.x[j] - s.x[i], s.y[j] - s.y[i], s.z[j] - s.z[i]};
      for (int k = 0; k < 3; ++k) d[k] -= s.box.l[k] * std::round(d[k] / s.box.l[k]);
      dist.push_back(std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]));
    }
  }
  FirstShell shell;
  for (double r : dist) shell.r12 = std::min(shell.r12, r);
  long pairs = 0;
  for (double r : dist) pairs += std::abs(r - shell.r12) < 1e-9 * shell.r12;
  shell.neighbours_per_atom = 2.0 * pairs / n;
  return shell;
}

md::LatticeSpec spec(const std::string& kind, double a, std::array<int, 3> repeat,
                     std::vector<std::string> elements) {
  md::LatticeSpec ls;
  ls.kind = kind;
  ls.a = a;
  ls.repeat = repeat;
  ls.elements = std::move(elements);
  return ls;
}

void check_same_structure(const md::Structure& a, const md::Structure& b) {
  REQUIRE(a.size() == b.size());
  for (int d = 0; d < 3; ++d) {
    CHECK(a.box.lo[d] == b.box.lo[d]);
    CHECK(a.box.l[d] == b.box.l[d]);
    CHECK(a.box.periodic[d] == b.box.periodic[d]);
  }
  CHECK(a.box.xy == b.box.xy);
  CHECK(a.box.xz == b.box.xz);
  CHECK(a.box.yz == b.box.yz);
  CHECK(a.type_names == b.type_names);
  CHECK(a.type_masses == b.type_masses);
  CHECK(a.id == b.id);
  CHECK(a.type == b.type);
  CHECK(a.x == b.x);
  CHECK(a.y == b.y);
  CHECK(a.z == b.z);
  CHECK(a.has_velocities == b.has_velocities);
  CHECK(a.vx == b.vx);
  CHECK(a.vy == b.vy);
  CHECK(a.vz == b.vz);
}

// A triclinic, two-species structure with awkward numbers, velocities and image flags.
md::Structure awkward_structure() {
  md::Structure s = md::make_lattice(spec("fcc", 3.615, {2, 2, 2}, {"Cu", "Ag", "Ag", "Ag"}));
  s.box.xy = 0.1 / 3.0;
  s.box.xz = -1e-7;
  s.box.yz = 1.0 / 7.0;
  s.has_velocities = true;
  std::mt19937_64 rng(12345);
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  for (std::size_t k = 0; k < s.size(); ++k) {
    s.x[k] += uniform(rng) * 1e-3;
    s.y[k] += uniform(rng) / 3.0;
    s.z[k] *= 1.0 + 1e-15;
    s.vx.push_back(uniform(rng));
    s.vy.push_back(uniform(rng) * 1e-300);
    s.vz.push_back(uniform(rng) * 1e300);
    s.ix[k] = static_cast<int>(k % 3) - 1;
    s.iy[k] = static_cast<int>(k % 5) * 1000;
    s.iz[k] = -static_cast<int>(k);
  }
  return s;
}

// A small valid data file; tests break one line at a time (line numbers in comments).
const char* const kGoodData =
    "LAMMPS data file (test)\n"  // 1
    "\n"                         // 2
    "3 atoms\n"                  // 3
    "2 atom types\n"             // 4
    "\n"                         // 5
    "0 10 xlo xhi\n"             // 6
    "0 10 ylo yhi\n"             // 7
    "0 10 zlo zhi\n"             // 8
    "\n"                         // 9
    "Masses\n"                   // 10
    "\n"                         // 11
    "1 1.0 # A\n"                // 12
    "2 2.0 # B\n"                // 13
    "\n"                         // 14
    "Atoms # atomic\n"           // 15
    "\n"                         // 16
    "1 1 1.0 1.0 1.0\n"          // 17
    "2 2 2.0 2.0 2.0\n"          // 18
    "3 1 3.0 3.0 3.0\n"          // 19
    "\n"                         // 20
    "Velocities\n"               // 21
    "\n"                         // 22
    "1 0.1 0.0 0.0\n"            // 23
    "2 0.0 0.1 0.0\n"            // 24
    "3 0.0 0.0 0.1\n";           // 25

// A small valid extended XYZ file (one frame, 3 atoms).
const char* const kGoodXyz =
    "3\n"                                                                           // 1
    "Lattice=\"5 0 0 0 5 0 0 0 5\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n"  // 2
    "Si 0 0 0\n"                                                                    // 3
    "Si 1 1 1\n"                                                                    // 4
    "O 2 2 2\n";                                                                    // 5

}  // namespace

TEST_SUITE_BEGIN("structure_io");

// ---------------------------------------------------------------- lattices

TEST_CASE("lattice: atom counts, nearest-neighbour distance and coordination") {
  struct Case {
    const char* kind;
    std::array<int, 3> repeat;
    std::size_t natoms;
    double nn_over_a;
    double coordination;
  };
  const double a = 3.5;
  const Case cases[] = {
      {"sc", {3, 3, 3}, 27, 1.0, 6},
      {"bcc", {3, 3, 3}, 54, std::sqrt(3.0) / 2, 8},
      {"fcc", {3, 3, 3}, 108, 1 / std::sqrt(2.0), 12},
      {"diamond", {3, 3, 3}, 216, std::sqrt(3.0) / 4, 4},
      {"hcp", {3, 2, 2}, 48, 1.0, 12},
  };
  for (const Case& c : cases) {
    CAPTURE(c.kind);
    const md::Structure s = md::make_lattice(spec(c.kind, a, c.repeat, {"Cu"}));
    REQUIRE(s.size() == c.natoms);
    CHECK(md::lattice_basis_size(c.kind) * c.repeat[0] * c.repeat[1] * c.repeat[2] ==
          static_cast<int>(c.natoms));
    const FirstShell shell = first_shell(s);
    CHECK(shell.r12 == doctest::Approx(c.nn_over_a * a).epsilon(1e-12));
    CHECK(shell.neighbours_per_atom == doctest::Approx(c.coordination));
    CHECK(s.type_names == std::vector<std::string>{"Cu"});
    CHECK(s.type_masses == std::vector<double>{63.546});
    CHECK(s.id.front() == 1);
    CHECK(s.id.back() == static_cast<std::int64_t>(c.natoms));
    CHECK_FALSE(s.box.triclinic());
    CHECK_FALSE(s.has_velocities);
    for (int d = 0; d < 3; ++d) {
      CHECK(s.box.lo[d] == 0.0);
      CHECK(s.box.periodic[d] == 1);
    }
  }
}

TEST_CASE("lattice: hcp cell shape, explicit c and per-site elements") {
  md::LatticeSpec ls = spec("hcp", 2.0, {2, 1, 3}, {"Ti"});
  md::Structure ideal = md::make_lattice(ls);
  CHECK(ideal.box.l[0] == doctest::Approx(4.0));
  CHECK(ideal.box.l[1] == doctest::Approx(2.0 * std::sqrt(3.0)));
  CHECK(ideal.box.l[2] == doctest::Approx(3 * 2.0 * std::sqrt(8.0 / 3.0)));
  ls.c = 3.5;
  const md::Structure squashed = md::make_lattice(ls);
  CHECK(squashed.box.l[2] == doctest::Approx(10.5));

  // Zincblende: the diamond basis with one element per site; every nearest pair is Ga-As.
  const md::Structure gaas = md::make_lattice(
      spec("diamond", 5.65, {2, 2, 2}, {"Ga", "Ga", "Ga", "Ga", "As", "As", "As", "As"}));
  CHECK(gaas.type_names == std::vector<std::string>{"Ga", "As"});
  CHECK(gaas.type_masses[0] == doctest::Approx(69.723));
  CHECK(gaas.type_masses[1] == doctest::Approx(74.921595));
  const double nn = 5.65 * std::sqrt(3.0) / 4;
  for (std::size_t i = 0; i < gaas.size(); ++i) {
    for (std::size_t j = i + 1; j < gaas.size(); ++j) {
      double d[3] = {gaas.x[j] - gaas.x[i], gaas.y[j] - gaas.y[i], gaas.z[j] - gaas.z[i]};
      for (int k = 0; k < 3; ++k) d[k] -= gaas.box.l[k] * std::round(d[k] / gaas.box.l[k]);
      const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
      if (std::abs(r - nn) < 1e-9) CHECK(gaas.type[i] != gaas.type[j]);
    }
  }
  CHECK(md::element_mass("Xx") == 0.0);
  CHECK(md::make_lattice(spec("sc", 1.0, {1, 1, 1}, {"Xx"})).type_masses[0] == 0.0);
}

TEST_CASE("lattice: bad specifications name the key") {
  CHECK_INPUT_ERROR(md::make_lattice(spec("foo", 3.0, {1, 1, 1}, {"Cu"})), "[system] lattice.kind",
                    "\"foo\"", "sc, bcc, fcc, hcp, diamond");
  CHECK_INPUT_ERROR(md::make_lattice(spec("fcc", 0.0, {1, 1, 1}, {"Cu"})), "[system] lattice.a");
  CHECK_INPUT_ERROR(md::make_lattice(spec("fcc", -1.0, {1, 1, 1}, {"Cu"})), "lattice.a");
  CHECK_INPUT_ERROR(md::make_lattice(spec("fcc", 3.0, {1, 0, 1}, {"Cu"})),
                    "[system] lattice.repeat");
  CHECK_INPUT_ERROR(md::make_lattice(spec("fcc", 3.0, {1, 1, 1}, {"Cu", "Ag"})),
                    "[system] lattice.elements", "1 name or 4 names");
  CHECK_INPUT_ERROR(md::make_lattice(spec("fcc", 3.0, {1, 1, 1}, {})), "lattice.elements");
  md::LatticeSpec with_c = spec("bcc", 3.0, {1, 1, 1}, {"Fe"});
  with_c.c = 4.0;
  CHECK_INPUT_ERROR(md::make_lattice(with_c), "[system] lattice.c", "only used by hcp");
}

// ---------------------------------------------------------------- LAMMPS data files

TEST_CASE("lammps data: triclinic file with ids out of order, images and velocities") {
  TempDir tmp;
  const std::string path = tmp.file("tri.data");
  write_text(path,
             "LAMMPS data file via write_data\n"
             "\n"
             "4 atoms\n"
             "2 atom types\n"
             "0 bonds  # ignored when zero\n"
             "\n"
             "0.0 4.0 xlo xhi\n"
             "-1.0 3.0 ylo yhi\n"
             "0.5 5.5 zlo zhi\n"
             "1.0 -0.5 0.25 xy xz yz\n"
             "\n"
             "Masses\n"
             "\n"
             "1 63.546 # Cu\n"
             "2 107.8682 # Ag\n"
             "\n"
             "Atoms # atomic\n"
             "\n"
             "3 2 1.0 1.0 1.0 0 0 1\n"
             "1 1 0.0 0.0 0.0 0 0 0\n"
             "4 1 2.0 2.0 2.0 3 -2 0\n"
             "2 2 0.5 0.5 0.5 -1 2 0\n"
             "\n"
             "Velocities\n"
             "\n"
             "4 4.0 0.0 0.0\n"
             "2 2.0 0.0 0.0\n"
             "1 1.0 0.0 0.0\n"
             "3 3.0 0.0 -1e-3\n");
  const md::Structure s = md::read_lammps_data(path, {});
  REQUIRE(s.size() == 4);
  CHECK(s.box.lo[0] == 0.0);
  CHECK(s.box.lo[1] == -1.0);
  CHECK(s.box.lo[2] == 0.5);
  CHECK(s.box.l[0] == 4.0);
  CHECK(s.box.l[1] == 4.0);
  CHECK(s.box.l[2] == 5.0);
  CHECK(s.box.xy == 1.0);
  CHECK(s.box.xz == -0.5);
  CHECK(s.box.yz == 0.25);
  CHECK(s.box.triclinic());
  CHECK(s.type_names == std::vector<std::string>{"Cu", "Ag"});
  CHECK(s.type_masses == std::vector<double>{63.546, 107.8682});
  CHECK(s.id == std::vector<std::int64_t>{3, 1, 4, 2});
  CHECK(s.type == std::vector<int>{1, 0, 0, 1});
  CHECK(s.x == std::vector<double>{1.0, 0.0, 2.0, 0.5});
  CHECK(s.ix == std::vector<int>{0, 0, 3, -1});
  CHECK(s.iy == std::vector<int>{0, 0, -2, 2});
  CHECK(s.iz == std::vector<int>{1, 0, 0, 0});
  REQUIRE(s.has_velocities);
  CHECK(s.vx == std::vector<double>{3.0, 1.0, 4.0, 2.0});
  CHECK(s.vz == std::vector<double>{-1e-3, 0.0, 0.0, 0.0});

  // Explicit type names override the Masses comments.
  const md::Structure named = md::read_lammps_data(path, {"A", "B"});
  CHECK(named.type_names == std::vector<std::string>{"A", "B"});
}

TEST_CASE("lammps data: type names from labels, comments or numbers; no Velocities") {
  TempDir tmp;
  const std::string path = tmp.file("labels.data");
  // Without Masses comments the names are "1", "2"; no Velocities -> has_velocities false.
  std::string text = replace_line(kGoodData, 12, "1 1.0");
  text = replace_line(text, 13, "2 2.0");
  text = replace_line(text, 21, "");
  for (int k = 22; k <= 25; ++k) text = replace_line(text, k, "");
  write_text(path, text);
  md::Structure s = md::read_lammps_data(path, {});
  CHECK(s.type_names == std::vector<std::string>{"1", "2"});
  CHECK_FALSE(s.has_velocities);
  CHECK(s.vx.empty());

  // An Atom Type Labels section names types; Atoms may then use labels.
  text = replace_line(kGoodData, 18, "2 O 2.0 2.0 2.0");
  text = replace_line(text, 9, "\nAtom Type Labels\n\n1 Si\n2 O\n");
  write_text(path, text);
  s = md::read_lammps_data(path, {});
  CHECK(s.type_names == std::vector<std::string>{"Si", "O"});
  CHECK(s.type == std::vector<int>{0, 1, 0});
}

TEST_CASE("lammps data: write -> read round trip is exact") {
  TempDir tmp;
  const std::string path = tmp.file("roundtrip.data");
  const md::Structure original = awkward_structure();
  md::write_lammps_data(path, original, "units metal");
  CHECK_FALSE(fs::exists(path + ".tmp"));
  const md::Structure back = md::read_lammps_data(path, {});
  check_same_structure(original, back);
  CHECK(back.ix == original.ix);
  CHECK(back.iy == original.iy);
  CHECK(back.iz == original.iz);

  // Orthogonal box without velocities: no tilt line, no Velocities section.
  md::Structure plain = md::make_lattice(spec("bcc", 2.87, {2, 2, 2}, {"Fe"}));
  md::write_lammps_data(path, plain, "");
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text.find("xy xz yz") == std::string::npos);
  CHECK(text.find("Velocities") == std::string::npos);
  CHECK(text.find("1 55.845 # Fe") != std::string::npos);
  check_same_structure(plain, md::read_lammps_data(path, {}));

  // A shifted origin reproduces lo exactly (l = hi - lo may round in the last bit).
  plain.box.lo[0] = -1.0 / 3.0;
  md::write_lammps_data(path, plain, "");
  const md::Structure shifted = md::read_lammps_data(path, {});
  CHECK(shifted.box.lo[0] == plain.box.lo[0]);
  CHECK(shifted.box.l[0] == doctest::Approx(plain.box.l[0]).epsilon(1e-15));
}

TEST_CASE("lammps data: bad input throws InputError with file and line") {
  TempDir tmp;
  const std::string path = tmp.file("bad.data");
  const std::string good = kGoodData;
  auto read_with = [&](const std::string& text) {
    write_text(path, text);
    return md::read_lammps_data(path, {});
  };
  REQUIRE(read_with(good).size() == 3);
  auto at = [&](int line) { return path + ":" + std::to_string(line) + ":"; };

  SUBCASE("missing file") {
    CHECK_INPUT_ERROR(md::read_lammps_data(tmp.file("nope.data"), {}), "nope.data", "not found");
  }
  SUBCASE("missing atoms count") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 3, "")), path, "missing header", "atoms");
  }
  SUBCASE("duplicate header count") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 5, "2 atom types")), at(5), "duplicate");
  }
  SUBCASE("nonzero bonds") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 5, "4 bonds")), at(5), "atom_style atomic");
  }
  SUBCASE("nonpositive box length") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 7, "5 5 ylo yhi")), at(7), "positive");
  }
  SUBCASE("unknown header line") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 5, "3 widgets")), at(5), "unknown header");
  }
  SUBCASE("wrong number of columns") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 18, "2 2 2.0 2.0 2.0 0 0")), at(18),
                      "7 columns");
  }
  SUBCASE("non-numeric coordinate") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 18, "2 2 2.0 two 2.0")), at(18), "\"two\"");
  }
  SUBCASE("NaN coordinate") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 19, "3 1 3.0 3.0 nan")), at(19), "not finite");
  }
  SUBCASE("type out of range") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 18, "2 3 2.0 2.0 2.0")), at(18), "out of range");
  }
  SUBCASE("duplicate atom id") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 19, "1 1 3.0 3.0 3.0")), at(19),
                      "duplicate atom id 1", "line 17");
  }
  SUBCASE("fewer atoms than declared") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 3, "4 atoms")), at(21), "Atoms section",
                      "4 atoms");
  }
  SUBCASE("more atoms than declared") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 3, "2 atoms")), at(19), "outside any section");
  }
  SUBCASE("velocity for an unknown id") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 24, "7 0.0 0.1 0.0")), at(24), "atom id 7");
  }
  SUBCASE("unknown section") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 21, "Velocity")), at(21), "unknown section",
                      "\"Velocity\"");
  }
  SUBCASE("other atom style") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 15, "Atoms # full")), at(15), "\"full\"");
  }
  SUBCASE("nonpositive mass") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 13, "2 -2.0")), at(13), "mass");
  }
  SUBCASE("type names do not match atom types") {
    write_text(path, good);
    CHECK_INPUT_ERROR(md::read_lammps_data(path, {"A", "B", "C"}), at(4), "3 type names");
  }
}

// ---------------------------------------------------------------- extended XYZ

TEST_CASE("extxyz: write -> read round trip is exact, frames selectable") {
  TempDir tmp;
  const std::string path = tmp.file("traj.xyz");
  md::Structure first = awkward_structure();
  first.box.lo[0] = -0.25;
  first.box.lo[2] = 1.0 / 3.0;
  first.box.periodic[2] = 0;
  for (std::size_t k = 0; k < first.size(); ++k) first.ix[k] = first.iy[k] = first.iz[k] = 0;
  md::Structure second = first;
  for (double& x : second.x) x += 0.125;
  std::vector<double> forces(3 * first.size()), energies(first.size());
  for (std::size_t k = 0; k < forces.size(); ++k) forces[k] = std::sin(1.0 * k);
  for (std::size_t k = 0; k < energies.size(); ++k) energies[k] = -3.5 + 1e-9 * k;
  {
    std::ofstream out(path);
    md::append_extxyz_frame(out, first, 0, 0.0, -123.25, true, &forces, &energies);
    md::append_extxyz_frame(out, second, 100, 0.1, -123.0, true, nullptr, nullptr);
  }
  check_same_structure(first, md::read_extxyz(path, 0));
  check_same_structure(second, md::read_extxyz(path, 1));
  check_same_structure(second, md::read_extxyz(path));
  check_same_structure(first, md::read_extxyz(path, -2));

  std::ifstream in(path);
  std::string count, comment;
  std::getline(in, count);
  std::getline(in, comment);
  CHECK(count == std::to_string(first.size()));
  CHECK(comment.find("Properties=species:S:1:pos:R:3:vel:R:3:forces:R:3:energies:R:1") !=
        std::string::npos);
  CHECK(comment.find("pbc=\"T T F\"") != std::string::npos);
  CHECK(comment.find("energy=-123.25") != std::string::npos);
  CHECK(comment.find("time=0.0") != std::string::npos);

  // Without velocities the reader reports none.
  md::Structure still = md::make_lattice(spec("fcc", 4.05, {1, 1, 1}, {"Al"}));
  std::ostringstream text;
  md::append_extxyz_frame(text, still, 0, 0.0, 0.0, false, nullptr, nullptr);
  write_text(path, text.str());
  const md::Structure back = md::read_extxyz(path);
  CHECK_FALSE(back.has_velocities);
  check_same_structure(still, back);
}

TEST_CASE("extxyz: a general cell is rotated to LAMMPS form, distances and volume kept") {
  // A triclinic cell in LAMMPS form, rotated by an arbitrary proper rotation q.
  const double lx = 5.0, ly = 4.5, lz = 6.0, xy = 1.0, xz = -0.7, yz = 0.9;
  const double cell[3][3] = {{lx, 0, 0}, {xy, ly, 0}, {xz, yz, lz}};
  const double axis_norm = std::sqrt(1.0 + 4.0 + 9.0);
  const double u[3] = {1 / axis_norm, -2 / axis_norm, 3 / axis_norm};
  const double angle = 1.1, c = std::cos(angle), s = std::sin(angle);
  double q[3][3];
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 3; ++j) q[i][j] = (i == j ? c : 0) + (1 - c) * u[i] * u[j];
  }
  q[0][1] -= s * u[2];
  q[0][2] += s * u[1];
  q[1][0] += s * u[2];
  q[1][2] -= s * u[0];
  q[2][0] -= s * u[1];
  q[2][1] += s * u[0];
  auto rotate = [&](const double r[3], double out[3]) {
    for (int i = 0; i < 3; ++i) out[i] = q[i][0] * r[0] + q[i][1] * r[1] + q[i][2] * r[2];
  };

  std::vector<std::array<double, 3>> positions = {
      {0.1, 0.2, 0.3}, {2.5, 1.0, 4.0}, {4.9, 4.4, 5.9}, {-1.0, 3.0, 2.0}, {1.5, 0.0, 0.7}};
  const std::array<double, 3> velocity = {0.3, -0.4, 1.2};
  std::ostringstream text;
  text.precision(17);
  text << positions.size() << "\nLattice=\"";
  for (int v = 0; v < 3; ++v) {
    double rv[3];
    rotate(cell[v], rv);
    text << rv[0] << ' ' << rv[1] << ' ' << rv[2] << (v < 2 ? " " : "\"");
  }
  text << " Properties=species:S:1:pos:R:3:tags:I:1:velo:R:3:flags:L:2 comment=\"a b=c\"\n";
  double rvel[3];
  rotate(velocity.data(), rvel);
  for (const auto& p : positions) {
    double rp[3];
    rotate(p.data(), rp);
    text << "Ni " << rp[0] << ' ' << rp[1] << ' ' << rp[2] << " 7 " << rvel[0] << ' ' << rvel[1]
         << ' ' << rvel[2] << " T F\n";
  }
  TempDir tmp;
  const std::string path = tmp.file("rotated.xyz");
  write_text(path, text.str());

  const md::Structure st = md::read_extxyz(path);
  REQUIRE(st.size() == positions.size());
  CHECK(st.box.l[0] == doctest::Approx(lx).epsilon(1e-12));
  CHECK(st.box.l[1] == doctest::Approx(ly).epsilon(1e-12));
  CHECK(st.box.l[2] == doctest::Approx(lz).epsilon(1e-12));
  CHECK(st.box.xy == doctest::Approx(xy).epsilon(1e-12));
  CHECK(st.box.xz == doctest::Approx(xz).epsilon(1e-12));
  CHECK(st.box.yz == doctest::Approx(yz).epsilon(1e-12));
  CHECK(st.box.volume() == doctest::Approx(lx * ly * lz).epsilon(1e-12));
  CHECK(st.type_names == std::vector<std::string>{"Ni"});
  CHECK(st.type_masses[0] == doctest::Approx(58.6934));
  for (std::size_t i = 0; i < positions.size(); ++i) {
    // Rotating back to LAMMPS form recovers the original coordinates.
    CHECK(st.x[i] == doctest::Approx(positions[i][0]).epsilon(1e-12).scale(10));
    CHECK(st.y[i] == doctest::Approx(positions[i][1]).epsilon(1e-12).scale(10));
    CHECK(st.z[i] == doctest::Approx(positions[i][2]).epsilon(1e-12).scale(10));
    CHECK(st.vx[i] == doctest::Approx(velocity[0]).epsilon(1e-12));
    CHECK(st.vz[i] == doctest::Approx(velocity[2]).epsilon(1e-12));
    for (std::size_t j = i + 1; j < positions.size(); ++j) {
      const double d0[3] = {positions[j][0] - positions[i][0], positions[j][1] - positions[i][1],
                            positions[j][2] - positions[i][2]};
      const double d1[3] = {st.x[j] - st.x[i], st.y[j] - st.y[i], st.z[j] - st.z[i]};
      const double r0 = std::sqrt(d0[0] * d0[0] + d0[1] * d0[1] + d0[2] * d0[2]);
      const double r1 = std::sqrt(d1[0] * d1[0] + d1[1] * d1[1] + d1[2] * d1[2]);
      CHECK(r1 == doctest::Approx(r0).epsilon(1e-12));
    }
  }
}

TEST_CASE("extxyz: bad input throws InputError with file and line") {
  TempDir tmp;
  const std::string path = tmp.file("bad.xyz");
  const std::string good = kGoodXyz;
  auto read_with = [&](const std::string& text, int frame = -1) {
    write_text(path, text);
    return md::read_extxyz(path, frame);
  };
  REQUIRE(read_with(good).size() == 3);
  auto at = [&](int line) { return path + ":" + std::to_string(line) + ":"; };

  SUBCASE("missing file") {
    CHECK_INPUT_ERROR(md::read_extxyz(tmp.file("nope.xyz")), "nope.xyz", "not found");
  }
  SUBCASE("bad atom count") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 1, "three")), at(1), "number of atoms");
  }
  SUBCASE("truncated frame") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 1, "4")), at(5), "expected 4 atom lines");
  }
  SUBCASE("no Lattice") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 2, "Properties=species:S:1:pos:R:3")), at(2),
                      "Lattice");
  }
  SUBCASE("left-handed cell") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 2, "Lattice=\"5 0 0 0 5 0 0 0 -5\"")), at(2),
                      "left-handed");
  }
  SUBCASE("degenerate cell") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 2, "Lattice=\"5 0 0 0 5 0 5 5 0\"")), at(2),
                      "degenerate");
  }
  SUBCASE("Lattice with too few numbers") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 2, "Lattice=\"5 0 0 0 5 0 0 0\"")), at(2),
                      "9 numbers");
  }
  SUBCASE("unterminated quote") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 2, "Lattice=\"5 0 0 0 5 0 0 0 5")), at(2),
                      "unterminated");
  }
  SUBCASE("no species column") {
    CHECK_INPUT_ERROR(
        read_with(replace_line(good, 2, "Lattice=\"5 0 0 0 5 0 0 0 5\" Properties=pos:R:3")), at(2),
        "species");
  }
  SUBCASE("malformed Properties") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 2,
                                             "Lattice=\"5 0 0 0 5 0 0 0 5\" "
                                             "Properties=species:S:1:pos:X:3")),
                      at(2), "type \"X\"");
  }
  SUBCASE("wrong number of columns") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 4, "Si 1 1")), at(4), "3 columns");
  }
  SUBCASE("non-numeric position") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 5, "O 2 x 2")), at(5), "\"x\"");
  }
  SUBCASE("infinite position") {
    CHECK_INPUT_ERROR(read_with(replace_line(good, 5, "O 2 inf 2")), at(5), "not finite");
  }
  SUBCASE("frame out of range") {
    CHECK_INPUT_ERROR(read_with(good, 3), path, "frame 3", "1 frame");
  }
  SUBCASE("blank line between frames") {
    CHECK_INPUT_ERROR(read_with(good + "\n" + good), at(6), "blank line");
  }
}

TEST_SUITE_END();
