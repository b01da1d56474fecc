#include "integrators/minimize.hpp"

#include <cmath>

#include "engine/error.hpp"
#include "kernels/launch.hpp"

namespace md {

namespace {

enum FireMode { kIdle = 0, kStepBack = 1, kFresh = 2, kMix = 3 };
enum FireStop { kRunning = 0, kEtol, kFtol, kMaxIter, kMaxEval, kMaxVdotf };

struct FireState {
  int mode, stop, fresh, pad;
  long iter, last_negative, vdotf_negatif, neval;
  double dt, dtv, alpha, scale1, scale2, ecurrent, eprevious, fnorm2, energy0, pressure;
  double q[3], vq[3], fq[3];
  Box box_ref, box_old, box_new;
};

struct FireConst {
  double etol, ftol, dmax, tmax_dt, tmin_dt, dtgrow, dtshrink, alpha0, alphashrink;
  long delaystep, vdfmax, max_iter, max_eval;
  int halfstepback, initialdelay, relax_cell;
  double pressure, cell_scale, cell_mass, ftm2v, nktv2p;
  Index n;
};

MD_INLINE int ncell(const FireConst& c) { return c.relax_cell == 1 ? 1 : (c.relax_cell == 2 ? 3 : 0); }

struct VdotF {
  const int* type;
  const double* mass_of_type;
  const double *vx, *vy, *vz, *fx, *fy, *fz;
  MD_HD DVec<3> operator()(Index i) const {
    DVec<3> s;
    s.v[0] = vx[i] * fx[i] + vy[i] * fy[i] + vz[i] * fz[i];
    s.v[1] = vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i];
    s.v[2] = fx[i] * fx[i] + fy[i] * fy[i] + fz[i] * fz[i];
    return s;
  }
};

struct FireDecide {
  FireConst c;
  FireState* st;
  const DVec<3>* sums;
  MD_HD void operator()(Index) const {
    FireState& s = *st;
    if (s.stop) {
      s.mode = kIdle;
      return;
    }
    if (s.fresh) {
      s.fresh = 0;
      s.mode = kFresh;
      return;
    }
    ++s.iter;
    double vf = sums->v[0], vv = sums->v[1], ff = sums->v[2];
    for (int k = 0; k < ncell(c); ++k) {
      vf += s.vq[k] * s.fq[k];
      vv += s.vq[k] * s.vq[k];
      ff += s.fq[k] * s.fq[k];
    }
    if (vf > 0.0) {
      s.vdotf_negatif = 0;
      s.scale1 = 1.0 - s.alpha;
      s.scale2 = ff <= 1e-20 ? 0.0 : s.alpha * sqrt(vv / ff);
      if (s.iter - s.last_negative > c.delaystep) {
        s.dt = s.dt * c.dtgrow < c.tmax_dt ? s.dt * c.dtgrow : c.tmax_dt;
        s.alpha *= c.alphashrink;
      }
      s.mode = kMix;
    } else {
      s.last_negative = s.iter;
      const bool delay = !(c.initialdelay && s.iter < c.delaystep);
      if (delay) {
        s.alpha = c.alpha0;
        if (s.dt * c.dtshrink >= c.tmin_dt) s.dt *= c.dtshrink;
      }
      ++s.vdotf_negatif;
      if (c.vdfmax > 0 && s.vdotf_negatif > c.vdfmax) {
        s.stop = kMaxVdotf;
        s.mode = kIdle;
        return;
      }
      s.mode = kStepBack;
      s.fresh = 1;
    }
  }
};

// Largest velocity component the coming Euler step starts from (LAMMPS: v, or dt f/m after
// a velocity reset).
struct VMax {
  const FireState* st;
  double dtf_full;  // filled per launch: dt * ftm2v is read from the state instead
  const int* type;
  const double* mass_of_type;
  const double *vx, *vy, *vz, *fx, *fy, *fz;
  double ftm2v;
  MD_HD double operator()(Index i) const {
    const FireState& s = *st;
    double a, b, c;
    if (s.mode == kMix) {
      a = vx[i], b = vy[i], c = vz[i];
    } else if (s.mode == kFresh) {
      const double k = s.dt * ftm2v / mass_of_type[type[i]];
      a = k * fx[i], b = k * fy[i], c = k * fz[i];
    } else {
      return 0.0;
    }
    a = fabs(a), b = fabs(b), c = fabs(c);
    return a > b ? (a > c ? a : c) : (b > c ? b : c);
  }
};

// Time step of this iteration and the cell degrees of freedom.
struct FireCell {
  FireConst c;
  FireState* st;
  const double* vmax_atoms;
  Box* box_dev;
  MD_HD void operator()(Index) const {
    FireState& s = *st;
    const int nc = ncell(c);
    if (s.mode == kIdle) return;
    const Box cur = *box_dev;
    s.box_old = cur;
    if (s.mode == kStepBack) {
      for (int k = 0; k < nc; ++k) {
        if (c.halfstepback) s.q[k] -= 0.5 * s.dt * s.vq[k];
        s.vq[k] = 0.0;
      }
    } else {
      double vmax = *vmax_atoms;
      for (int k = 0; k < nc; ++k) {
        const double v = s.mode == kMix ? s.vq[k] : s.dt * c.ftm2v * s.fq[k] / c.cell_mass;
        if (fabs(v) > vmax) vmax = fabs(v);
      }
      s.dtv = (s.dt * vmax > c.dmax) ? c.dmax / vmax : s.dt;
      const double dtf = s.dtv * c.ftm2v / c.cell_mass;
      for (int k = 0; k < nc; ++k) {
        if (s.mode == kFresh) s.vq[k] = 0.0;
        s.vq[k] += dtf * s.fq[k];
        if (s.mode == kMix) s.vq[k] = s.scale1 * s.vq[k] + s.scale2 * s.fq[k];
        s.q[k] += s.dtv * s.vq[k];
      }
    }
    Box nb = cur;
    if (nc > 0) {
      for (int d = 0; d < 3; ++d) {
        const double eps = s.q[nc == 1 ? 0 : d] / c.cell_scale;
        const double e = exp(eps) * s.box_ref.l[d] / cur.l[d];  // relative change
        const double ctr = cur.lo[d] + 0.5 * cur.l[d];
        nb.lo[d] = ctr + (cur.lo[d] - ctr) * e;
        nb.l[d] = cur.l[d] * e;
      }
      nb.xy = cur.xy * nb.l[0] / cur.l[0];
      nb.xz = cur.xz * nb.l[0] / cur.l[0];
      nb.yz = cur.yz * nb.l[1] / cur.l[1];
      *box_dev = nb;
    }
    s.box_new = nb;
  }
};

struct FireAtoms {
  const FireState* st;
  int halfstepback, relax;
  double ftm2v;
  const int* type;
  const double* mass_of_type;
  const double *fx, *fy, *fz;
  double *vx, *vy, *vz, *x, *y, *z;
  MD_HD void operator()(Index i) const {
    const FireState& s = *st;
    if (s.mode == kIdle) return;
    double u = vx[i], v = vy[i], w = vz[i];
    double r[3] = {x[i], y[i], z[i]};
    if (s.mode == kStepBack) {
      if (halfstepback) {  // LAMMPS steps back by half the (just shrunk) FIRE time step
        r[0] -= 0.5 * s.dt * u;
        r[1] -= 0.5 * s.dt * v;
        r[2] -= 0.5 * s.dt * w;
      }
      u = v = w = 0.0;
    } else {
      if (s.mode == kFresh) u = v = w = 0.0;
      const double dtfm = s.dtv * ftm2v / mass_of_type[type[i]];
      u += dtfm * fx[i];
      v += dtfm * fy[i];
      w += dtfm * fz[i];
      if (s.mode == kMix) {
        u = s.scale1 * u + s.scale2 * fx[i];
        v = s.scale1 * v + s.scale2 * fy[i];
        w = s.scale1 * w + s.scale2 * fz[i];
      }
      r[0] += s.dtv * u;
      r[1] += s.dtv * v;
      r[2] += s.dtv * w;
    }
    if (relax) {
      double f[3];
      s.box_old.to_fractional(r[0], r[1], r[2], f);
      s.box_new.to_cartesian(f, r);
    }
    vx[i] = u;
    vy[i] = v;
    vz[i] = w;
    x[i] = r[0];
    y[i] = r[1];
    z[i] = r[2];
  }
};

using EnergySums = DVec<8>;  // energy, f.f, virial (6)

struct EnergyTerms {
  const double *e, *vir, *fx, *fy, *fz;
  Index n;
  int with_virial;
  MD_HD EnergySums operator()(Index i) const {
    EnergySums s;
    s.v[0] = e[i];
    s.v[1] = fx[i] * fx[i] + fy[i] * fy[i] + fz[i] * fz[i];
    for (int c = 0; c < 6; ++c) s.v[2 + c] = with_virial ? vir[c * n + i] : 0.0;
    return s;
  }
};

// Cell forces -dH/d(eps) / cell_scale with H = U + P V / nktv2p, and the stop criteria.
struct FireCheck {
  FireConst c;
  FireState* st;
  const EnergySums* sums;
  const Box* box_dev;
  int initial;
  MD_HD void operator()(Index) const {
    FireState& s = *st;
    const EnergySums& e = *sums;
    const int nc = ncell(c);
    const double volume = box_dev->volume();
    s.pressure = (e.v[2] + e.v[3] + e.v[4]) / (3.0 * volume) * c.nktv2p;
    const double pv = c.pressure * volume / c.nktv2p;
    if (nc == 1) s.fq[0] = (e.v[2] + e.v[3] + e.v[4] - 3.0 * pv) / c.cell_scale;
    if (nc == 3)
      for (int d = 0; d < 3; ++d) s.fq[d] = (e.v[2 + d] - pv) / c.cell_scale;
    double ff = e.v[1];
    for (int k = 0; k < nc; ++k) ff += s.fq[k] * s.fq[k];
    if (initial) {
      s.ecurrent = s.energy0 = e.v[0];
      s.fnorm2 = ff;
      s.neval = 0;  // as LAMMPS, the setup evaluation is not counted
      return;
    }
    if (s.mode == kIdle) return;
    ++s.neval;
    if (s.mode == kStepBack) return;  // LAMMPS discards this evaluation's energy
    s.eprevious = s.ecurrent;
    s.ecurrent = e.v[0];
    s.fnorm2 = ff;
    if (c.etol > 0.0 && s.iter - s.last_negative > c.delaystep &&
        fabs(s.ecurrent - s.eprevious) <
            c.etol * 0.5 * (fabs(s.ecurrent) + fabs(s.eprevious) + 1e-8))
      s.stop = kEtol;
    else if (c.ftol > 0.0 && ff < c.ftol * c.ftol)
      s.stop = kFtol;
    else if (s.iter >= c.max_iter)
      s.stop = kMaxIter;
    else if (s.neval >= c.max_eval)
      s.stop = kMaxEval;
  }
};

const char* stop_name(int s) {
  switch (s) {
    case kEtol: return "energy tolerance";
    case kFtol: return "force tolerance";
    case kMaxIter: return "max iterations";
    case kMaxEval: return "max force evaluations";
    case kMaxVdotf: return "too many uphill steps (vdfmax)";
    default: return "running";
  }
}

}  // namespace

MinimizeResult fire_minimize(Simulation& sim, const FireOptions& o) {
  System& sys = sim.system();
  Context& ctx = sys.ctx();
  const Index n = sys.n_local();
  const double dt = o.dt > 0 ? o.dt : sim.timestep();
  const Units& u = sys.units();
  if (o.relax_cell < 0 || o.relax_cell > 2) throw Error("minimize: unknown cell relaxation");

  FireConst c{};
  c.etol = o.etol;
  c.ftol = o.ftol;
  c.dmax = o.dmax;
  c.tmax_dt = o.tmax * dt;
  c.tmin_dt = o.tmin * dt;
  c.dtgrow = o.dtgrow;
  c.dtshrink = o.dtshrink;
  c.alpha0 = o.alpha0;
  c.alphashrink = o.alphashrink;
  c.delaystep = o.delaystep;
  c.vdfmax = o.vdfmax;
  c.max_iter = o.max_iterations;
  c.max_eval = o.max_evaluations;
  c.halfstepback = o.halfstepback;
  c.initialdelay = o.initialdelay;
  c.relax_cell = o.relax_cell;
  c.pressure = o.pressure;
  const Box box0 = sys.box();
  // Cell coordinate q = cell_scale * ln(L / L0): with cell_scale = sqrt(N) (V/N)^(1/3) the
  // cell mode is about as stiff as one atom's, so one FIRE time step suits both.
  c.cell_scale = std::sqrt(static_cast<double>(n)) * std::cbrt(box0.volume() / n);
  double mass = 0;
  for (double m : sys.type_masses()) mass += m / sys.type_masses().size();
  c.cell_mass = mass;
  c.ftm2v = u.ftm2v;
  c.nktv2p = u.nktv2p;
  c.n = n;

  // Save the velocities (restored at the end), start from rest.
  DeviceArray<double> svx(ctx, n), svy(ctx, n), svz(ctx, n);
  copy_device(ctx, sys.vx, svx, n);
  copy_device(ctx, sys.vy, svy, n);
  copy_device(ctx, sys.vz, svz, n);
  fill(ctx, sys.vx.data(), n, 0.0);
  fill(ctx, sys.vy.data(), n, 0.0);
  fill(ctx, sys.vz.data(), n, 0.0);

  FireState init{};
  init.dt = dt;
  init.alpha = o.alpha0;
  init.box_ref = box0;
  DeviceArray<FireState> state(ctx, 1);
  ctx.to_device(std::vector<FireState>{init}, state);
  DeviceArray<DVec<3>> vf(ctx, 1);
  DeviceArray<double> vmax(ctx, 1);
  DeviceArray<EnergySums> esums(ctx, 1);

  const bool virial = o.relax_cell != 0;
  // These sums stay double reductions (deterministic for a given atom order and count): f.f
  // and P = F.v go to ~1e-30 near convergence, below the 2^-64 resolution of the exact
  // fixed-point sums (engine/exact_sum.hpp), and the stopping tests compare them.
  auto evaluate_and_check = [&](int initial) {
    sim.evaluate(true, virial);
    reduce_sum(ctx, n,
               EnergyTerms{sim.per_atom_energy().data(), sim.per_atom_virial().data(),
                           sys.fx.data(), sys.fy.data(), sys.fz.data(), n, virial ? 1 : 0},
               esums.data());
    parallel_for(ctx, 1, FireCheck{c, state.data(), esums.data(), sys.box_device(), initial});
  };
  evaluate_and_check(1);

  FireState s = init;
  bool stopped = false;
  for (;;) {
    for (long k = 0; k < o.check_every; ++k) {
      reduce_sum(ctx, n,
                 VdotF{sys.type.data(), sys.mass_of_type.data(), sys.vx.data(), sys.vy.data(),
                       sys.vz.data(), sys.fx.data(), sys.fy.data(), sys.fz.data()},
                 vf.data());
      parallel_for(ctx, 1, FireDecide{c, state.data(), vf.data()});
      reduce(ctx, n,
             VMax{state.data(), 0.0, sys.type.data(), sys.mass_of_type.data(), sys.vx.data(),
                  sys.vy.data(), sys.vz.data(), sys.fx.data(), sys.fy.data(), sys.fz.data(),
                  u.ftm2v},
             MaxOp{}, 0.0, vmax.data());
      parallel_for(ctx, 1, FireCell{c, state.data(), vmax.data(), sys.box_device()});
      parallel_for(ctx, n,
                   FireAtoms{state.data(), o.halfstepback, virial, u.ftm2v, sys.type.data(),
                             sys.mass_of_type.data(), sys.fx.data(), sys.fy.data(),
                             sys.fz.data(), sys.vx.data(), sys.vy.data(), sys.vz.data(),
                             sys.x.data(), sys.y.data(), sys.z.data()});
      evaluate_and_check(0);
    }
    s = ctx.to_host(state, 1)[0];
    NeighborList& nl = sim.neighbors();
    const NeighborStatus ns = nl.read_status();
    if (nl.overflowed(ns, sys)) {
      // Forces since the last check may come from a truncated list: grow, rebuild, and
      // restart the FIRE dynamics from rest at the current positions.
      nl.grow(sys, ns);
      nl.build_now(sys);
      fill(ctx, sys.vx.data(), n, 0.0);
      fill(ctx, sys.vy.data(), n, 0.0);
      fill(ctx, sys.vz.data(), n, 0.0);
      s.vq[0] = s.vq[1] = s.vq[2] = 0.0;
      s.fresh = 0;
      s.stop = kRunning;
      ctx.to_device(std::vector<FireState>{s}, state);
      evaluate_and_check(0);
      continue;
    }
    if (s.stop != kRunning) break;
    if (s.neval > o.max_evaluations + o.check_every * 4) break;  // safety net
    if (o.stop_flag && *o.stop_flag) {
      stopped = true;
      break;
    }
  }

  copy_device(ctx, svx, sys.vx, n);
  copy_device(ctx, svy, sys.vy, n);
  copy_device(ctx, svz, sys.vz, n);
  if (virial) sys.pull_box();
  sim.evaluate(true, true);  // energy and virial of the final state for thermo output

  MinimizeResult r;
  r.iterations = s.iter;
  r.evaluations = s.neval;
  r.stop = stopped ? "stopped by signal" : stop_name(s.stop);
  r.energy_start = s.energy0;
  r.energy = s.ecurrent;
  r.fnorm = std::sqrt(s.fnorm2);
  r.pressure = s.pressure;
  return r;
}

}  // namespace md
