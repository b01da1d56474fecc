// Output writers: LAMMPS dump frames (orthogonal and triclinic bounds, columns), wrapped and
// unwrapped positions, whole-record files resumed at a checkpoint offset, and H5MD written by
// the run pipeline read back with the HDF5 C API (positions equal the LAMMPS dump's).
#include <doctest/doctest.h>
#include <hdf5.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "io/app.hpp"
#include "io/record_file.hpp"
#include "io/trajectory.hpp"
#include "support.hpp"

using namespace md;

namespace {

Structure two_atoms(const Box& box) {
  Structure s;
  s.box = box;
  s.type_names = {"Cu", "Ni"};
  s.type_masses = {63.546, 58.6934};
  s.has_velocities = true;
  s.add_atom(7, 0, 0.5, 0.5, 0.5);
  s.add_atom(3, 1, 4.5, -0.25, 1.0);  // outside the cell in x and y
  s.vx = {1, 2};
  s.vy = {3, 4};
  s.vz = {5, 6};
  return s;
}

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_SUITE("outputs") {
  TEST_CASE("lammps dump: orthogonal frame, columns, wrapped positions") {
    Box b;
    b.l[0] = 4;
    b.l[1] = 5;
    b.l[2] = 6;
    b.periodic[2] = 0;
    const Structure w = wrapped_positions(two_atoms(b));
    CHECK(w.x[1] == 0.5);
    CHECK(w.ix[1] == 1);
    CHECK(w.y[1] == 4.75);
    CHECK(w.iy[1] == -1);
    const std::vector<double> f = {0.25, -1}, e = {-3.5, -4};
    Frame fr{&w, 42, 0.1, -7.5};
    fr.fx = fr.fy = fr.fz = &f;
    fr.energy = &e;
    TrajectorySpec spec;
    spec.velocities = true;
    const std::string text = lammps_dump_frame(fr, spec);
    CHECK(text ==
          "ITEM: TIMESTEP\n42\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp ff\n0 4\n0 5\n0 "
          "6\nITEM: ATOMS id type x y z vx vy vz fx fy fz c_pe\n7 1 0.5 0.5 0.5 1 3 5 0.25 0.25 "
          "0.25 -3.5\n3 2 0.5 4.75 1 2 4 6 -1 -1 -1 -4\n");
    const Structure u = unwrapped_positions(w);
    CHECK(u.x[1] == 4.5);
    CHECK(u.y[1] == -0.25);
    CHECK(u.ix[1] == 0);
  }

  TEST_CASE("lammps dump: triclinic bounding box as LAMMPS writes it") {
    const Box b = test::triclinic_box(4, 5, 6, 1.0, -0.5, 0.75);
    const Structure s = two_atoms(b);
    Frame fr{&s, 0, 0, 0};
    TrajectorySpec spec;
    spec.unwrapped = true;
    const std::string text = lammps_dump_frame(fr, spec);
    // lo = (-2, 0.25, 1): xlo_bound = xlo + min(0, xy, xz, xy+xz), xhi_bound = xhi + max(..),
    // ylo/yhi_bound with yz
    CHECK(text.find("ITEM: BOX BOUNDS xy xz yz pp pp pp\n-2.5 3 1\n0.25 6 -0.5\n1 7 0.75\n") !=
          std::string::npos);
    CHECK(text.find("ITEM: ATOMS id type xu yu zu\n") != std::string::npos);
  }

  TEST_CASE("record file resumes at an offset, dropping what came after") {
    const std::string p = test::temp_dir() + "/records.txt";
    {
      RecordFile f(p);
      f.write("one\n");
      f.write("two\n");
      CHECK(f.size() == 8);
      f.write("three\n");
    }
    {
      RecordFile f(p, 8);
      f.write("THREE\n");
    }
    CHECK(slurp(p) == "one\ntwo\nTHREE\n");
    CHECK_THROWS_WITH_AS(RecordFile(p, 1000), doctest::Contains("shorter"), Error);
  }

  EXEC_TEST_CASE("H5MD from a run reads back with the HDF5 C API") {
    const std::string dir = test::temp_dir();
    const std::string text = R"(units = "lj"
[system]
lattice = { kind = "fcc", a = 1.6796, repeat = [3, 3, 3], elements = ["A"] }
masses = { A = 1.0 }
[velocity]
temperature = 1.0
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[run]
steps = 20
[output]
trajectory = [{ every = 10, file = "o.h5", velocities = true, forces = true },
              { every = 10, file = "o.lammpstrj" }]
)";
    const std::string path = dir + "/h5run.toml";
    std::ofstream(path) << text;
    RunOverrides ov;
    ov.backend = test::backend_str();
    ov.quiet = true;
    Job job = load_job(path, ov);
    REQUIRE(run_job(job, ov) == 0);

    hid_t f = H5Fopen((dir + "/o.h5").c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
    REQUIRE(f >= 0);
    hid_t pos = H5Dopen2(f, "/particles/all/position/value", H5P_DEFAULT);
    REQUIRE(pos >= 0);
    hid_t space = H5Dget_space(pos);
    hsize_t dims[3];
    REQUIRE(H5Sget_simple_extent_dims(space, dims, nullptr) == 3);
    CHECK(dims[0] == 3);  // steps 0, 10, 20
    CHECK(dims[1] == 108);
    CHECK(dims[2] == 3);
    std::vector<double> v(dims[0] * dims[1] * dims[2]);
    REQUIRE(H5Dread(pos, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
    H5Sclose(space);
    H5Dclose(pos);
    std::vector<long long> steps(3);
    hid_t st = H5Dopen2(f, "/particles/all/position/step", H5P_DEFAULT);
    REQUIRE(H5Dread(st, H5T_NATIVE_LLONG, H5S_ALL, H5S_ALL, H5P_DEFAULT, steps.data()) >= 0);
    H5Dclose(st);
    CHECK(steps == std::vector<long long>{0, 10, 20});
    CHECK(H5Lexists(f, "/particles/all/velocity/value", H5P_DEFAULT) > 0);
    CHECK(H5Lexists(f, "/particles/all/force/value", H5P_DEFAULT) > 0);
    CHECK(H5Lexists(f, "/particles/all/box/edges/value", H5P_DEFAULT) > 0);
    CHECK(H5Aexists_by_name(f, "/h5md", "version", H5P_DEFAULT) > 0);
    H5Fclose(f);

    // last frame positions equal the dump's (same doubles, printed exactly)
    std::istringstream dump(slurp(dir + "/o.lammpstrj"));
    std::string line;
    int frame = -1;
    long checked = 0;
    while (std::getline(dump, line)) {
      if (line == "ITEM: TIMESTEP") ++frame;
      if (line.rfind("ITEM: ATOMS", 0) == 0) {
        for (int a = 0; a < 108; ++a) {
          std::getline(dump, line);
          std::istringstream ls(line);
          long id;
          int type;
          double x, y, z;
          ls >> id >> type >> x >> y >> z;
          const std::size_t k = (static_cast<std::size_t>(frame) * 108 + (id - 1)) * 3;
          checked += v[k] == x && v[k + 1] == y && v[k + 2] == z;
        }
      }
    }
    CHECK(checked == 3 * 108);
  }
}
