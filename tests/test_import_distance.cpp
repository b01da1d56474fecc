// How far a rank imports (engine/potential.hpp, Potential::import_distance): cutoff + skin for
// pair styles, 2 (cutoff + skin) for many-body models, 2 L cutoff + skin for message-passing
// models of L layers, the widest term for an overlay; io/parallel_config.cpp uses it, and
// refuses a potential whose several_ranks_refusal() is not empty. Lengths in Angstrom / sigma.
#include <doctest/doctest.h>

#include "io/parallel_config.hpp"
#include "models/hipnn/hipnn.hpp"
#include "models/schnet/schnet.hpp"
#include "potential_checks.hpp"
#include "support.hpp"

namespace md {

TEST_SUITE("import_distance") {
  EXEC_TEST_CASE("pair styles cutoff + skin, many-body 2 (cutoff + skin), message passing 2 L cutoff + skin") {
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
    CHECK(import_distance(*e, skin) == doctest::Approx(2.0 * (e->cutoff() + skin)).epsilon(1e-15));
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
    // overlay: the widest term (EAM's 2 (rc + skin) over ZBL's rc + skin)
    auto sum = test::potential_from_toml(
        ctx, {"Cu"}, "style = \"overlay\"\n[[potential.terms]]\nstyle = \"zbl\"\ninner = 1.5\nouter = 2.6\n"
                     "[[potential.terms]]\n" + eam);
    CHECK(import_distance(*sum, skin) == doctest::Approx(2.0 * (e->cutoff() + skin)).epsilon(1e-15));
    CHECK(sum->import_rule(skin) == "2 x (cutoff + skin) of eam");
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
