// FIRE energy minimisation on the device (Bitzek et al., PRL 97, 170201 (2006), with the
// FIRE 2.0 refinements of Guenole et al., Comput. Mater. Sci. 175, 109584 (2020) exactly as
// LAMMPS min_style fire uses them by default: Euler-implicit steps, delaystep 20, dtgrow 1.1,
// dtshrink 0.5, alpha0 0.25, alphashrink 0.99, tmax 10, tmin 0.02, half step back, initial
// delay, dmax 0.1), optionally with the cell as extra degrees of freedom relaxed to a target
// pressure (iso or aniso). Stops on LAMMPS' criteria: energy tolerance (relative change between
// iterations), force tolerance (2-norm of the whole force vector), iteration/evaluation
// limits. All FIRE state lives on the device; the host reads it every `check_every` iterations.
// Called by io/app.cpp ([minimize]) and tests; velocities are restored afterwards.
#pragma once

#include <csignal>
#include <string>

#include "engine/simulation.hpp"

namespace md {

struct FireOptions {
  double etol = 0.0;   // dimensionless
  double ftol = 1e-6;  // force units (2-norm of the 3N force vector)
  long max_iterations = 10000;
  long max_evaluations = 100000;
  double dt = 0;       // 0: the run timestep
  double dmax = 0.1;   // largest move of any coordinate per iteration (length units)
  double tmax = 10.0, tmin = 0.02, dtgrow = 1.1, dtshrink = 0.5;
  double alpha0 = 0.25, alphashrink = 0.99;
  long delaystep = 20, vdfmax = 2000;
  bool halfstepback = true, initialdelay = true;
  // Cell relaxation to `pressure` (virial pressure, as at T = 0): 0 off, 1 iso, 2 aniso.
  int relax_cell = 0;
  double pressure = 0.0;
  long check_every = 25;  // iterations between host checks of the stop flag
  // Set asynchronously (SIGINT/SIGTERM): the minimisation stops at its next host check with
  // stop "stopped by signal" (the state is then a partly minimised one).
  const volatile std::sig_atomic_t* stop_flag = nullptr;
};

struct MinimizeResult {
  long iterations = 0, evaluations = 0;
  std::string stop;  // "energy tolerance", "force tolerance", "max iterations", ...
  double energy_start = 0, energy = 0;
  double fnorm = 0;     // 2-norm of the final force vector (atoms and cell)
  double pressure = 0;  // final virial pressure (cell relaxation)
};

MinimizeResult fire_minimize(Simulation& sim, const FireOptions& opt);

}  // namespace md
