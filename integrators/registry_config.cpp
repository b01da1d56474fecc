#include "integrators/registry.hpp"

#include <cmath>

#include "engine/config.hpp"
#include "integrators/csvr.hpp"
#include "integrators/langevin.hpp"
#include "integrators/nose_hoover.hpp"
#include "integrators/nve.hpp"
#include "integrators/scr.hpp"

namespace md {

namespace {

// A target that may ramp: `key = value` or `key = [start, stop]`.
Ramp read_ramp(Section& s, const std::string& key, std::optional<double> def = std::nullopt) {
  if (!s.has(key)) {
    if (!def) s.fail(key, "missing (a number, or [start, stop] for a ramp over the run)");
    return Ramp{*def, *def};
  }
  try {
    const double v = s.get_double(key);
    return Ramp{v, v};
  } catch (const InputError&) {
  }
  std::vector<double> v;
  try {
    v = s.get_doubles(key, 2);
  } catch (const InputError&) {
    s.fail(key, "expected a number, or [start, stop] for a ramp over the run");
  }
  return Ramp{v[0], v[1]};
}

std::uint64_t read_seed(Section& s) {
  const std::int64_t seed = s.get_int("seed");
  if (seed <= 0) s.fail("seed", "must be a positive integer");
  return static_cast<std::uint64_t>(seed);
}

double dof_of(const System& sys) { return 3.0 * static_cast<double>(sys.n_local()) - 3.0; }

struct Thermostat {
  std::string kind;
  Ramp temp;
  double tdamp = 0;
  int chain = 3, tloop = 1;
  std::uint64_t seed = 0;
};

Thermostat read_thermostat(Section& run, const IntegratorSetup& setup) {
  auto t = run.table("thermostat");
  if (!t) run.fail("thermostat", "missing: give thermostat = { kind = ..., temperature = ... }");
  Thermostat th;
  th.kind = t->get_choice("kind", {"nose-hoover", "csvr", "langevin"});
  th.temp = read_ramp(*t, "temperature");
  if (!(th.temp.start > 0.0) || !(th.temp.stop > 0.0))
    t->fail("temperature", "must be positive");
  th.tdamp = t->get_double("tdamp", 100.0 * setup.dt);
  if (!(th.tdamp > 0.0)) t->fail("tdamp", "must be positive");
  if (th.kind == "nose-hoover") {
    th.chain = static_cast<int>(t->get_int("chain", 3));
    if (th.chain < 1 || th.chain > kMaxChain)
      t->fail("chain", "must be between 1 and " + std::to_string(kMaxChain));
    th.tloop = static_cast<int>(t->get_int("tloop", 1));
    if (th.tloop < 1 || th.tloop > 100) t->fail("tloop", "must be between 1 and 100");
  } else {
    th.seed = read_seed(*t);
  }
  t->finish();
  return th;
}

NHParams nh_base(const IntegratorSetup& setup, const Thermostat& th) {
  NHParams p;
  p.tstat = 1;
  p.temp = th.temp;
  p.t_freq = 1.0 / th.tdamp;
  p.tchain = th.chain;
  p.tloop = th.tloop;
  p.dt = setup.dt;
  p.boltz = setup.units.boltz;
  p.nktv2p = setup.units.nktv2p;
  p.mvv2e = setup.units.mvv2e;
  p.ftm2v = setup.units.ftm2v;
  p.tdof = dof_of(setup.system);
  p.natoms = static_cast<double>(setup.system.n_local());
  return p;
}

std::unique_ptr<Integrator> make_thermostat(const IntegratorSetup& setup, const Thermostat& th) {
  if (th.kind == "nose-hoover")
    return std::make_unique<NoseHoover>(setup.ctx, nh_base(setup, th),
                                        static_cast<std::uint64_t>(setup.steps));
  if (th.kind == "csvr") {
    CsvrParams p;
    p.temp = th.temp;
    p.tdamp = th.tdamp;
    p.seed = th.seed;
    p.tdof = dof_of(setup.system);
    p.boltz = setup.units.boltz;
    p.mvv2e = setup.units.mvv2e;
    p.ftm2v = setup.units.ftm2v;
    return std::make_unique<Csvr>(setup.ctx, p, setup.steps);
  }
  LangevinParams p;
  p.temp = th.temp;
  p.damp = th.tdamp;
  p.seed = th.seed;
  p.boltz = setup.units.boltz;
  p.mvv2e = setup.units.mvv2e;
  p.ftm2v = setup.units.ftm2v;
  return std::make_unique<Langevin>(setup.ctx, p, setup.steps);
}

const char* kComponentNames[6] = {"x", "y", "z", "yz", "xz", "xy"};
const char* kOverrideKeys[6] = {"pxx", "pyy", "pzz", "pyz", "pxz", "pxy"};

}  // namespace

std::unique_ptr<Integrator> make_nve(Section&, const IntegratorSetup&) {
  return std::make_unique<NVE>();
}

std::unique_ptr<Integrator> make_nvt(Section& run, const IntegratorSetup& setup) {
  if (run.has("barostat")) run.fail("barostat", "only with ensemble = \"npt\"");
  return make_thermostat(setup, read_thermostat(run, setup));
}

std::unique_ptr<Integrator> make_npt(Section& run, const IntegratorSetup& setup) {
  const Thermostat th = read_thermostat(run, setup);
  auto b = run.table("barostat");
  if (!b) run.fail("barostat", "missing: give barostat = { kind = ..., pressure = ... }");
  const std::string kind = b->get_choice("kind", {"mtk", "scr"}, std::string("mtk"));
  const std::string coupling =
      b->get_choice("coupling", kind == "mtk" ? std::vector<std::string>{"iso", "aniso", "tri"}
                                              : std::vector<std::string>{"iso", "aniso"},
                    std::string("iso"));
  const Ramp press = read_ramp(*b, "pressure");
  const double pdamp = b->get_double("pdamp", 1000.0 * setup.dt);
  if (!(pdamp > 0.0)) b->fail("pdamp", "must be positive");
  const Box& box = setup.system.box();

  // Barostatted components (LAMMPS keywords x y z yz xz xy).
  int flag[6] = {1, 1, 1, coupling == "tri", coupling == "tri", coupling == "tri"};
  if (b->has("dims")) {
    const auto dims = b->get_strings("dims");
    for (int& f : flag) f = 0;
    for (const auto& d : dims) {
      int k = -1;
      for (int c = 0; c < 6; ++c)
        if (d == kComponentNames[c]) k = c;
      if (k < 0) b->fail("dims", "\"" + d + "\" is not one of x, y, z, xy, xz, yz");
      if (k >= 3 && coupling != "tri") b->fail("dims", "tilt components need coupling = \"tri\"");
      flag[k] = 1;
    }
  }
  for (int d = 0; d < 3; ++d)
    if (flag[d] && !box.periodic[d])
      b->fail("dims", std::string("cannot barostat the non-periodic dimension ") + kComponentNames[d]);
  if ((flag[3] || flag[4]) && !box.periodic[2]) b->fail("dims", "xz/yz need a periodic z");
  if (flag[5] && !box.periodic[1]) b->fail("dims", "xy needs a periodic y");
  if (!(flag[0] || flag[1] || flag[2] || flag[3] || flag[4] || flag[5]))
    b->fail("dims", "no component is barostatted");

  // Per-component targets: pressure for the diagonal, 0 for tilts, overridable.
  Ramp target[6];
  for (int c = 0; c < 6; ++c) target[c] = c < 3 ? press : Ramp{0.0, 0.0};
  for (int c = 0; c < 6; ++c)
    if (b->has(kOverrideKeys[c])) {
      if (coupling == "iso") b->fail(kOverrideKeys[c], "per-component targets need aniso or tri");
      if (c >= 3 && coupling != "tri") b->fail(kOverrideKeys[c], "tilt targets need coupling = \"tri\"");
      target[c] = read_ramp(*b, kOverrideKeys[c]);
    }

  if (kind == "scr") {
    const double beta = b->get_double("compressibility");
    if (!(beta > 0.0)) b->fail("compressibility", "must be positive (1/pressure units)");
    ScrParams p;
    p.iso = coupling == "iso";
    if (p.iso && !(flag[0] && flag[1] && flag[2]))
      b->fail("dims", "coupling = \"iso\" barostats x, y and z together");
    for (int d = 0; d < 3; ++d) {
      p.p_flag[d] = flag[d];
      p.press[d] = target[d];
    }
    p.temp = th.temp;
    p.compressibility = beta;
    p.tau = pdamp;
    p.seed = b->has("seed") ? read_seed(*b) : (th.seed ? th.seed + 7919 : 0);
    if (p.seed == 0) b->fail("seed", "missing (the scr barostat is stochastic)");
    p.boltz = setup.units.boltz;
    p.nktv2p = setup.units.nktv2p;
    p.mvv2e = setup.units.mvv2e;
    b->finish();
    return std::make_unique<StochasticCellRescaling>(setup.ctx, p, make_thermostat(setup, th),
                                                     setup.steps);
  }

  if (th.kind != "nose-hoover")
    b->fail("kind", "the mtk barostat needs thermostat kind = \"nose-hoover\" (use kind = \"scr\" "
                    "with csvr or langevin)");
  NHParams p = nh_base(setup, th);
  p.pstat = 1;
  p.pchain = static_cast<int>(b->get_int("pchain", 3));
  if (p.pchain < 0 || p.pchain > kMaxChain)
    b->fail("pchain", "must be between 0 and " + std::to_string(kMaxChain));
  p.ploop = static_cast<int>(b->get_int("ploop", 1));
  if (p.ploop < 1 || p.ploop > 100) b->fail("ploop", "must be between 1 and 100");
  p.mtk = b->get_bool("mtk", true) ? 1 : 0;
  p.flip = b->get_bool("flip", true) ? 1 : 0;
  const std::string couple = b->get_choice("couple", {"xyz", "xy", "yz", "xz", "none"},
                                           std::string(coupling == "iso" ? "xyz" : "none"));
  p.pcouple = couple == "xyz" ? kCoupleXYZ
              : couple == "xy" ? kCoupleXY
              : couple == "yz" ? kCoupleYZ
              : couple == "xz" ? kCoupleXZ
                               : kCoupleNone;
  auto need = [&](int a, int c) {
    if (!flag[a] || !flag[c]) b->fail("couple", "couples a dimension that is not barostatted");
    if (target[a].start != target[c].start || target[a].stop != target[c].stop)
      b->fail("couple", "coupled dimensions need the same target pressure");
  };
  if (p.pcouple == kCoupleXYZ) {
    need(0, 1);
    need(0, 2);
  }
  if (p.pcouple == kCoupleXY) need(0, 1);
  if (p.pcouple == kCoupleYZ) need(1, 2);
  if (p.pcouple == kCoupleXZ) need(0, 2);
  for (int c = 0; c < 6; ++c) {
    p.p_flag[c] = flag[c];
    p.p_start[c] = target[c].start;
    p.p_stop[c] = target[c].stop;
    p.p_freq[c] = flag[c] ? 1.0 / pdamp : 0.0;
    if (flag[c]) p.p_freq_max = std::max(p.p_freq_max, p.p_freq[c]);
  }
  p.pdim = flag[0] + flag[1] + flag[2];
  p.pstyle = (flag[3] || flag[4] || flag[5]) ? kNHTri
             : p.pcouple == kCoupleXYZ       ? kNHIso
                                             : kNHAniso;
  p.deviatoric = p.pstyle == kNHIso ? 0 : 1;
  // As LAMMPS: tilts of a triclinic box follow their length unless they are barostatted.
  p.scale_xy = box.xy != 0.0 && box.periodic[1] && !flag[5];
  p.scale_xz = box.xz != 0.0 && box.periodic[2] && !flag[4];
  p.scale_yz = box.yz != 0.0 && box.periodic[2] && !flag[3];
  if (p.pdim == 0 && p.pstyle != kNHTri)
    b->fail("dims", "no component is barostatted");
  b->finish();
  return std::make_unique<NoseHoover>(setup.ctx, p, static_cast<std::uint64_t>(setup.steps));
}

const std::vector<IntegratorStyle>& integrator_styles() {
  static const std::vector<IntegratorStyle> styles = {
      {"nve", make_nve, "velocity Verlet (LAMMPS fix nve)"},
      {"nvt", make_nvt,
       "thermostat: nose-hoover chain (fix nvt), csvr (fix temp/csvr), langevin (BAOAB)"},
      {"npt", make_npt,
       "barostat: mtk (fix npt: iso, aniso, tri) or scr (stochastic cell rescaling)"},
  };
  return styles;
}

std::unique_ptr<Integrator> make_integrator(Section& run, const IntegratorSetup& setup) {
  std::vector<std::string> names;
  for (const auto& s : integrator_styles()) names.push_back(s.name);
  const std::string ensemble = run.get_choice("ensemble", names, std::string("nve"));
  for (const auto& s : integrator_styles())
    if (ensemble == s.name) return s.make(run, setup);
  run.fail("ensemble", "unknown ensemble");
}

}  // namespace md
