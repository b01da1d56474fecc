// FLARE's mapped B2 model (mir-flare SGP_Calculator.build_map -> LAMMPS pair_style flare):
// per-atom B2 power spectrum of a Chebyshev x cutoff radial basis and real Y_lm, energy a
// per-species linear (power 1) or quadratic (power 2) form in B (normalised or not). Energies
// eV, lengths Angstrom. Built by [potential] style = "flare" (flare_config.cpp) from an
// lmp.flare file (flare_io.cpp); kernels in flare.cpp on the shared many-body layer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "engine/uncertainty.hpp"
#include "kernels/density_expansion.hpp"
#include "kernels/many_body.hpp"

namespace md {

enum class FlareCutoff { quadratic = 0, cosine = 1 };

// Host description of an lmp.flare file and its use in a run.
struct FlareModel {
  std::string path;       // the coefficient file
  std::string contributor;  // first line as written
  int power = 2;          // 1 or 2
  bool normalized = true; // NormalizedDotProduct (true) or DotProduct
  int n_species = 0, n_max = 0, l_max = 0;
  long beta_size = 0;
  FlareCutoff cutoff_kind = FlareCutoff::quadratic;
  std::vector<double> cutoffs;  // [n_species^2], (central, neighbour), as in the file
  std::vector<double> beta;     // [n_species * beta_size], as in the file
  // run mapping
  std::vector<int> species_of_type;   // system type -> FLARE species
  std::vector<double> single_atom_energy;  // [n_species] e0 added to each atom's energy
  int n_descriptors() const {
    const int nr = n_species * n_max;
    return nr * (nr + 1) / 2 * (l_max + 1);
  }
};

// Reads an lmp.flare file (errors: InputError naming file and line). Types are mapped later.
FlareModel read_flare_model(const std::string& path);

// Uncertainty files written by build_map next to lmp.flare: L_inv_<name> (kernel, hyper-
// parameters, descriptor settings, lower triangle of L^-1 per kernel) and sparse_desc_<name>
// (per species the (normalised) sparse B2 vectors). Checked against the coefficient model.
struct FlareUncertaintyModel {
  std::string l_inv_path, sparse_path;
  int power = 2;
  bool normalized = true;
  std::vector<double> hyperparameters;  // sigma, sigma_e, sigma_f, sigma_s
  int n_sparse = 0;
  std::vector<double> l_inv;            // [n_sparse * n_sparse] lower triangle, row-major full
  std::vector<int> sparse_count;        // per species
  std::vector<double> sparse_desc;      // [n_sparse * n_descriptors], species in order
};
FlareUncertaintyModel read_flare_uncertainty(const std::string& l_inv_path,
                                             const std::string& sparse_path,
                                             const FlareModel& model);

// Radial functor of the density expansion: g_n = T_n(r / rc) fc(r), rc the pair cutoff.
struct FlareRadial {
  static constexpr bool kLDependent = false;
  int n_max;
  int n_species;
  int cutoff_kind;        // FlareCutoff
  const double* cutoffs;  // device [n_species^2]
  MD_HD double cutoff(int si, int sj) const { return cutoffs[si * n_species + sj]; }
  MD_HD void operator()(int si, int sj, double r, double* g, double* dg) const {
    const double rc = cutoffs[si * n_species + sj];
    basis::radial_chebyshev(r, n_max, 0.0, rc, g, dg);
    double dfc = 0.0;
    const double fc = cutoff_kind == 0 ? basis::cutoff_quadratic(r, rc, dfc)
                                       : basis::cutoff_cosine(r, rc, dfc);
    for (int n = 0; n < n_max; ++n) {
      dg[n] = dg[n] * fc + g[n] * dfc;
      g[n] *= fc;
    }
  }
};

// Device view of the model.
struct FlareView {
  density::Shape shape;
  FlareRadial radial;
  int power;
  int normalized;
  int nd;                      // descriptors per atom
  int tile;                    // atoms per team of the energy pass (<= FlarePotential::kTile)
  const int* species_of_type;  // [n_types]
  const double* e0;            // [n_species]
  const double* beta;          // power 2: [n_species][nd][nd] symmetric; power 1: [n_species][nd]
};

// Device view of the uncertainty model (LAMMPS compute flare/std/atom): for atom i of species
// s, k_j = (d_j . b_i)^power over the sparse environments j of species s (d_j, b_i normalised
// for NormalizedDotProduct), var_i = K_self - sigma^2 |L^-1 k|^2 with K_self = 1 (normalised)
// or |B_i|^(2 power), std_i = sqrt(var_i) (-sqrt|var_i| when negative; 0 for empty
// environments). Dimensionless (the package's SGP_Calculator stds[:, 0]).
struct FlareUncertaintyView {
  int n_sparse;
  int tile;                    // atoms per team
  double sig2;                 // sigma^2
  const int* sparse_species;   // [n_sparse]
  const double* sparse_t;      // [nd][n_sparse]: descriptor component l of sparse j at l*n_sparse+j
  const double* l_inv_t;       // [n_sparse][n_sparse]: L^-1(j, m) at m * n_sparse + j (m <= j)
};

class FlarePotential : public Potential, public UncertaintyProvider {
 public:
  FlarePotential(Context& ctx, FlareModel model);
  std::string style() const override { return "flare"; }
  double cutoff() const override { return cutoff_; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const FlareModel& model() const { return model_; }
  // Uncertainty files (read_flare_uncertainty); without them atom_uncertainty throws.
  void set_uncertainty(Context& ctx, const FlareUncertaintyModel& u);
  bool has_uncertainty() const override { return n_sparse_ > 0; }
  // Per-atom std of the environments of the last compute() (device array of n_local).
  void atom_uncertainty(Context& ctx, const SystemView& sys, const NeighborView& nl,
                        double* std_out) override;
  FlareView view() const;
  // Per-atom B2 of the last compute (device, atom-major [n_local][nd]).
  const DeviceArray<double>& descriptors() const { return b_; }
  // Most atoms per team of the energy kernel; neighbours per pass of the descriptor kernels.
  static constexpr int kTile = 8;
  static constexpr int kChunk = 32;

 private:
  FlareModel model_;
  double cutoff_ = 0;
  DeviceArray<double> cutoffs_, beta_, e0_;
  DeviceArray<int> species_of_type_;
  DeviceArray<double> c_, b_, dedb_;  // per atom: coefficients, B2, dE/dB
  ManyBodyForces forces_;
  Index n_alloc_ = -1;
  // uncertainty
  int n_sparse_ = 0;
  double sig2_ = 0;
  DeviceArray<int> sparse_species_;
  DeviceArray<double> sparse_t_, l_inv_t_;
};

// Kernels (flare.cpp), exposed for the tests.
// Descriptor pass: per atom c and B (team per atom).
void flare_launch_descriptors(Context& ctx, const FlareView& v, const SystemView& sys,
                              const NeighborView& nl, double* c, double* b);
// Energy pass: E_i (when eflag) and dE/dB_i (team per tile of kTile atoms).
void flare_launch_energy(Context& ctx, const FlareView& v, const SystemView& sys, const double* b,
                         double* dedb, const ForceOut& out, bool eflag);
// Uncertainty pass: std_i from the descriptors b (team per tile of atoms).
void flare_launch_uncertainty(Context& ctx, const FlareView& v, const FlareUncertaintyView& u,
                              const SystemView& sys, const double* b, double* std_out);
// Partials pass: dE_i/dr_ij for every slot (team per atom).
void flare_launch_partials(Context& ctx, const FlareView& v, const SystemView& sys,
                           const NeighborView& nl, const double* c, const double* dedb,
                           const PairPartialsView& g);

}  // namespace md
