// LAMMPS pair table files and the re-tabulation of PairTable (src/pair_table.cpp:
// read_table, param_extract, spline_table, compute_table, spline, splint; file format in
// https://docs.lammps.org/pair_table.html). Host only.
#include <cmath>

#include "engine/error.hpp"
#include "models/potential_files.hpp"
#include "models/table/table.hpp"

namespace md {

namespace {

bool blank_or_comment(const std::string& line) {
  const std::size_t i = line.find_first_not_of(" \t\r\n\f\v");
  return i == std::string::npos || line[i] == '#';
}

// "N 1000 R 1.0 10.0 FPRIME a b" (PairTable::param_extract).
void param_extract(PotentialFileReader& r, const std::string& line, TableFile& t) {
  t.ninput = 0;
  t.rflag = 0;
  t.fpflag = false;
  const auto w = PotentialFileReader::split(line);
  for (std::size_t k = 0; k < w.size(); ++k) {
    auto need = [&](std::size_t count) {
      if (k + count >= w.size()) r.fail("table parameter " + w[k] + " needs " +
                                        std::to_string(count) + " value(s)");
    };
    if (w[k] == "N") {
      need(1);
      t.ninput = r.to_count(w[++k], "N", 0, 100000000);
    } else if (w[k] == "R" || w[k] == "RSQ") {
      need(2);
      t.rflag = w[k] == "R" ? 1 : 2;
      t.rlo = r.to_double(w[k + 1], w[k] + " lo");
      t.rhi = r.to_double(w[k + 2], w[k] + " hi");
      k += 2;
    } else if (w[k] == "FPRIME") {
      need(2);
      t.fpflag = true;
      t.fplo = r.to_double(w[k + 1], "FPRIME lo");
      t.fphi = r.to_double(w[k + 2], "FPRIME hi");
      k += 2;
    } else if (w[k] == "BITMAP") {
      r.fail("BITMAP tables are not supported");
    } else {
      r.fail("unknown table parameter \"" + w[k] + "\" (expected N, R, RSQ, FPRIME)");
    }
  }
  if (t.ninput < 2) r.fail("table parameters must set N >= 2");
}

// Numerical Recipes cubic spline with end derivatives yp1, ypn (PairTable::spline).
void spline(const std::vector<double>& x, const std::vector<double>& y, double yp1, double ypn,
            std::vector<double>& y2) {
  const int n = static_cast<int>(x.size());
  std::vector<double> u(n);
  y2.assign(n, 0.0);
  if (yp1 > 0.99e30) {
    y2[0] = u[0] = 0.0;
  } else {
    y2[0] = -0.5;
    u[0] = (3.0 / (x[1] - x[0])) * ((y[1] - y[0]) / (x[1] - x[0]) - yp1);
  }
  for (int i = 1; i < n - 1; ++i) {
    const double sig = (x[i] - x[i - 1]) / (x[i + 1] - x[i - 1]);
    const double p = sig * y2[i - 1] + 2.0;
    y2[i] = (sig - 1.0) / p;
    u[i] = (y[i + 1] - y[i]) / (x[i + 1] - x[i]) - (y[i] - y[i - 1]) / (x[i] - x[i - 1]);
    u[i] = (6.0 * u[i] / (x[i + 1] - x[i - 1]) - sig * u[i - 1]) / p;
  }
  double qn, un;
  if (ypn > 0.99e30) {
    qn = un = 0.0;
  } else {
    qn = 0.5;
    un = (3.0 / (x[n - 1] - x[n - 2])) * (ypn - (y[n - 1] - y[n - 2]) / (x[n - 1] - x[n - 2]));
  }
  y2[n - 1] = (un - qn * u[n - 2]) / (qn * y2[n - 2] + 1.0);
  for (int k = n - 2; k >= 0; --k) y2[k] = y2[k] * y2[k + 1] + u[k];
}

double splint(const std::vector<double>& xa, const std::vector<double>& ya,
              const std::vector<double>& y2a, double x) {
  int klo = 0, khi = static_cast<int>(xa.size()) - 1;
  while (khi - klo > 1) {
    const int k = (khi + klo) >> 1;
    if (xa[k] > x)
      khi = k;
    else
      klo = k;
  }
  const double h = xa[khi] - xa[klo];
  const double a = (xa[khi] - x) / h;
  const double b = (x - xa[klo]) / h;
  return a * ya[klo] + b * ya[khi] + ((a * a * a - a) * y2a[klo] + (b * b * b - b) * y2a[khi]) *
                                         (h * h) / 6.0;
}

}  // namespace

TableFile read_table_file(const std::string& path, const std::string& keyword) {
  PotentialFileReader r(path);
  TableFile t;
  t.path = path;
  t.keyword = keyword;
  std::string line;
  while (true) {
    if (!r.try_next_line(line)) r.fail("keyword \"" + keyword + "\" not found in table file");
    if (blank_or_comment(line)) continue;
    const auto w = PotentialFileReader::split(line);
    if (w[0] == keyword) break;
    // another section: parameter line, blank line, N data lines
    param_extract(r, r.next_line("the parameter line of section " + w[0]), t);
    r.next_line("a blank line");
    for (int i = 0; i < t.ninput; ++i) r.next_line("line " + std::to_string(i + 1) + " of " + w[0]);
  }
  param_extract(r, r.next_line("the parameter line (N ...) of section " + keyword), t);
  r.next_line("a blank line after the parameter line");
  r.require_values(4LL * t.ninput, "section " + keyword + " (N = " + std::to_string(t.ninput) + " lines of 4 values)");
  t.rfile.resize(t.ninput);
  t.efile.resize(t.ninput);
  t.ffile.resize(t.ninput);
  for (int i = 0; i < t.ninput; ++i) {
    line = r.next_line("table line " + std::to_string(i + 1) + " of " + std::to_string(t.ninput) +
                       " in section " + keyword);
    if (blank_or_comment(line)) {
      --i;
      continue;
    }
    const auto w = PotentialFileReader::split(line);
    if (w.size() < 4) r.fail("expected \"index r energy force\"");
    r.to_int(w[0], "the index");
    const double rfile = r.to_double(w[1], "r");
    t.efile[i] = r.to_double(w[2], "energy");
    t.ffile[i] = r.to_double(w[3], "force");
    double rnew = rfile;
    if (t.rflag == 1) {
      rnew = t.rlo + (t.rhi - t.rlo) * i / (t.ninput - 1);
    } else if (t.rflag == 2) {
      rnew = t.rlo * t.rlo + (t.rhi * t.rhi - t.rlo * t.rlo) * i / (t.ninput - 1);
      rnew = std::sqrt(rnew);
    }
    t.rfile[i] = rnew;
  }
  for (int i = 1; i < t.ninput; ++i)
    if (!(t.rfile[i] > t.rfile[i - 1]))
      throw InputError(path, 0, "section " + keyword + ": r values must increase");
  return t;
}

PairTable build_pair_table(const TableFile& tf, TableStyle style, int n, double cut) {
  PairTable tb;
  tb.cut = cut;
  const double rlo = tf.rflag ? tf.rlo : tf.rfile.front();
  const double rhi = tf.rflag ? tf.rhi : tf.rfile.back();
  if (cut <= rlo || cut > rhi || rlo <= 0.0)
    throw Error("table " + tf.path + " section " + tf.keyword + ": cutoff " + std::to_string(cut) +
                " outside the table (" + std::to_string(rlo) + ", " + std::to_string(rhi) + "]");
  // LINEAR can use the file values directly when they already sit on the final grid.
  const bool match = style == TableStyle::linear && tf.ninput == n && tf.rflag == 2 &&
                     tf.rhi == cut;
  std::vector<double> e2file, f2file;
  double fplo = tf.fplo, fphi = tf.fphi;
  if (!match) {  // PairTable::spline_table
    spline(tf.rfile, tf.efile, -tf.ffile.front(), -tf.ffile.back(), e2file);
    const int ni = tf.ninput;
    if (!tf.fpflag) {
      fplo = (tf.ffile[1] - tf.ffile[0]) / (tf.rfile[1] - tf.rfile[0]);
      fphi = (tf.ffile[ni - 1] - tf.ffile[ni - 2]) / (tf.rfile[ni - 1] - tf.rfile[ni - 2]);
    }
    spline(tf.rfile, tf.ffile, fplo, fphi, f2file);
  }
  const int tlm1 = n - 1;
  const double inner = rlo;
  tb.innersq = inner * inner;
  tb.delta = (cut * cut - tb.innersq) / tlm1;
  tb.invdelta = 1.0 / tb.delta;
  tb.rsq.resize(n);
  tb.e.resize(n);
  tb.f.resize(n);
  for (int i = 0; i < n; ++i) {
    const double rsq = tb.innersq + i * tb.delta;
    const double r = std::sqrt(rsq);
    tb.rsq[i] = rsq;
    if (match) {
      tb.e[i] = tf.efile[i];
      tb.f[i] = tf.ffile[i] / r;
    } else if (style == TableStyle::linear) {
      tb.e[i] = splint(tf.rfile, tf.efile, e2file, r);
      tb.f[i] = splint(tf.rfile, tf.ffile, f2file, r) / r;
    } else {
      tb.e[i] = splint(tf.rfile, tf.efile, e2file, r);
      tb.f[i] = splint(tf.rfile, tf.ffile, f2file, r);
    }
  }
  if (style == TableStyle::linear) {
    tb.de.resize(tlm1);
    tb.df.resize(tlm1);
    for (int i = 0; i < tlm1; ++i) {
      tb.de[i] = tb.e[i + 1] - tb.e[i];
      tb.df[i] = tb.f[i + 1] - tb.f[i];
    }
    return tb;
  }
  // Spline in r^2: end slopes of e from -f/(2r); of f/r from FPRIME or a secant.
  tb.deltasq6 = tb.delta * tb.delta / 6.0;
  const double ep0 = -tb.f[0] / (2.0 * std::sqrt(tb.innersq));
  const double epn = -tb.f[tlm1] / (2.0 * cut);
  spline(tb.rsq, tb.e, ep0, epn, tb.e2);
  const double secant_factor = 0.1;
  double fp0, fpn;
  if (tf.fpflag) {
    fp0 = (tf.fplo / std::sqrt(tb.innersq) - tb.f[0] / tb.innersq) / (2.0 * std::sqrt(tb.innersq));
  } else {
    const double rsq1 = tb.innersq;
    const double rsq2 = rsq1 + secant_factor * tb.delta;
    fp0 = (splint(tf.rfile, tf.ffile, f2file, std::sqrt(rsq2)) / std::sqrt(rsq2) -
           tb.f[0] / std::sqrt(rsq1)) /
          (secant_factor * tb.delta);
  }
  if (tf.fpflag && cut == tf.rfile[tf.ninput - 1]) {
    fpn = (tf.fphi / cut - tb.f[tlm1] / (cut * cut)) / (2.0 * cut);
  } else {
    const double rsq2 = cut * cut;
    const double rsq1 = rsq2 - secant_factor * tb.delta;
    fpn = (tb.f[tlm1] / std::sqrt(rsq2) -
           splint(tf.rfile, tf.ffile, f2file, std::sqrt(rsq1)) / std::sqrt(rsq1)) /
          (secant_factor * tb.delta);
  }
  for (int i = 0; i < n; ++i) tb.f[i] /= std::sqrt(tb.rsq[i]);
  spline(tb.rsq, tb.f, fp0, fpn, tb.f2);
  return tb;
}

}  // namespace md
