// SNAP: index tables and Clebsch-Gordan coefficients (built once on the host, uploaded), the
// device-ready potential and the sequence of passes per force call.
#include "models/snap/snap.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "engine/error.hpp"

namespace md {

namespace {

double factorial(int n) {
  double f = 1.0;
  for (int k = 2; k <= n; ++k) f *= k;
  return f;
}

// Clebsch-Gordan coefficient <j1/2 m1', j2/2 m2' | j/2 m'> in doubled labels (a2 = 2 alpha,
// b2 = 2 beta; gamma = alpha + beta), Racah's formula (VMK 8.2.1(3)).
double clebsch_gordan(int j1, int j2, int j, int a2, int b2) {
  const int c2 = a2 + b2;
  if (c2 < -j || c2 > j) return 0.0;
  double sum = 0.0;
  const int zmin = std::max(0, std::max(-(j - j2 + a2) / 2, -(j - j1 - b2) / 2));
  const int zmax = std::min((j1 + j2 - j) / 2, std::min((j1 - a2) / 2, (j2 + b2) / 2));
  for (int z = zmin; z <= zmax; ++z) {
    const double sign = (z % 2) ? -1.0 : 1.0;
    sum += sign / (factorial(z) * factorial((j1 + j2 - j) / 2 - z) * factorial((j1 - a2) / 2 - z) *
                   factorial((j2 + b2) / 2 - z) * factorial((j - j2 + a2) / 2 + z) *
                   factorial((j - j1 - b2) / 2 + z));
  }
  const double delta = std::sqrt(factorial((j1 + j2 - j) / 2) * factorial((j1 - j2 + j) / 2) *
                                 factorial((-j1 + j2 + j) / 2) / factorial((j1 + j2 + j) / 2 + 1));
  const double norm = std::sqrt(factorial((j1 + a2) / 2) * factorial((j1 - a2) / 2) *
                                factorial((j2 + b2) / 2) * factorial((j2 - b2) / 2) *
                                factorial((j + c2) / 2) * factorial((j - c2) / 2) * (j + 1));
  return sum * delta * norm;
}

}  // namespace

int snap_ncomponents(int twojmax) {
  int n = 0;
  for (int j1 = 0; j1 <= twojmax; ++j1)
    for (int j2 = 0; j2 <= j1; ++j2)
      for (int j = j1 - j2; j <= std::min(twojmax, j1 + j2); j += 2)
        if (j >= j1) ++n;
  return n;
}

SnapTablesHost snap_build_tables(const SnapModel& m) {
  SnapTablesHost t;
  const int J = m.twojmax, jd = J + 1;
  t.twojmax = J;
  t.rootpq.assign(static_cast<std::size_t>(jd) * jd, 0.0);
  for (int p = 1; p <= J; ++p)
    for (int q = 1; q <= J; ++q) t.rootpq[p * jd + q] = std::sqrt(static_cast<double>(p) / q);

  // Clebsch-Gordan blocks for j2 <= j1, j in |j1-j2|..min(J, j1+j2) step 2
  std::vector<int> cg_block(static_cast<std::size_t>(jd) * jd * jd, -1);
  for (int j1 = 0; j1 <= J; ++j1)
    for (int j2 = 0; j2 <= j1; ++j2)
      for (int j = j1 - j2; j <= std::min(J, j1 + j2); j += 2) {
        cg_block[(j1 * jd + j2) * jd + j] = static_cast<int>(t.cg.size());
        for (int m1 = 0; m1 <= j1; ++m1)
          for (int m2 = 0; m2 <= j2; ++m2)
            t.cg.push_back(clebsch_gordan(j1, j2, j, 2 * m1 - j1, 2 * m2 - j2));
      }
  t.idxcg_max = static_cast<int>(t.cg.size());

  // U storage: full layers (idxu_block) and half layers 2 mb <= j (idxu_half_block)
  t.idxu_block.resize(jd);
  t.idxu_half_block.resize(jd);
  int full = 0, half = 0;
  for (int j = 0; j <= J; ++j) {
    t.idxu_block[j] = full;
    t.idxu_half_block[j] = half;
    full += (j + 1) * (j + 1);
    half += (j / 2 + 1) * (j + 1);
  }
  t.idxu_max = full;
  t.idxu_half_max = half;

  // bispectrum components j2 <= j1 <= j
  std::vector<int> b_block(static_cast<std::size_t>(jd) * jd * jd, -1);
  for (int j1 = 0; j1 <= J; ++j1)
    for (int j2 = 0; j2 <= j1; ++j2)
      for (int j = j1 - j2; j <= std::min(J, j1 + j2); j += 2)
        if (j >= j1) {
          b_block[(j1 * jd + j2) * jd + j] = static_cast<int>(t.idxb.size() / 3);
          t.idxb.insert(t.idxb.end(), {j1, j2, j});
        }
  t.idxb_max = static_cast<int>(t.idxb.size() / 3);

  // Z elements (j1, j2, j; ma, mb) for the half 2 mb <= j
  t.idxz_block.assign(static_cast<std::size_t>(jd) * jd * jd, -1);
  for (int j1 = 0; j1 <= J; ++j1)
    for (int j2 = 0; j2 <= j1; ++j2)
      for (int j = j1 - j2; j <= std::min(J, j1 + j2); j += 2) {
        t.idxz_block[(j1 * jd + j2) * jd + j] = static_cast<int>(t.idxz.size());
        // which beta carries this Z (the triple's B has the largest label last, j2<=j1<=j)
        int jjb, perm;
        double mult = 1.0;
        if (j >= j1) {
          jjb = b_block[(j1 * jd + j2) * jd + j];
          perm = 0;
          if (j1 == j) mult = (j2 == j) ? 3.0 : 2.0;
        } else if (j >= j2) {
          jjb = b_block[(j * jd + j2) * jd + j1];
          perm = 1;
          if (j2 == j) mult = 2.0;
        } else {
          jjb = b_block[(j2 * jd + j) * jd + j1];
          perm = 2;
        }
        const double rescale = (!m.bnormflag && j1 > j) ? (j1 + 1) / (j + 1.0) : 1.0;
        for (int mb = 0; 2 * mb <= j; ++mb)
          for (int ma = 0; ma <= j; ++ma) {
            SnapZIndex z{};
            z.j1 = j1;
            z.j2 = j2;
            z.j = j;
            z.ma1min = std::max(0, (2 * ma - j - j2 + j1) / 2);
            z.ma2max = (2 * ma - j - (2 * z.ma1min - j1) + j2) / 2;
            z.na = std::min(j1, (2 * ma - j + j2 + j1) / 2) - z.ma1min + 1;
            z.mb1min = std::max(0, (2 * mb - j - j2 + j1) / 2);
            z.mb2max = (2 * mb - j - (2 * z.mb1min - j1) + j2) / 2;
            z.nb = std::min(j1, (2 * mb - j + j2 + j1) / 2) - z.mb1min + 1;
            z.cg = cg_block[(j1 * jd + j2) * jd + j];
            z.jjuh = t.idxu_half_block[j] + (j + 1) * mb + ma;
            z.jjb = jjb;
            z.perm = perm;
            z.mult = mult;
            z.rescale = rescale;
            t.idxz.push_back(z);
          }
      }
  t.idxz_max = static_cast<int>(t.idxz.size());

  // CSR: Z elements feeding each half-U element of Y, in Z order (LAMMPS' summation order)
  t.y_offset.assign(t.idxu_half_max + 1, 0);
  for (const auto& z : t.idxz) ++t.y_offset[z.jjuh + 1];
  for (int q = 0; q < t.idxu_half_max; ++q) t.y_offset[q + 1] += t.y_offset[q];
  t.y_jjz.assign(t.idxz.size(), 0);
  std::vector<int> fill(t.y_offset.begin(), t.y_offset.end() - 1);
  for (int jjz = 0; jjz < t.idxz_max; ++jjz) t.y_jjz[fill[t.idxz[jjz].jjuh]++] = jjz;

  const double wself = 1.0, www = wself * wself * wself;
  t.bzero.assign(jd, 0.0);
  if (m.bzeroflag)
    for (int j = 0; j <= J; ++j) t.bzero[j] = m.bnormflag ? www : www * (j + 1);
  return t;
}

SnapPotential::SnapPotential(Context& ctx, SnapModel model)
    : model_(std::move(model)), forces_(ctx) {
  if (model_.twojmax < 0)
    throw Error("snap: twojmax " + std::to_string(model_.twojmax) + " is negative");
  tables_ = snap_build_tables(model_);
  const int nelem = static_cast<int>(model_.elements.size());
  nchem_ = model_.chemflag ? nelem : 1;
  ncoeff_ = tables_.idxb_max * nchem_ * nchem_ * nchem_;
  for (int a = 0; a < nelem; ++a)
    for (int b = 0; b < nelem; ++b) {
      bool used_a = false, used_b = false;
      for (int e : model_.type_element) {
        used_a = used_a || e == a;
        used_b = used_b || e == b;
      }
      if (used_a && used_b)
        cutoff_ = std::max(cutoff_, (model_.radius[a] + model_.radius[b]) * model_.rcutfac);
    }
  upload(ctx, tables_.rootpq, rootpq_);
  upload(ctx, tables_.cg, cg_);
  upload(ctx, tables_.bzero, bzero_);
  upload(ctx, tables_.idxu_block, idxu_block_);
  upload(ctx, tables_.idxu_half_block, idxu_half_block_);
  upload(ctx, tables_.idxb, idxb_);
  upload(ctx, tables_.idxz_block, idxz_block_);
  upload(ctx, tables_.idxz, idxz_);
  upload(ctx, tables_.y_offset, y_offset_);
  upload(ctx, tables_.y_jjz, y_jjz_);
  upload(ctx, model_.type_element, type_element_);
  upload(ctx, model_.radius, radius_);
  upload(ctx, model_.weight, weight_);
  std::vector<double> si = model_.sinner, di = model_.dinner;
  si.resize(nelem, 0.0);
  di.resize(nelem, 0.0);
  upload(ctx, si, sinner_);
  upload(ctx, di, dinner_);
  upload(ctx, model_.coeff, coeff_);
  atom_block_ = atom_block_for(ctx);
  energy_model_ = std::make_unique<DescriptorModel>(ctx, ncoeff_, model_.quadraticflag != 0,
                                                    model_.coeff, model_.ncoeffall, nelem,
                                                    model_.type_element);
  for (auto* a : {&utot_, &zlist_, &ylist_, &blist_, &beta_}) a->bind(ctx);
}

SnapView SnapPotential::view() const {
  SnapView v{};
  v.twojmax = tables_.twojmax;
  v.idxu_max = tables_.idxu_max;
  v.idxu_half_max = tables_.idxu_half_max;
  v.idxz_max = tables_.idxz_max;
  v.idxb_max = tables_.idxb_max;
  v.nchem = nchem_;
  v.ncoeff = ncoeff_;
  v.ncoeffall = model_.ncoeffall;
  v.chemflag = model_.chemflag;
  v.bnormflag = model_.bnormflag;
  v.quadratic = model_.quadraticflag;
  v.bzeroflag = model_.bzeroflag;
  v.wselfall = model_.wselfallflag;
  v.switchflag = model_.switchflag;
  v.switchinner = model_.switchinnerflag;
  v.rcutfac = model_.rcutfac;
  v.rfac0 = model_.rfac0;
  v.rmin0 = model_.rmin0;
  v.wself = 1.0;
  v.rootpq = rootpq_.data();
  v.cg = cg_.data();
  v.idxu_block = idxu_block_.data();
  v.idxu_half_block = idxu_half_block_.data();
  v.idxb = idxb_.data();
  v.idxz_block = idxz_block_.data();
  v.idxz = idxz_.data();
  v.y_offset = y_offset_.data();
  v.y_jjz = y_jjz_.data();
  v.bzero = bzero_.data();
  v.type_element = type_element_.data();
  v.radius = radius_.data();
  v.weight = weight_.data();
  v.sinner = sinner_.data();
  v.dinner = dinner_.data();
  v.coeff = coeff_.data();
  return v;
}

void SnapPotential::ensure_capacity(Index n, bool need_z) {
  const std::size_t np = static_cast<std::size_t>(atom_blocks(n, atom_block_)) * atom_block_;
  if (n != n_alloc_) {
    utot_.resize(np * nchem_ * tables_.idxu_max * 2);
    ylist_.resize(np * nchem_ * tables_.idxu_half_max * 2);
    blist_.resize(np * ncoeff_);
    if (model_.quadraticflag) beta_.resize(np * ncoeff_);
    n_alloc_ = n;
  }
  // Z storage is allocated on the first step that needs B (energies or a quadratic model)
  if (need_z && n != nz_alloc_) {
    zlist_.resize(np * nchem_ * nchem_ * tables_.idxz_max * 2);
    nz_alloc_ = n;
  }
}

void SnapPotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                            const ForceOut& out, ForceRequest req) {
  if (static_cast<Index>(model_.type_element.size()) < sys.n_types)
    throw Error("snap: the potential maps fewer types than the system has");
  const bool need_b = req.energy || model_.quadraticflag;
  ensure_capacity(sys.n_local, need_b);
  forces_.prepare(ctx, nl);  // pair partials for the list, reverse slots (rebuilt with it)
  pairs_ = static_cast<Index>(nl.max_neigh) * nl.n_local;
  const SnapView s = view();
  const SnapWork w{sys.n_local, utot_.data(), zlist_.data(), ylist_.data(), blist_.data(),
                   beta_.data(), need_b ? 1 : 0, atom_block_};
  using clock = std::chrono::steady_clock;
  auto t0 = clock::now();
  auto lap = [&](double& acc) {
    if (!profiling_) return;
    ctx.synchronize();
    const auto t1 = clock::now();
    acc += std::chrono::duration<double>(t1 - t0).count();
    t0 = t1;
  };
  if (profiling_) ++profile_.calls;
  snap_launch_ui(ctx, s, sys, nl, w);
  lap(profile_.ui);
  if (need_b) {  // Z once (stored), B from it, then the model: E_i and beta_i = dE_i/dB_i
    snap_launch_zi(ctx, s, sys, w);
    snap_launch_bi(ctx, s, sys, w);
    lap(profile_.bi);
    descriptor_model_launch(ctx, *energy_model_, sys.type, sys.n_local, w.blk, w.blist, w.beta,
                            out, req.energy);
    lap(profile_.energy_beta);
  }
  snap_launch_yi(ctx, s, sys, w);
  lap(profile_.yi);
  snap_launch_deidrj(ctx, s, sys, nl, w, forces_.partials());
  lap(profile_.deidrj);
  forces_.gather(ctx, sys, nl, out, req.virial);
  lap(profile_.force);
}

double SnapPotential::work_bytes_per_atom() const {
  if (n_alloc_ <= 0) return 0.0;
  const std::size_t doubles =
      utot_.size() + zlist_.size() + ylist_.size() + blist_.size() + beta_.size();
  // pair partials (3 doubles per slot) and the reverse map (8 bytes per slot + 8 per atom)
  const double pairs = static_cast<double>(pairs_);
  return (sizeof(double) * static_cast<double>(doubles) + 32.0 * pairs +
          8.0 * static_cast<double>(n_alloc_)) /
         static_cast<double>(n_alloc_);
}

}  // namespace md
