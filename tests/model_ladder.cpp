#include "model_ladder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/simulation.hpp"
#include "engine/velocity.hpp"
#include "integrators/nve.hpp"
#include "support.hpp"

namespace md::test {

Structure strained(Structure s, int a, int b, double eps) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    double* r[3] = {&s.x[i], &s.y[i], &s.z[i]};
    *r[a] += eps * (*r[b] - s.box.lo[b]);
  }
  // cell rows A = (lx, 0, 0), B = (xy, ly, 0), C = (xz, yz, lz), each v_a += eps v_b
  Box& box = s.box;
  double A[3] = {box.l[0], 0, 0}, B[3] = {box.xy, box.l[1], 0}, C[3] = {box.xz, box.yz, box.l[2]};
  for (double* v : {A, B, C}) v[a] += eps * v[b];
  box.l[0] = A[0];
  box.xy = B[0];
  box.l[1] = B[1];
  box.xz = C[0];
  box.yz = C[1];
  box.l[2] = C[2];
  return s;
}

namespace {

double max_abs_force(const Forces& f) {
  double m = 0;
  for (std::size_t i = 0; i < f.fx.size(); ++i)
    m = std::max({m, std::abs(f.fx[i]), std::abs(f.fy[i]), std::abs(f.fz[i])});
  return m;
}

double force_of(const Forces& f, std::size_t i, int d) {
  return d == 0 ? f.fx[i] : (d == 1 ? f.fy[i] : f.fz[i]);
}

// Rotation by Euler angles (z-y-x), fixed and generic.
struct Rotation {
  double R[3][3];
  Rotation() {
    const double al = 0.7, be = -1.1, ga = 2.3;
    const double ca = std::cos(al), sa = std::sin(al), cb = std::cos(be), sb = std::sin(be),
                 cg = std::cos(ga), sg = std::sin(ga);
    const double m[3][3] = {{ca * cb, ca * sb * sg - sa * cg, ca * sb * cg + sa * sg},
                            {sa * cb, sa * sb * sg + ca * cg, sa * sb * cg - ca * sg},
                            {-sb, cb * sg, cb * cg}};
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c) R[r][c] = m[r][c];
  }
  void apply(const double v[3], double out[3]) const {
    for (int r = 0; r < 3; ++r) out[r] = R[r][0] * v[0] + R[r][1] * v[1] + R[r][2] * v[2];
  }
};

// The atoms within `radius` of the cell centre (all when radius <= 0), centred in a cubic
// non-periodic box large enough for any rotation about its centre.
Structure cluster_of(const Structure& s, double radius, double margin) {
  const double half[3] = {0.5, 0.5, 0.5};
  double c[3];
  s.box.to_cartesian(half, c);
  Structure out;
  out.type_names = s.type_names;
  out.type_masses = s.type_masses;
  std::vector<std::size_t> keep;
  double rmax = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const double d[3] = {s.x[i] - c[0], s.y[i] - c[1], s.z[i] - c[2]};
    const double r = std::sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (radius > 0 && r >= radius) continue;
    keep.push_back(i);
    rmax = std::max(rmax, r);
  }
  const double side = 2 * (rmax + margin);
  out.box = cubic_box(side);
  for (int d = 0; d < 3; ++d) out.box.periodic[d] = 0;
  const double o[3] = {out.box.lo[0] + 0.5 * side, out.box.lo[1] + 0.5 * side,
                       out.box.lo[2] + 0.5 * side};
  for (std::size_t i : keep)
    out.add_atom(static_cast<std::int64_t>(out.size()) + 1, s.type[i], o[0] + s.x[i] - c[0],
                 o[1] + s.y[i] - c[1], o[2] + s.z[i] - c[2]);
  return out;
}

void check_executor_agreement(const LadderCase& c, const Forces& f) {
  Context cpu(Backend::cpu);
  auto pot = c.make(cpu, c.structure.type_names);
  const Forces g = engine_forces(cpu, c.structure, *pot, c.units, c.skin);
  double ferr = 0, vscale = 0, verr = 0;
  for (std::size_t i = 0; i < g.fx.size(); ++i)
    for (int d = 0; d < 3; ++d) ferr = std::max(ferr, std::abs(force_of(f, i, d) - force_of(g, i, d)));
  for (int k = 0; k < 6; ++k) {
    vscale = std::max(vscale, std::abs(g.virial[k]));
    verr = std::max(verr, std::abs(f.virial[k] - g.virial[k]));
  }
  const double eerr = rel_err(f.energy, g.energy);
  MESSAGE(c.name << " [" << backend_str() << " vs cpu]: |dE|/|E| = " << eerr << ", max |dF| = "
                 << ferr << ", max |dW|/max|W| = " << verr / vscale);
  CHECK(eerr <= c.cross_energy_rel);
  CHECK(ferr <= c.cross_force_abs);
  CHECK(verr <= c.cross_virial_rel * vscale);
}

void check_nve(Context& ctx, const LadderCase& c) {
  Structure s = c.nve_structure.size() > 0 ? c.nve_structure : c.structure;
  create_velocities(s, c.units, c.nve_temperature, c.nve_seed);
  auto pot = c.make(ctx, s.type_names);
  const NveRecord r = run_nve(ctx, s, *pot, c.units, c.nve_dt, c.nve_skin, c.nve_steps,
                              c.nve_thermo_every);
  const double per_atom = r.spread / static_cast<double>(s.size());
  MESSAGE(c.name << " [" << backend_str() << "] NVE " << s.size() << " atoms, " << c.nve_steps
                 << " steps of " << c.nve_dt << ": <T> = " << r.mean_temperature
                 << ", max |E - E0| = " << r.spread << " (" << per_atom << " per atom)");
  CHECK(r.mean_temperature > c.nve_min_temperature);
  CHECK(per_atom < c.nve_bound_per_atom);
}

}  // namespace

NveRecord run_nve(Context& ctx, const Structure& s, Potential& pot, const Units& units, double dt,
                  double skin, long steps, int thermo_every) {
  System sys(ctx, s, units);
  NVE nve;
  Simulation sim(ctx, sys, pot, nve, dt, skin);
  sim.setup();
  std::vector<double> etot, temp;
  Observers obs;
  obs.thermo_every = thermo_every;
  obs.on_thermo = [&](const ThermoSample& t) {
    etot.push_back(t.etotal);
    temp.push_back(t.temp);
  };
  sim.run(steps, obs);
  REQUIRE(etot.size() >= 2);
  NveRecord r;
  for (double e : etot) r.spread = std::max(r.spread, std::abs(e - etot.front()));
  r.drift = std::abs(etot.back() - etot.front());
  const std::size_t half = temp.size() / 2;
  r.mean_temperature =
      std::accumulate(temp.begin() + static_cast<std::ptrdiff_t>(half), temp.end(), 0.0) /
      static_cast<double>(temp.size() - half);
  return r;
}

void check_model(const LadderCase& c) {
  CAPTURE(c.name);
  Context ctx(backend());
  const Structure& s = c.structure;
  const std::size_t n = s.size();
  REQUIRE(n > 0);
  auto pot = c.make(ctx, s.type_names);
  const Forces f = engine_forces(ctx, s, *pot, c.units, c.skin);
  auto energy = [&](const Structure& t) { return engine_forces(ctx, t, *pot, c.units, c.skin).energy; };

  // 0. the same numbers as the CPU executor
  if (ctx.backend() != Backend::cpu) check_executor_agreement(c, f);

  // 1. sum of forces, per-atom energies sum to the total
  const double fmax = max_abs_force(f);
  REQUIRE(fmax > c.min_force);
  double sum[3] = {0, 0, 0};
  for (std::size_t i = 0; i < n; ++i)
    for (int d = 0; d < 3; ++d) sum[d] += force_of(f, i, d);
  const double sum_bound = c.sum_force_abs + c.sum_force_rel * fmax * static_cast<double>(n);
  for (double v : sum) CHECK(std::abs(v) <= sum_bound);
  double esum = 0;
  for (double e : f.e_atom) esum += e;
  CHECK(std::abs(esum - f.energy) <= 1e-12 * std::max(1.0, std::abs(f.energy)));

  // 2. forces are -grad E (central differences)
  std::vector<std::size_t> atoms = c.fd_atoms;
  if (atoms.empty()) atoms = {0, n / 3, n / 2, n - 1};
  double worst = 0, worst_excess = 0;
  for (std::size_t i : atoms) {
    REQUIRE(i < n);
    for (int d = 0; d < 3; ++d) {
      Structure p = s, m = s;
      std::vector<double>* cp[3] = {&p.x, &p.y, &p.z};
      std::vector<double>* cm[3] = {&m.x, &m.y, &m.z};
      (*cp[d])[i] += c.h;
      (*cm[d])[i] -= c.h;
      const double fd = -(energy(p) - energy(m)) / (2 * c.h);
      const double err = std::abs(fd - force_of(f, i, d));
      worst = std::max(worst, err);
      worst_excess = std::max(worst_excess, err - (c.fd_force_abs + c.fd_force_rel * fmax));
    }
  }
  MESSAGE(c.name << " [" << backend_str() << "]: E = " << f.energy << ", max|F| = " << fmax
                 << ", |sum F| <= " << std::max({std::abs(sum[0]), std::abs(sum[1]), std::abs(sum[2])})
                 << ", max |F_fd - F| = " << worst);
  CHECK(worst_excess <= 0.0);

  // 3. virial W_ab = -dE/d eps_ab
  if (c.fd_virial_check) {
    double wmax = 0;
    for (double w : f.virial) wmax = std::max(wmax, std::abs(w));
    const int comps[6][3] = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {0, 1, 3}, {0, 2, 4}, {1, 2, 5}};
    double vworst = 0;
    for (const auto& k : comps) {
      const double fd =
          -(energy(strained(s, k[0], k[1], c.h)) - energy(strained(s, k[0], k[1], -c.h))) / (2 * c.h);
      const double scale = std::max(c.fd_virial_floor,
                                    c.fd_virial_per_component ? std::abs(f.virial[k[2]]) : wmax);
      const double err = std::abs(fd - f.virial[k[2]]) / scale;
      vworst = std::max(vworst, err);
      CAPTURE(k[2]);
      CHECK(err <= c.fd_virial);
    }
    MESSAGE(c.name << " [" << backend_str() << "]: virial vs finite strain, worst scaled error "
                   << vworst);
  }

  if (c.invariances) {
    // 4. translation and rotation of a cluster
    const Structure cl = cluster_of(s, c.cluster_radius, 2.0);
    REQUIRE(cl.size() >= c.min_cluster_atoms);
    const Forces fc = engine_forces(ctx, cl, *pot, c.units, c.skin);
    Structure t = cl;
    const double shift[3] = {0.37, -0.21, 0.13};
    for (std::size_t i = 0; i < t.size(); ++i) {
      t.x[i] += shift[0];
      t.y[i] += shift[1];
      t.z[i] += shift[2];
    }
    for (int d = 0; d < 3; ++d) t.box.lo[d] += shift[d];
    const double et = rel_err(energy(t), fc.energy);
    const Rotation rot;
    Structure r = cl;
    const double o[3] = {cl.box.lo[0] + 0.5 * cl.box.l[0], cl.box.lo[1] + 0.5 * cl.box.l[1],
                         cl.box.lo[2] + 0.5 * cl.box.l[2]};
    for (std::size_t i = 0; i < r.size(); ++i) {
      const double d[3] = {cl.x[i] - o[0], cl.y[i] - o[1], cl.z[i] - o[2]};
      double q[3];
      rot.apply(d, q);
      r.x[i] = o[0] + q[0];
      r.y[i] = o[1] + q[1];
      r.z[i] = o[2] + q[2];
    }
    const Forces fr = engine_forces(ctx, r, *pot, c.units, c.skin);
    double rf = 0;
    for (std::size_t i = 0; i < cl.size(); ++i) {
      const double v[3] = {fc.fx[i], fc.fy[i], fc.fz[i]};
      double q[3];
      rot.apply(v, q);
      for (int d = 0; d < 3; ++d) rf = std::max(rf, std::abs(q[d] - force_of(fr, i, d)));
    }
    const double er = rel_err(fr.energy, fc.energy);
    MESSAGE(c.name << " [" << backend_str() << "]: cluster of " << cl.size() << " atoms, E = "
                   << fc.energy << "; translated: rel. dE " << et << "; rotated: rel. dE " << er
                   << ", max |R F - F_rot| " << rf);
    CHECK(max_abs_force(fc) > c.min_force);
    CHECK(std::abs(r.x[1] - cl.x[1]) + std::abs(r.y[1] - cl.y[1]) > 0.1);  // really rotated
    CHECK(et <= c.translation_energy_rel);
    CHECK(er <= c.rotation_energy_rel);
    CHECK(rf <= c.rotation_force_abs);

    // 5. permutation of the atoms, with the type order reversed (unless the case says no)
    std::size_t stride = 7;
    while (std::gcd(stride, n) != 1) ++stride;
    const int nt = static_cast<int>(s.type_names.size());
    const bool rev = c.permute_type_order;
    Structure p;
    p.box = s.box;
    p.type_names = s.type_names;
    p.type_masses = s.type_masses;
    if (rev) {
      std::reverse(p.type_names.begin(), p.type_names.end());
      std::reverse(p.type_masses.begin(), p.type_masses.end());
    }
    std::vector<std::size_t> from(n);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t i = (k * stride + 3) % n;
      from[k] = i;
      p.add_atom(static_cast<std::int64_t>(k) + 1, rev ? nt - 1 - s.type[i] : s.type[i], s.x[i],
                 s.y[i], s.z[i]);
    }
    auto ppot = c.make(ctx, p.type_names);
    const Forces fp = engine_forces(ctx, p, *ppot, c.units, c.skin);
    double pf = 0;
    for (std::size_t k = 0; k < n; ++k) {
      for (int d = 0; d < 3; ++d) pf = std::max(pf, std::abs(force_of(fp, k, d) - force_of(f, from[k], d)));
      pf = std::max(pf, std::abs(fp.e_atom[k] - f.e_atom[from[k]]));
    }
    const double ep = rel_err(fp.energy, f.energy);
    MESSAGE(c.name << " [" << backend_str() << "]: permuted (stride " << stride
                   << std::string(rev ? ", type order reversed" : "") << "): rel. dE " << ep
                   << ", max |dF|, |dE_i| " << pf);
    CHECK(ep <= c.permutation_energy_rel);
    CHECK(pf <= c.permutation_force_abs);
  }

  // 6. short NVE
  if (c.nve_steps > 0) check_nve(ctx, c);
}

}  // namespace md::test
