// GAP (QUIP/GAP gap.xml models: Bartók et al., PRL 104, 136403 (2010); SOAP, PRB 87, 184115
// (2013)) as a device-ready Potential: e0 per species, distance_2b and angle_3b with ard_se,
// SOAP with dot_product, bispectrum_so4 with ard_se, forces and virial through the shared many-body gather. Energies eV, lengths Å
// (metal units). Built by [potential] style = "gap" (gap_config.cpp) from read_gap_model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "engine/uncertainty.hpp"
#include "kernels/many_body.hpp"
#include "models/gap/gap_angle3b.hpp"
#include "models/gap/gap_kernels.hpp"
#include "models/gap/gap_model.hpp"
#include "models/gap/gap_so4.hpp"

namespace md {

// Host tables of one SOAP descriptor's radial basis: Gaussian centres r_a = a (rc + sigma
// sqrt(2 b ln 10)) / n_max (b = basis_error_exponent), overlap S of the r^2-weighted Gaussians
// exp(-alpha (r - r_a)^2), alpha = 1 / (2 sigma^2), its Cholesky factor L (S = L L^T), the
// Gaussian Gram matrix C_ab = exp(-alpha (r_a - r_b)^2) and transform = C^-1 L.
struct GapSoapBasis {
  std::vector<double> r_basis, transform, central;
};
GapSoapBasis gap_soap_basis(const GapSoap& s);

// Host tables of bispectrum_so4: level offsets, the B terms (CSR by component) and the adjoint
// entries (CSR by U element). Clebsch-Gordan coefficients in doubled labels (Racah).
struct GapSo4Tables {
  int n_u = 0;
  std::vector<int> u_block, term_first, adj_first;
  std::vector<GapSo4Term> terms;
  std::vector<GapSo4Adj> adj;
};
GapSo4Tables gap_so4_tables(int j_max);

class GapPotential : public Potential, public UncertaintyProvider {
 public:
  // type_z: atomic number of each system type (every one must be covered by a descriptor).
  // mixed: the SOAP dot-product kernel multiplies in float and sums in double (the sparse
  // matrix stored in float); everything else stays double. variance_regularisation: quippy's
  // gap_variance_regularisation r of the predictive variance (K_mm + r^2 I).
  GapPotential(Context& ctx, GapModel model, std::vector<int> type_z, bool mixed = false,
               double variance_regularisation = 0.001);
  std::string style() const override { return "gap"; }
  double cutoff() const override { return cutoff_; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const GapModel& model() const { return model_; }
  // Per-atom SOAP descriptors of the last compute (device, [n][dim], the shared
  // expansion's pair order: kernels/density_expansion.hpp) of SOAP descriptor k.
  const DeviceArray<double>& soap_descriptors(int k) const { return soap_[k].x; }

  // Predictive variance (quippy's local_gap_variance, models/gap/README.md) of distance_2b,
  // angle_3b, soap and bispectrum_so4: std_out[i] = sqrt(local_gap_variance_i) in eV (SOAP and
  // SO4 from the descriptors of the last compute()). GAP needs no extra files, so
  // has_uncertainty() is true; a model mdgpu has no variance for (signal_mean f0 != 0, more
  // than 4096 sparse points) makes atom_uncertainty throw an InputError naming gap.xml and the
  // descriptor's line (variance_unsupported() gives that message beforehand; empty if none).
  bool has_uncertainty() const override { return true; }
  void atom_uncertainty(Context& ctx, const SystemView& sys, const NeighborView& nl,
                        double* std_out) override;
  const std::string& variance_unsupported() const { return variance_unsupported_; }

 private:
  struct SoapData {
    explicit SoapData(Context& ctx)
        : species_z(ctx, 0), r_basis(ctx, 0), transform(ctx, 0), central(ctx, 0),
          sparse_x(ctx, 0), alpha(ctx, 0), sparse_cutoff(ctx, 0), sparse_xf(ctx, 0), species_of_type(ctx, 0), c(ctx, 0), x(ctx, 0),
          dedx(ctx, 0), norm(ctx, 0), linv(ctx, 0), partials(ctx) {}
    GapSoapView view{};
    DeviceArray<int> species_z;
    DeviceArray<double> r_basis, transform, central, sparse_x, alpha, sparse_cutoff;
    DeviceArray<float> sparse_xf;
    DeviceArray<int> species_of_type;  // [n_types] SOAP species channel, -1: none
    DeviceArray<double> c, x, dedx, norm;
    DeviceArray<double> linv;  // predictive variance: L^-1 of K_mm + r^2 I, column-major
    PairPartials partials;  // this descriptor's pair partials (the shared expansion stores them)
  };
  struct So4Data {
    explicit So4Data(Context& ctx)
        : u_block(ctx, 0), species_z(ctx, 0), term_first(ctx, 0), adj_first(ctx, 0),
          terms(ctx, 0), adj(ctx, 0), w(ctx, 0), theta(ctx, 0), sparse_xt(ctx, 0), alpha(ctx, 0),
          sparse_cutoff(ctx, 0), u(ctx, 0), x(ctx, 0), dedx(ctx, 0), centre(ctx, 0), linv(ctx, 0) {}
    GapSo4View view{};
    DeviceArray<int> u_block, species_z, term_first, adj_first;
    DeviceArray<GapSo4Term> terms;
    DeviceArray<GapSo4Adj> adj;
    DeviceArray<double> w, theta, sparse_xt, alpha, sparse_cutoff;
    DeviceArray<double> u, x, dedx;
    DeviceArray<int> centre;
    DeviceArray<double> linv;  // predictive variance: L^-1 of K_mm + r^2 I, column-major
  };
  void ensure_capacity(Index n);

  GapModel model_;
  std::vector<int> type_z_host_;
  double cutoff_ = 0;
  DeviceArray<int> type_z_;
  DeviceArray<double> e0_;
  DeviceArray<Gap2bDesc> d2b_desc_;
  DeviceArray<double> d2b_exp_, d2b_theta_, d2b_x_, d2b_alpha_, d2b_fc_;
  int n_2b_ = 0;
  DeviceArray<Gap3bDesc> a3b_desc_;
  DeviceArray<double> a3b_theta_, a3b_x_, a3b_alpha_, a3b_fc_;
  int n_3b_ = 0;
  double cutoff_3b_ = 0;
  std::vector<SoapData> soap_;
  std::vector<So4Data> so4_;
  DeviceArray<double> e_atom_;
  ManyBodyForces forces_;
  Index n_alloc_ = -1;
  bool mixed_ = false;
  // predictive variance: L^-1 of K_mm + r^2 I per distance_2b descriptor (Gap2bDesc::off_l)
  DeviceArray<double> d2b_linv_, a3b_linv_;  // (Gap2bDesc / Gap3bDesc::off_l)
  double variance_reg2_ = 0;
  std::string variance_unsupported_;
  long variance_line_ = 0;
};

}  // namespace md
