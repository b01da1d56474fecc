// Shared device pieces of the thermostats and barostats (integrators/*.cpp): reductions of
// m v (x) v and of the virial, velocity scaling, a counter-based random stream for one-thread
// state updates, Gamma deviates, Nose-Hoover chain half steps, linear start/stop ramps and
// POD (de)serialisation of integrator state. LAMMPS units (mvv2e, boltz, nktv2p).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "engine/error.hpp"
#include "engine/exact_sum.hpp"
#include "engine/random.hpp"
#include "engine/system.hpp"
#include "engine/thermo.hpp"
#include "kernels/launch.hpp"

namespace md {

// ---------------------------------------------------------------- reductions

// m v v (xx yy zz xy xz yz, mass * velocity^2) and virial sums (xx yy zz xy xz yz, energy).
using Sums12 = DVec<12>;

struct MvvVirialTerms {
  const int* type;
  const double* mass_of_type;
  const double *vx, *vy, *vz;
  const double* virial;  // [6n] component-major, or null (zeros)
  Index n;
  MD_HD Sums12 operator()(Index i) const {
    Sums12 s;
    mvv_tensor(mass_of_type[type[i]], vx[i], vy[i], vz[i], s.v);
    for (int c = 0; c < 6; ++c) s.v[6 + c] = virial ? virial[c * n + i] : 0.0;
    return s;
  }
};

// Exact sums over the owned atoms of every rank (engine/exact_sum.hpp): the same bits for any
// atom order, thread count or decomposition. work: device FVec workspace of the caller.
inline void reduce_mvv_virial(Context& ctx, const System& sys, const double* virial,
                              FVec<12>* work, Sums12* out) {
  exact_sum<12>(ctx, sys,
                MvvVirialTerms{sys.type.data(), sys.mass_of_type.data(), sys.vx.data(),
                               sys.vy.data(), sys.vz.data(), virial, sys.n_local()},
                work, out);
}

// Sum of m v^2 (mass * velocity^2).
struct MvvTerm {
  const int* type;
  const double* mass_of_type;
  const double *vx, *vy, *vz;
  MD_HD DVec<1> operator()(Index i) const {
    DVec<1> s;
    s.v[0] = mass_of_type[type[i]] * (vx[i] * vx[i] + vy[i] * vy[i] + vz[i] * vz[i]);
    return s;
  }
};

inline void reduce_mvv(Context& ctx, const System& sys, FVec<1>* work, DVec<1>* out) {
  exact_sum<1>(ctx, sys,
               MvvTerm{sys.type.data(), sys.mass_of_type.data(), sys.vx.data(), sys.vy.data(),
                       sys.vz.data()},
               work, out);
}

// v *= *factor (a device scalar computed by a previous kernel).
struct ScaleVelocities {
  const double* factor;
  double *vx, *vy, *vz;
  MD_HD void operator()(Index i) const {
    const double s = *factor;
    vx[i] *= s;
    vy[i] *= s;
    vz[i] *= s;
  }
};

// ---------------------------------------------------------------- random numbers

// Purposes keep the streams of different integrators apart for the same seed.
enum RandomPurpose : std::uint32_t { kRandCsvr = 1, kRandLangevin = 2, kRandScr = 3 };

// Sequential stream for one-thread kernels: draw k is Philox(seed; step, purpose, k).
struct RandomStream {
  std::uint64_t seed;
  std::uint64_t step;
  std::uint32_t purpose;
  std::uint32_t counter;
  MD_HD Philox4x32 next() {
    return philox4x32(static_cast<std::uint32_t>(step), static_cast<std::uint32_t>(step >> 32),
                      purpose, counter++, static_cast<std::uint32_t>(seed),
                      static_cast<std::uint32_t>(seed >> 32));
  }
  MD_HD double uniform() { return uniform_open01(next().v[0]); }
  MD_HD double gaussian() {
    const Philox4x32 r = next();
    const double u1 = uniform_open01(r.v[0]), u2 = uniform_open01(r.v[1]);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
  }
};

// Four standard normal deviates for (seed, atom id, step, purpose): one Philox call.
MD_INLINE void gaussian4(std::uint64_t seed, std::int64_t id, std::uint64_t step,
                         std::uint32_t purpose, double g[4]) {
  const std::uint64_t a = static_cast<std::uint64_t>(id);
  const Philox4x32 r = philox4x32(static_cast<std::uint32_t>(a), static_cast<std::uint32_t>(a >> 32),
                                  static_cast<std::uint32_t>(step),
                                  static_cast<std::uint32_t>(step >> 32) ^ (purpose << 24),
                                  static_cast<std::uint32_t>(seed),
                                  static_cast<std::uint32_t>(seed >> 32));
  for (int k = 0; k < 2; ++k) {
    const double u1 = uniform_open01(r.v[2 * k]), u2 = uniform_open01(r.v[2 * k + 1]);
    const double rad = sqrt(-2.0 * log(u1));
    g[2 * k] = rad * cos(6.283185307179586 * u2);
    g[2 * k + 1] = rad * sin(6.283185307179586 * u2);
  }
}

// Gamma(shape a >= 1, scale 1) deviate: Marsaglia & Tsang, ACM TOMS 26, 363 (2000).
MD_INLINE double gamma_deviate(RandomStream& r, double a) {
  const double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d);
  for (;;) {
    const double x = r.gaussian();
    double v = 1.0 + c * x;
    if (v <= 0.0) continue;
    v = v * v * v;
    const double u = r.uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return d * v;
    if (log(u) < 0.5 * x * x + d * (1.0 - v + log(v))) return d * v;
  }
}

// Sum of n squared standard normal deviates (chi-square with n degrees of freedom).
MD_INLINE double sum_of_squared_gaussians(RandomStream& r, double n) {
  if (n < 0.5) return 0.0;
  if (n < 1.5) {
    const double g = r.gaussian();
    return g * g;
  }
  return 2.0 * gamma_deviate(r, 0.5 * n);
}

// ---------------------------------------------------------------- Nose-Hoover chains

constexpr int kMaxChain = 16;

struct NHChain {
  double eta[kMaxChain];
  double eta_dot[kMaxChain + 1];  // eta_dot[m] = 0: dummy end of the chain
  double eta_dotdot[kMaxChain];
  double mass[kMaxChain];
};

// One half step (dt/2) of an m-link chain acting on a kinetic energy `ke` (energy units;
// for particles tdof kB T_current, for the barostat sum W omega_dot^2), following the
// Trotter factorisation of Martyna, Tuckerman, Tobias & Klein, Mol. Phys. 87, 1117 (1996)
// as LAMMPS FixNH::nhc_temp_integrate does it. ke_target: the first link's target (tdof kT
// or kT), kt: kB T for the other links. Masses must be set. Returns the factor by which the
// coupled velocities are scaled; ke is updated accordingly.
MD_INLINE double nhc_half_step(NHChain& c, int m, int nloop, double& ke, double ke_target,
                               double kt, double dt) {
  const double f = 1.0 / nloop, dt2 = 0.5 * dt * f, dt4 = 0.25 * dt * f, dt8 = 0.125 * dt * f;
  c.eta_dot[m] = 0.0;
  c.eta_dotdot[0] = c.mass[0] > 0.0 ? (ke - ke_target) / c.mass[0] : 0.0;
  double total = 1.0;
  for (int loop = 0; loop < nloop; ++loop) {
    for (int k = m - 1; k > 0; --k) {
      const double e = exp(-dt8 * c.eta_dot[k + 1]);
      c.eta_dot[k] = (c.eta_dot[k] * e + c.eta_dotdot[k] * dt4) * e;
    }
    const double e0 = exp(-dt8 * c.eta_dot[1]);
    c.eta_dot[0] = (c.eta_dot[0] * e0 + c.eta_dotdot[0] * dt4) * e0;
    const double s = exp(-dt2 * c.eta_dot[0]);
    total *= s;
    ke *= s * s;
    c.eta_dotdot[0] = c.mass[0] > 0.0 ? (ke - ke_target) / c.mass[0] : 0.0;
    for (int k = 0; k < m; ++k) c.eta[k] += dt2 * c.eta_dot[k];
    c.eta_dot[0] = (c.eta_dot[0] * e0 + c.eta_dotdot[0] * dt4) * e0;
    for (int k = 1; k < m; ++k) {
      const double e = exp(-dt8 * c.eta_dot[k + 1]);
      c.eta_dot[k] *= e;
      c.eta_dotdot[k] = (c.mass[k - 1] * c.eta_dot[k - 1] * c.eta_dot[k - 1] - kt) / c.mass[k];
      c.eta_dot[k] += c.eta_dotdot[k] * dt4;
      c.eta_dot[k] *= e;
    }
  }
  return total;
}

// Chain energy: ke_target eta_0 + sum_k>0 kt eta_k + sum_k Q_k eta_dot_k^2 / 2.
inline double nhc_energy(const NHChain& c, int m, double ke_target, double kt) {
  double e = 0.0;
  for (int k = 0; k < m; ++k)
    e += (k == 0 ? ke_target : kt) * c.eta[k] + 0.5 * c.mass[k] * c.eta_dot[k] * c.eta_dot[k];
  return e;
}

// ---------------------------------------------------------------- ramps

// LAMMPS start/stop ramp: fraction of the run done after the step being taken,
// (step + 1 - begin) / nsteps, clamped to [0, 1] (0 for a zero-length run).
MD_INLINE double ramp_fraction(long step, long begin, long nsteps) {
  if (nsteps <= 0) return 0.0;
  const double f = static_cast<double>(step + 1 - begin) / static_cast<double>(nsteps);
  return f < 0.0 ? 0.0 : (f > 1.0 ? 1.0 : f);
}

// The ramp fraction evaluated on the device from the device step counter (StepData::step_dev):
// begin and nsteps are run constants, so kernels holding a DeviceRamp replay correctly.
struct DeviceRamp {
  const long* step;  // device: the index of the step being taken
  long begin, nsteps;
  MD_HD long now() const { return *step; }
  MD_HD double fraction() const { return ramp_fraction(*step, begin, nsteps); }
};

struct Ramp {
  double start = 0, stop = 0;
  MD_HD double at(double f) const { return start + f * (stop - start); }
};

// ---------------------------------------------------------------- state (de)serialisation

class StateWriter {
 public:
  explicit StateWriter(const std::string& tag) { put_string(tag); }
  template <class T>
  void put(const T& v) {
    const auto* p = reinterpret_cast<const std::uint8_t*>(&v);
    bytes_.insert(bytes_.end(), p, p + sizeof(T));
  }
  void put_string(const std::string& s) {
    put(static_cast<std::uint64_t>(s.size()));
    bytes_.insert(bytes_.end(), s.begin(), s.end());
  }
  std::vector<std::uint8_t> take() { return std::move(bytes_); }

 private:
  std::vector<std::uint8_t> bytes_;
};

class StateReader {
 public:
  StateReader(const std::vector<std::uint8_t>& b, const std::string& tag) : b_(b) {
    if (get_string() != tag) throw Error("checkpoint: integrator state is not of type " + tag);
  }
  template <class T>
  T get() {
    if (pos_ + sizeof(T) > b_.size()) throw Error("checkpoint: integrator state truncated");
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_string() {
    const auto n = get<std::uint64_t>();
    if (pos_ + n > b_.size()) throw Error("checkpoint: integrator state truncated");
    std::string s(b_.begin() + static_cast<long>(pos_), b_.begin() + static_cast<long>(pos_ + n));
    pos_ += n;
    return s;
  }
  void done() const {
    if (pos_ != b_.size()) throw Error("checkpoint: integrator state has trailing bytes");
  }

 private:
  const std::vector<std::uint8_t>& b_;
  std::size_t pos_ = 0;
};

// The state every thermostat/barostat keeps: one POD struct S on the device plus the step the
// run started at (ramps count from it). Roll-back copies it device-to-device; checkpoints
// store tag, start step and the struct (one counted transfer, sync points only).
template <class S>
void save_device_state(Context& ctx, const DeviceArray<S>& now, DeviceArray<S>& saved,
                       long begin, long& saved_begin) {
  ctx.copy_d2d(saved.data(), now.data(), sizeof(S));
  saved_begin = begin;
}
template <class S>
void restore_device_state(Context& ctx, DeviceArray<S>& now, const DeviceArray<S>& saved,
                          long& begin, long saved_begin) {
  ctx.copy_d2d(now.data(), saved.data(), sizeof(S));
  begin = saved_begin;
}
template <class S>
std::vector<std::uint8_t> serialize_device_state(Context& ctx, const char* tag, long begin,
                                                 const DeviceArray<S>& now) {
  StateWriter w(tag);
  w.put(begin);
  w.put(ctx.to_host(now, 1)[0]);
  return w.take();
}
template <class S>
void deserialize_device_state(Context& ctx, const std::vector<std::uint8_t>& bytes,
                              const char* tag, long& begin, DeviceArray<S>& now) {
  StateReader r(bytes, tag);
  begin = r.get<long>();
  const S s = r.get<S>();
  r.done();
  ctx.to_device(std::vector<S>{s}, now);
}

}  // namespace md
