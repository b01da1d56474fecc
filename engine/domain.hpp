// Spatial decomposition of the periodic cell into a px x py x pz grid of sub-domains in
// fractional coordinates (triclinic cells included): which rank owns a position, each rank's
// sub-domain expanded by the import distance D (margins in fractional units, D / plane
// spacing), and the periodic images of an atom that other ranks import (several hops when a
// sub-domain or the cell is thinner than D). Host code; used by engine/distributed.cpp and
// io/parallel_config.cpp; lengths in the run's length unit.
#pragma once

#include <array>
#include <string>

#include "engine/box.hpp"

namespace md {

// The grid minimising the sub-domain surface (LAMMPS `processors * * *`) among the grids of
// `ranks` sub-domains whose plane spacing is at least `min_width` along every axis; a
// non-periodic axis is split only if that helps. Returns {0,0,0} and sets *why when none fits.
std::array<int, 3> choose_grid(int ranks, const Box& box, double min_width, std::string* why);
// The most ranks any grid allows with sub-domains at least min_width thick (a message's hint).
long max_ranks(const Box& box, double min_width);

class Decomposition {
 public:
  // grid: sub-domains per axis; import_distance D: an owned atom's force needs every atom
  // within D of it (Potential::import_distance plus the run's margin: engine/potential.hpp).
  Decomposition(const Box& box, std::array<int, 3> grid, double import_distance);

  const Box& box() const { return box_; }
  std::array<int, 3> grid() const { return grid_; }
  double import_distance() const { return import_distance_; }
  // Empty when every split axis's sub-domains are at least min_width thick in this cell; else
  // a message naming the axis and the thickness (a barostat shrank the cell: the run stops).
  std::string too_thin(double min_width) const;
  int ranks() const { return grid_[0] * grid_[1] * grid_[2]; }
  double margin(int d) const { return margin_[d]; }  // fractional
  int hops(int d) const { return hops_[d]; }          // image range per axis (0: not periodic)
  // Most periodic images per axis an import may span (the constructor refuses more).
  static constexpr int kMaxHops = 64;

  int rank_of_cell(const int c[3]) const { return (c[2] * grid_[1] + c[1]) * grid_[0] + c[0]; }
  void cell_of_rank(int r, int c[3]) const;
  // Owner of fractional position s (wrapped into [0,1) on periodic axes; clamped to the edge
  // sub-domains on non-periodic axes).
  int owner(const double s[3]) const;
  // Sub-domain of rank r in fractional coordinates (non-periodic edges open: +-1e300).
  void bounds(int r, double lo[3], double hi[3]) const;
  // Whether fractional position s lies in rank r's sub-domain expanded by the margins.
  bool in_expanded(int r, const double s[3]) const;

  // Calls visit(rank, n0, n1, n2) for every rank whose expanded sub-domain contains the image
  // s + n of a wrapped atom at fractional s (the atom itself at its owner excluded).
  template <class Visit>
  void for_each_import(const double s[3], int owner_rank, Visit&& visit) const {
    // in_expanded's test is separable per axis: collect the image shifts that pass on each
    // axis, then visit their combinations in the order (rank, n2, n1, n0) ascending.
    constexpr int kMaxShifts = 2 * kMaxHops + 1;
    for (int r = 0; r < ranks(); ++r) {
      double lo[3], hi[3];
      bounds(r, lo, hi);
      int shifts[3][kMaxShifts], count[3] = {0, 0, 0};
      bool any = true;
      for (int d = 0; d < 3 && any; ++d) {
        for (int n = -hops_[d]; n <= hops_[d]; ++n) {
          const double t = s[d] + n;
          if (!(t < lo[d] - margin_[d] || t > hi[d] + margin_[d])) shifts[d][count[d]++] = n;
        }
        any = count[d] > 0;
      }
      if (!any) continue;
      for (int a2 = 0; a2 < count[2]; ++a2)
        for (int a1 = 0; a1 < count[1]; ++a1)
          for (int a0 = 0; a0 < count[0]; ++a0) {
            const int n0 = shifts[0][a0], n1 = shifts[1][a1], n2 = shifts[2][a2];
            if (r == owner_rank && n0 == 0 && n1 == 0 && n2 == 0) continue;
            visit(r, n0, n1, n2);
          }
    }
  }

 private:
  Box box_;
  std::array<int, 3> grid_;
  double import_distance_;
  double margin_[3];
  int hops_[3];
};

}  // namespace md
