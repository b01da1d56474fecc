// Thermodynamic output reduced on the device (LAMMPS compute temp/pe/pressure conventions):
// Temp = 2 KE / (dof k_B) with dof = 3N - 3; Press = (2 KE + tr W) / (3 V) * nktv2p;
// pressure tensor P_ab = (sum m v_a v_b mvv2e + W_ab) / V * nktv2p. Energies in energy units.
// Enthalpy = TotEng + Press V / nktv2p (LAMMPS thermo keyword enthalpy); the cell is the host
// mirror at the sample (lengths, tilts; cell_abc/cell_angles in LAMMPS' cella.. cellgamma).
#pragma once

#include <array>

#include "engine/backend.hpp"
#include "engine/fixed_point.hpp"
#include "engine/system.hpp"
#include "engine/views.hpp"

namespace md {

struct ThermoSample {
  long step = 0;
  double time = 0;
  Index natoms = 0;
  double temp = 0, ke = 0, pe = 0, etotal = 0, press = 0, volume = 0;
  double econserve = 0;  // etotal + thermostat/barostat reservoir energy
  double enthalpy = 0;   // etotal + press * volume / nktv2p
  Box box;               // the cell at this step
  std::array<double, 6> ptensor{};  // xx yy zz xy xz yz
  std::array<double, 6> virial{};   // energy units
};

// Edge lengths |a| |b| |c| and angles alpha (b,c), beta (a,c), gamma (a,b) in degrees.
void cell_parameters(const Box& box, double abc[3], double angles[3]);

// m v (x) v of one atom into s[0..5] (xx yy zz xy xz yz; mass * velocity^2): the kinetic
// tensor shared by thermo output and the thermostat/barostat reductions.
MD_INLINE void mvv_tensor(double m, double u, double v, double w, double* s) {
  s[0] = m * u * u;
  s[1] = m * v * v;
  s[2] = m * w * w;
  s[3] = m * u * v;
  s[4] = m * u * w;
  s[5] = m * v * w;
}

// K = 14: m v v tensor (6), potential energy (1), virial (6), owned-atom count (1). Summed
// exactly over the owned atoms of every rank (engine/exact_sum.hpp): the bits do not depend
// on the atoms' order, the threads or the decomposition.
using ThermoSums = DVec<14>;

class ThermoCompute {
 public:
  explicit ThermoCompute(Context& ctx) : sums_(ctx, 1), work_(ctx, 1) {}
  // Enqueues the reductions (no transfer). energy/virial: per-atom device arrays.
  void enqueue(Context& ctx, const System& sys, const double* energy, const double* virial);
  // Transfers the sums (one counted transfer) and converts them.
  ThermoSample fetch(Context& ctx, const System& sys, long step, double time);

 private:
  DeviceArray<ThermoSums> sums_;
  DeviceArray<FVec<14>> work_;
};

}  // namespace md
