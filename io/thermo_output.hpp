// Thermo output: a LAMMPS-style table on the terminal (Step Temp PotEng KinEng TotEng Press
// Volume Econserve) and a CSV file with full precision, the pressure tensor, Econserve,
// Enthalpy and the cell (Lx Ly Lz Xy Xz Yz, CellA..CellGamma). With `norm`, extensive
// energies are divided by the atom count (LAMMPS thermo_modify norm; default yes in lj units).
#pragma once

#include <cstdio>
#include <fstream>
#include <string>

#include "engine/thermo.hpp"

namespace md {

class ThermoOutput {
 public:
  // append: continue an existing CSV (restarts) without writing the header again.
  ThermoOutput(const std::string& csv_path, bool norm, bool to_terminal, bool append = false);
  void write(const ThermoSample& t);
  void flush();

 private:
  std::ofstream csv_;
  std::string csv_path_;
  bool norm_, terminal_;
  bool header_done_ = false;
};

}  // namespace md
