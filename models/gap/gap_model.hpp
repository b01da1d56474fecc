// Host description of a QUIP/GAP potential (gap.xml + gap.xml.sparseX.<label> files): e0 per
// atomic number, one GapCoordinates per descriptor (kernel hyperparameters, sparse points,
// weights alpha, sparse cutoffs) and the descriptor options parsed from the descriptor string.
// Energies eV, lengths Å. Read by read_gap_model (gap_io.cpp); used by GapPotential (gap.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <vector>

namespace md {

enum class GapCovariance { ArdSe = 1, DotProduct = 2 };
enum class GapDescriptorKind { Distance2b, Soap, BispectrumSo4, Angle3b };

// distance_2b: x_d = r^exponents[d] for pairs (i, j) with {Z_i, Z_j} matching {z1, z2} (0 = any)
// within `cutoff`, weighted by the cutoff transition of width `width`.
struct GapDistance2b {
  double cutoff = 0, width = 0.5;
  int z1 = 0, z2 = 0;
  std::vector<double> exponents{1.0};
};

// angle_3b: for a centre of species z, every ordered pair of distinct neighbours (j, k) within
// `cutoff` with (Z_j, Z_k) = (z1, z2) or (z2, z1) (0 = any) gives x = (r_ij + r_ik,
// (r_ij - r_ik)^2, r_jk), weighted by the cutoff transitions (width `width`) of r_ij and r_ik.
struct GapAngle3b {
  double cutoff = 0, width = 0.5;
  int z = 0, z1 = 0, z2 = 0;
};

// soap: neighbour density of Gaussians (width atom_sigma) expanded in n_max equispaced
// Gaussians (orthonormalised) x real harmonics up to l_max, power spectrum per species pair.
struct GapSoap {
  double cutoff = 0, width = 0.5, atom_sigma = 0, central_weight = 1.0;
  double covariance_sigma0 = 0.0, basis_error_exponent = 10.0;
  int n_max = 0, l_max = 0;
  bool normalise = true, central_reference_all_species = false, two_l_plus_one = true;
  std::vector<int> species_z;  // density channels, in file order (0 = any species)
  int z_centre = 0;            // centre atoms of this Z (0 = any)
  int dimensions() const {
    const int k = n_max * static_cast<int>(species_z.size());
    return k * (k + 1) / 2 * (l_max + 1) + 1;
  }
};

// bispectrum_so4: 4-D harmonics U_j (doubled labels j = 0..j_max) of the neighbours projected
// on the 3-sphere with z0 = max(1, z0_ratio) rc / (pi - 0.02), each weighted by the cosine
// cutoff and w of its species, plus the identity for the centre; components
// B = Re sum CG CG U_j1 U_j1 conj(U_j) for j1 = j2 only (j even-parity with 2 j1).
struct GapSo4 {
  double cutoff = 2.75, z0_ratio = 0.0;
  int j_max = 4;
  int z_centre = 0;
  std::vector<int> species_z{0};
  std::vector<double> w{1.0};
  int dimensions() const {
    int n = 0;
    for (int j1 = 0; j1 <= j_max; ++j1)
      for (int j = 0; j <= std::min(j_max, 2 * j1); j += 2) ++n;
    return n;
  }
};

struct GapCoordinates {
  std::string label, descriptor;  // descriptor: the string as in the XML
  long line = 0;                  // line of <gpCoordinates> in the XML
  GapDescriptorKind kind = GapDescriptorKind::Distance2b;
  GapDistance2b d2b;
  GapSoap soap;
  GapSo4 so4;
  GapAngle3b a3b;
  int dimensions = 0, n_sparse = 0;
  double delta = 0, f0 = 0, zeta = 1;
  GapCovariance covariance = GapCovariance::ArdSe;
  std::vector<double> theta;          // [dimensions] (ard_se)
  std::vector<double> alpha, sparse_cutoff;
  std::vector<double> sparse_x;       // [n_sparse][dimensions]
  double cutoff() const {
    if (kind == GapDescriptorKind::Soap) return soap.cutoff;
    if (kind == GapDescriptorKind::BispectrumSo4) return so4.cutoff;
    if (kind == GapDescriptorKind::Angle3b) return a3b.cutoff;
    return d2b.cutoff;
  }
};

struct GapModel {
  std::string path;
  long xml_version = 0;
  std::array<double, 119> e0{};  // by atomic number
  std::vector<GapCoordinates> coords;
};

// Reads gap.xml and its sparseX files (md5 and count checked). Unsupported descriptors,
// descriptor options and kernels, and core potentials (Sum of IP ...) are refused by name with
// an InputError naming the file and line (or key).
GapModel read_gap_model(const std::string& xml_path);

// Lower-case hex MD5 of a byte string (RFC 1321), for the sparseX checksums.
std::string gap_md5_hex(const std::string& bytes);

}  // namespace md
