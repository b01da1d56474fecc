// Tabulated pairs: upload of the tables and the kernel instantiation.
#include "models/table/table.hpp"

#include <algorithm>

#include "kernels/pair_driver.hpp"

namespace md {

TablePotential::TablePotential(Context& ctx, TableParams params)
    : params_(std::move(params)),
      pair_(ctx, 0),
      header_(ctx, 0),
      rsq_(ctx, 0),
      e_(ctx, 0),
      f_(ctx, 0),
      a_(ctx, 0),
      b_(ctx, 0) {
  const int nt = params_.n_types;
  const bool spline = params_.style == TableStyle::spline;
  std::vector<TablePair> pairs(static_cast<std::size_t>(nt) * nt);
  for (std::size_t k = 0; k < pairs.size(); ++k) {
    const int t = params_.pair_table[k];
    pairs[k].table = t;
    pairs[k].cutsq = t < 0 ? 0.0 : params_.tables[t].cut * params_.tables[t].cut;
    if (t >= 0) cutoff_ = std::max(cutoff_, params_.tables[t].cut);
  }
  std::vector<TableHeader> headers;
  std::vector<double> rsq, e, f, a, b;
  for (const PairTable& t : params_.tables) {
    headers.push_back({t.innersq, t.invdelta, t.deltasq6});
    rsq.insert(rsq.end(), t.rsq.begin(), t.rsq.end());
    e.insert(e.end(), t.e.begin(), t.e.end());
    f.insert(f.end(), t.f.begin(), t.f.end());
    const std::vector<double>& ta = spline ? t.e2 : t.de;
    const std::vector<double>& tb = spline ? t.f2 : t.df;
    a.insert(a.end(), ta.begin(), ta.end());
    b.insert(b.end(), tb.begin(), tb.end());
    a.resize(rsq.size(), 0.0);  // de/df have N-1 entries
    b.resize(rsq.size(), 0.0);
  }
  ctx.to_device(pairs, pair_);
  ctx.to_device(headers, header_);
  ctx.to_device(rsq, rsq_);
  ctx.to_device(e, e_);
  ctx.to_device(f, f_);
  ctx.to_device(a, a_);
  ctx.to_device(b, b_);
}

void TablePotential::compute(Context& ctx, const SystemView& sys, const NeighborView& nl,
                             const ForceOut& out, ForceRequest req) {
  const TableEval eval{pair_.data(), header_.data(), rsq_.data(), e_.data(), f_.data(),
                       a_.data(),    b_.data(),      params_.n_types, params_.n,
                       params_.style == TableStyle::spline};
  compute_pair(ctx, eval, sys, nl, out, req);
}

}  // namespace md
