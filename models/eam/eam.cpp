// EAM on the device, two passes over the full neighbour list (no atomics):
//   1. per local atom: rho_i, then F'(rho_i) (and F(rho_i) when energy is requested);
//      the halo copies F' onto the ghost atoms (engine/halo.hpp);
//   2. per local atom: forces, pair energy and virial, reading F' of the neighbour itself.
// The interpolation is LAMMPS' PairEAM::compute (index m = floor(r/dr) + 1 clamped to the
// table, fraction p clamped to 1; F extended linearly beyond rhomax).
#include "models/eam/eam.hpp"

#include <cmath>

#include "engine/halo.hpp"
#include "kernels/launch.hpp"
#include "kernels/many_body.hpp"

namespace md {

namespace {

MD_INLINE const double* knot(const double* spline, int table, int n, int m) {
  return spline + (static_cast<Index>(table) * (n + 1) + m) * 7;
}

// Interval index and fraction for a distance (PairEAM::compute).
MD_INLINE int r_knot(const EAMView& v, double r, double& p) {
  p = r * v.rdr + 1.0;
  int m = static_cast<int>(p);
  m = m < v.nr - 1 ? m : v.nr - 1;
  p -= m;
  p = p < 1.0 ? p : 1.0;
  return m;
}

struct EAMEmbedKernel {
  EAMView v;
  SystemView sys;
  NeighborView nl;
  double* fp;
  double* embed;  // null unless energy is requested
  MD_HD void operator()(Index i) const {
    const int ti = sys.type[i];
    const int tf = v.type2frho[ti];
    if (tf < 0) {  // unmapped type: no embedding term
      fp[i] = 0.0;
      if (embed) embed[i] = 0.0;
      return;
    }
    double rho = 0.0;
    const AtomEnv env(sys, nl, i);
    for (int k = 0; k < env.count; ++k) {
      const NeighborSlot nb = env.neighbor(k);
      if (nb.rsq >= v.cutforcesq) continue;
      const int tr = v.type2rhor[sys.type[nb.j] * v.n_types + ti];
      if (tr < 0) continue;
      double p;
      const int m = r_knot(v, sqrt(nb.rsq), p);
      const double* c = knot(v.rhor_spline, tr, v.nr, m);
      rho += ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
    }
    double p = rho * v.rdrho + 1.0;
    int m = static_cast<int>(p);
    m = m < v.nrho - 1 ? m : v.nrho - 1;
    m = m > 1 ? m : 1;
    p -= m;
    p = p < 1.0 ? p : 1.0;
    const double* c = knot(v.frho_spline, tf, v.nrho, m);
    const double fpi = (c[0] * p + c[1]) * p + c[2];
    fp[i] = fpi;
    if (embed) {
      double phi = ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
      if (rho > v.rhomax) phi += fpi * (rho - v.rhomax);
      embed[i] = phi;
    }
  }
};

struct EAMForceKernel {
  EAMView v;
  SystemView sys;
  NeighborView nl;
  const double* fp;  // local atoms and ghosts (halo)
  const double* embed;
  ForceOut out;
  bool eflag, vflag;

  MD_HD void operator()(Index i) const {
    const int ti = sys.type[i];
    const double fpi = fp[i];
    const int nt = v.n_types;
    PairSums sums;
    if (v.type2frho[ti] >= 0 && i < sys.n_owned) {  // imported atoms' forces are discarded
      const AtomEnv env(sys, nl, i);
      for (int k = 0; k < env.count; ++k) {
        const NeighborSlot nb = env.neighbor(k);
        const double rsq = nb.rsq;
        if (rsq >= v.cutforcesq) continue;
        const int j = nb.j;
        const int tj = sys.type[j];
        const int tz = v.type2z2r[ti * nt + tj];
        if (tz < 0) continue;
        const double r = sqrt(rsq);
        double p;
        const int m = r_knot(v, r, p);
        const double* c = knot(v.rhor_spline, v.type2rhor[ti * nt + tj], v.nr, m);
        const double rhoip = (c[0] * p + c[1]) * p + c[2];
        c = knot(v.rhor_spline, v.type2rhor[tj * nt + ti], v.nr, m);
        const double rhojp = (c[0] * p + c[1]) * p + c[2];
        c = knot(v.z2r_spline, tz, v.nr, m);
        const double z2p = (c[0] * p + c[1]) * p + c[2];
        const double z2 = ((c[3] * p + c[4]) * p + c[5]) * p + c[6];
        const double recip = 1.0 / r;
        const double phi = z2 * recip;
        const double phip = z2p * recip - phi * recip;
        const double psip = fpi * rhojp + fp[j] * rhoip + phip;
        sums.add(-nb.dx, -nb.dy, -nb.dz, -psip * recip, phi, eflag, vflag);  // r_i - r_j
      }
    }
    sums.store(out, i, sys.n_local, eflag, vflag, eflag ? embed[i] : 0.0);  // embed: energy steps only
  }
};

}  // namespace

EAMPotential::EAMPotential(Context& ctx, std::string style, EAMTables tables)
    : style_(std::move(style)),
      tables_(std::move(tables)),
      frho_(ctx, 0),
      rhor_(ctx, 0),
      z2r_(ctx, 0),
      type2frho_(ctx, 0),
      type2rhor_(ctx, 0),
      type2z2r_(ctx, 0),
      fp_(ctx, 0),
      embed_(ctx, 0) {
  ctx.to_device(tables_.frho_spline, frho_);
  ctx.to_device(tables_.rhor_spline, rhor_);
  ctx.to_device(tables_.z2r_spline, z2r_);
  ctx.to_device(tables_.type2frho, type2frho_);
  ctx.to_device(tables_.type2rhor, type2rhor_);
  ctx.to_device(tables_.type2z2r, type2z2r_);
}

void EAMPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                           const ForceOut& out, ForceRequest req) {
  const Index n = sys.n_local;
  // Per-atom scratch follows the atom count (allocation only, no transfer); F' also on ghosts.
  const std::size_t atoms = static_cast<std::size_t>(halo_stride(nl));
  if (fp_.size() < atoms) fp_.resize(atoms);
  if (req.energy && embed_.size() < static_cast<std::size_t>(n))
    embed_.resize(static_cast<std::size_t>(n));
  const EAMTables& t = tables_;
  const EAMView v{t.n_types,        t.nrho,          t.nr,
                  1.0 / t.dr,       1.0 / t.drho,    t.rhomax,
                  t.cutmax * t.cutmax, frho_.data(), rhor_.data(),
                  z2r_.data(),      type2frho_.data(), type2rhor_.data(),
                  type2z2r_.data()};
  double* embed = req.energy ? embed_.data() : nullptr;
  parallel_for(ctx, n, EAMEmbedKernel{v, sys, nl, fp_.data(), embed});
  halo_forward(ctx, nl, fp_.data(), 1);
  parallel_for(ctx, n,
               EAMForceKernel{v, sys, nl, fp_.data(), embed, out, req.energy, req.virial});
}

}  // namespace md
