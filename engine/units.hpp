// Unit systems, with LAMMPS' conversion constants so thermo output compares line by line.
// Constants from LAMMPS src/update.cpp (metal: Å, ps, eV, amu, K, bar; lj: reduced units).
#pragma once

#include <string>

namespace md {

struct Units {
  std::string name;
  double boltz;     // Boltzmann constant, energy/temperature
  double mvv2e;     // mass*velocity^2 -> energy
  double ftm2v;     // force*time/mass -> velocity
  double nktv2p;    // energy/volume -> pressure
  double dt;        // default timestep
  double skin;      // default neighbour skin (LAMMPS defaults)
  std::string time_unit;      // "ps" or "tau"
  std::string pressure_unit;  // "bar" or "reduced"

  static Units metal() {
    return {"metal", 8.617343e-5, 1.0364269e-4, 1.0 / 1.0364269e-4, 1.6021765e6, 0.001, 2.0,
            "ps", "bar"};
  }
  static Units lj() { return {"lj", 1.0, 1.0, 1.0, 1.0, 0.005, 0.3, "tau", "reduced"}; }
  // Throws std::runtime_error for an unknown name.
  static Units by_name(const std::string& name);
};

}  // namespace md
