// Thermo output: a LAMMPS-style table on the terminal (Step Temp PotEng KinEng TotEng Press
// Volume Econserve) and a CSV file with full precision, the pressure tensor, Econserve,
// Enthalpy and the cell (Lx Ly Lz Xy Xz Yz, CellA..CellGamma). With `norm`, extensive
// energies are divided by the atom count (LAMMPS thermo_modify norm; default yes in lj units).
// Extra columns (e.g. c_std_max c_std_mean of [uncertainty]) follow, named by the caller.
#pragma once

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "engine/thermo.hpp"

namespace md {

class ThermoOutput {
 public:
  // append: continue an existing CSV (restarts) without writing the header again.
  ThermoOutput(const std::string& csv_path, bool norm, bool to_terminal, bool append = false,
               std::vector<std::string> extra_columns = {});
  // extra: one value per extra column (not normalised).
  void write(const ThermoSample& t, const std::vector<double>& extra = {});
  void flush();

 private:
  std::ofstream csv_;
  std::string csv_path_;
  bool norm_, terminal_;
  std::vector<std::string> extra_;
  bool header_done_ = false;
};

}  // namespace md
