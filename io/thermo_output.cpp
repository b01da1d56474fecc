#include "io/thermo_output.hpp"

#include <utility>

#include <fmt/format.h>

#include "engine/error.hpp"

namespace md {

ThermoOutput::ThermoOutput(const std::string& csv_path, bool norm, bool to_terminal,
                           bool append, std::vector<std::string> extra_columns)
    : csv_path_(csv_path), norm_(norm), terminal_(to_terminal), extra_(std::move(extra_columns)) {
  if (!csv_path.empty()) {
    csv_.open(csv_path, std::ios::out | (append ? std::ios::app : std::ios::trunc));
    if (!csv_) throw Error("cannot open thermo file \"" + csv_path + "\" for writing");
    if (!append) {
      csv_ << "Step,Time,Temp,PotEng,KinEng,TotEng,Press,Volume,Pxx,Pyy,Pzz,Pxy,Pxz,Pyz,"
              "Econserve,Enthalpy,Lx,Ly,Lz,Xy,Xz,Yz,CellA,CellB,CellC,CellAlpha,CellBeta,"
              "CellGamma";
      for (const auto& c : extra_) csv_ << ',' << c;
      csv_ << '\n';
    }
  }
}

void ThermoOutput::write(const ThermoSample& t, const std::vector<double>& extra) {
  if (extra.size() != extra_.size())
    throw Error(fmt::format("thermo output: {} extra values for {} extra columns", extra.size(),
                            extra_.size()));
  const double s = norm_ && t.natoms > 0 ? 1.0 / static_cast<double>(t.natoms) : 1.0;
  if (terminal_) {
    if (!header_done_) {
      fmt::print("{:>10} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15} {:>15}", "Step", "Temp",
                 "PotEng", "KinEng", "TotEng", "Press", "Volume", "Econserve");
      for (const auto& c : extra_) fmt::print(" {:>15}", c);
      fmt::print("\n");
    }
    fmt::print("{:>10} {:>15.8g} {:>15.8g} {:>15.8g} {:>15.8g} {:>15.8g} {:>15.8g} {:>15.8g}",
               t.step, t.temp, t.pe * s, t.ke * s, t.etotal * s, t.press, t.volume,
               t.econserve * s);
    for (double v : extra) fmt::print(" {:>15.8g}", v);
    fmt::print("\n");
    std::fflush(stdout);
  }
  header_done_ = true;
  if (csv_.is_open()) {
    csv_ << fmt::format("{},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g},{:.17g}", t.step,
                        t.time, t.temp, t.pe * s, t.ke * s, t.etotal * s, t.press, t.volume);
    for (double p : t.ptensor) csv_ << fmt::format(",{:.17g}", p);
    double abc[3], ang[3];
    cell_parameters(t.box, abc, ang);
    for (double v : {t.econserve * s, t.enthalpy * s, t.box.l[0], t.box.l[1], t.box.l[2],
                     t.box.xy, t.box.xz, t.box.yz, abc[0], abc[1], abc[2], ang[0], ang[1], ang[2]})
      csv_ << fmt::format(",{:.17g}", v);
    for (double v : extra) csv_ << fmt::format(",{:.17g}", v);
    csv_ << '\n';
    csv_.flush();  // whole lines only: an abrupt exit never leaves half a record
    if (!csv_) throw Error("write to thermo file \"" + csv_path_ + "\" failed");
  }
}

void ThermoOutput::flush() {
  if (csv_.is_open()) csv_.flush();
}

}  // namespace md
