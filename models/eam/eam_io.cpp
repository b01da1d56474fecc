// EAM potential files (DYNAMO funcfl / setfl / Finnis-Sinclair) and their conversion to
// LAMMPS' interpolation tables. The conventions follow LAMMPS' PairEAM, PairEAMAlloy and
// PairEAMFS (src/MANYBODY/pair_eam*.cpp: read_file, file2array, array2spline, interpolate;
// see https://docs.lammps.org/pair_eam.html): funcfl Z(r) become r*phi = 27.2*0.529 Z_i Z_j
// (Hartree*Bohr -> eV*Å), funcfl files are re-sampled with 4-point Lagrange interpolation onto
// one grid, and every table gets the same 7-coefficient cubic. Host only.
#include <algorithm>
#include <cmath>

#include "engine/error.hpp"
#include "models/eam/eam.hpp"
#include "models/potential_files.hpp"

namespace md {

namespace {

void check_grid(const PotentialFileReader& r, int nrho, double drho, int nr, double dr, double cut) {
  // The cubic needs 5 knots; the funcfl re-sampling needs 4 points.
  if (nrho < 5) r.fail("Nrho = " + std::to_string(nrho) + " must be at least 5");
  if (nr < 5) r.fail("Nr = " + std::to_string(nr) + " must be at least 5");
  if (!(drho > 0)) r.fail("drho must be positive");
  if (!(dr > 0)) r.fail("dr must be positive");
  if (!(cut > 0)) r.fail("cutoff must be positive");
}

void read_grid_line(PotentialFileReader& r, int& nrho, double& drho, int& nr, double& dr,
                    double& cut) {
  const auto tok = PotentialFileReader::split(r.next_line("the line Nrho drho Nr dr cutoff"));
  if (tok.size() < 5) r.fail("expected the line \"Nrho drho Nr dr cutoff\" (5 values)");
  nrho = r.to_count(tok[0], "Nrho", 0, 100000000);
  drho = r.to_double(tok[1], "drho");
  nr = r.to_count(tok[2], "Nr", 0, 100000000);
  dr = r.to_double(tok[3], "dr");
  cut = r.to_double(tok[4], "cutoff");
  check_grid(r, nrho, drho, nr, dr, cut);
}

double read_mass_line(PotentialFileReader& r, const std::string& what) {
  const auto tok = PotentialFileReader::split(r.next_line(what));
  if (tok.size() < 2) r.fail("expected \"atomic-number mass ...\" for " + what);
  r.to_int(tok[0], "the atomic number");
  return r.to_double(tok[1], "the mass");
}

std::vector<double> read_array(PotentialFileReader& r, int n, const std::string& what) {
  r.require_values(n, what);
  std::vector<double> a(static_cast<std::size_t>(n) + 1, 0.0);
  r.read_values(static_cast<std::size_t>(n), a.data() + 1, what);
  return a;
}

// LAMMPS' PairEAM::interpolate: 7 coefficients per knot of f[1..n] on spacing delta.
void interpolate(int n, double delta, const std::vector<double>& f, double* spline) {
  auto s = [&](int m, int c) -> double& { return spline[static_cast<std::size_t>(m) * 7 + c]; };
  for (int m = 1; m <= n; ++m) s(m, 6) = f[m];
  s(1, 5) = s(2, 6) - s(1, 6);
  s(2, 5) = 0.5 * (s(3, 6) - s(1, 6));
  s(n - 1, 5) = 0.5 * (s(n, 6) - s(n - 2, 6));
  s(n, 5) = s(n, 6) - s(n - 1, 6);
  for (int m = 3; m <= n - 2; ++m)
    s(m, 5) = ((s(m - 2, 6) - s(m + 2, 6)) + 8.0 * (s(m + 1, 6) - s(m - 1, 6))) / 12.0;
  for (int m = 1; m <= n - 1; ++m) {
    s(m, 4) = 3.0 * (s(m + 1, 6) - s(m, 6)) - 2.0 * s(m, 5) - s(m + 1, 5);
    s(m, 3) = s(m, 5) + s(m + 1, 5) - 2.0 * (s(m + 1, 6) - s(m, 6));
  }
  s(n, 4) = 0.0;
  s(n, 3) = 0.0;
  for (int m = 1; m <= n; ++m) {
    s(m, 2) = s(m, 5) / delta;
    s(m, 1) = 2.0 * s(m, 4) / delta;
    s(m, 0) = 3.0 * s(m, 3) / delta;
  }
}

void splines_of(const std::vector<std::vector<double>>& arrays, int n, double delta,
                std::vector<double>& out) {
  const std::size_t stride = (static_cast<std::size_t>(n) + 1) * 7;
  out.assign(arrays.size() * stride, 0.0);
  for (std::size_t t = 0; t < arrays.size(); ++t) interpolate(n, delta, arrays[t], &out[t * stride]);
}

// LAMMPS' lower-triangular index of an element pair (PairEAM::file2array, type2z2r).
int z2r_index(int a, int b) {
  int irow = a, icol = b;
  if (irow < icol) std::swap(irow, icol);
  int n = 0;
  for (int m = 0; m < irow; ++m) n += m + 1;
  return n + icol;
}

// 4-point Lagrange re-sampling of file values f[1..nfile] (spacing dfile) at r
// (PairEAM::file2array for funcfl files).
double resample(const std::vector<double>& f, int nfile, double dfile, double r) {
  const double sixth = 1.0 / 6.0;
  double p = r / dfile + 1.0;
  int k = static_cast<int>(p);
  k = std::min(k, nfile - 2);
  k = std::max(k, 2);
  p -= k;
  p = std::min(p, 2.0);
  const double cof1 = -sixth * p * (p - 1.0) * (p - 2.0);
  const double cof2 = 0.5 * (p * p - 1.0) * (p - 2.0);
  const double cof3 = -0.5 * p * (p + 1.0) * (p - 2.0);
  const double cof4 = sixth * p * (p * p - 1.0);
  return cof1 * f[k - 1] + cof2 * f[k] + cof3 * f[k + 1] + cof4 * f[k + 2];
}

void finish_tables(EAMTables& t, const std::vector<std::vector<double>>& frho,
                   const std::vector<std::vector<double>>& rhor,
                   const std::vector<std::vector<double>>& z2r) {
  t.nfrho = static_cast<int>(frho.size());
  t.nrhor = static_cast<int>(rhor.size());
  t.nz2r = static_cast<int>(z2r.size());
  splines_of(frho, t.nrho, t.drho, t.frho_spline);
  splines_of(rhor, t.nr, t.dr, t.rhor_spline);
  splines_of(z2r, t.nr, t.dr, t.z2r_spline);
}

}  // namespace

FuncflFile read_funcfl(const std::string& path) {
  PotentialFileReader r(path);
  FuncflFile f;
  f.path = path;
  r.next_line("a comment line");
  f.mass = read_mass_line(r, "the line \"atomic-number mass lattice-constant lattice\"");
  read_grid_line(r, f.nrho, f.drho, f.nr, f.dr, f.cut);
  f.frho = read_array(r, f.nrho, "F(rho)");
  f.zr = read_array(r, f.nr, "Z(r)");
  f.rhor = read_array(r, f.nr, "rho(r)");
  return f;
}

SetflFile read_setfl(const std::string& path, bool fs) {
  PotentialFileReader r(path);
  SetflFile f;
  f.path = path;
  f.fs = fs;
  for (int k = 0; k < 3; ++k) r.next_line("three comment lines");
  const auto tok = PotentialFileReader::split(r.next_line("the line \"Nelements Element1 ...\""));
  if (tok.empty()) r.fail("expected the line \"Nelements Element1 Element2 ...\"");
  const long ne = r.to_count(tok[0], "Nelements", 0, 10000);
  if (ne < 1) r.fail("Nelements must be at least 1");
  if (static_cast<long>(tok.size()) != ne + 1)
    r.fail("Nelements = " + std::to_string(ne) + " but " + std::to_string(tok.size() - 1) +
           " element names follow");
  f.elements.assign(tok.begin() + 1, tok.end());
  read_grid_line(r, f.nrho, f.drho, f.nr, f.dr, f.cut);
  for (long i = 0; i < ne; ++i) {
    const std::string& el = f.elements[i];
    f.mass.push_back(read_mass_line(r, "the header line of element " + el));
    f.frho.push_back(read_array(r, f.nrho, "F(rho) of " + el));
    if (fs) {
      for (long j = 0; j < ne; ++j)
        f.rhor.push_back(read_array(r, f.nr, "rho(r) of " + el + "-" + f.elements[j]));
    } else {
      f.rhor.push_back(read_array(r, f.nr, "rho(r) of " + el));
    }
  }
  for (long i = 0; i < ne; ++i)
    for (long j = 0; j <= i; ++j)
      f.z2r.push_back(read_array(r, f.nr, "r*phi(r) of " + f.elements[i] + "-" + f.elements[j]));
  return f;
}

EAMTables eam_tables_funcfl(const std::vector<FuncflFile>& files, const std::vector<int>& type_map) {
  EAMTables t;
  t.n_types = static_cast<int>(type_map.size());
  const int nt = t.n_types;
  const int nf = static_cast<int>(files.size());
  // Grid from the active files (LAMMPS: largest spacing and range; +0.5 for round-off).
  double rmax = 0;
  for (int i = 0; i < nf; ++i) {
    if (std::find(type_map.begin(), type_map.end(), i) == type_map.end()) continue;
    const FuncflFile& f = files[i];
    t.dr = std::max(t.dr, f.dr);
    t.drho = std::max(t.drho, f.drho);
    rmax = std::max(rmax, (f.nr - 1) * f.dr);
    t.rhomax = std::max(t.rhomax, (f.nrho - 1) * f.drho);
    t.cutmax = std::max(t.cutmax, f.cut);
  }
  if (!(t.dr > 0)) throw Error("eam: no atom type is mapped to a funcfl file");
  t.nr = static_cast<int>(rmax / t.dr + 0.5);
  t.nrho = static_cast<int>(t.rhomax / t.drho + 0.5);
  if (t.nr < 5 || t.nrho < 5) throw Error("eam: funcfl tables have fewer than 5 points");

  std::vector<std::vector<double>> frho, rhor, z2r;
  for (const FuncflFile& f : files) {
    std::vector<double> a(t.nrho + 1, 0.0), b(t.nr + 1, 0.0);
    for (int m = 1; m <= t.nrho; ++m) a[m] = resample(f.frho, f.nrho, f.drho, (m - 1) * t.drho);
    for (int m = 1; m <= t.nr; ++m) b[m] = resample(f.rhor, f.nr, f.dr, (m - 1) * t.dr);
    frho.push_back(std::move(a));
    rhor.push_back(std::move(b));
  }
  for (int i = 0; i < nf; ++i)
    for (int j = 0; j <= i; ++j) {
      std::vector<double> c(t.nr + 1, 0.0);
      for (int m = 1; m <= t.nr; ++m) {
        const double r = (m - 1) * t.dr;
        const double zri = resample(files[i].zr, files[i].nr, files[i].dr, r);
        const double zrj = resample(files[j].zr, files[j].nr, files[j].dr, r);
        c[m] = 27.2 * 0.529 * zri * zrj;
      }
      z2r.push_back(std::move(c));
    }
  finish_tables(t, frho, rhor, z2r);

  t.type2frho.assign(nt, -1);
  t.type2rhor.assign(static_cast<std::size_t>(nt) * nt, -1);
  t.type2z2r.assign(static_cast<std::size_t>(nt) * nt, -1);
  t.type_mass.assign(nt, 0.0);
  for (int a = 0; a < nt; ++a) {
    if (type_map[a] < 0) continue;
    t.type2frho[a] = type_map[a];
    t.type_mass[a] = files[type_map[a]].mass;
    for (int b = 0; b < nt; ++b) {
      if (type_map[b] < 0) continue;
      t.type2rhor[a * nt + b] = type_map[a];  // funcfl: density depends on the source only
      t.type2z2r[a * nt + b] = z2r_index(type_map[a], type_map[b]);
    }
  }
  return t;
}

EAMTables eam_tables_setfl(const SetflFile& f, const std::vector<int>& type_map) {
  EAMTables t;
  t.n_types = static_cast<int>(type_map.size());
  const int nt = t.n_types;
  const int ne = static_cast<int>(f.elements.size());
  t.nrho = f.nrho;
  t.nr = f.nr;
  t.drho = f.drho;
  t.dr = f.dr;
  t.rhomax = (t.nrho - 1) * t.drho;
  t.cutmax = f.cut;
  finish_tables(t, f.frho, f.rhor, f.z2r);
  t.type2frho.assign(nt, -1);
  t.type2rhor.assign(static_cast<std::size_t>(nt) * nt, -1);
  t.type2z2r.assign(static_cast<std::size_t>(nt) * nt, -1);
  t.type_mass.assign(nt, 0.0);
  for (int a = 0; a < nt; ++a) {
    if (type_map[a] < 0) continue;
    t.type2frho[a] = type_map[a];
    t.type_mass[a] = f.mass[type_map[a]];
    for (int b = 0; b < nt; ++b) {
      if (type_map[b] < 0) continue;
      t.type2rhor[a * nt + b] = f.fs ? type_map[a] * ne + type_map[b] : type_map[a];
      t.type2z2r[a * nt + b] = z2r_index(type_map[a], type_map[b]);
    }
  }
  return t;
}

}  // namespace md
