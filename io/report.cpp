// The HTML run report with inline SVG plots (see report.hpp).
#include "io/report.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "engine/error.hpp"
#include "io/app.hpp"
#include "io/record_file.hpp"

#ifndef MDGPU_VERSION
#define MDGPU_VERSION "0.0.0"
#endif

namespace md {

// ---------------------------------------------------------------- thermo trace

const std::vector<std::string>& ThermoTrace::names() {
  static const std::vector<std::string> n = {"PotEng", "KinEng", "TotEng", "Econserve",
                                             "Temp",   "Press",  "Volume"};
  return n;
}

void ThermoTrace::add(const ThermoSample& t, bool norm) {
  const double s = norm && t.natoms > 0 ? 1.0 / static_cast<double>(t.natoms) : 1.0;
  add(t.time, {t.pe * s, t.ke * s, t.etotal * s, t.econserve * s, t.temp, t.press, t.volume});
}

void ThermoTrace::add(double time, const std::vector<double>& values) {
  Point p{time, values};
  p.v.resize(names().size(), std::nan(""));
  if (seen_ % stride_ == 0) {
    kept_.push_back(p);
    if (kept_.size() >= capacity_) {  // keep every other one, double the stride
      std::size_t w = 0;
      for (std::size_t r = 0; r < kept_.size(); r += 2) kept_[w++] = kept_[r];
      kept_.resize(w);
      stride_ *= 2;
    }
  }
  last_ = std::move(p);
  have_last_ = true;
  ++seen_;
}

std::size_t ThermoTrace::size() const {
  const bool extra = have_last_ && (kept_.empty() || kept_.back().time != last_.time);
  return kept_.size() + (extra ? 1 : 0);
}

std::vector<double> ThermoTrace::time() const {
  std::vector<double> t;
  for (const Point& p : kept_) t.push_back(p.time);
  if (size() > kept_.size()) t.push_back(last_.time);
  return t;
}

std::vector<double> ThermoTrace::column(std::size_t k) const {
  std::vector<double> c;
  for (const Point& p : kept_) c.push_back(p.v[k]);
  if (size() > kept_.size()) c.push_back(last_.v[k]);
  return c;
}

// ---------------------------------------------------------------- HTML and SVG

std::string html_escape(std::string_view s) {
  std::string o;
  o.reserve(s.size() + s.size() / 8);
  for (const char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      case '\0': o += "&#xFFFD;"; break;  // never valid in HTML text
      default: o += c;
    }
  }
  return o;
}

namespace {

// A "nice" step (1, 2 or 5 times a power of ten) that cuts `range` into about `n` parts.
double nice_step(double range, int n) {
  const double raw = range / n;
  const double e = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / e;
  return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * e;
}

struct Axis {
  double lo = 0, hi = 1, step = 0.2;
  std::vector<double> ticks;
  int decimals = 0;
  bool general = false;  // %g labels (very large or very small numbers)
};

Axis make_axis(double lo, double hi, bool pad) {
  Axis a;
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (!(hi - lo > 1e-12 * std::max(std::fabs(lo), std::fabs(hi)))) {  // constant
    const double d = lo != 0 ? std::fabs(lo) * 1e-3 : 1.0;
    lo -= d;
    hi += d;
  } else if (pad) {
    const double d = 0.06 * (hi - lo);
    lo -= d;
    hi += d;
  }
  a.lo = lo;
  a.hi = hi;
  a.step = nice_step(hi - lo, 5);
  for (double t = std::ceil(lo / a.step) * a.step; t <= hi + 1e-9 * a.step; t += a.step)
    a.ticks.push_back(std::fabs(t) < 1e-9 * a.step ? 0.0 : t);
  const double mag = std::max(std::fabs(lo), std::fabs(hi));
  a.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(a.step) + 1e-9)));
  a.general = mag >= 1e7 || a.step < 1e-6 || a.decimals > 8;
  return a;
}

std::string tick_label(const Axis& a, double v) {
  return a.general ? fmt::format("{:.6g}", v) : fmt::format("{:.{}f}", v, a.decimals);
}

const char* const kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e"};

}  // namespace

std::string svg_line_plot(const std::string& title, const std::string& xlabel,
                          const std::string& ylabel, const std::vector<double>& x,
                          const std::vector<std::pair<std::string, std::vector<double>>>& series,
                          int width, int height) {
  double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
  for (const auto& s : series)
    for (std::size_t i = 0; i < x.size() && i < s.second.size(); ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(s.second[i])) continue;
      xlo = std::min(xlo, x[i]);
      xhi = std::max(xhi, x[i]);
      ylo = std::min(ylo, s.second[i]);
      yhi = std::max(yhi, s.second[i]);
    }
  const bool empty = !(xlo <= xhi);
  const Axis ax = make_axis(empty ? 0 : xlo, empty ? 1 : xhi, false);
  const Axis ay = make_axis(empty ? 0 : ylo, empty ? 1 : yhi, true);
  std::size_t label_chars = 1;
  for (double t : ay.ticks) label_chars = std::max(label_chars, tick_label(ay, t).size());
  const double left = 30.0 + 6.5 * static_cast<double>(label_chars), right = 14, top = 30,
               bottom = 44;
  const double pw = width - left - right, ph = height - top - bottom;
  auto px = [&](double v) { return left + (v - ax.lo) / (ax.hi - ax.lo) * pw; };
  auto py = [&](double v) { return top + (ay.hi - v) / (ay.hi - ay.lo) * ph; };

  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"plot\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" role=\"img\" aria-label=\"{2}\" font-family=\"sans-serif\" "
      "font-size=\"11\">\n<title>{2}</title>\n"
      "<rect x=\"0\" y=\"0\" width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n"
      "<text x=\"{3:.1f}\" y=\"18\" font-size=\"13\" font-weight=\"bold\" "
      "text-anchor=\"middle\">{2}</text>\n",
      width, height, html_escape(title), left + pw / 2);
  // grid, ticks and labels
  for (double t : ax.ticks) {
    const double X = px(t);
    o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" "
                     "stroke=\"#e4e4e4\"/><text x=\"{0:.1f}\" y=\"{3:.1f}\" "
                     "text-anchor=\"middle\">{4}</text>\n",
                     X, top, top + ph, top + ph + 14, html_escape(tick_label(ax, t)));
  }
  for (double t : ay.ticks) {
    const double Y = py(t);
    o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
                     "stroke=\"#e4e4e4\"/><text x=\"{3:.1f}\" y=\"{4:.1f}\" "
                     "text-anchor=\"end\">{5}</text>\n",
                     left, Y, left + pw, left - 5, Y + 4, html_escape(tick_label(ay, t)));
  }
  o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                   "fill=\"none\" stroke=\"#444\"/>\n", left, top, pw, ph);
  o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                   left + pw / 2, static_cast<double>(height) - 8, html_escape(xlabel));
  o += fmt::format("<text transform=\"translate(12 {:.1f}) rotate(-90)\" "
                   "text-anchor=\"middle\">{}</text>\n", top + ph / 2, html_escape(ylabel));
  if (empty) {
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#888\">"
                     "no finite values</text>\n", left + pw / 2, top + ph / 2);
  }
  // curves: polylines broken at non-finite values
  for (std::size_t k = 0; k < series.size(); ++k) {
    const char* color = kColors[k % (sizeof kColors / sizeof kColors[0])];
    const std::vector<double>& y = series[k].second;
    std::string pts;
    std::size_t npts = 0;
    double X0 = 0, Y0 = 0;  // the first point of the current piece
    auto flush = [&]() {
      if (npts == 1) {  // a lone point: a dot
        o += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"2.5\" fill=\"{}\"/>\n", X0,
                         Y0, color);
      } else if (npts > 1) {
        o += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"1.6\" "
                         "stroke-linejoin=\"round\" points=\"{}\"/>\n", color, pts);
      }
      pts.clear();
      npts = 0;
    };
    for (std::size_t i = 0; i < x.size() && i < y.size(); ++i) {
      if (!std::isfinite(x[i]) || !std::isfinite(y[i])) {
        flush();
        continue;
      }
      if (npts == 0) X0 = px(x[i]), Y0 = py(y[i]);
      pts += fmt::format("{}{:.1f},{:.1f}", npts ? " " : "", px(x[i]), py(y[i]));
      ++npts;
    }
    flush();
  }
  if (series.size() > 1) {
    std::size_t chars = 0;
    for (const auto& s : series) chars = std::max(chars, s.first.size());
    const double lw = 30 + 6.5 * static_cast<double>(chars);
    o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" "
                     "fill=\"#ffffff\" fill-opacity=\"0.85\" stroke=\"#bbb\"/>\n",
                     left + pw - lw - 6, top + 4, lw, 14.0 * static_cast<double>(series.size()) + 6);
  }
  if (series.size() > 1)
    for (std::size_t k = 0; k < series.size(); ++k) {
      std::size_t chars = 0;
      for (const auto& s : series) chars = std::max(chars, s.first.size());
      const double Y = top + 14 + 14 * static_cast<double>(k),
                   X = left + pw - (30 + 6.5 * static_cast<double>(chars)) - 2;
      o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" "
                       "stroke=\"{3}\" stroke-width=\"2\"/><text x=\"{4:.1f}\" y=\"{5:.1f}\">"
                       "{6}</text>\n",
                       X, Y, X + 18, kColors[k % (sizeof kColors / sizeof kColors[0])], X + 22,
                       Y + 4, html_escape(series[k].first));
    }
  o += "</svg>\n";
  return o;
}

namespace {

void rows_table(std::string& o, const char* heading, const RunReport::Rows& rows) {
  if (rows.empty()) return;
  o += fmt::format("<section>\n<h2>{}</h2>\n<table>\n", heading);
  for (const auto& [k, v] : rows)
    o += fmt::format("<tr><th>{}</th><td>{}</td></tr>\n", html_escape(k), html_escape(v));
  o += "</table>\n</section>\n";
}

}  // namespace

std::string render_report_html(const RunReport& r) {
  std::string o;
  o += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  o += "<title>" + html_escape(r.title) + "</title>\n";
  o += "<style>\n"
       "body{font-family:sans-serif;margin:1.5em 2em;max-width:74em;color:#222;"
       "background:#fff}\n"
       "h1{font-size:1.5em;margin-bottom:.3em}h2{font-size:1.15em;margin-top:1.4em}\n"
       "table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:3px 9px;"
       "text-align:left;vertical-align:top}th{background:#f3f3f3;font-weight:normal}\n"
       "pre{background:#f6f6f6;border:1px solid #ddd;padding:.8em;overflow:auto;"
       "white-space:pre-wrap}\n"
       ".ok{color:#11602a;font-weight:bold}.bad{color:#a01010;font-weight:bold}"
       ".warn{color:#8a4b00}\n"
       ".plots{display:flex;flex-wrap:wrap;gap:10px}.plot{border:1px solid #ddd}\n"
       ".tables{display:flex;flex-wrap:wrap;gap:0 2.5em;align-items:flex-start}\n"
       "</style>\n</head>\n<body>\n";
  o += "<h1>" + html_escape(r.title) + "</h1>\n";
  if (!r.outcome.empty())
    o += fmt::format("<p class=\"{}\">{}</p>\n", r.outcome_ok ? "ok" : "bad",
                     html_escape(r.outcome));
  o += "<div class=\"tables\">\n";
  rows_table(o, "Run", r.run);
  rows_table(o, "System", r.system);
  o += "</div>\n";

  o += fmt::format("<h2>Warnings ({})</h2>\n", r.warnings.size());
  if (r.warnings.empty()) {
    o += "<p>none</p>\n";
  } else {
    constexpr std::size_t kMaxShown = 100;
    o += "<ul>\n";
    for (std::size_t i = 0; i < r.warnings.size() && i < kMaxShown; ++i)
      o += "<li class=\"warn\">" + html_escape(r.warnings[i]) + "</li>\n";
    if (r.warnings.size() > kMaxShown)
      o += fmt::format("<li>... and {} more (all of them are on the terminal)</li>\n",
                       r.warnings.size() - kMaxShown);
    o += "</ul>\n";
  }

  const ThermoTrace& th = r.thermo;
  o += "<h2>Thermo</h2>\n";
  if (th.size() < 2) {
    o += fmt::format("<p>{} thermo sample{}: no plots (set [output] thermo every to a step "
                     "count smaller than the run)</p>\n", th.size(), th.size() == 1 ? "" : "s");
  } else {
    const std::vector<double> t = th.time();
    const std::string xl = "time (" + r.time_unit + ")";
    auto col = [&](const char* name) {
      const auto& n = ThermoTrace::names();
      const std::size_t k = static_cast<std::size_t>(std::find(n.begin(), n.end(), name) - n.begin());
      return th.column(k);
    };
    const std::vector<double> etot = col("TotEng"), econs = col("Econserve");
    bool same = true;
    for (std::size_t i = 0; i < etot.size(); ++i)
      same = same && (etot[i] == econs[i] || (std::isnan(etot[i]) && std::isnan(econs[i])));
    std::vector<std::pair<std::string, std::vector<double>>> total = {{"TotEng", etot}};
    if (!same) total.push_back({"Econserve", econs});
    const std::string eu = "energy (" + r.energy_unit + ")";
    o += fmt::format("<p>{} samples shown{}.</p>\n<div class=\"plots\">\n", th.size(),
                     th.samples_seen() > th.size()
                         ? fmt::format(" of {} (evenly thinned)", th.samples_seen())
                         : std::string());
    o += svg_line_plot("Potential energy", xl, eu, t, {{"PotEng", col("PotEng")}});
    o += svg_line_plot(same ? "Total energy" : "Total and conserved energy", xl, eu, t, total);
    o += svg_line_plot("Kinetic energy", xl, eu, t, {{"KinEng", col("KinEng")}});
    o += svg_line_plot("Temperature", xl, "temperature (" + r.temperature_unit + ")", t,
                       {{"Temp", col("Temp")}});
    o += svg_line_plot("Pressure", xl, "pressure (" + r.pressure_unit + ")", t,
                       {{"Press", col("Press")}});
    o += svg_line_plot("Volume", xl, "volume (" + r.volume_unit + ")", t,
                       {{"Volume", col("Volume")}});
    o += "</div>\n";
  }

  if (!r.input_name.empty() || !r.input_text.empty()) {
    o += "<h2>Input" + (r.input_name.empty() ? std::string() : ": " + html_escape(r.input_name)) +
         "</h2>\n<pre>" + html_escape(r.input_text) + "</pre>\n";
  }
  const std::time_t now = std::time(nullptr);
  char when[64] = {0};
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  o += fmt::format("<p style=\"color:#777;font-size:.85em\">written by mdgpu {} at {}</p>\n",
                   html_escape(MDGPU_VERSION), when);
  o += "</body>\n</html>\n";
  return o;
}

void write_report(const std::string& path, const RunReport& r) {
  write_file_atomically(path, render_report_html(r), false);
}

namespace {
std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char when[64] = {0};
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  return when;
}
}  // namespace

void set_report_units(RunReport& r, const std::string& units, bool norm) {
  const bool metal = units == "metal";
  const std::string per = norm ? "/atom" : "";
  if (metal) {
    r.time_unit = "ps", r.energy_unit = "eV" + per, r.pressure_unit = "bar";
    r.volume_unit = "\u00c5\u00b3", r.temperature_unit = "K";
  } else {
    r.time_unit = "\u03c4", r.energy_unit = "\u03b5" + per, r.pressure_unit = "\u03b5/\u03c3\u00b3";
    r.volume_unit = "\u03c3\u00b3", r.temperature_unit = "\u03b5/k_B";
  }
}

RunReport begin_run_report(const Job& job) {
  RunReport r;
  r.title = "mdgpu run report: " + (job.input_file.empty() ? std::string("(no input file)")
                                                            : job.input_file);
  if (!job.input_file.empty()) {
    r.input_name = job.input_file;
    std::ifstream in(job.input_file, std::ios::binary);
    r.input_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    constexpr std::size_t kMaxInput = 1 << 20;
    if (r.input_text.size() > kMaxInput) {
      r.input_text.resize(kMaxInput);
      r.input_text += "\n[... cut after 1 MiB]\n";
    }
  }
  set_report_units(r, job.units.name, job.thermo_norm);
  const Structure& s = job.initial;
  std::vector<long long> count(s.type_names.size(), 0);
  for (const int t : s.type)
    if (t >= 0 && static_cast<std::size_t>(t) < count.size()) ++count[static_cast<std::size_t>(t)];
  std::string species;
  for (std::size_t t = 0; t < count.size(); ++t)
    species += fmt::format("{}{} {} (mass {:g})", t ? ", " : "", s.type_names[t], count[t],
                           s.type_masses[t]);
  const Box& b = s.box;
  std::string cell = fmt::format("{:.6g} x {:.6g} x {:.6g}", b.l[0], b.l[1], b.l[2]);
  if (b.xy != 0 || b.xz != 0 || b.yz != 0)
    cell += fmt::format(", tilts xy {:.6g} xz {:.6g} yz {:.6g}", b.xy, b.xz, b.yz);
  cell += fmt::format("; periodic {} {} {}; volume {:.8g} {}", b.periodic[0] ? "x" : "-",
                      b.periodic[1] ? "y" : "-", b.periodic[2] ? "z" : "-", b.volume(),
                      r.volume_unit);
  std::string files;
  for (const auto& f : job.potential_files) files += (files.empty() ? "" : ", ") + f;
  std::string executor = backend_name(job.ctx->backend());
  const std::string device = job.ctx->device_description();
  if (device != executor) executor += ", " + device;
  if (!job.ctx->on_cuda()) {
    const int threads = omp_get_max_threads();
    executor += fmt::format(", {} OpenMP thread{}", threads, threads == 1 ? "" : "s");
  }
  r.system = {{"atoms", std::to_string(s.size())},
              {"species", species},
              {"cell", cell},
              {"units", job.units.name},
              {"potential", fmt::format("{} (cutoff {:g}, neighbour skin {:g})",
                                        job.potential->style(), job.potential->cutoff(),
                                        job.sim ? job.sim->neighbors().skin() : 0.0)}};
  if (!job.structure_file.empty()) r.system.insert(r.system.begin() + 3, {"structure file", job.structure_file});
  if (!files.empty()) r.system.push_back({"potential files", files});
  r.system.push_back({"ensemble", job.integrator->name()});
  r.system.push_back({"timestep", fmt::format("{:g} {}", job.dt, r.time_unit)});
  r.system.push_back({"executor", executor});
  r.run.push_back({"started", utc_now()});
  return r;
}

void end_run_report(RunReport& r, const Job& job, long first_step, long last_step,
                    double wall_seconds, const RunStats* stats, const std::string& outcome,
                    bool ok) {
  r.outcome = outcome;
  r.outcome_ok = ok;
  const long done = std::max(0L, last_step - first_step);
  const double natoms = static_cast<double>(job.initial.size());
  const double rate = wall_seconds > 0 ? natoms * static_cast<double>(done) / wall_seconds : 0.0;
  r.run.push_back({"finished", utc_now()});
  r.run.push_back({"steps", fmt::format("{} (step {} to {}; the input asks for {})", done,
                                        first_step, last_step, job.steps)});
  r.run.push_back({"simulated time", fmt::format("{:.6g} {}", static_cast<double>(done) * job.dt,
                                                 r.time_unit)});
  r.run.push_back({"wall time (loop)", fmt::format("{:.4g} s", wall_seconds)});
  r.run.push_back({"throughput", fmt::format("{:.4g} atom-steps/s", rate)});
  if (wall_seconds > 0) {
    const double per_day = static_cast<double>(done) * job.dt / wall_seconds * 86400.0;
    r.run.push_back({"simulated per day", job.units.name == "metal"
                                              ? fmt::format("{:.4g} ns/day", per_day / 1000.0)
                                              : fmt::format("{:.4g} \u03c4/day", per_day)});
  }
  if (stats) r.run.push_back({"neighbour rebuilds", std::to_string(stats->rebuilds)});
  r.run.push_back({"peak device memory",
                   fmt::format("{:.1f} MiB", static_cast<double>(job.ctx->peak_device_bytes()) /
                                                 (1024.0 * 1024.0))});
  r.run.push_back({"thermo samples", fmt::format("{} (every {} steps{})", r.thermo.samples_seen(),
                                                 job.thermo_every,
                                                 job.thermo_file.empty()
                                                     ? std::string()
                                                     : ", file " + job.thermo_file)});
  r.warnings = run_warnings();
}

std::vector<std::string>& run_warnings() {
  static std::vector<std::string> w;
  return w;
}

void run_warning(const std::string& text) {
  std::fprintf(stderr, "mdgpu: warning: %s\n", text.c_str());
  run_warnings().push_back(text);
}

}  // namespace md
