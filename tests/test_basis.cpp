// Basis library (kernels/basis.hpp): cutoff functions, radial bases and real spherical
// harmonics up to l = 12 against scipy/numpy values (tools/basis_reference.py ->
// tests/data/basis/reference.json), every derivative against central finite differences,
// and the harmonics evaluated inside a kernel equal to the host call.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/basis.hpp"
#include "kernels/launch.hpp"

using nlohmann::json;

namespace md {
namespace {

const json& reference() {
  static const json ref = [] {
    std::ifstream f(std::string(MDGPU_SOURCE_DIR) + "/tests/data/basis/reference.json");
    REQUIRE(f.good());
    return json::parse(f);
  }();
  return ref;
}

// |a - b| <= tol * max(1, |b|)
bool close(double a, double b, double tol) {
  return std::abs(a - b) <= tol * std::max(1.0, std::abs(b));
}

constexpr double kValueTol = 1e-12;
constexpr double kFdTol = 1e-7;

// One cutoff case of the reference as f(r, df).
std::function<double(double, double&)> cutoff_of(const json& c) {
  const std::string name = c["name"];
  const double rc = c["rc"];
  if (name == "cosine")
    return [rc](double r, double& df) { return basis::cutoff_cosine(r, rc, df); };
  if (name == "snap") {
    const double rmin0 = c["rmin0"], sinner = c["sinner"], dinner = c["dinner"];
    const bool outer = c["outer"], inner = c["inner"];
    return [=](double r, double& df) {
      return basis::cutoff_snap(r, rmin0, rc, outer, inner, sinner, dinner, df);
    };
  }
  if (name == "quintic") {
    const double rs = c["rs"];
    return [=](double r, double& df) { return basis::cutoff_quintic(r, rs, rc, df); };
  }
  if (name == "polynomial") {
    const double p = c["p"];
    return [=](double r, double& df) { return basis::cutoff_polynomial(r, rc, p, df); };
  }
  if (name == "quadratic")
    return [rc](double r, double& df) { return basis::cutoff_quadratic(r, rc, df); };
  FAIL("unknown cutoff " << name);
  return {};
}

// Points where a cutoff has a kink (finite differences straddling them are skipped).
std::vector<double> kinks_of(const json& c) {
  std::vector<double> k{c["rc"].get<double>()};
  if (c.contains("rs")) k.push_back(c["rs"]);
  if (c.contains("rmin0")) {
    k.push_back(c["rmin0"]);
    k.push_back(c["sinner"].get<double>() - c["dinner"].get<double>());
    k.push_back(c["sinner"].get<double>() + c["dinner"].get<double>());
  }
  return k;
}

using RadialFn = std::function<void(double, double*, double*)>;

RadialFn radial_of(const json& c, int& n) {
  const std::string name = c["name"];
  n = c["n"];
  const int nn = n;
  if (name == "gaussian") {
    const double r0 = c["r0"], r1 = c["r1"], w = c["width"];
    return
        [=](double r, double* b, double* db) { basis::radial_gaussian(r, nn, r0, r1, w, b, db); };
  }
  if (name == "chebyshev") {
    const double r1 = c["r1"], r2 = c["r2"];
    return [=](double r, double* b, double* db) { basis::radial_chebyshev(r, nn, r1, r2, b, db); };
  }
  if (name == "bessel") {
    const double rc = c["rc"], pref = c["prefactor"];
    return [=](double r, double* b, double* db) { basis::radial_bessel(r, nn, rc, pref, b, db); };
  }
  FAIL("unknown radial basis " << name);
  return {};
}

struct HarmonicsKernel {
  int lmax;
  const double* pts;  // [3 n]
  double* y;          // [n * count]
  double* dy;         // [n * 3 count]
  MD_HD void operator()(Index i) const {
    const int count = basis::sh_count(lmax);
    basis::spherical_harmonics(lmax, pts[3 * i], pts[3 * i + 1], pts[3 * i + 2], y + i * count,
                               dy + i * 3 * count);
  }
};

}  // namespace

TEST_SUITE("basis") {
  TEST_CASE(
      "cutoff functions: values equal the reference closed forms and derivatives equal "
      "finite differences") {
    int checked = 0;
    for (const auto& c : reference()["cutoffs"]) {
      CAPTURE(c["name"].get<std::string>());
      const auto f = cutoff_of(c);
      const auto kinks = kinks_of(c);
      const auto& rs = c["r"];
      const auto& fs = c["f"];
      for (std::size_t k = 0; k < rs.size(); ++k) {
        const double r = rs[k];
        CAPTURE(r);
        double df = 0;
        CHECK(close(f(r, df), fs[k].get<double>(), kValueTol));
        const double h = 1e-5;
        bool near_kink = false;
        for (double q : kinks) near_kink = near_kink || std::abs(r - q) < 2 * h;
        if (near_kink) continue;
        double d1, d2;
        const double fd = (f(r + h, d1) - f(r - h, d2)) / (2 * h);
        CHECK(close(df, fd, kFdTol));
        ++checked;
      }
    }
    CHECK(checked > 300);
  }

  TEST_CASE("SNAP and DeePMD switches are zero/one with zero slope outside their ranges") {
    double df = 1;
    CHECK(basis::cutoff_snap(6.0, 0.0, 5.0, true, false, 0, 0, df) == 0.0);
    CHECK(df == 0.0);
    CHECK(basis::cutoff_snap(0.5, 0.0, 5.0, true, true, 1.2, 0.4, df) == 0.0);
    CHECK(df == 0.0);
    CHECK(basis::cutoff_quintic(1.0, 2.0, 5.0, df) == 1.0);
    CHECK(df == 0.0);
    // polynomial cutoff: f(0) = 1, f(rc-) -> 0 with zero slope (the expanded polynomial, as
    // NequIP evaluates it, cancels to a few ulp of 1 near rc: true value ~1e-20 here)
    CHECK(basis::cutoff_polynomial(1e-12, 5.0, 6.0, df) == doctest::Approx(1.0));
    CHECK(std::abs(basis::cutoff_polynomial(5.0 - 1e-6, 5.0, 6.0, df)) < 1e-14);
    CHECK(std::abs(df) < 1e-9);
  }

  TEST_CASE("radial bases: values equal scipy/numpy and derivatives equal finite differences") {
    for (const auto& c : reference()["radial"]) {
      CAPTURE(c["name"].get<std::string>());
      int n = 0;
      const auto fn = radial_of(c, n);
      std::vector<double> b(n), db(n), bp(n), bm(n), scratch(n);
      const auto& rs = c["r"];
      for (std::size_t k = 0; k < rs.size(); ++k) {
        const double r = rs[k];
        CAPTURE(r);
        fn(r, b.data(), db.data());
        const double h = 1e-5;
        fn(r + h, bp.data(), scratch.data());
        fn(r - h, bm.data(), scratch.data());
        for (int q = 0; q < n; ++q) {
          CAPTURE(q);
          CHECK(close(b[q], c["b"][k][q].get<double>(), kValueTol));
          CHECK(close(db[q], (bp[q] - bm[q]) / (2 * h), kFdTol));
        }
      }
    }
  }

  TEST_CASE(
      "real spherical harmonics to l = 12: values equal scipy sph_harm_y in the real form and "
      "Cartesian gradients equal finite differences") {
    const auto& h = reference()["harmonics"];
    const int lmax = h["lmax"];
    REQUIRE(lmax == 12);
    const int count = basis::sh_count(lmax);
    std::vector<double> y(count), dy(3 * count), yp(count), ym(count);
    for (const auto& p : h["points"]) {
      const double v[3] = {p["r"][0], p["r"][1], p["r"][2]};
      CAPTURE(v[0]);
      CAPTURE(v[1]);
      CAPTURE(v[2]);
      basis::spherical_harmonics(lmax, v[0], v[1], v[2], y.data(), dy.data());
      for (int i = 0; i < count; ++i) {
        CAPTURE(i);
        CHECK(close(y[i], p["y"][i].get<double>(), kValueTol));
      }
      const double rn = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      const double step = 1e-6 * rn;
      for (int c = 0; c < 3; ++c) {
        double vp[3] = {v[0], v[1], v[2]}, vm[3] = {v[0], v[1], v[2]};
        vp[c] += step;
        vm[c] -= step;
        basis::spherical_harmonics(lmax, vp[0], vp[1], vp[2], yp.data(), nullptr);
        basis::spherical_harmonics(lmax, vm[0], vm[1], vm[2], ym.data(), nullptr);
        for (int i = 0; i < count; ++i) {
          CAPTURE(c);
          CAPTURE(i);
          const double fd = (yp[i] - ym[i]) / (2 * step);
          CHECK(close(dy[3 * i + c], fd, kFdTol * std::max(1.0, 1.0 / rn)));
        }
      }
    }
  }

  TEST_CASE("harmonics evaluated in a kernel equal the host call") {
    const auto& pts_ref = reference()["harmonics"]["points"];
    const int lmax = 12, count = basis::sh_count(lmax);
    const int n = static_cast<int>(pts_ref.size());
    std::vector<double> pts;
    for (const auto& p : pts_ref)
      for (int c = 0; c < 3; ++c) pts.push_back(p["r"][c].get<double>());
    Context ctx(Backend::cpu);
    DeviceArray<double> pts_dev(ctx, pts.size()), y_dev(ctx, std::size_t(n) * count),
        dy_dev(ctx, std::size_t(n) * 3 * count);
    ctx.to_device(pts, pts_dev);
    parallel_for(ctx, n, HarmonicsKernel{lmax, pts_dev.data(), y_dev.data(), dy_dev.data()});
    const auto y = ctx.to_host(y_dev);
    const auto dy = ctx.to_host(dy_dev);
    std::vector<double> yh(count), dyh(3 * count);
    for (int i = 0; i < n; ++i) {
      basis::spherical_harmonics(lmax, pts[3 * i], pts[3 * i + 1], pts[3 * i + 2], yh.data(),
                                 dyh.data());
      for (int k = 0; k < count; ++k) CHECK(y[std::size_t(i) * count + k] == yh[k]);
      for (int k = 0; k < 3 * count; ++k) CHECK(dy[std::size_t(i) * 3 * count + k] == dyh[k]);
    }
  }
}

}  // namespace md
