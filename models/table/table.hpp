// Tabulated pair potential (LAMMPS pair_style table, styles linear and spline): E(r) and
// F(r) = -dE/dr read from LAMMPS table files (one keyword section per pair), re-tabulated
// on N points evenly spaced in r^2 between the inner radius and the cutoff exactly as
// LAMMPS' PairTable::compute_table does, then interpolated linearly or with cubic splines
// in r^2. Units of the file (metal: Å, eV, eV/Å). Built by models/table/table_config.cpp.
#pragma once

#include <string>
#include <vector>

#include "engine/potential.hpp"

namespace md {

enum class TableStyle { linear, spline };

// One table section of a file, as read (PairTable::read_table + param_extract).
struct TableFile {
  std::string path, keyword;
  int ninput = 0;
  int rflag = 0;  // 0: r from the file, 1: R (linear in r), 2: RSQ (linear in r^2)
  double rlo = 0, rhi = 0;
  bool fpflag = false;
  double fplo = 0, fphi = 0;
  std::vector<double> rfile, efile, ffile;
};
TableFile read_table_file(const std::string& path, const std::string& keyword);

// The interpolation table of one pair, N points (PairTable::compute_table).
struct PairTable {
  double cut = 0, innersq = 0, delta = 0, invdelta = 0, deltasq6 = 0;
  std::vector<double> rsq, e, f, de, df, e2, f2;  // f holds f/r
};
// Throws md::Error with a message when `cut` is outside the table.
PairTable build_pair_table(const TableFile& file, TableStyle style, int n, double cut);

// Device form: per type pair a table index (-1: no interaction) and cutoff^2; per table
// the bin constants; arrays [table * n + k].
struct TableHeader {
  double innersq, invdelta, deltasq6;
};
struct TablePair {
  int table;
  double cutsq;
};

struct TableEval {
  const TablePair* pair;  // [n_types^2]
  const TableHeader* header;
  const double *rsq, *e, *f, *a, *b;  // a, b = de, df (linear) or e2, f2 (spline)
  int n_types, n;
  bool spline;
  MD_HD bool operator()(int ti, int tj, double r2, double& f_over_r, double& energy,
                        bool eflag) const {
    const TablePair& p = pair[ti * n_types + tj];
    if (p.table < 0 || r2 >= p.cutsq) return false;
    const TableHeader& h = header[p.table];
    // LAMMPS stops with "Pair distance < table inner cutoff" / "> outer cutoff"; a kernel
    // cannot, so the first and last bins are extended.
    int it = static_cast<int>((r2 - h.innersq) * h.invdelta);
    it = it < 0 ? 0 : (it > n - 2 ? n - 2 : it);
    const Index k = static_cast<Index>(p.table) * n + it;
    if (!spline) {
      const double fraction = (r2 - rsq[k]) * h.invdelta;
      f_over_r = f[k] + fraction * b[k];
      if (eflag) energy = e[k] + fraction * a[k];
    } else {
      const double bb = (r2 - rsq[k]) * h.invdelta;
      const double aa = 1.0 - bb;
      const double ca = aa * aa * aa - aa, cb = bb * bb * bb - bb;
      f_over_r = aa * f[k] + bb * f[k + 1] + (ca * b[k] + cb * b[k + 1]) * h.deltasq6;
      if (eflag) energy = aa * e[k] + bb * e[k + 1] + (ca * a[k] + cb * a[k + 1]) * h.deltasq6;
    }
    return true;
  }
};

struct TableParams {
  int n_types = 0;
  TableStyle style = TableStyle::linear;
  int n = 0;                        // table length N
  std::vector<PairTable> tables;
  std::vector<int> pair_table;      // [n_types^2], -1 = no interaction
};

class TablePotential : public Potential {
 public:
  TablePotential(Context& ctx, TableParams params);
  std::string style() const override { return "table"; }
  double cutoff() const override { return cutoff_; }
  // A pair style: the force on an owned atom needs only its own pairs.
  double import_distance(double skin) const override { return cutoff() + skin; }
  double import_list_distance(double) const override { return 0.0; }
  std::string import_rule(double) const override { return "cutoff + skin"; }
  void compute(Context& ctx, const SystemView& sys, const NeighborView& nl, const ForceOut& out,
               ForceRequest req) override;

 private:
  TableParams params_;
  DeviceArray<TablePair> pair_;
  DeviceArray<TableHeader> header_;
  DeviceArray<double> rsq_, e_, f_, a_, b_;
  double cutoff_ = 0;
};

}  // namespace md
