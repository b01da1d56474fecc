// [uncertainty] in a run: thermo values, warn / harvest / stop at sync points.
#include "io/uncertainty_output.hpp"

#include <cstdio>
#include <filesystem>

#include <fmt/format.h>

#include "io/extxyz.hpp"
#include "io/report.hpp"

namespace md {

std::optional<UncertaintySettings> read_uncertainty_input(Section& root, Potential& pot,
                                                          const std::string& input_dir) {
  auto u = root.table("uncertainty");
  if (!u) return std::nullopt;
  UncertaintySettings s = read_uncertainty_settings(*u);
  auto* p = dynamic_cast<UncertaintyProvider*>(&pot);
  if (!p)
    throw InputError(root.file(), root.line_of("uncertainty"),
                     fmt::format("[uncertainty]: potential style \"{}\" has no per-atom "
                                 "uncertainty (styles \"flare\" with l_inv and sparse_desc files, "
                                 "and \"gap\"); remove the [uncertainty] table",
                                 pot.style()));
  if (!p->has_uncertainty())
    throw InputError(root.file(), root.line_of("uncertainty"),
                     fmt::format("[uncertainty]: potential style \"{}\" was given no uncertainty "
                                 "files: add [potential] l_inv and sparse_desc (the L_inv_* and "
                                 "sparse_desc_* files of build_map)",
                                 pot.style()));
  namespace fs = std::filesystem;
  if (!s.harvest_file.empty() && !fs::path(s.harvest_file).is_absolute() && !input_dir.empty())
    s.harvest_file = (fs::path(input_dir) / s.harvest_file).lexically_normal().string();
  if (s.harvest_file.empty()) u->fail("harvest_file", "must not be empty");
  return s;
}

UncertaintyRun::UncertaintyRun(Context& ctx, Simulation& sim, Potential& pot,
                               const UncertaintySettings& s, bool append_harvest)
    : ctx_(ctx), sim_(sim), provider_(dynamic_cast<UncertaintyProvider&>(pot)), mon_(ctx, s) {
  if (s.action == UncertaintyAction::harvest) {
    harvest_.open(s.harvest_file, std::ios::out | (append_harvest ? std::ios::app : std::ios::trunc));
    if (!harvest_) throw Error("cannot open [uncertainty] harvest_file \"" + s.harvest_file + "\"");
  }
}

void UncertaintyRun::start() {
  mon_.evaluate(ctx_, provider_, sim_.system().view(), sim_.neighbors().view());
  const UncertaintyMonitor::Reading r = mon_.read(ctx_);
  max_ = r.max;
  mean_ = r.mean;
}

std::vector<double> UncertaintyRun::atom_std_now() {
  const SystemView v = sim_.system().view();
  mon_.evaluate(ctx_, provider_, v, sim_.neighbors().view());
  std::vector<double> s = ctx_.to_host(mon_.atom_std(), static_cast<std::size_t>(v.n_local));
  mon_.read(ctx_);  // resets the since-last-read values (this state was already read)
  return s;
}

void UncertaintyRun::attach(Observers& obs) {
  attach_uncertainty(obs, mon_, ctx_, sim_, provider_,
                     [this](long step, const UncertaintyMonitor::Reading& r) { on_reading(step, r); });
}

void UncertaintyRun::on_reading(long step, const UncertaintyMonitor::Reading& r) {
  max_ = r.max;
  mean_ = r.mean;
  if (r.action == UncertaintyAction::none) return;
  const double thr = mon_.settings().threshold;
  switch (r.action) {
    case UncertaintyAction::warn:
      run_warning(fmt::format("step {}: maximum per-atom std {:.6g} above the threshold {:g} "
                              "({} evaluation(s) since the last sync)",
                              step, r.max_since_read, thr, r.evaluations_since_read));
      break;
    case UncertaintyAction::harvest: {
      const ThermoSample t = sim_.thermo_now();
      std::vector<double> s = atom_std_now();
      if (sim_.atoms_permuted()) {  // device order -> input order, like the structure below
        const std::vector<std::int64_t> ids =
            ctx_.to_host(sim_.system().id, static_cast<std::size_t>(s.size()));
        const std::vector<std::size_t> order = sim_.input_order(ids);
        const std::vector<double> copy = s;
        for (std::size_t j = 0; j < s.size(); ++j) s[j] = copy[order[j]];
      }
      append_extxyz_frame(harvest_, sim_.download(), step, t.time, t.pe, true, nullptr,
                          nullptr, &s);
      harvest_.flush();
      if (!harvest_)
        throw Error("write to [uncertainty] harvest_file \"" + mon_.settings().harvest_file +
                    "\" failed");
      ++harvested_;
      break;
    }
    case UncertaintyAction::stop:
      throw UncertaintyStop(step, r.max_since_read,
                            fmt::format("step {}: maximum per-atom std {:.6g} above the "
                                        "[uncertainty] threshold {:g}",
                                        step, r.max_since_read, thr));
    case UncertaintyAction::none:
      break;
  }
}

}  // namespace md
