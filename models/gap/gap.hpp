// GAP (QUIP/GAP gap.xml models: Bartók et al., PRL 104, 136403 (2010); SOAP, PRB 87, 184115
// (2013)) as a device-ready Potential: e0 per species, distance_2b with ard_se, SOAP with
// dot_product, forces and virial through the shared many-body gather. Energies eV, lengths Å
// (metal units). Built by [potential] style = "gap" (gap_config.cpp) from read_gap_model.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/potential.hpp"
#include "kernels/many_body.hpp"
#include "models/gap/gap_kernels.hpp"
#include "models/gap/gap_model.hpp"

namespace md {

// Host tables of one SOAP descriptor's radial basis: Gaussian centres r_a = a (rc + sigma
// sqrt(2 b ln 10)) / n_max (b = basis_error_exponent), overlap S of the r^2-weighted Gaussians
// exp(-alpha (r - r_a)^2), alpha = 1 / (2 sigma^2), its Cholesky factor L (S = L L^T), the
// Gaussian Gram matrix C_ab = exp(-alpha (r_a - r_b)^2) and transform = C^-1 L.
struct GapSoapBasis {
  std::vector<double> r_basis, transform, central;
};
GapSoapBasis gap_soap_basis(const GapSoap& s);

class GapPotential : public Potential {
 public:
  // type_z: atomic number of each system type (every one must be covered by a descriptor).
  GapPotential(Context& ctx, GapModel model, std::vector<int> type_z);
  std::string style() const override { return "gap"; }
  double cutoff() const override { return cutoff_; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const GapModel& model() const { return model_; }
  // Per-atom SOAP descriptors of the last compute (device, [n][dim]) of SOAP descriptor k.
  const DeviceArray<double>& soap_descriptors(int k) const { return soap_[k].x; }

 private:
  struct SoapData {
    explicit SoapData(Context& ctx)
        : species_z(ctx, 0), r_basis(ctx, 0), transform(ctx, 0), central(ctx, 0),
          sparse_x(ctx, 0), alpha(ctx, 0), sparse_cutoff(ctx, 0), c(ctx, 0), x(ctx, 0), dedx(ctx, 0), norm(ctx, 0) {}
    GapSoapView view{};
    DeviceArray<int> species_z;
    DeviceArray<double> r_basis, transform, central, sparse_x, alpha, sparse_cutoff;
    DeviceArray<double> c, x, dedx, norm;
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
  std::vector<SoapData> soap_;
  DeviceArray<double> e_atom_;
  ManyBodyForces forces_;
  Index n_alloc_ = -1;
};

}  // namespace md
