// Lennard-Jones through the engine (ghosts, cell list, Verlet list, pair driver) against the
// independent O(N^2) reference, finite differences, momentum conservation, LAMMPS mixing.
#include <doctest/doctest.h>

#include <algorithm>

#include "engine/error.hpp"
#include "engine/neighbor.hpp"
#include "models/lj/lj.hpp"
#include "reference/lj_reference.hpp"
#include "support.hpp"

using namespace md;

namespace {

LJParams lj_params(int ntypes, const std::vector<ref::LJPair>& explicit_pairs, bool shift) {
  LJParams p;
  p.n_types = ntypes;
  p.shift = shift;
  p.pair.resize(explicit_pairs.size());
  for (std::size_t k = 0; k < explicit_pairs.size(); ++k)
    p.pair[k] = {explicit_pairs[k].epsilon, explicit_pairs[k].sigma, explicit_pairs[k].cutoff, true};
  return p;
}

void check_against_reference(const Structure& s, const std::vector<ref::LJPair>& pairs,
                             bool shift, double skin = 0.3) {
  Context ctx(test::backend());
  LJPotential pot(ctx, lj_params(static_cast<int>(s.type_names.size()), pairs, shift));
  const test::Forces f = test::engine_forces(ctx, s, pot, Units::lj(), skin);
  const ref::Result r = ref::lj_bruteforce(s, pairs, shift);
  CHECK(test::rel_err(f.energy, r.energy) < 1e-12);
  double fmax = 0, ferr = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    fmax = std::max({fmax, std::abs(r.fx[i]), std::abs(r.fy[i]), std::abs(r.fz[i])});
    ferr = std::max({ferr, std::abs(f.fx[i] - r.fx[i]), std::abs(f.fy[i] - r.fy[i]),
                     std::abs(f.fz[i] - r.fz[i])});
    CHECK(std::abs(f.e_atom[i] - r.e_atom[i]) < 1e-12 * std::max(1.0, std::abs(r.e_atom[i])));
  }
  CHECK(fmax > 0.1);  // the configuration really has forces
  CHECK(ferr / fmax < 1e-12);
  double vscale = 0;
  for (int c = 0; c < 6; ++c) vscale = std::max(vscale, std::abs(r.virial[c]));
  for (int c = 0; c < 6; ++c) CHECK(std::abs(f.virial[c] - r.virial[c]) / vscale < 1e-12);
}

}  // namespace

TEST_SUITE("lj") {
  EXEC_TEST_CASE("cubic box matches the O(N^2) reference") {
    const Structure s = test::perturbed_fcc(test::cubic_box(4 * 1.6796), 4, 0.08, 1);
    check_against_reference(s, {{1.0, 1.0, 2.5}}, false);
    check_against_reference(s, {{1.0, 1.0, 2.5}}, true);
  }
  EXEC_TEST_CASE("triclinic box matches the O(N^2) reference") {
    const Box b = test::triclinic_box(7.0, 6.5, 6.8, 1.9, -1.2, 0.8);
    const Structure s = test::perturbed_fcc(b, 4, 0.08, 2);
    check_against_reference(s, {{1.0, 1.0, 2.5}}, false);
  }
  EXEC_TEST_CASE("box shorter than twice the cutoff (images interact)") {
    const Structure s = test::perturbed_fcc(test::cubic_box(2 * 1.6796), 2, 0.1, 3);
    check_against_reference(s, {{1.0, 1.0, 2.5}}, false);
    const Box tb = test::triclinic_box(3.4, 3.3, 3.6, 1.1, 0.7, -1.2);
    check_against_reference(test::perturbed_fcc(tb, 2, 0.1, 4), {{1.0, 1.0, 3.0}}, true);
  }
  EXEC_TEST_CASE("two types with per-pair cutoffs, and large skin") {
    const Box b = test::triclinic_box(6.8, 6.8, 6.8, 0.5, 0.0, -0.9);
    const Structure s = test::perturbed_fcc(b, 4, 0.05, 5, 2);
    std::vector<ref::LJPair> p = {{1.0, 1.0, 2.5}, {0.7, 1.1, 2.8}, {0.7, 1.1, 2.8}, {0.5, 1.2, 3.0}};
    check_against_reference(s, p, true, 1.1);
  }
  EXEC_TEST_CASE("non-periodic dimension") {
    Structure s = test::perturbed_fcc(test::cubic_box(4 * 1.6796), 4, 0.08, 6);
    s.box.periodic[2] = 0;
    check_against_reference(s, {{1.0, 1.0, 2.5}}, false);
  }

  EXEC_TEST_CASE("forces are -grad E by central differences; total force vanishes") {
    Context ctx(test::backend());
    const Box b = test::triclinic_box(6.9, 6.7, 7.1, 0.9, -0.4, 0.6);
    Structure s = test::perturbed_fcc(b, 4, 0.08, 7, 2);
    std::vector<ref::LJPair> p = {{1.0, 1.0, 2.5}, {0.8, 1.05, 2.5}, {0.8, 1.05, 2.5}, {0.6, 1.1, 2.5}};
    LJPotential pot(ctx, lj_params(2, p, true));
    const test::Forces f0 = test::engine_forces(ctx, s, pot, Units::lj());
    double sx = 0, sy = 0, sz = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      sx += f0.fx[i];
      sy += f0.fy[i];
      sz += f0.fz[i];
    }
    CHECK(std::abs(sx) < 1e-10);
    CHECK(std::abs(sy) < 1e-10);
    CHECK(std::abs(sz) < 1e-10);
    const double h = 1e-5;
    for (std::size_t i : {0ul, 17ul, 101ul, 255ul}) {
      for (int d = 0; d < 3; ++d) {
        auto coord = [&](Structure& t) -> double& { return d == 0 ? t.x[i] : (d == 1 ? t.y[i] : t.z[i]); };
        Structure sp = s, sm = s;
        coord(sp) += h;
        coord(sm) -= h;
        const double ep = test::engine_forces(ctx, sp, pot, Units::lj()).energy;
        const double em = test::engine_forces(ctx, sm, pot, Units::lj()).energy;
        const double fd = -(ep - em) / (2 * h);
        const double fa = d == 0 ? f0.fx[i] : (d == 1 ? f0.fy[i] : f0.fz[i]);
        CAPTURE(i);
        CAPTURE(d);
        CHECK(std::abs(fd - fa) < 1e-6 * std::max(1.0, std::abs(fa)));
      }
    }
  }

  TEST_CASE("LAMMPS mixing rules for unset cross pairs") {
    LJParams p;
    p.n_types = 2;
    p.pair.assign(4, LJPairParams{});
    p.pair[0] = {1.0, 1.0, 2.5, true};
    p.pair[3] = {0.25, 2.0, 5.0, true};
    const std::vector<std::string> names = {"A", "B"};
    LJParams g = p;
    g.complete(names);
    CHECK(g.pair[1].epsilon == doctest::Approx(0.5));
    CHECK(g.pair[1].sigma == doctest::Approx(std::sqrt(2.0)));
    CHECK(g.pair[1].cutoff == doctest::Approx(std::sqrt(12.5)));
    LJParams a = p;
    a.mixing = Mixing::arithmetic;
    a.complete(names);
    CHECK(a.pair[2].sigma == doctest::Approx(1.5));
    CHECK(a.pair[2].cutoff == doctest::Approx(3.75));
    LJParams six = p;
    six.mixing = Mixing::sixthpower;
    six.complete(names);
    CHECK(six.pair[1].sigma == doctest::Approx(std::pow(0.5 * (1 + 64), 1.0 / 6.0)));
    CHECK(six.pair[1].epsilon == doctest::Approx(2 * 0.5 * 8.0 / 65.0));
    LJParams missing;
    missing.n_types = 2;
    missing.pair.assign(4, LJPairParams{});
    missing.pair[0] = {1.0, 1.0, 2.5, true};
    CHECK_THROWS_WITH_AS(missing.complete(names), doctest::Contains("A-B"), Error);
  }
}
