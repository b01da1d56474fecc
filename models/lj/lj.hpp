// Lennard-Jones 12-6 (LAMMPS pair_style lj/cut): E = 4 eps [(sigma/r)^12 - (sigma/r)^6]
// for r < rc, optionally shifted to zero at rc (pair_modify shift yes). Per type-pair
// epsilon (energy), sigma and cutoff (length); LAMMPS mixing rules for unset cross pairs.
#pragma once

#include <string>
#include <vector>

#include "engine/potential.hpp"

namespace md {

// LAMMPS' precomputed form: f/r = r^-8 (lj1 r^-6 - lj2), e = r^-6 (lj3 r^-6 - lj4) - offset.
struct LJCoeff {
  double lj1, lj2, lj3, lj4, offset, cutsq;
};

struct LJEval {
  const LJCoeff* coeff;  // [n_types * n_types]
  int n_types;
  MD_HD bool operator()(int ti, int tj, double r2, double& f_over_r, double& e, bool eflag) const {
    const LJCoeff& c = coeff[ti * n_types + tj];
    if (r2 >= c.cutsq) return false;
    const double r2inv = 1.0 / r2;
    const double r6inv = r2inv * r2inv * r2inv;
    f_over_r = r6inv * (c.lj1 * r6inv - c.lj2) * r2inv;
    if (eflag) e = r6inv * (c.lj3 * r6inv - c.lj4) - c.offset;
    return true;
  }
};

struct LJPairParams {
  double epsilon = 0, sigma = 0, cutoff = 0;
  bool set = false;
};

enum class Mixing { geometric, arithmetic, sixthpower };

// Host description: explicit pairs (symmetric), the rest mixed from the i-i entries.
struct LJParams {
  int n_types = 0;
  std::vector<LJPairParams> pair;  // [n_types * n_types]
  Mixing mixing = Mixing::geometric;
  bool shift = false;
  // Fills unset cross pairs by mixing; throws naming the pair when that is impossible.
  void complete(const std::vector<std::string>& type_names);
  std::vector<LJCoeff> coefficients() const;
};

class LJPotential : public Potential {
 public:
  LJPotential(Context& ctx, LJParams params);
  std::string style() const override { return "lj"; }
  double cutoff() const override { return cutoff_; }
  // A pair style: the force on an owned atom needs only its own pairs.
  double import_distance(double skin) const override { return cutoff() + skin; }
  double import_list_distance(double) const override { return 0.0; }
  std::string import_rule(double) const override { return "cutoff + skin"; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const LJParams& params() const { return params_; }

 private:
  LJParams params_;
  DeviceArray<LJCoeff> coeff_;
  double cutoff_ = 0;
};

}  // namespace md
