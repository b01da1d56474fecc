// Thermodynamic output reduced on the device (LAMMPS compute temp/pe/pressure conventions):
// Temp = 2 KE / (dof k_B) with dof = 3N - 3; Press = (2 KE + tr W) / (3 V) * nktv2p;
// pressure tensor P_ab = (sum m v_a v_b mvv2e + W_ab) / V * nktv2p. Energies in energy units.
#pragma once

#include <array>

#include "engine/backend.hpp"
#include "engine/system.hpp"
#include "kernels/launch.hpp"

namespace md {

struct ThermoSample {
  long step = 0;
  double time = 0;
  Index natoms = 0;
  double temp = 0, ke = 0, pe = 0, etotal = 0, press = 0, volume = 0;
  double econserve = 0;  // etotal + thermostat/barostat reservoir energy
  std::array<double, 6> ptensor{};  // xx yy zz xy xz yz
  std::array<double, 6> virial{};   // energy units
};

// K = 13: m v v tensor (6), potential energy (1), virial (6).
using ThermoSums = DVec<13>;

class ThermoCompute {
 public:
  explicit ThermoCompute(Context& ctx) : sums_(ctx, 1) {}
  // Enqueues the reductions (no transfer). energy/virial: per-atom device arrays.
  void enqueue(Context& ctx, const System& sys, const double* energy, const double* virial);
  // Transfers the sums (one counted transfer) and converts them.
  ThermoSample fetch(Context& ctx, const System& sys, long step, double time);

 private:
  DeviceArray<ThermoSums> sums_;
};

}  // namespace md
