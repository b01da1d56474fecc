// Thermo output: a LAMMPS-style table on the terminal (Step Temp PotEng KinEng TotEng Press
// Volume) and a CSV file with full precision and the pressure tensor. With `norm`, extensive
// energies are divided by the atom count (LAMMPS thermo_modify norm; default yes in lj units).
#pragma once

#include <cstdio>
#include <fstream>
#include <string>

#include "engine/thermo.hpp"

namespace md {

class ThermoOutput {
 public:
  ThermoOutput(const std::string& csv_path, bool norm, bool to_terminal);
  void write(const ThermoSample& t);
  void flush();

 private:
  std::ofstream csv_;
  std::string csv_path_;
  bool norm_, terminal_;
  bool header_done_ = false;
};

}  // namespace md
