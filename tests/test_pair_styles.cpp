// zbl, table (linear, spline), morse and overlays: finite-difference forces and virial,
// momentum conservation, an overlay equals the sum of its terms, a term restricted to type
// pairs equals that style with only those pairs, and input/file errors. Agreement with
// LAMMPS is tests/lammps/test_manybody_vs_lammps.py.
#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <fstream>

#include "engine/error.hpp"
#include <functional>

#include "models/morse/morse.hpp"
#include "models/overlay/overlay.hpp"
#include "models/table/table.hpp"
#include "potential_checks.hpp"
#include "support.hpp"

using namespace md;

namespace {

Structure crystal(double a, int ntypes, std::uint64_t seed, bool triclinic, double noise = 0.04) {
  const Box b = triclinic ? test::triclinic_box(3 * a, 3 * a, 3 * a, 0.6, -0.4, 0.5)
                          : test::cubic_box(3 * a);
  Structure s = test::perturbed_fcc(b, 3, noise, seed, ntypes);
  return test::with_types(s, ntypes == 1 ? std::vector<std::string>{"Cu"}
                                         : std::vector<std::string>{"Cu", "Ni"},
                          ntypes == 1 ? std::vector<double>{63.55}
                                      : std::vector<double>{63.55, 58.69});
}

// Born-Mayer-like E(r) = A exp(-r/rho) - C/r^6 in the LAMMPS table format: section BM_R on a
// grid linear in r (n points), section BM_RSQ linear in r^2 with FPRIME.
std::string write_table(int n) {
  const double A = 1500.0, rho = 0.30, C = 12.0, rlo = 1.2, rhi = 6.5;
  auto e = [&](double r) { return A * std::exp(-r / rho) - C / std::pow(r, 6); };
  auto f = [&](double r) { return A / rho * std::exp(-r / rho) - 6.0 * C / std::pow(r, 7); };
  // One file per table size and process: ctest runs the cases of this file (and their gpu:
  // twins) as separate processes at the same time.
  const std::string path = test::temp_dir() + "/bm_" + std::to_string(n) + "_" +
                           std::to_string(static_cast<long>(::getpid())) + ".table";
  std::ofstream out(path);
  out.precision(17);
  out << "# test table\n\nBM_R\nN " << n << " R " << rlo << " " << rhi << "\n\n";
  for (int i = 0; i < n; ++i) {
    const double r = rlo + (rhi - rlo) * i / (n - 1);
    out << i + 1 << " " << r << " " << e(r) << " " << f(r) << "\n";
  }
  out << "\nBM_RSQ\nN " << n << " RSQ " << rlo << " " << rhi << " FPRIME "
      << -A / (rho * rho) * std::exp(-rlo / rho) << " " << -A / (rho * rho) * std::exp(-rhi / rho)
      << "\n\n";
  for (int i = 0; i < n; ++i) {
    const double r = std::sqrt(rlo * rlo + (rhi * rhi - rlo * rlo) * i / (n - 1));
    out << i + 1 << " " << r << " " << e(r) << " " << f(r) << "\n";
  }
  return path;
}

// Smallest |r - c| over all pairs (periodic images within one cell) and cutoffs c: finite
// differences are meaningless for a pair that crosses a cutoff where the force jumps.
double gap_to_cutoffs(const Structure& s, const std::vector<double>& cutoffs) {
  double gap = 1e300;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      for (int a = -1; a <= 1; ++a)
        for (int b = -1; b <= 1; ++b)
          for (int c = -1; c <= 1; ++c) {
            double t[3];
            s.box.image_shift(a, b, c, t);
            const double dx = s.x[i] - s.x[j] - t[0], dy = s.y[i] - s.y[j] - t[1],
                         dz = s.z[i] - s.z[j] - t[2];
            const double r = std::sqrt(dx * dx + dy * dy + dz * dz);
            for (double cut : cutoffs) gap = std::min(gap, std::abs(r - cut));
          }
  return gap;
}

const char* kMorse =
    "style = \"morse\"\ncutoff = 6.0\nshift = true\npairs = [\n"
    "  { types = [\"Cu\", \"Cu\"], d0 = 0.3429, alpha = 1.3588, r0 = 2.866 },\n"
    "  { types = [\"Cu\", \"Ni\"], d0 = 0.38, alpha = 1.40, r0 = 2.80, cutoff = 5.0 },\n"
    "  { types = [\"Ni\", \"Ni\"], d0 = 0.4205, alpha = 1.4199, r0 = 2.780 },\n]\n";

void expect_input_error(const std::function<void()>& fn, const std::string& words) {
  try {
    fn();
    FAIL("expected an InputError mentioning " << words);
  } catch (const InputError& e) {
    CHECK_MESSAGE(std::string(e.what()).find(words) != std::string::npos, e.what());
  }
}

}  // namespace

TEST_SUITE("pair_styles") {
  EXEC_TEST_CASE("zbl: finite differences across the switching region + virial + momentum") {
    Context ctx(test::backend());
    const std::string toml = "style = \"zbl\"\ninner = 1.8\nouter = 3.2\n";
    auto pot = test::potential_from_toml(ctx, {"Cu", "Ni"}, toml);
    CHECK(pot->cutoff() == 3.2);
    // a = 2.85: nearest neighbours near 2 Å, inside and across [inner, outer]
    test::check_model(test::toml_case("zbl triclinic", crystal(2.85, 2, 21, true, 0.08), toml));
    test::check_model(test::toml_case("zbl cubic", crystal(2.85, 2, 22, false, 0.08), toml));
  }

  EXEC_TEST_CASE("zbl: energy and force vanish smoothly at the outer cutoff") {
    Context ctx(test::backend());
    auto pot = test::potential_from_toml(ctx, {"Cu"}, "style = \"zbl\"\ninner = 1.0\nouter = 2.0\n");
    // Two atoms in a big box at r just inside the cutoff.
    for (double r : {1.999, 1.9999}) {
      Structure s;
      s.box = test::cubic_box(20.0);
      s.type_names = {"Cu"};
      s.type_masses = {63.55};
      s.add_atom(1, 0, 0.0, 1.0, 2.0);
      s.add_atom(2, 0, r, 1.0, 2.0);
      const test::Forces f = test::engine_forces(ctx, s, *pot, Units::metal());
      const double t = 2.0 - r;
      CHECK(std::abs(f.energy) < 1e3 * t * t * t);  // E, E', E'' are zero at outer
      CHECK(std::abs(f.fx[0]) < 1e3 * t * t);
    }
  }

  EXEC_TEST_CASE("morse: finite differences + virial + momentum - shift makes E(rc) = 0") {
    Context ctx(test::backend());
    auto pot = test::potential_from_toml(ctx, {"Cu", "Ni"}, kMorse);
    CHECK(pot->cutoff() == 6.0);
    // Morse forces jump at the cutoff: use the first perturbed crystal in which no pair lies
    // within 3e-4 Å of a cutoff (the strain steps move atoms by up to 1e-4 Å).
    std::uint64_t seed = 27;
    while (gap_to_cutoffs(crystal(3.615, 2, seed, true), {5.0, 6.0}) < 3e-4) ++seed;
    REQUIRE(seed < 200);
    const Structure s0 = crystal(3.615, 2, seed, true);
    test::check_model(test::toml_case("morse", s0, kMorse));
    Structure s;
    s.box = test::cubic_box(20.0);
    s.type_names = {"Cu", "Ni"};
    s.type_masses = {63.55, 58.69};
    s.add_atom(1, 0, 0.0, 1.0, 2.0);
    s.add_atom(2, 1, 4.99999999, 1.0, 2.0);
    CHECK(std::abs(test::engine_forces(ctx, s, *pot, Units::metal()).energy) < 1e-9);
  }

  EXEC_TEST_CASE("table: spline and linear forces against finite differences of the energy") {
    // Energies and forces are interpolated independently (as in LAMMPS), so the forces are
    // -dE/dr only to the table's accuracy; fine tables make that small.
    const std::string path = write_table(4000);
    Context ctx(test::backend());
    for (const char* style : {"spline", "linear"}) {
      const std::string toml =
          std::string("style = \"table\"\ntable_style = \"") + style + "\"\nn = 6000\npairs = [\n"
          "  { types = [\"Cu\", \"Cu\"], file = \"" + path + "\", keyword = \"BM_RSQ\" },\n"
          "  { types = [\"Cu\", \"Ni\"], file = \"" + path + "\", keyword = \"BM_R\", cutoff = 5.5 },\n"
          "  { types = [\"Ni\", \"Ni\"], file = \"" + path + "\", keyword = \"BM_R\" },\n]\n";
      auto pot = test::potential_from_toml(ctx, {"Cu", "Ni"}, toml);
      CHECK(pot->cutoff() == 6.5);
      test::LadderCase c = test::toml_case(std::string("table ") + style,
                                           crystal(3.615, 2, 24, true), toml);
      // linear: E and F are each linear in r^2 within a bin, so F matches -dE/dr only to
      // the bin resolution (measured 2.2e-3 of max|F| with 6000 bins).
      c.fd_force_rel = std::string(style) == "spline" ? 1e-6 : 5e-3;
      c.fd_virial = c.fd_force_rel;
      test::check_model(c);
    }
  }

  TEST_CASE("table: re-tabulation reproduces the file values on matching grids") {
    const std::string path = write_table(500);
    const TableFile tf = read_table_file(path, "BM_RSQ");
    CHECK(tf.ninput == 500);
    CHECK(tf.rflag == 2);
    CHECK(tf.fpflag);
    // LINEAR with N = ninput on an RSQ grid ending at the cutoff uses the file values.
    const PairTable lin = build_pair_table(tf, TableStyle::linear, 500, tf.rhi);
    for (int i : {0, 17, 499}) {
      CHECK(lin.e[i] == tf.efile[i]);
      CHECK(lin.f[i] == tf.ffile[i] / std::sqrt(lin.rsq[i]));
    }
    // A spline table evaluated at its knots returns the spline of the file: close to it.
    const PairTable sp = build_pair_table(tf, TableStyle::spline, 300, 6.0);
    CHECK(sp.rsq.front() == doctest::Approx(1.2 * 1.2));
    CHECK(sp.rsq.back() == doctest::Approx(36.0));
  }

  EXEC_TEST_CASE("overlay equals the sum of its terms - apply_to restricts a term to type pairs") {
    Context ctx(test::backend());
    const std::string eam = test::source_path("inputs/potentials/CuNi.eam.alloy");
    const Structure s = crystal(3.615, 2, 25, true);
    const Units u = Units::metal();
    auto a = test::potential_from_toml(ctx, {"Cu", "Ni"}, "style = \"eam/alloy\"\nfile = \"" + eam + "\"\n");
    auto b = test::potential_from_toml(ctx, {"Cu", "Ni"}, "style = \"zbl\"\ninner = 1.5\nouter = 2.6\n");
    auto c = test::potential_from_toml(ctx, {"Cu", "Ni"}, kMorse);
    auto sum = test::potential_from_toml(
        ctx, {"Cu", "Ni"},
        "style = \"overlay\"\n[[potential.terms]]\nstyle = \"eam/alloy\"\nfile = \"" + eam +
            "\"\n[[potential.terms]]\nstyle = \"zbl\"\ninner = 1.5\nouter = 2.6\n"
            "[[potential.terms]]\n" + std::string(kMorse));
    CHECK(sum->cutoff() == a->cutoff());  // the largest of the terms (CuNi EAM: 6.39 Å)
    const test::Forces fa = test::engine_forces(ctx, s, *a, u), fb = test::engine_forces(ctx, s, *b, u),
                       fc = test::engine_forces(ctx, s, *c, u), fs = test::engine_forces(ctx, s, *sum, u);
    CHECK(fs.energy == doctest::Approx(fa.energy + fb.energy + fc.energy).epsilon(1e-13));
    double ferr = 0, fmax = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const double ex = fa.fx[i] + fb.fx[i] + fc.fx[i], ey = fa.fy[i] + fb.fy[i] + fc.fy[i],
                   ez = fa.fz[i] + fb.fz[i] + fc.fz[i];
      fmax = std::max({fmax, std::abs(ex), std::abs(ey), std::abs(ez)});
      ferr = std::max({ferr, std::abs(fs.fx[i] - ex), std::abs(fs.fy[i] - ey), std::abs(fs.fz[i] - ez)});
      CHECK(fs.e_atom[i] == doctest::Approx(fa.e_atom[i] + fb.e_atom[i] + fc.e_atom[i]).epsilon(1e-12));
    }
    CHECK(ferr < 1e-13 * fmax);
    for (int k = 0; k < 6; ++k)
      CHECK(fs.virial[k] == doctest::Approx(fa.virial[k] + fb.virial[k] + fc.virial[k]).epsilon(1e-12));

    // morse on Cu-Ni only (the other pairs need no parameters) equals morse with only the
    // Cu-Ni entry; the overlay of it passes the finite-difference checks too.
    const std::string cuni =
        "shift = true\npairs = [{ types = [\"Cu\", \"Ni\"], d0 = 0.38, alpha = 1.40, r0 = 2.80, cutoff = 5.0 }]\n";
    auto restricted = test::potential_from_toml(
        ctx, {"Cu", "Ni"},
        "style = \"overlay\"\n[[potential.terms]]\nstyle = \"morse\"\napply_to = [\"Cu-Ni\"]\n" +
            std::string(kMorse).substr(std::string(kMorse).find("cutoff")));
    MorseParams mp;
    mp.n_types = 2;
    mp.pair.assign(4, MorsePairParams{});
    mp.pair[1] = mp.pair[2] = MorsePairParams{0.38, 1.40, 2.80, 5.0, true};
    mp.shift = true;
    MorsePotential only(ctx, mp);
    const test::Forces fr = test::engine_forces(ctx, s, *restricted, u);
    const test::Forces fo = test::engine_forces(ctx, s, only, u);
    CHECK(fr.energy == doctest::Approx(fo.energy).epsilon(1e-13));
    for (std::size_t i = 0; i < s.size(); ++i) CHECK(fr.fy[i] == doctest::Approx(fo.fy[i]).epsilon(1e-12));
    CHECK(fr.energy != doctest::Approx(fc.energy));  // the restriction did remove pairs
    test::check_model(test::toml_case(
        "overlay morse apply_to Cu-Ni", s,
        "style = \"overlay\"\n[[potential.terms]]\nstyle = \"morse\"\napply_to = [\"Cu-Ni\"]\n" +
            std::string(kMorse).substr(std::string(kMorse).find("cutoff"))));
    auto partial = test::potential_from_toml(
        ctx, {"Cu", "Ni"},
        "style = \"overlay\"\n[[potential.terms]]\nstyle = \"morse\"\napply_to = [\"Cu-Ni\"]\n" + cuni);
    CHECK(test::engine_forces(ctx, s, *partial, u).energy == doctest::Approx(fo.energy).epsilon(1e-13));
  }

  EXEC_TEST_CASE("input and file errors name the file and line and key") {
    Context ctx(test::backend());
    const std::string path = write_table(50);
    const std::vector<std::string> types = {"Cu", "Ni"};
    auto make = [&](const std::string& body) {
      return [&ctx, &types, body] { test::potential_from_toml(ctx, types, body); };
    };
    expect_input_error(make("style = \"zbl\"\ninner = 2.0\nouter = 1.0\n"), "test.toml:4: [potential] outer");
    expect_input_error(make("style = \"zbl\"\ninner = 1.0\nouter = 2.0\nz = { Cu = 29 }\nbogus = 1\n"),
                       "unknown key [potential] bogus");
    expect_input_error(make("style = \"morse\"\ncutoff = 5.0\npairs = [{ types = [\"Cu\", \"Cu\"], "
                            "d0 = 1.0, alpha = 1.0, r0 = 2.0 }]\n"),
                       "no parameters for the pair Cu-Ni");
    expect_input_error(make("style = \"table\"\ntable_style = \"linear\"\nn = 100\npairs = [{ types = "
                            "[\"Cu\", \"Cu\"], file = \"" + path + "\", keyword = \"NOPE\" }]\n"),
                       "keyword \"NOPE\" not found");
    expect_input_error(make("style = \"table\"\ntable_style = \"linear\"\nn = 100\npairs = [{ types = "
                            "[\"Cu\", \"Cu\"], file = \"" + path + "\", keyword = \"BM_R\", cutoff = 9.0 }]\n"),
                       "outside the table");
    expect_input_error(make("style = \"overlay\"\n[[potential.terms]]\nstyle = \"zbl\"\ninner = 1.0\n"
                            "outer = 2.0\napply_to = [\"Cu+Ni\"]\n"),
                       "is not a type pair");
    // a table file with a broken line
    const std::string bad = test::temp_dir() + "/bad.table";
    std::ofstream(bad) << "X\nN 3 R 1.0 2.0\n\n1 1.0 0.5 1.0\n2 1.5 zero 1.0\n3 2.0 0.0 0.0\n";
    try {
      read_table_file(bad, "X");
      FAIL("expected an InputError");
    } catch (const InputError& e) {
      CHECK(e.file() == bad);
      CHECK(e.line() == 5);
    }
  }
}
