// The verification ladder every potential passes (check_model): executor agreement, sum of
// forces, per-atom energy sum, central finite-difference forces, strain-derivative virial,
// translation/rotation/permutation invariance and a short NVE energy check, each with its
// tolerance from the LadderCase. Metal or lj units as the case says. Used by the model tests
// (tests/test_snap.cpp, test_deepmd.cpp, test_eam.cpp, test_pair_styles.cpp).
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend.hpp"
#include "engine/potential.hpp"
#include "engine/units.hpp"
#include "engine/structure.hpp"

namespace md::test {

// Builds the potential on an executor for a system whose types are `type_names` (in order):
// the permutation rung calls it again with the type order reversed.
using PotentialFactory =
    std::function<std::unique_ptr<Potential>(Context&, const std::vector<std::string>&)>;

struct LadderCase {
  std::string name;
  Structure structure;  // periodic (or not) configuration with real forces
  PotentialFactory make;
  Units units = Units::metal();
  double skin = 0.3;

  // Executor agreement (only when the test runs on CUDA): the same evaluation on the CPU.
  // FMA contraction and summation order alone differ between executors.
  double cross_energy_rel = 1e-12;  // |dE| / |E|
  double cross_force_abs = 1e-10;   // max |dF| (energy/length)
  double cross_virial_rel = 1e-11;  // max |dW| / max |W|

  // Sum of forces: |sum_i F_i,c| <= sum_force_abs + sum_force_rel * max|F| * N.
  double sum_force_abs = 0.0;
  double sum_force_rel = 1e-11;
  double min_force = 1e-3;  // max|F| must exceed this (the configuration really has forces)

  // Central differences with step h (length, and strain for the virial).
  double h = 1e-5;
  std::vector<std::size_t> fd_atoms;  // empty: atoms 0, N/3, N/2, N-1
  // |F_fd - F| <= fd_force_abs + fd_force_rel * max|F|
  double fd_force_abs = 0.0;
  double fd_force_rel = 1e-6;
  // Virial W_ab = -dE/d eps_ab (r_a += eps r_b, a <= b, all six components):
  // |W_fd - W| <= fd_virial * max(fd_virial_floor, scale), scale = |W_ab| when
  // fd_virial_per_component, else max_ab |W_ab|.
  double fd_virial = 1e-6;
  double fd_virial_floor = 0.0;
  bool fd_virial_per_component = false;
  bool fd_virial_check = true;

  // Invariances, on a cluster (the atoms within cluster_radius of the cell centre, all atoms
  // when 0) in a non-periodic box: translation and rotation (energy relative, rotated
  // forces absolute); and, on the original structure, a permutation of the atoms with the
  // type order reversed (energy relative, forces and per-atom energies absolute).
  bool invariances = true;
  double cluster_radius = 0.0;
  std::size_t min_cluster_atoms = 8;
  double translation_energy_rel = 1e-13;
  double rotation_energy_rel = 1e-12;
  double rotation_force_abs = 1e-11;
  bool permute_type_order = true;  // false where the model's element order follows the
                                   // system's type order (SNAP chemflag, as in LAMMPS)
  double permutation_energy_rel = 1e-12;
  double permutation_force_abs = 1e-12;

  // Short NVE run (skipped when nve_steps == 0) from nve_structure (the case structure when
  // it has no atoms) with velocities drawn at nve_temperature: max |E - E0| per atom.
  long nve_steps = 0;
  double nve_dt = 0.001;
  double nve_temperature = 300.0;
  std::uint64_t nve_seed = 8812;
  int nve_thermo_every = 10;
  double nve_bound_per_atom = 1e-4;
  double nve_min_temperature = 0.0;  // mean temperature over the second half must exceed it
  double nve_skin = 1.0;
  Structure nve_structure;
};

// Runs every rung on the executor of the running test (test::backend()), as doctest CHECKs
// with one MESSAGE per rung giving the measured error.
void check_model(const LadderCase& c);

// Total energy of an NVE run sampled every thermo_every steps (velocities as in s): the
// largest |E - E0|, |E_end - E0| and the mean temperature over the second half of the samples.
struct NveRecord {
  double spread = 0, drift = 0, mean_temperature = 0;
};
NveRecord run_nve(Context& ctx, const Structure& s, Potential& pot, const Units& units, double dt,
                  double skin, long steps, int thermo_every);

// The same structure with the affine strain r_a += eps (r_b - lo_b) applied to atoms and
// cell, a <= b (keeps the LAMMPS cell form).
Structure strained(Structure s, int a, int b, double eps);

}  // namespace md::test
