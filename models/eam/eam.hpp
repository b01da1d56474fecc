// Embedded-atom method (LAMMPS pair_style eam, eam/alloy, eam/fs):
//   E_i = F_a(rho_i) + 1/2 sum_j phi_ab(r_ij),  rho_i = sum_j rho_{b->a}(r_ij),
// evaluated with LAMMPS' tables: every function re-tabulated on one uniform grid and
// interpolated with the 7-coefficient cubic of PairEAM::interpolate(), so energies equal
// LAMMPS' to round-off. Metal units (eV, Å). Built by models/eam/eam_config.cpp.
#pragma once

#include <string>
#include <vector>

#include "engine/potential.hpp"

namespace md {

// Tables in LAMMPS' array form (PairEAM::file2array + array2spline), host side.
// Spline arrays are [table][knot m = 0..n][7] with knots 1..n used (LAMMPS' 1-based arrays);
// coefficients 0-2 give the derivative, 3-6 the value (PairEAM::interpolate).
struct EAMTables {
  int n_types = 0;
  int nrho = 0, nr = 0;
  double drho = 0, dr = 0, rhomax = 0, cutmax = 0;
  int nfrho = 0, nrhor = 0, nz2r = 0;
  std::vector<double> frho_spline, rhor_spline, z2r_spline;
  // -1 marks an unmapped type (element "NULL"): it takes no part in this potential.
  std::vector<int> type2frho;  // [n_types]
  std::vector<int> type2rhor;  // [n_types * n_types]; density at an atom of type b from a
                               // neighbour of type a uses table type2rhor[a * n + b]
  std::vector<int> type2z2r;   // [n_types * n_types], r * phi(r)
  std::vector<double> type_mass;  // mass the file gives each mapped type (0 if unmapped)
};

// POD view the kernels read.
struct EAMView {
  int n_types, nrho, nr;
  double rdr, rdrho, rhomax, cutforcesq;
  const double* frho_spline;
  const double* rhor_spline;
  const double* z2r_spline;
  const int* type2frho;
  const int* type2rhor;
  const int* type2z2r;
};

class EAMPotential : public Potential {
 public:
  EAMPotential(Context& ctx, std::string style, EAMTables tables);
  std::string style() const override { return style_; }
  double cutoff() const override { return tables_.cutmax; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;
  const EAMTables& tables() const { return tables_; }

 private:
  std::string style_;
  EAMTables tables_;
  DeviceArray<double> frho_, rhor_, z2r_;
  DeviceArray<int> type2frho_, type2rhor_, type2z2r_;
  DeviceArray<double> fp_, embed_;  // F'(rho_i) on local atoms and ghosts; F(rho_i) local
};

// ---- file readers and table builders (models/eam/eam_io.cpp, host only)

// DYNAMO funcfl file (pair_style eam): one element, Z(r) instead of phi(r).
struct FuncflFile {
  std::string path;
  double mass = 0;
  int nrho = 0, nr = 0;
  double drho = 0, dr = 0, cut = 0;
  std::vector<double> frho, zr, rhor;  // 1-based: [0] unused, as LAMMPS
};
FuncflFile read_funcfl(const std::string& path);

// DYNAMO setfl file (eam/alloy) or its Finnis-Sinclair variant (eam/fs, with a density
// function per element pair).
struct SetflFile {
  std::string path;
  bool fs = false;
  std::vector<std::string> elements;
  std::vector<double> mass;
  int nrho = 0, nr = 0;
  double drho = 0, dr = 0, cut = 0;
  std::vector<std::vector<double>> frho;  // [element], 1-based
  std::vector<std::vector<double>> rhor;  // [element] (setfl) or [i * ne + j] (fs), 1-based
  std::vector<std::vector<double>> z2r;   // [i * (i + 1) / 2 + j], j <= i, 1-based
};
SetflFile read_setfl(const std::string& path, bool fs);

// type_map[t] = index into `files` (funcfl) or element index (setfl/fs), -1 = NULL.
EAMTables eam_tables_funcfl(const std::vector<FuncflFile>& files, const std::vector<int>& type_map);
EAMTables eam_tables_setfl(const SetflFile& file, const std::vector<int>& type_map);

}  // namespace md
