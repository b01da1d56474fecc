// Morse pair potential (LAMMPS pair_style morse): E = D0 [exp(-2 a (r - r0)) - 2 exp(-a (r - r0))]
// for r < rc, optionally shifted to zero at rc (pair_modify shift yes). Per type pair D0
// (energy), alpha (1/length), r0 and cutoff (length); no mixing, as LAMMPS.
// Built by models/morse/morse_config.cpp.
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "engine/potential.hpp"

namespace md {

struct MorseCoeff {
  double d0, alpha, r0, morse1, offset, cutsq;  // morse1 = 2 D0 alpha; cutsq 0 = no interaction
};

struct MorseEval {
  const MorseCoeff* coeff;
  int n_types;
  MD_HD bool operator()(int ti, int tj, double r2, double& f_over_r, double& e, bool eflag) const {
    const MorseCoeff& c = coeff[ti * n_types + tj];
    if (r2 >= c.cutsq) return false;
    const double r = sqrt(r2);
    const double dexp = exp(-c.alpha * (r - c.r0));
    f_over_r = c.morse1 * (dexp * dexp - dexp) / r;
    if (eflag) e = c.d0 * (dexp * dexp - 2.0 * dexp) - c.offset;
    return true;
  }
};

struct MorsePairParams {
  double d0 = 0, alpha = 0, r0 = 0, cutoff = 0;
  bool set = false;
};

struct MorseParams {
  int n_types = 0;
  std::vector<MorsePairParams> pair;  // [n_types^2], symmetric; unset pairs do not interact
  bool shift = false;
  std::vector<MorseCoeff> coefficients() const;
};

class MorsePotential : public Potential {
 public:
  MorsePotential(Context& ctx, MorseParams params);
  std::string style() const override { return "morse"; }
  double cutoff() const override { return cutoff_; }
  // A pair style: the force on an owned atom needs only its own pairs.
  double import_distance(double skin) const override { return cutoff() + skin; }
  double import_list_distance(double) const override { return 0.0; }
  std::string import_rule(double) const override { return "cutoff + skin"; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;

 private:
  MorseParams params_;
  DeviceArray<MorseCoeff> coeff_;
  double cutoff_ = 0;
};

}  // namespace md
