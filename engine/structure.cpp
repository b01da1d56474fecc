// Host-side Structure helpers and the element mass table (standard atomic weights in amu,
// IUPAC conventional values; mass number of the longest-lived isotope for Tc and Pm).
// Used by the lattice builder and the extxyz reader to give types a default mass.

#include "engine/structure.hpp"

namespace md {

void Structure::add_atom(std::int64_t atom_id, int atom_type, double px, double py, double pz) {
  id.push_back(atom_id);
  type.push_back(atom_type);
  x.push_back(px);
  y.push_back(py);
  z.push_back(pz);
  ix.push_back(0);
  iy.push_back(0);
  iz.push_back(0);
  if (has_velocities) {
    vx.push_back(0.0);
    vy.push_back(0.0);
    vz.push_back(0.0);
  }
}

namespace {

struct ElementMass {
  const char* symbol;
  double mass;  // amu
};

// Elements H (Z = 1) to Bi (Z = 83), in order of atomic number.
constexpr ElementMass kElementMasses[] = {
    {"H", 1.008},        {"He", 4.002602}, {"Li", 6.94},         {"Be", 9.0121831},
    {"B", 10.81},        {"C", 12.011},    {"N", 14.007},        {"O", 15.999},
    {"F", 18.998403163}, {"Ne", 20.1797},  {"Na", 22.98976928},  {"Mg", 24.305},
    {"Al", 26.9815385},  {"Si", 28.085},   {"P", 30.973761998},  {"S", 32.06},
    {"Cl", 35.45},       {"Ar", 39.948},   {"K", 39.0983},       {"Ca", 40.078},
    {"Sc", 44.955908},   {"Ti", 47.867},   {"V", 50.9415},       {"Cr", 51.9961},
    {"Mn", 54.938044},   {"Fe", 55.845},   {"Co", 58.933194},    {"Ni", 58.6934},
    {"Cu", 63.546},      {"Zn", 65.38},    {"Ga", 69.723},       {"Ge", 72.630},
    {"As", 74.921595},   {"Se", 78.971},   {"Br", 79.904},       {"Kr", 83.798},
    {"Rb", 85.4678},     {"Sr", 87.62},    {"Y", 88.90584},      {"Zr", 91.224},
    {"Nb", 92.90637},    {"Mo", 95.95},    {"Tc", 98.0},         {"Ru", 101.07},
    {"Rh", 102.90550},   {"Pd", 106.42},   {"Ag", 107.8682},     {"Cd", 112.414},
    {"In", 114.818},     {"Sn", 118.710},  {"Sb", 121.760},      {"Te", 127.60},
    {"I", 126.90447},    {"Xe", 131.293},  {"Cs", 132.90545196}, {"Ba", 137.327},
    {"La", 138.90547},   {"Ce", 140.116},  {"Pr", 140.90766},    {"Nd", 144.242},
    {"Pm", 145.0},       {"Sm", 150.36},   {"Eu", 151.964},      {"Gd", 157.25},
    {"Tb", 158.92535},   {"Dy", 162.500},  {"Ho", 164.93033},    {"Er", 167.259},
    {"Tm", 168.93422},   {"Yb", 173.045},  {"Lu", 174.9668},     {"Hf", 178.49},
    {"Ta", 180.94788},   {"W", 183.84},    {"Re", 186.207},      {"Os", 190.23},
    {"Ir", 192.217},     {"Pt", 195.084},  {"Au", 196.966569},   {"Hg", 200.592},
    {"Tl", 204.38},      {"Pb", 207.2},    {"Bi", 208.98040},
};

}  // namespace

double element_mass(const std::string& symbol) {
  for (const ElementMass& e : kElementMasses) {
    if (symbol == e.symbol) return e.mass;
  }
  return 0.0;
}

}  // namespace md
