// How far a rank imports (engine/potential.hpp, Potential::import_distance): cutoff + skin for
// pair styles, 2 cutoff + skin for many-body models, 2 L cutoff + skin for message-passing
// models of L layers, the widest term for an overlay; io/parallel_config.cpp uses it, and
// refuses a potential whose several_ranks_refusal() is not empty. The margin check's cell term
// (kernels/neighbor_kernels.hpp, margin_delta) compares cells modulo lattice vectors. Lengths
// in Angstrom / sigma.
#include <doctest/doctest.h>

#include <cstring>

#include "io/parallel_config.hpp"
#include "kernels/neighbor_kernels.hpp"
#include "models/hipnn/hipnn.hpp"
#include "models/schnet/schnet.hpp"
#include "potential_checks.hpp"
#include "support.hpp"

namespace md {

TEST_SUITE("import_distance") {
  EXEC_TEST_CASE("pair styles cutoff + skin, many-body 2 cutoff + skin, message passing 2 L cutoff + skin") {
    Context ctx(test::backend());
    const double skin = 0.5;
    auto lj = test::potential_from_toml(
        ctx, {"A"}, "style = \"lj\"\ncutoff = 2.5\npairs = [{ types = [\"A\", \"A\"], epsilon = 1.0, sigma = 1.0 }]\n");
    CHECK(import_distance(*lj, skin) == doctest::Approx(3.0).epsilon(1e-15));
    CHECK(lj->import_rule(skin) == "cutoff + skin");
    auto zbl = test::potential_from_toml(ctx, {"Cu"}, "style = \"zbl\"\ninner = 1.5\nouter = 2.6\n");
    CHECK(import_distance(*zbl, skin) == doctest::Approx(3.1).epsilon(1e-15));
    const std::string eam_file = test::source_path("inputs/potentials/Cu_u3.eam");
    const std::string eam = "style = \"eam\"\nfile = \"" + eam_file + "\"\n";
    auto e = test::potential_from_toml(ctx, {"Cu"}, eam);
    CHECK(import_distance(*e, skin) == doctest::Approx(2.0 * e->cutoff() + skin).epsilon(1e-15));
    CHECK(e->import_rule(skin) == "2 x cutoff + skin");
    CHECK(e->several_ranks_refusal().empty());
    // SchNet: 2 interaction blocks, rc 4.5 -> 2 x 2 x 4.5 + 0.5
    auto sn = test::potential_from_toml(
        ctx, {"Cu"}, "style = \"schnet\"\nmodel = \"" + test::source_path("inputs/schnet/cuau_emt.schnet.h5") + "\"\n");
    CHECK(import_distance(*sn, skin) == doctest::Approx(18.5).epsilon(1e-15));
    CHECK(sn->import_rule(skin) == "2 x 2 interactions x cutoff + skin");
    CHECK(sn->several_ranks_refusal().empty());
    // HIP-NN: 2 interaction layers, rc 4 -> 16.5
    auto hn = test::potential_from_toml(
        ctx, {"Cu"}, "style = \"hipnn\"\nmodel = \"" + test::source_path("tests/data/hipnn/resnet.hipnn.h5") + "\"\n");
    CHECK(import_distance(*hn, skin) == doctest::Approx(16.5).epsilon(1e-15));
    CHECK(hn->several_ranks_refusal().empty());
    // overlay: the widest term (EAM's 2 rc + skin over ZBL's rc + skin)
    auto sum = test::potential_from_toml(
        ctx, {"Cu"}, "style = \"overlay\"\n[[potential.terms]]\nstyle = \"zbl\"\ninner = 1.5\nouter = 2.6\n"
                     "[[potential.terms]]\n" + eam);
    CHECK(import_distance(*sum, skin) == doctest::Approx(2.0 * e->cutoff() + skin).epsilon(1e-15));
    CHECK(sum->import_rule(skin) == "2 x cutoff + skin of eam");
  }

  TEST_CASE("margin check: cells compared modulo lattice vectors (a flip is no deformation)") {
    Box ref;
    ref.l[0] = 10.0;
    ref.l[1] = 9.0;
    ref.l[2] = 8.0;
    ref.xy = 5.9;  // near LAMMPS' flip limit 0.6 lx
    ref.xz = -2.0;
    ref.yz = 5.3;
    // a slightly deformed cell, then the same cell flipped as the Nose-Hoover barostat flips
    // (yz -= ly with xz -= xy, xy -= lx): the same lattice, other basis vectors
    Box now = ref;
    now.l[0] = 10.02;
    now.xy = 6.05;
    now.yz = 5.41;
    Box flipped = now;
    flipped.yz -= flipped.l[1];
    flipped.xz -= flipped.xy;
    flipped.xy -= flipped.l[0];
    const double margin = 1.25;
    const double d_now = margin_delta(now, ref, margin);
    CHECK(d_now > 0.0);
    CHECK(d_now == rebuild_delta(now, ref, margin));  // no flip: the one-rank term, bitwise
    CHECK(rebuild_delta(flipped, ref, margin) == 0.0);  // the one-rank term sees lattice jumps
    CHECK(margin_delta(flipped, ref, margin) == doctest::Approx(d_now).epsilon(1e-12));
    // the basis found undoes the flip; image flags follow it (the same unwrapped position)
    int k[3];
    const Box back = nearest_basis(flipped, ref, k);
    CHECK(k[0] == 1);
    CHECK(k[1] == 1);  // c' = c_flipped + b_flipped + a = c
    CHECK(k[2] == 1);
    CHECK(back.xy == doctest::Approx(now.xy).epsilon(1e-14));
    CHECK(back.xz == doctest::Approx(now.xz).epsilon(1e-14));
    CHECK(back.yz == doctest::Approx(now.yz).epsilon(1e-14));
    const int flags[3][3] = {{1, -2, 3}, {0, 1, -1}, {-4, 0, 2}};
    for (const auto& f : flags) {
      double t_flip[3], t_back[3];
      flipped.image_shift(f[0], f[1], f[2], t_flip);
      int n0 = f[0], n1 = f[1];
      to_nearest_basis_images(k, n0, n1, f[2]);
      back.image_shift(n0, n1, f[2], t_back);
      for (int d = 0; d < 3; ++d) CHECK(t_back[d] == doctest::Approx(t_flip[d]).epsilon(1e-13));
    }
    // an orthogonal cell: k = 0, the cell itself
    Box cube;
    cube.l[0] = cube.l[1] = cube.l[2] = 7.0;
    Box grown = cube;
    grown.l[2] = 7.3;
    const Box same = nearest_basis(grown, cube, k);
    CHECK(k[0] == 0);
    CHECK(k[1] == 0);
    CHECK(k[2] == 0);
    CHECK(std::memcmp(&same, &grown, sizeof(Box)) == 0);
    CHECK(margin_delta(grown, cube, margin) == rebuild_delta(grown, cube, margin));
  }

  EXEC_TEST_CASE("schnet with a whole-system mean offset is refused on several ranks") {
    Context ctx(test::backend());
    schnet::Params p = schnet::load_model(test::source_path("inputs/schnet/cuau_emt.schnet.h5"));
    p.mean_per_atom = false;
    schnet::Options o;
    o.species_of_type = {0};
    schnet::SchNetPotential pot(ctx, p, o);
    CHECK(pot.several_ranks_refusal().find("mean_per_atom") != std::string::npos);
  }
}

}  // namespace md
