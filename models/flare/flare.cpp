// FLARE mapped B2 model: device tables, the three passes per force call (descriptors,
// species-batched energy and dE/dB over tiles of atoms, pair partials) and the shared gather.
#include "models/flare/flare.hpp"

#include <algorithm>

#include "engine/error.hpp"
#include "kernels/team.hpp"

namespace md {

namespace {

constexpr int kTile = FlarePotential::kTile;
constexpr int kChunk = FlarePotential::kChunk;
// LAMMPS pair_flare / mir-flare: environments with |B|^2 below this get no energy or force.
constexpr double kEmptyThreshold = 1e-8;

std::size_t descriptor_scratch_bytes(const density::Shape& sh) {
  return sizeof(double) * (static_cast<std::size_t>(sh.n_coeff()) +
                           static_cast<std::size_t>(kChunk) * density::slot_doubles(sh, false));
}

// Per atom: c (kept for the partials pass) and B2. Team per atom, lanes over (n, lm).
struct FlareDescriptorKernel {
  FlareView v;
  SystemView sys;
  NeighborView nl;
  double* c;
  double* b;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int nc = v.shape.n_coeff();
    double* cs = t.scratch_as<double>();
    double* work = cs + nc;
    const int si = v.species_of_type[sys.type[i]];
    const AtomEnv env(sys, nl, i);
    density::expand_density(t, v.shape, v.radial, env, sys.type, v.species_of_type, si, cs, work,
                            kChunk);
    double* ci = c + i * nc;
    team_for(t, nc, [&](int q) { ci[q] = cs[q]; });
    density::power_spectrum(t, v.shape, density::PowerSpectrumWeights{}, cs,
                            b + i * static_cast<Index>(v.nd));
  }
};

// Energy and dE/dB for a tile of v.tile <= kTile atoms: the tile's B in scratch, lanes over descriptor
// rows k; for each species present in the tile one sweep over beta_s (read once per tile,
// coalesced across lanes), accumulating (beta_s B_a)_k for the tile's atoms of that species.
struct FlareEnergyKernel {
  FlareView v;
  const int* type;
  Index n;
  const double* b;
  double* dedb;
  ForceOut out;
  bool eflag;

  MD_HD void operator()(const Team& t) const {
    const int nd = v.nd;
    const Index i0 = t.item * v.tile;
    const int na = static_cast<int>(n - i0 < v.tile ? n - i0 : v.tile);
    double* bs = t.scratch_as<double>();  // [kTile][nd]
    const double* bt = b + i0 * nd;
    double* dt = dedb + i0 * nd;
    team_for(t, na * nd, [&](int e) { bs[e] = bt[e]; });
    team_barrier(t);
    int sp[kTile];
    for (int a = 0; a < kTile; ++a) sp[a] = a < na ? v.species_of_type[type[i0 + a]] : -1;
    const DVec<kTile> norm2 = team_sum<DVec<kTile>>(t, nd, [&](int k) {
      DVec<kTile> r = DVec<kTile>::zero();
      for (int a = 0; a < kTile; ++a)
        if (a < na) r.v[a] = bs[a * nd + k] * bs[a * nd + k];
      return r;
    });
    // p_a = beta_s B_a (power 2) or beta_s (power 1), written to dE/dB for now
    team_for(t, nd, [&](int k) {
      double acc[kTile];
      for (int a = 0; a < kTile; ++a) acc[a] = 0.0;
      for (int s = 0; s < v.shape.n_species; ++s) {
        bool present = false;
        for (int a = 0; a < kTile; ++a) present = present || sp[a] == s;
        if (!present) continue;
        if (v.power == 2) {
          const double* bm = v.beta + static_cast<Index>(s) * nd * nd;
          for (int l = 0; l < nd; ++l) {
            const double blk = bm[static_cast<Index>(l) * nd + k];  // symmetric: row l, col k
            for (int a = 0; a < kTile; ++a)
              if (sp[a] == s) acc[a] += blk * bs[a * nd + l];
          }
        } else {
          const double bk = v.beta[static_cast<Index>(s) * nd + k];
          for (int a = 0; a < kTile; ++a)
            if (sp[a] == s) acc[a] = bk;
        }
      }
      for (int a = 0; a < kTile; ++a)
        if (a < na) dt[a * nd + k] = acc[a];
    });
    team_barrier(t);
    // B.p per atom
    const DVec<kTile> bp = team_sum<DVec<kTile>>(t, nd, [&](int k) {
      DVec<kTile> r = DVec<kTile>::zero();
      for (int a = 0; a < kTile; ++a)
        if (a < na) r.v[a] = bs[a * nd + k] * dt[a * nd + k];
      return r;
    });
    // energies and the scale factors of dE/dB = f_p p + f_b B
    double energy[kTile], fp[kTile], fb[kTile];
    for (int a = 0; a < kTile; ++a) {
      energy[a] = fp[a] = fb[a] = 0.0;
      const double q = norm2.v[a];
      if (a >= na || !(q >= kEmptyThreshold)) continue;
      if (v.power == 2) {
        if (v.normalized) {
          energy[a] = bp.v[a] / q;  // B.beta.B / |B|^2
          fp[a] = 2.0 / q;
          fb[a] = -2.0 * energy[a] / q;
        } else {
          energy[a] = bp.v[a];
          fp[a] = 2.0;
        }
      } else {
        if (v.normalized) {
          const double nb = sqrt(q);
          energy[a] = bp.v[a] / nb;  // beta.B / |B|
          fp[a] = 1.0 / nb;
          fb[a] = -energy[a] / q;
        } else {
          energy[a] = bp.v[a];
          fp[a] = 1.0;
        }
      }
    }
    team_for(t, nd, [&](int k) {
      for (int a = 0; a < kTile; ++a)
        if (a < na) dt[a * nd + k] = fp[a] * dt[a * nd + k] + fb[a] * bs[a * nd + k];
    });
    if (eflag) {
      team_single(t, [&] {
        for (int a = 0; a < na; ++a) store_energy(out, i0 + a, v.e0[sp[a]] + energy[a]);
      });
    }
    team_barrier(t);
  }
};

// Per-atom std for a tile of u.tile <= kTile atoms: the tile's B in scratch (normalised for
// NormalizedDotProduct), k_a = (d_j . b_a)^power over the sparse set in scratch (lanes over
// sparse environments j), then |L^-1 k_a|^2 with lanes over rows of L^-1 (column-major, so
// lanes read consecutive addresses).
struct FlareUncertaintyKernel {
  FlareView v;
  FlareUncertaintyView u;
  const int* type;
  Index n;
  const double* b;
  double* std_out;

  MD_HD void operator()(const Team& t) const {
    const int nd = v.nd, ns = u.n_sparse;
    const Index i0 = t.item * u.tile;
    const int na = static_cast<int>(n - i0 < u.tile ? n - i0 : u.tile);
    double* bs = t.scratch_as<double>();                  // [tile][nd]
    double* ks = bs + static_cast<Index>(u.tile) * nd;     // [tile][ns]
    const double* bt = b + i0 * nd;
    team_for(t, na * nd, [&](int e) { bs[e] = bt[e]; });
    team_barrier(t);
    int sp[kTile];
    for (int a = 0; a < kTile; ++a) sp[a] = a < na ? v.species_of_type[type[i0 + a]] : -1;
    const DVec<kTile> norm2 = team_sum<DVec<kTile>>(t, nd, [&](int k) {
      DVec<kTile> r = DVec<kTile>::zero();
      for (int a = 0; a < kTile; ++a)
        if (a < na) r.v[a] = bs[a * nd + k] * bs[a * nd + k];
      return r;
    });
    if (v.normalized) {
      team_for(t, nd, [&](int k) {
        for (int a = 0; a < kTile; ++a)
          if (a < na && norm2.v[a] > 0.0) bs[a * nd + k] /= sqrt(norm2.v[a]);
      });
      team_barrier(t);
    }
    team_for(t, ns, [&](int j) {
      const int sj = u.sparse_species[j];
      double dot[kTile];
      for (int a = 0; a < kTile; ++a) dot[a] = 0.0;
      for (int l = 0; l < nd; ++l) {
        const double d = u.sparse_t[static_cast<Index>(l) * ns + j];
        for (int a = 0; a < kTile; ++a)
          if (sp[a] == sj) dot[a] += d * bs[a * nd + l];
      }
      for (int a = 0; a < kTile; ++a) {
        if (a >= na) continue;
        ks[a * ns + j] = sp[a] == sj ? (v.power == 2 ? dot[a] * dot[a] : dot[a]) : 0.0;
      }
    });
    team_barrier(t);
    const DVec<kTile> q = team_sum<DVec<kTile>>(t, ns, [&](int j) {
      double row[kTile];
      for (int a = 0; a < kTile; ++a) row[a] = 0.0;
      for (int m = 0; m <= j; ++m) {
        const double l = u.l_inv_t[static_cast<Index>(m) * ns + j];
        for (int a = 0; a < kTile; ++a)
          if (a < na) row[a] += l * ks[a * ns + m];
      }
      DVec<kTile> r = DVec<kTile>::zero();
      for (int a = 0; a < kTile; ++a) r.v[a] = row[a] * row[a];
      return r;
    });
    team_single(t, [&] {
      for (int a = 0; a < na; ++a) {
        const double q2 = norm2.v[a];
        double out = 0.0;
        if (q2 >= kEmptyThreshold) {
          const double kself = v.normalized ? 1.0 : (v.power == 2 ? q2 * q2 : q2);
          const double var = kself - u.sig2 * q.v[a];
          out = var >= 0.0 ? sqrt(var) : -sqrt(-var);
        }
        std_out[i0 + a] = out;
      }
    });
  }
};

// dE/dc from dE/dB, then the pair partials of each list slot. Team per atom.
struct FlarePartialsKernel {
  FlareView v;
  SystemView sys;
  NeighborView nl;
  const double* c;
  const double* dedb;
  PairPartialsView g;

  MD_HD void operator()(const Team& t) const {
    const Index i = t.item;
    const int nc = v.shape.n_coeff();
    double* cs = t.scratch_as<double>();
    double* u = cs + nc;
    double* work = u + nc;
    const double* ci = c + i * nc;
    team_for(t, nc, [&](int q) { cs[q] = ci[q]; });
    team_barrier(t);
    density::power_spectrum_adjoint(t, v.shape, density::PowerSpectrumWeights{}, cs,
                                    dedb + i * static_cast<Index>(v.nd), u);
    const int si = v.species_of_type[sys.type[i]];
    const AtomEnv env(sys, nl, i);
    density::density_pair_partials(t, v.shape, v.radial, env, sys.type, v.species_of_type, si, u,
                                   work, kChunk, g);
  }
};

int lanes_for(int width, int cap) {
  int lanes = 32;
  while (lanes < width && lanes < cap) lanes *= 2;
  return lanes;
}

}  // namespace

void flare_launch_descriptors(Context& ctx, const FlareView& v, const SystemView& sys,
                              const NeighborView& nl, double* c, double* b) {
  parallel_for_team(ctx, sys.n_local, lanes_for(v.shape.n_max * v.shape.n_harm(), 128),
                    descriptor_scratch_bytes(v.shape), FlareDescriptorKernel{v, sys, nl, c, b});
}

void flare_launch_energy(Context& ctx, const FlareView& v, const SystemView& sys, const double* b,
                         double* dedb, const ForceOut& out, bool eflag) {
  const Index teams = (sys.n_local + v.tile - 1) / v.tile;
  parallel_for_team(ctx, teams, lanes_for(v.nd, 256),
                    sizeof(double) * static_cast<std::size_t>(v.tile) * v.nd,
                    FlareEnergyKernel{v, sys.type, sys.n_local, b, dedb, out, eflag});
}

void flare_launch_uncertainty(Context& ctx, const FlareView& v, const FlareUncertaintyView& u,
                              const SystemView& sys, const double* b, double* std_out) {
  const Index teams = (sys.n_local + u.tile - 1) / u.tile;
  const std::size_t scratch =
      sizeof(double) * static_cast<std::size_t>(u.tile) * (v.nd + u.n_sparse);
  parallel_for_team(ctx, teams, lanes_for(u.n_sparse, 256), scratch,
                    FlareUncertaintyKernel{v, u, sys.type, sys.n_local, b, std_out});
}

void flare_launch_partials(Context& ctx, const FlareView& v, const SystemView& sys,
                           const NeighborView& nl, const double* c, const double* dedb,
                           const PairPartialsView& g) {
  const std::size_t scratch =
      descriptor_scratch_bytes(v.shape) + sizeof(double) * static_cast<std::size_t>(v.shape.n_coeff());
  parallel_for_team(ctx, sys.n_local, 64, scratch, FlarePartialsKernel{v, sys, nl, c, dedb, g});
}

FlarePotential::FlarePotential(Context& ctx, FlareModel model)
    : model_(std::move(model)), forces_(ctx) {
  const int S = model_.n_species;
  const int nd = model_.n_descriptors();
  if (static_cast<int>(model_.single_atom_energy.size()) != S)
    model_.single_atom_energy.assign(S, 0.0);
  for (int s : model_.species_of_type)
    if (s < 0 || s >= S) throw Error("flare: a system type has no FLARE species");
  for (int a : model_.species_of_type)
    for (int b : model_.species_of_type) cutoff_ = std::max(cutoff_, model_.cutoffs[a * S + b]);
  // dense symmetric beta per species: the file's off-diagonal entries are 2 beta_kl
  std::vector<double> beta;
  if (model_.power == 2) {
    beta.assign(static_cast<std::size_t>(S) * nd * nd, 0.0);
    for (int s = 0; s < S; ++s) {
      const double* f = model_.beta.data() + static_cast<std::size_t>(s) * model_.beta_size;
      double* m = beta.data() + static_cast<std::size_t>(s) * nd * nd;
      for (int k = 0; k < nd; ++k)
        for (int l = k; l < nd; ++l) {
          const double val = k == l ? *f : 0.5 * *f;
          m[static_cast<std::size_t>(k) * nd + l] = val;
          m[static_cast<std::size_t>(l) * nd + k] = val;
          ++f;
        }
    }
  } else {
    beta = model_.beta;
  }
  upload(ctx, beta, beta_);
  upload(ctx, model_.cutoffs, cutoffs_);
  upload(ctx, model_.single_atom_energy, e0_);
  upload(ctx, model_.species_of_type, species_of_type_);
  for (auto* a : {&c_, &b_, &dedb_}) a->bind(ctx);
}

FlareView FlarePotential::view() const {
  FlareView v{};
  v.shape = density::Shape{model_.n_species, model_.n_max, model_.l_max};
  v.radial = FlareRadial{model_.n_max, model_.n_species, static_cast<int>(model_.cutoff_kind),
                         cutoffs_.data()};
  v.power = model_.power;
  v.normalized = model_.normalized ? 1 : 0;
  v.nd = model_.n_descriptors();
  v.species_of_type = species_of_type_.data();
  v.e0 = e0_.data();
  v.beta = beta_.data();
  // atoms per energy team: the tile's B in scratch stays within 32 KB
  v.tile = std::clamp(4096 / std::max(v.nd, 1), 1, kTile);
  return v;
}

void FlarePotential::set_uncertainty(Context& ctx, const FlareUncertaintyModel& u) {
  const int nd = model_.n_descriptors(), ns = u.n_sparse;
  if (u.power != model_.power || u.normalized != model_.normalized)
    throw Error("flare: the uncertainty files do not match the coefficient file's kernel");
  std::vector<int> species;
  for (int s = 0; s < static_cast<int>(u.sparse_count.size()); ++s)
    species.insert(species.end(), u.sparse_count[s], s);
  std::vector<double> st(static_cast<std::size_t>(nd) * ns), lt(static_cast<std::size_t>(ns) * ns);
  for (int j = 0; j < ns; ++j)
    for (int l = 0; l < nd; ++l)
      st[static_cast<std::size_t>(l) * ns + j] = u.sparse_desc[static_cast<std::size_t>(j) * nd + l];
  for (int j = 0; j < ns; ++j)
    for (int m = 0; m <= j; ++m)
      lt[static_cast<std::size_t>(m) * ns + j] = u.l_inv[static_cast<std::size_t>(j) * ns + m];
  upload(ctx, species, sparse_species_);
  upload(ctx, st, sparse_t_);
  upload(ctx, lt, l_inv_t_);
  sig2_ = u.hyperparameters.at(0) * u.hyperparameters.at(0);
  n_sparse_ = ns;
}

void FlarePotential::atom_uncertainty(Context& ctx, const SystemView& sys, const NeighborView&,
                                      double* std_out) {
  if (n_sparse_ == 0) throw Error("flare: no uncertainty files were given (l_inv, sparse_desc)");
  if (sys.n_local == 0) return;
  const FlareView v = view();
  FlareUncertaintyView u{};
  u.n_sparse = n_sparse_;
  // the tile's B and k in scratch stay within 32 KB
  u.tile = std::clamp(4096 / std::max(v.nd + n_sparse_, 1), 1, kTile);
  u.sig2 = sig2_;
  u.sparse_species = sparse_species_.data();
  u.sparse_t = sparse_t_.data();
  u.l_inv_t = l_inv_t_.data();
  flare_launch_uncertainty(ctx, v, u, sys, b_.data(), std_out);
}

void FlarePotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                             const ForceOut& out, ForceRequest req) {
  if (static_cast<Index>(model_.species_of_type.size()) < sys.n_types)
    throw Error("flare: the potential maps fewer types than the system has");
  const FlareView v = view();
  const Index n = sys.n_local;
  if (n != n_alloc_) {
    // the energy tile reads whole tiles: pad to a multiple of kTile atoms
    const std::size_t np = static_cast<std::size_t>((n + kTile - 1) / kTile) * kTile;
    c_.resize(np * v.shape.n_coeff());
    b_.resize(np * v.nd);
    dedb_.resize(np * v.nd);
    n_alloc_ = n;
  }
  if (n == 0) return;
  forces_.prepare(ctx, nl);
  flare_launch_descriptors(ctx, v, sys, nl, c_.data(), b_.data());
  flare_launch_energy(ctx, v, sys, b_.data(), dedb_.data(), out, req.energy);
  flare_launch_partials(ctx, v, sys, nl, c_.data(), dedb_.data(), forces_.partials());
  forces_.gather(ctx, sys, nl, out, req.virial);
}

}  // namespace md
