// Several-rank checkpoints (io/parallel_checkpoint.hpp) on one rank of a DistributedRun
// (SerialComm; the real N -> M restarts run under mpirun in tests/mpi/restart_case.py): the
// gathered checkpoint equals the one-rank Simulation's at the same step (positions,
// velocities, image flags, build reference, integrator state), and a DistributedRun restored
// from either continues bitwise like the uninterrupted run.
#include <doctest/doctest.h>

#include <fstream>
#include <string>

#include "engine/comm.hpp"
#include "engine/distributed.hpp"
#include "io/app.hpp"
#include "io/parallel_checkpoint.hpp"
#include "io/parallel_config.hpp"
#include "support.hpp"

using namespace md;

namespace {

const char* kInput = R"(units = "lj"
[system]
lattice = { kind = "fcc", a = 1.6796, repeat = [4, 4, 4], elements = ["A"] }
masses = { A = 1.0 }
[velocity]
temperature = 1.5
seed = 7
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[neighbor]
skin = 0.3
[run]
ensemble = "nvt"
thermostat = { kind = "langevin", temperature = 1.0, tdamp = 0.5, seed = 11 }
timestep = 0.005
steps = 120
)";

Job load() {
  const std::string path = test::temp_dir() + "/pck.toml";
  std::ofstream(path) << kInput;
  RunOverrides ov;
  ov.backend = test::backend_str();
  ov.quiet = true;
  return load_job(path, ov);
}

std::unique_ptr<DistributedRun> distributed(Job& job, Comm& comm, const Structure& global) {
  const double skin = job.sim->neighbors().skin();
  return std::make_unique<DistributedRun>(comm, *job.ctx, global, job.units, *job.potential,
                                          *job.integrator, job.dt, skin,
                                          std::array<int, 3>{1, 1, 1},
                                          import_distance(*job.potential, skin));
}

void run_quiet(DistributedRun& run, long n) { run.run(n, 0, {}); }

}  // namespace

TEST_SUITE("parallel_checkpoint") {
  EXEC_TEST_CASE("a DistributedRun's checkpoint is the one-rank checkpoint and restores bitwise") {
    SerialComm comm;
    // uninterrupted: 120 steps
    Job ref = load();
    auto full = distributed(ref, comm, ref.initial);
    full->setup();
    run_quiet(*full, 120);
    const Structure want = full->gather();

    // 60 steps, checkpoint (gathered), compared with the one-rank Simulation's at step 60
    Job a = load();
    auto first = distributed(a, comm, a.initial);
    first->setup();
    run_quiet(*first, 60);
    Checkpoint c = capture_distributed_checkpoint(*first, comm, a.initial, *a.integrator,
                                                  first->step(), a.dt);
    Job b = load();
    b.sim->setup();
    b.sim->run(60, Observers{});
    Checkpoint d = capture_checkpoint(*b.sim);
    CHECK(c.step == 60);
    CHECK(c.id == d.id);
    CHECK(c.x == d.x);
    CHECK(c.vz == d.vz);
    CHECK(c.ix == d.ix);
    CHECK(c.x0 == d.x0);
    CHECK(c.z0 == d.z0);
    CHECK(c.integrator_state == d.integrator_state);
    CHECK(c.box_at_build.l[0] == d.box_at_build.l[0]);

    // both continue in a DistributedRun (through the file format) to the uninterrupted state
    c.system_hash = d.system_hash = a.system_hash;
    c.input_hash = d.input_hash = a.input_hash;
    for (const Checkpoint* from : {&c, &d}) {
      const Checkpoint e = decode_checkpoint(encode_checkpoint(*from), "mem.ckpt");
      Job r = load();
      CHECK(check_compatible(e, "mem.ckpt", *r.sim, r.system_hash, r.input_hash).empty());
      Structure global = r.initial;
      global.box = e.box;
      auto cont = distributed(r, comm, global);
      r.integrator->deserialize(*r.ctx, e.integrator_state);
      cont->restore(checkpoint_atoms(e, r.initial, "mem.ckpt"), e.box, e.box_at_build, e.step);
      CHECK(cont->step() == 60);
      run_quiet(*cont, 60);
      const Structure got = cont->gather();
      CHECK(got.x == want.x);
      CHECK(got.y == want.y);
      CHECK(got.vz == want.vz);
      CHECK(got.ix == want.ix);
    }
  }
}
