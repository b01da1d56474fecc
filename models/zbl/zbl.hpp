// Ziegler-Biersack-Littmark universal screened nuclear repulsion (LAMMPS pair_style zbl):
//   E = Z_i Z_j e^2/(4 pi eps0 r) * sum_k c_k exp(-d_k r / a),  a = 0.46850 / (Z_i^0.23 + Z_j^0.23),
// plus LAMMPS' switching on [inner, outer] that takes E, E' and E'' smoothly to zero at outer.
// Metal units (eV, Å). Built by models/zbl/zbl_config.cpp; used alone or in overlays.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "engine/potential.hpp"

namespace md {

// Per type pair, LAMMPS' PairZBL::set_coeff form.
struct ZBLCoeff {
  double d1a, d2a, d3a, d4a, zze;
  double sw1, sw2, sw3, sw4, sw5;
  double cut_inner, cut_innersq, cutsq;
};

namespace zbl {
constexpr double pzbl = 0.23, a0 = 0.46850;
constexpr double c1 = 0.02817, c2 = 0.28022, c3 = 0.50986, c4 = 0.18175;
constexpr double d1 = 0.20162, d2 = 0.40290, d3 = 0.94229, d4 = 3.19980;

MD_INLINE double energy(const ZBLCoeff& c, double r) {
  const double rinv = 1.0 / r;
  double sum = c1 * exp(-c.d1a * r);
  sum += c2 * exp(-c.d2a * r);
  sum += c3 * exp(-c.d3a * r);
  sum += c4 * exp(-c.d4a * r);
  return c.zze * sum * rinv;
}

MD_INLINE double dedr(const ZBLCoeff& c, double r) {
  const double rinv = 1.0 / r;
  const double e1 = exp(-c.d1a * r), e2 = exp(-c.d2a * r), e3 = exp(-c.d3a * r),
               e4 = exp(-c.d4a * r);
  double sum = c1 * e1;
  sum += c2 * e2;
  sum += c3 * e3;
  sum += c4 * e4;
  double sum_p = -c1 * c.d1a * e1;
  sum_p -= c2 * c.d2a * e2;
  sum_p -= c3 * c.d3a * e3;
  sum_p -= c4 * c.d4a * e4;
  return c.zze * (sum_p - sum * rinv) * rinv;
}
}  // namespace zbl

struct ZBLEval {
  const ZBLCoeff* coeff;
  int n_types;
  MD_HD bool operator()(int ti, int tj, double r2, double& f_over_r, double& e, bool eflag) const {
    const ZBLCoeff& c = coeff[ti * n_types + tj];
    if (r2 >= c.cutsq) return false;
    const double r = sqrt(r2);
    double fpair = zbl::dedr(c, r);
    double t = 0.0;
    const bool switched = r2 > c.cut_innersq;
    if (switched) {
      t = r - c.cut_inner;
      fpair += t * t * (c.sw1 + c.sw2 * t);
    }
    f_over_r = -fpair / r;
    if (eflag) {
      e = zbl::energy(c, r) + c.sw5;
      if (switched) e += t * t * t * (c.sw3 + c.sw4 * t);
    }
    return true;
  }
};

struct ZBLParams {
  int n_types = 0;
  std::vector<double> z;         // nuclear charge per type
  double inner = 0, outer = 0;   // switching region (Å)
  double qqr2e = 14.399645;      // e^2/(4 pi eps0) in eV*Å (LAMMPS metal)
  std::vector<ZBLCoeff> coefficients() const;
};

class ZBLPotential : public Potential {
 public:
  ZBLPotential(Context& ctx, ZBLParams params);
  std::string style() const override { return "zbl"; }
  double cutoff() const override { return params_.outer; }
  // A pair style: the force on an owned atom needs only its own pairs.
  double import_distance(double skin) const override { return cutoff() + skin; }
  double import_list_distance(double) const override { return 0.0; }
  std::string import_rule(double) const override { return "cutoff + skin"; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;

 private:
  ZBLParams params_;
  DeviceArray<ZBLCoeff> coeff_;
};

// Atomic number of an element symbol ("Cu" -> 29), 0 if not an element.
int atomic_number(const std::string& symbol);

}  // namespace md
