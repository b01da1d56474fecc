#include "integrators/nose_hoover.hpp"

#include <cmath>

#include "kernels/launch.hpp"

namespace md {

namespace {

// ---------------------------------------------------------------- cell helpers
// h in LAMMPS Voigt order: lx ly lz yz xz xy (upper-triangular matrix, columns a b c).

MD_INLINE void box_to_h(const Box& b, double h[6]) {
  h[0] = b.l[0];
  h[1] = b.l[1];
  h[2] = b.l[2];
  h[3] = b.yz;
  h[4] = b.xz;
  h[5] = b.xy;
}

MD_INLINE void h_inverse(const double h[6], double hi[6]) {
  hi[0] = 1.0 / h[0];
  hi[1] = 1.0 / h[1];
  hi[2] = 1.0 / h[2];
  hi[3] = -h[3] / (h[1] * h[2]);
  hi[4] = (h[3] * h[5] - h[1] * h[4]) / (h[0] * h[1] * h[2]);
  hi[5] = -h[5] / (h[0] * h[1]);
}

// Voigt (upper triangular) -> full 3x3 matrix.
MD_INLINE void upper(const double v[6], double m[3][3]) {
  m[0][0] = v[0];
  m[1][1] = v[1];
  m[2][2] = v[2];
  m[1][2] = v[3];
  m[0][2] = v[4];
  m[0][1] = v[5];
  m[1][0] = m[2][0] = m[2][1] = 0.0;
}

// A S A^T for upper-triangular A and symmetric S (3x3).
MD_INLINE void sandwich(const double a[3][3], const double s[3][3], double out[3][3]) {
  double t[3][3];
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      t[i][j] = 0.0;
      for (int k = 0; k < 3; ++k) t[i][j] += a[i][k] * s[k][j];
    }
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) {
      out[i][j] = 0.0;
      for (int k = 0; k < 3; ++k) out[i][j] += t[i][k] * a[j][k];
    }
}

MD_INLINE void to_voigt(const double m[3][3], double v[6]) {
  v[0] = m[0][0];
  v[1] = m[1][1];
  v[2] = m[2][2];
  v[3] = m[1][2];
  v[4] = m[0][2];
  v[5] = m[0][1];
}

// sigma = vol0 h0^-1 (P_target - p_hydro I) h0^-T (LAMMPS FixNH::compute_sigma).
MD_INLINE void compute_sigma(NHState& s) {
  double a[3][3], t[3][3], out[3][3];
  upper(s.h0_inv, a);
  t[0][0] = s.p_target[0] - s.p_hydro;
  t[1][1] = s.p_target[1] - s.p_hydro;
  t[2][2] = s.p_target[2] - s.p_hydro;
  t[1][2] = t[2][1] = s.p_target[3];
  t[0][2] = t[2][0] = s.p_target[4];
  t[0][1] = t[1][0] = s.p_target[5];
  sandwich(a, t, out);
  to_voigt(out, s.sigma);
  for (int k = 0; k < 6; ++k) s.sigma[k] *= s.vol0;
}

MD_INLINE void sigma_matrix(const double sg[6], double m[3][3]) {
  m[0][0] = sg[0];
  m[1][1] = sg[1];
  m[2][2] = sg[2];
  m[1][2] = m[2][1] = sg[3];
  m[0][2] = m[2][0] = sg[4];
  m[0][1] = m[1][0] = sg[5];
}

// fdev = h sigma h^T (units pressure * volume).
MD_INLINE void compute_deviatoric(NHState& s, const Box& box) {
  double h[6], a[3][3], sg[3][3], out[3][3];
  box_to_h(box, h);
  upper(h, a);
  sigma_matrix(s.sigma, sg);
  sandwich(a, sg, out);
  to_voigt(out, s.fdev);
}

// ---------------------------------------------------------------- barostat pieces

MD_INLINE void couple(const NHParams& p, NHState& s, double pscalar, const double t[6]) {
  // t: xx yy zz xy xz yz
  if (p.pstyle == kNHIso) {
    s.p_current[0] = s.p_current[1] = s.p_current[2] = pscalar;
  } else if (p.pcouple == kCoupleXYZ) {
    const double ave = (t[0] + t[1] + t[2]) / 3.0;
    s.p_current[0] = s.p_current[1] = s.p_current[2] = ave;
  } else if (p.pcouple == kCoupleXY) {
    const double ave = 0.5 * (t[0] + t[1]);
    s.p_current[0] = s.p_current[1] = ave;
    s.p_current[2] = t[2];
  } else if (p.pcouple == kCoupleYZ) {
    const double ave = 0.5 * (t[1] + t[2]);
    s.p_current[1] = s.p_current[2] = ave;
    s.p_current[0] = t[0];
  } else if (p.pcouple == kCoupleXZ) {
    const double ave = 0.5 * (t[0] + t[2]);
    s.p_current[0] = s.p_current[2] = ave;
    s.p_current[1] = t[1];
  } else {
    s.p_current[0] = t[0];
    s.p_current[1] = t[1];
    s.p_current[2] = t[2];
  }
  if (p.pstyle == kNHTri) {
    s.p_current[3] = t[5];
    s.p_current[4] = t[4];
    s.p_current[5] = t[3];
  }
}

// Instantaneous pressure from m v v (scaled by kscale) and the virial sums.
MD_INLINE void current_pressure(const NHParams& p, NHState& s, const Sums12& sum, double kscale,
                                const Box& box) {
  const double inv_v = p.nktv2p / box.volume();
  double t[6];
  for (int c = 0; c < 6; ++c) t[c] = (sum.v[c] * kscale * p.mvv2e + sum.v[6 + c]) * inv_v;
  const double scalar =
      ((sum.v[0] + sum.v[1] + sum.v[2]) * kscale * p.mvv2e + sum.v[6] + sum.v[7] + sum.v[8]) *
      inv_v / 3.0;
  couple(p, s, scalar, t);
}

MD_INLINE void compute_press_target(const NHParams& p, NHState& s, double frac) {
  s.p_hydro = 0.0;
  for (int i = 0; i < 3; ++i)
    if (p.p_flag[i]) {
      s.p_target[i] = p.p_start[i] + frac * (p.p_stop[i] - p.p_start[i]);
      s.p_hydro += s.p_target[i];
    }
  if (p.pdim > 0) s.p_hydro /= p.pdim;
  if (p.pstyle == kNHTri)
    for (int i = 3; i < 6; ++i) s.p_target[i] = p.p_start[i] + frac * (p.p_stop[i] - p.p_start[i]);
  if (p.deviatoric) compute_sigma(s);
}

// Half-step update of the cell velocities omega_dot (LAMMPS FixNH::nh_omega_dot).
// ke: tdof kB T_current (energy); mvv: m v v diagonal (mass velocity^2).
MD_INLINE void nh_omega_dot(const NHParams& p, NHState& s, const Box& box, double ke,
                            const double mvv[3]) {
  const double volume = box.volume(), dthalf = 0.5 * p.dt;
  if (p.deviatoric) compute_deviatoric(s, box);
  s.mtk_term1 = 0.0;
  if (p.mtk) {
    if (p.pstyle == kNHIso) {
      s.mtk_term1 = p.pdim > 0 ? ke / (p.pdim * p.natoms) : 0.0;
    } else {
      for (int i = 0; i < 3; ++i)
        if (p.p_flag[i]) s.mtk_term1 += mvv[i] * p.mvv2e;
      if (p.pdim > 0) s.mtk_term1 /= p.pdim * p.natoms;
    }
  }
  for (int i = 0; i < 3; ++i)
    if (p.p_flag[i]) {
      double f = (s.p_current[i] - s.p_hydro) * volume / (s.omega_mass[i] * p.nktv2p) +
                 s.mtk_term1 / s.omega_mass[i];
      if (p.deviatoric) f -= s.fdev[i] / (s.omega_mass[i] * p.nktv2p);
      s.omega_dot[i] += f * dthalf;
    }
  s.mtk_term2 = 0.0;
  if (p.mtk) {
    for (int i = 0; i < 3; ++i)
      if (p.p_flag[i]) s.mtk_term2 += s.omega_dot[i];
    if (p.pdim > 0) s.mtk_term2 /= p.pdim * p.natoms;
  }
  if (p.pstyle == kNHTri)
    for (int i = 3; i < 6; ++i)
      if (p.p_flag[i]) {
        double f = s.p_current[i] * volume / (s.omega_mass[i] * p.nktv2p);
        if (p.deviatoric) f -= s.fdev[i] / (s.omega_mass[i] * p.nktv2p);
        s.omega_dot[i] += f * dthalf;
      }
  for (int i = 0; i < 3; ++i) s.fpress[i] = exp(-0.25 * p.dt * (s.omega_dot[i] + s.mtk_term2));
}

MD_INLINE void nhc_press(const NHParams& p, NHState& s) {
  const double kt = p.boltz * s.t_target;
  double ke = 0.0;
  const int ncomp = p.pstyle == kNHTri ? 6 : 3;
  for (int i = 0; i < ncomp; ++i)
    if (p.p_flag[i]) ke += s.omega_mass[i] * s.omega_dot[i] * s.omega_dot[i];
  const double f = nhc_half_step(s.pc, p.pchain, p.ploop, ke, kt, kt, p.dt);
  for (int i = 0; i < ncomp; ++i)
    if (p.p_flag[i]) s.omega_dot[i] *= f;
}

// Half-step cell update h_dot = omega_dot h (LAMMPS FixNH::remap, time-symmetric order;
// the off-diagonal updates use the diagonal of the cell before this half step, as there).
MD_INLINE Box remap_half(const NHParams& p, NHState& s, const Box& in) {
  const double dto = 0.5 * p.dt, dto2 = dto / 2, dto4 = dto / 4, dto8 = dto / 8;
  for (int i = 0; i < 6; ++i) s.omega[i] += dto * s.omega_dot[i];
  const double* od = s.omega_dot;
  double h[6];
  box_to_h(in, h);
  Box b = in;
  auto offdiag = [&]() {
    if (p.p_flag[4]) {
      const double e = exp(dto8 * od[0]);
      h[4] = (h[4] * e + dto4 * (od[5] * h[3] + od[4] * h[2])) * e;
    }
    if (p.p_flag[3]) {
      const double e = exp(dto4 * od[1]);
      h[3] = (h[3] * e + dto2 * (od[3] * h[2])) * e;
    }
    if (p.p_flag[5]) {
      const double e = exp(dto4 * od[0]);
      h[5] = (h[5] * e + dto2 * (od[5] * h[1])) * e;
    }
    if (p.p_flag[4]) {
      const double e = exp(dto8 * od[0]);
      h[4] = (h[4] * e + dto4 * (od[5] * h[3] + od[4] * h[2])) * e;
    }
  };
  if (p.pstyle == kNHTri) offdiag();
  for (int d = 0; d < 3; ++d)
    if (p.p_flag[d]) {
      const double e = exp(dto * od[d]);
      const double ctr = b.lo[d] + 0.5 * b.l[d];
      b.lo[d] = ctr + (b.lo[d] - ctr) * e;
      b.l[d] *= e;
      if (d == 1 && p.scale_xy) h[5] *= e;
      if (d == 2 && p.scale_xz) h[4] *= e;
      if (d == 2 && p.scale_yz) h[3] *= e;
    }
  if (p.pstyle == kNHTri) offdiag();
  b.yz = h[3];
  b.xz = h[4];
  b.xy = h[5];
  return b;
}

// LAMMPS FixNH::pre_exchange: a tilt beyond 0.6 of its length is flipped by a lattice vector
// (same lattice, same Cartesian positions; image flags are transformed per atom).
MD_INLINE void flip_cell(NHState& s, Box& b) {
  const double xmax = 0.6 * b.l[0], ymax = 0.6 * b.l[1];
  int kxy = 0, kxz = 0, kyz = 0;
  if (b.yz < -ymax) {
    b.yz += b.l[1];
    b.xz += b.xy;
    kyz = 1;
  } else if (b.yz >= ymax) {
    b.yz -= b.l[1];
    b.xz -= b.xy;
    kyz = -1;
  }
  if (b.xz < -xmax) {
    b.xz += b.l[0];
    kxz = 1;
  } else if (b.xz >= xmax) {
    b.xz -= b.l[0];
    kxz = -1;
  }
  if (b.xy < -xmax) {
    b.xy += b.l[0];
    kxy = 1;
  } else if (b.xy >= xmax) {
    b.xy -= b.l[0];
    kxy = -1;
  }
  s.flip_k[0] = kxy;
  s.flip_k[1] = kxz;
  s.flip_k[2] = kyz;
  s.flipped = (kxy || kxz || kyz) ? 1 : 0;
  if (s.flipped) ++s.n_flips;
}

MD_INLINE void setup_state(const NHParams& p, NHState& s, const Box& box) {
  s.t_target = p.temp.at(0.0);
  s.ke_target = p.tdof * p.boltz * s.t_target;
  const double kt = p.boltz * s.t_target;
  if (p.tstat) {
    const double q = kt / (p.t_freq * p.t_freq);
    for (int k = 0; k < p.tchain; ++k) s.tc.mass[k] = k == 0 ? p.tdof * q : q;
    for (int k = 1; k < p.tchain; ++k)
      s.tc.eta_dotdot[k] =
          (s.tc.mass[k - 1] * s.tc.eta_dot[k - 1] * s.tc.eta_dot[k - 1] - kt) / s.tc.mass[k];
  }
  if (p.pstat) {
    const double nkt = (p.natoms + 1.0) * kt;
    for (int i = 0; i < 6; ++i)
      if (p.p_flag[i] && (i < 3 || p.pstyle == kNHTri))
        s.omega_mass[i] = nkt / (p.p_freq[i] * p.p_freq[i]);
    if (p.pchain) {
      const double q = kt / (p.p_freq_max * p.p_freq_max);
      for (int k = 0; k < p.pchain; ++k) s.pc.mass[k] = q;
      for (int k = 1; k < p.pchain; ++k)
        s.pc.eta_dotdot[k] =
            (s.pc.mass[k - 1] * s.pc.eta_dot[k - 1] * s.pc.eta_dot[k - 1] - kt) / s.pc.mass[k];
    }
    s.vol0 = box.volume();
    double h[6];
    box_to_h(box, h);
    h_inverse(h, s.h0_inv);
    compute_press_target(p, s, 0.0);
  }
  s.initialized = 1;
}

MD_INLINE void update_temp_target(const NHParams& p, NHState& s, double frac) {
  s.t_target = p.temp.at(frac);
  s.ke_target = p.tdof * p.boltz * s.t_target;
  const double q = p.boltz * s.t_target / (p.t_freq * p.t_freq);
  for (int k = 0; k < p.tchain; ++k) s.tc.mass[k] = k == 0 ? p.tdof * q : q;
}

// ---------------------------------------------------------------- kernels

// Start of a step (FixNH::initial_integrate up to the velocity/position updates).
struct NHFirstHalf {
  NHParams p;
  DeviceRamp ramp;  // thermostat and barostat targets at the device step
  NHState* state;
  const Sums12* sums;
  Box* box_dev;
  MD_HD void operator()(Index) const {
    NHState& s = *state;
    const Sums12& sum = *sums;
    Box box = *box_dev;
    const double frac = ramp.fraction();
    if (!s.initialized) setup_state(p, s, box);
    s.flipped = 0;
    if (p.pstat && p.pchain) nhc_press(p, s);
    double ke = (sum.v[0] + sum.v[1] + sum.v[2]) * p.mvv2e;
    s.factor_eta = 1.0;
    if (p.tstat) {
      update_temp_target(p, s, frac);
      s.factor_eta =
          nhc_half_step(s.tc, p.tchain, p.tloop, ke, s.ke_target, p.boltz * s.t_target, p.dt);
    }
    if (p.pstat) {
      const double k2 = s.factor_eta * s.factor_eta;
      current_pressure(p, s, sum, k2, box);
      compute_press_target(p, s, frac);
      const double mvv[3] = {sum.v[0] * k2, sum.v[1] * k2, sum.v[2] * k2};
      nh_omega_dot(p, s, box, ke, mvv);
      s.box0 = box;
      s.box1 = remap_half(p, s, s.box0);
      s.box2 = remap_half(p, s, s.box1);
      Box b = s.box2;
      if (b.yz < -1.5 * b.l[1] || b.yz > 1.5 * b.l[1] || b.xz < -1.5 * b.l[0] ||
          b.xz > 1.5 * b.l[0] || b.xy < -1.5 * b.l[0] || b.xy > 1.5 * b.l[0])
        s.error = 1;
      if (p.flip && (b.xy != 0.0 || b.xz != 0.0 || b.yz != 0.0)) flip_cell(s, b);
      *box_dev = b;
    }
  }
};

// End of a step (FixNH::final_integrate after the velocity update).
struct NHSecondHalf {
  NHParams p;
  NHState* state;
  const Sums12* sums;
  const Box* box_dev;
  MD_HD void operator()(Index) const {
    NHState& s = *state;
    const Sums12& sum = *sums;
    double ke = (sum.v[0] + sum.v[1] + sum.v[2]) * p.mvv2e;
    if (p.pstat) {
      const Box box = *box_dev;
      current_pressure(p, s, sum, 1.0, box);
      const double mvv[3] = {sum.v[0], sum.v[1], sum.v[2]};
      nh_omega_dot(p, s, box, ke, mvv);
    }
    s.factor_eta = 1.0;
    if (p.tstat)
      s.factor_eta =
          nhc_half_step(s.tc, p.tchain, p.tloop, ke, s.ke_target, p.boltz * s.t_target, p.dt);
    if (p.pstat && p.pchain) nhc_press(p, s);
  }
};

// LAMMPS FixNH::nh_v_press on one velocity.
MD_INLINE void v_press(const NHState& s, bool tri, double dthalf, double& u, double& v, double& w) {
  u *= s.fpress[0];
  v *= s.fpress[1];
  w *= s.fpress[2];
  if (tri) {
    u += -dthalf * (v * s.omega_dot[5] + w * s.omega_dot[4]);
    v += -dthalf * w * s.omega_dot[3];
  }
  u *= s.fpress[0];
  v *= s.fpress[1];
  w *= s.fpress[2];
}

struct NHFirstAtoms {
  int tstat, pstat, tri;
  double dtf, dtv;
  const NHState* state;
  const int* type;
  const double* mass_of_type;
  const double *fx, *fy, *fz;
  double *vx, *vy, *vz, *x, *y, *z;
  int *ix, *iy, *iz;
  MD_HD void operator()(Index i) const {
    const NHState& s = *state;
    double u = vx[i], v = vy[i], w = vz[i];
    if (tstat) {
      u *= s.factor_eta;
      v *= s.factor_eta;
      w *= s.factor_eta;
    }
    if (pstat) v_press(s, tri, 0.5 * dtv, u, v, w);
    const double dtfm = dtf / mass_of_type[type[i]];
    u += dtfm * fx[i];
    v += dtfm * fy[i];
    w += dtfm * fz[i];
    vx[i] = u;
    vy[i] = v;
    vz[i] = w;
    if (!pstat) {
      x[i] += dtv * u;
      y[i] += dtv * v;
      z[i] += dtv * w;
      return;
    }
    double sf[3], r[3];
    s.box0.to_fractional(x[i], y[i], z[i], sf);
    s.box1.to_cartesian(sf, r);
    r[0] += dtv * u;
    r[1] += dtv * v;
    r[2] += dtv * w;
    s.box1.to_fractional(r[0], r[1], r[2], sf);
    s.box2.to_cartesian(sf, r);
    x[i] = r[0];
    y[i] = r[1];
    z[i] = r[2];
    if (s.flipped) {
      const int kxy = s.flip_k[0], kxz = s.flip_k[1], kyz = s.flip_k[2];
      const int a = ix[i], b = iy[i], c = iz[i];
      ix[i] = a - kxy * b + (kyz * kxy - kxz) * c;
      iy[i] = b - kyz * c;
    }
  }
};

struct NHSecondAtoms {
  int pstat, tri;
  double dtf, dthalf;
  const NHState* state;
  const int* type;
  const double* mass_of_type;
  const double *fx, *fy, *fz;
  double *vx, *vy, *vz;
  MD_HD void operator()(Index i) const {
    const double dtfm = dtf / mass_of_type[type[i]];
    double u = vx[i] + dtfm * fx[i], v = vy[i] + dtfm * fy[i], w = vz[i] + dtfm * fz[i];
    if (pstat) v_press(*state, tri, dthalf, u, v, w);
    vx[i] = u;
    vy[i] = v;
    vz[i] = w;
  }
};

}  // namespace

NoseHoover::NoseHoover(Context& ctx, const NHParams& p, std::uint64_t run_steps)
    : p_(p), run_steps_(static_cast<long>(run_steps)), state_(ctx, 1), saved_(ctx, 1),
      sums_(ctx, 1), sums_work_(ctx, 1) {
  if (p_.tchain < 1 || p_.tchain > kMaxChain || p_.pchain < 0 || p_.pchain > kMaxChain)
    throw Error("nose-hoover: chain length must be between 1 and " + std::to_string(kMaxChain));
  const NHState zero{};
  ctx.to_device(std::vector<NHState>{zero}, state_);
}

void NoseHoover::step_one(Context& ctx, System& sys, const StepData& d) {
  if (begin_ < 0) begin_ = d.step;
  NHParams p = p_;
  p.dt = d.dt;
  reduce_mvv_virial(ctx, sys, p.pstat ? d.virial : nullptr, sums_work_.data(), sums_.data());
  parallel_for(ctx, 1, NHFirstHalf{p, DeviceRamp{d.step_dev, begin_, run_steps_}, state_.data(), sums_.data(), sys.box_device()});
  parallel_for(ctx, sys.n_local(),
               NHFirstAtoms{p.tstat, p.pstat, p.pstyle == kNHTri, 0.5 * d.dt * p.ftm2v, d.dt,
                            state_.data(), sys.type.data(), sys.mass_of_type.data(),
                            sys.fx.data(), sys.fy.data(), sys.fz.data(), sys.vx.data(),
                            sys.vy.data(), sys.vz.data(), sys.x.data(), sys.y.data(),
                            sys.z.data(), sys.ix.data(), sys.iy.data(), sys.iz.data()});
}

void NoseHoover::step_two(Context& ctx, System& sys, const StepData& d) {
  NHParams p = p_;
  p.dt = d.dt;
  parallel_for(ctx, sys.n_local(),
               NHSecondAtoms{p.pstat, p.pstyle == kNHTri, 0.5 * d.dt * p.ftm2v, 0.5 * d.dt,
                             state_.data(), sys.type.data(), sys.mass_of_type.data(),
                             sys.fx.data(), sys.fy.data(), sys.fz.data(), sys.vx.data(),
                             sys.vy.data(), sys.vz.data()});
  reduce_mvv_virial(ctx, sys, p.pstat ? d.virial : nullptr, sums_work_.data(), sums_.data());
  parallel_for(ctx, 1, NHSecondHalf{p, state_.data(), sums_.data(), sys.box_device()});
  if (p.tstat) {
    const double* factor = &state_.data()->factor_eta;
    parallel_for(ctx, sys.n_local(),
                 ScaleVelocities{factor, sys.vx.data(), sys.vy.data(), sys.vz.data()});
  }
}

NHState NoseHoover::state(Context& ctx) const { return ctx.to_host(state_, 1)[0]; }

double NoseHoover::reservoir_energy(Context& ctx, System& sys) {
  const NHState s = state(ctx);
  if (s.error)
    throw Error(
        "npt: the cell tilted beyond 1.5 times its length (LAMMPS' limit) with flipping "
        "disabled; enable barostat flip or relax the shear stress");
  if (!s.initialized) return 0.0;
  const double kt = p_.boltz * s.t_target;
  double e = 0.0;
  if (p_.tstat) e += nhc_energy(s.tc, p_.tchain, s.ke_target, kt);
  if (p_.pstat) {
    const double volume = sys.box().volume();
    for (int i = 0; i < 3; ++i)
      if (p_.p_flag[i])
        e += 0.5 * s.omega_dot[i] * s.omega_dot[i] * s.omega_mass[i] +
             s.p_hydro * (volume - s.vol0) / (p_.pdim * p_.nktv2p);
    if (p_.pstyle == kNHTri)
      for (int i = 3; i < 6; ++i)
        if (p_.p_flag[i]) e += 0.5 * s.omega_dot[i] * s.omega_dot[i] * s.omega_mass[i];
    if (p_.pchain) e += nhc_energy(s.pc, p_.pchain, kt, kt);
    if (p_.deviatoric) {
      // strain energy 0.5 Tr(sigma h h^T) / nktv2p
      double h[6], a[3][3], hh[3][3], sg[3][3];
      box_to_h(sys.box(), h);
      upper(h, a);
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) {
          hh[i][j] = 0.0;
          for (int k = 0; k < 3; ++k) hh[i][j] += a[i][k] * a[j][k];
        }
      sigma_matrix(s.sigma, sg);
      double tr = 0.0;
      for (int i = 0; i < 3; ++i)
        for (int j = 0; j < 3; ++j) tr += sg[i][j] * hh[i][j];
      e += 0.5 * tr / p_.nktv2p;
    }
  }
  return e;
}

void NoseHoover::save_state(Context& ctx) {
  save_device_state(ctx, state_, saved_, begin_, saved_begin_);
}

void NoseHoover::restore_state(Context& ctx) {
  restore_device_state(ctx, state_, saved_, begin_, saved_begin_);
}

std::vector<std::uint8_t> NoseHoover::serialize(Context& ctx) {
  return serialize_device_state(ctx, "nose-hoover/1", begin_, state_);
}

void NoseHoover::deserialize(Context& ctx, const std::vector<std::uint8_t>& bytes) {
  deserialize_device_state(ctx, bytes, "nose-hoover/1", begin_, state_);
}

}  // namespace md
