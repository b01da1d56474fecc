// Shared checks for the classical potentials' unit tests: build a potential from a TOML
// [potential] table, central finite differences of the energy against forces, the virial
// against finite strains, and momentum conservation (sum of forces).
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "engine/potential.hpp"
#include "engine/structure.hpp"
#include "io/toml_section.hpp"
#include "models/registry.hpp"
#include "support.hpp"

namespace md::test {

inline std::string source_path(const std::string& rel) {
  return std::string(MDGPU_SOURCE_DIR) + "/" + rel;
}

// [potential] table given as TOML text (without the header) -> Potential (metal units).
inline std::unique_ptr<Potential> potential_from_toml(Context& ctx,
                                                      const std::vector<std::string>& types,
                                                      const std::string& body,
                                                      const std::string& input_dir = ".") {
  const toml::table root = toml::parse("[potential]\n" + body, std::string("test.toml"));
  TomlSection top(root, "", "test.toml");
  Section pot = *top.table("potential");
  static const Units metal = Units::metal();
  auto p = make_potential(pot, PotentialSetup{ctx, types, metal, input_dir});
  pot.finish();
  return p;
}

inline Structure with_types(Structure s, const std::vector<std::string>& names,
                            const std::vector<double>& masses) {
  s.type_names = names;
  s.type_masses = masses;
  return s;
}

// Affine strain r_a += eps * (r_b - lo_b) applied to atoms and cell (a, b in 0..2, a <= b
// or the xy case a = 0, b = 1).
inline Structure strained(Structure s, int a, int b, double eps) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    double* ra[3] = {&s.x[i], &s.y[i], &s.z[i]};
    const double rb = *ra[b] - s.box.lo[b];
    *ra[a] += eps * rb;
  }
  Box& box = s.box;
  if (a == 0 && b == 0) {
    box.l[0] *= 1.0 + eps;
    box.xy *= 1.0 + eps;
    box.xz *= 1.0 + eps;
  } else if (a == 0 && b == 1) {
    box.xy += eps * box.l[1];
    box.xz += eps * box.yz;
  }
  return s;
}

struct CheckTolerances {
  double fd_force = 1e-6;   // |F - F_fd| / max|F|
  double fd_virial = 1e-6;  // |W - W_fd| / max|W|
  double h = 1e-5;          // displacement (Å) and strain step
};

// Finite differences (forces of a few atoms, virial xx and xy), sum of forces, energies.
inline void check_potential(Context& ctx, Potential& pot, const Structure& s,
                            CheckTolerances tol = {}) {
  const Units u = Units::metal();
  const Forces f = engine_forces(ctx, s, pot, u);
  const std::size_t n = s.size();
  double fmax = 0, sum[3] = {0, 0, 0};
  for (std::size_t i = 0; i < n; ++i) {
    fmax = std::max({fmax, std::abs(f.fx[i]), std::abs(f.fy[i]), std::abs(f.fz[i])});
    sum[0] += f.fx[i];
    sum[1] += f.fy[i];
    sum[2] += f.fz[i];
  }
  REQUIRE(fmax > 1e-3);  // the configuration really has forces
  for (double c : sum) CHECK(std::abs(c) < 1e-11 * fmax * static_cast<double>(n));
  double esum = 0;
  for (double e : f.e_atom) esum += e;
  CHECK(std::abs(esum - f.energy) <= 1e-12 * std::max(1.0, std::abs(f.energy)));

  double worst = 0;
  const std::size_t picks[] = {0, n / 3, n / 2, n - 1};
  for (std::size_t i : picks) {
    for (int d = 0; d < 3; ++d) {
      Structure p = s, m = s;
      std::vector<double>* cp[3] = {&p.x, &p.y, &p.z};
      std::vector<double>* cm[3] = {&m.x, &m.y, &m.z};
      (*cp[d])[i] += tol.h;
      (*cm[d])[i] -= tol.h;
      const double ep = engine_forces(ctx, p, pot, u).energy;
      const double em = engine_forces(ctx, m, pot, u).energy;
      const double fd = -(ep - em) / (2 * tol.h);
      const double fa = d == 0 ? f.fx[i] : (d == 1 ? f.fy[i] : f.fz[i]);
      worst = std::max(worst, std::abs(fd - fa) / fmax);
    }
  }
  MESSAGE(pot.style() << ": E = " << f.energy << ", max|F| = " << fmax
                      << ", finite-difference force error " << worst);
  CHECK(worst < tol.fd_force);

  // Virial W_ab = sum r_a f_b = -dE/d eps_ab for the strain r_a += eps r_b.
  double wmax = 0;
  for (double w : f.virial) wmax = std::max(wmax, std::abs(w));
  const int comps[2][3] = {{0, 0, 0}, {0, 1, 3}};  // (a, b, index in xx yy zz xy xz yz)
  for (const auto& c : comps) {
    const double ep = engine_forces(ctx, strained(s, c[0], c[1], tol.h), pot, u).energy;
    const double em = engine_forces(ctx, strained(s, c[0], c[1], -tol.h), pot, u).energy;
    const double fd = -(ep - em) / (2 * tol.h);
    const double err = std::abs(fd - f.virial[c[2]]) / wmax;
    MESSAGE(pot.style() << ": virial component " << c[2] << " = " << f.virial[c[2]]
                        << ", finite strain " << fd << " (error " << err << ")");
    CHECK(err < tol.fd_virial);
  }
}

}  // namespace md::test
