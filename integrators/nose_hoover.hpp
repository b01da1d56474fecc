// Nose-Hoover chain NVT and Martyna-Tobias-Klein NPT (LAMMPS fix nvt / fix npt, FixNH):
// particle thermostat chain, barostat with iso / aniso / tri coupling, per-component flags,
// coupled pairs, MTK correction terms and its own thermostat chain, cell flips. Everything
// is integrated on the device: a reduction of m v (x) v and the virial, a one-thread kernel
// for the chain/barostat variables and the cell, per-atom kernels for v and x. Units: LAMMPS.
// Created by integrators/registry_config.cpp ([run] ensemble = "nvt" / "npt").
#pragma once

#include "engine/box.hpp"
#include "engine/integrator.hpp"
#include "integrators/common.hpp"

namespace md {

// Voigt order of the barostat components, as LAMMPS FixNH: x y z yz xz xy.
enum NHComponent { kNHx = 0, kNHy = 1, kNHz = 2, kNHyz = 3, kNHxz = 4, kNHxy = 5 };
enum NHPStyle { kNHIso = 0, kNHAniso = 1, kNHTri = 2 };
enum NHCouple { kCoupleNone = 0, kCoupleXYZ = 1, kCoupleXY = 2, kCoupleYZ = 3, kCoupleXZ = 4 };

struct NHParams {
  int tstat = 0, pstat = 0;
  int pstyle = kNHIso, pcouple = kCoupleNone;
  int p_flag[6] = {0, 0, 0, 0, 0, 0};
  int mtk = 1;
  int tchain = 3, pchain = 3, tloop = 1, ploop = 1;
  int deviatoric = 0;
  int scale_xy = 0, scale_xz = 0, scale_yz = 0;  // tilts follow their length (LAMMPS scalexy..)
  int flip = 1;
  Ramp temp;                      // target temperature
  double t_freq = 0;              // 1 / tdamp
  double p_start[6] = {0, 0, 0, 0, 0, 0}, p_stop[6] = {0, 0, 0, 0, 0, 0};
  double p_freq[6] = {0, 0, 0, 0, 0, 0};
  double p_freq_max = 0;
  int pdim = 0;
  double dt = 0, boltz = 0, nktv2p = 0, mvv2e = 0, ftm2v = 0;
  double tdof = 0, natoms = 0;
};

struct NHState {
  int initialized;
  int flipped;       // this step's cell flip (image flags are transformed)
  int flip_k[3];     // flip: b' = b + k0 a, c' = c + k2 b + k1 a  (xy, xz, yz)
  int error;         // 1: tilt beyond LAMMPS' 1.5 limit without flipping
  long n_flips;
  double t_target, ke_target;
  double factor_eta;  // velocity scaling by the particle chain (pending)
  NHChain tc, pc;
  double omega[6], omega_dot[6], omega_mass[6];
  double p_target[6], p_hydro, p_current[6];
  double vol0, h0_inv[6], sigma[6], fdev[6];
  double mtk_term1, mtk_term2;
  double fpress[3];  // exp(-dt/4 (omega_dot + mtk_term2)) per dimension
  Box box0, box1, box2;  // cell before, after half and after full remap (before a flip)
};

class NoseHoover : public Integrator {
 public:
  NoseHoover(Context& ctx, const NHParams& p, std::uint64_t run_steps);
  std::string name() const override { return p_.pstat ? "npt-mtk" : "nvt-nose-hoover"; }
  void step_one(Context& ctx, System& sys, const StepData& d) override;
  void step_two(Context& ctx, System& sys, const StepData& d) override;
  bool needs_virial() const override { return p_.pstat != 0; }
  bool changes_box() const override { return p_.pstat != 0; }
  double reservoir_energy(Context& ctx, System& sys) override;
  void save_state(Context& ctx) override;
  void restore_state(Context& ctx) override;
  std::vector<std::uint8_t> serialize(Context& ctx) override;
  void deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) override;

  const NHParams& params() const { return p_; }
  // Host copy of the device state (one transfer; tests and diagnostics).
  NHState state(Context& ctx) const;

 private:
  NHParams p_;
  long run_steps_;
  long begin_ = -1;
  DeviceArray<NHState> state_, saved_;
  DeviceArray<Sums12> sums_;
  DeviceArray<FVec<12>> sums_work_;  // exact-sum workspace
  long saved_begin_ = -1;
};

}  // namespace md
