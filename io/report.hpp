// The run report of `mdgpu run` ([output] report = "run.html", or --report FILE): one short
// self-contained HTML page (no scripts, no external files) with the input text, the system,
// the run length, wall time and throughput (atom-steps/s), the thermo plots as inline SVG
// (energies, temperature, pressure, volume vs time, in the run's units) and the warnings.
// Filled by run_job (io/app.cpp) from the thermo samples it already has (no device access);
// the Python package renders its Simulation.report() with the same render_report_html.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/thermo.hpp"

namespace md {

// Thermo samples kept for the plots: every sample until `capacity`, then every other one is
// dropped and the stride doubles (so a long run keeps an evenly thinned trace of bounded
// size); the newest sample is always shown.
class ThermoTrace {
 public:
  // Column names as in the thermo CSV (io/thermo_output.hpp).
  static const std::vector<std::string>& names();  // PotEng KinEng TotEng Econserve Temp Press Volume
  explicit ThermoTrace(std::size_t capacity = 1024) : capacity_(capacity < 4 ? 4 : capacity) {}
  // `norm`: extensive energies divided by the atom count (as the CSV with norm = true).
  void add(const ThermoSample& t, bool norm);
  // One sample given as its time and the values of names() (the Python package).
  void add(double time, const std::vector<double>& values);
  std::size_t size() const;
  std::vector<double> time() const;
  std::vector<double> column(std::size_t k) const;  // k indexes names()
  std::size_t samples_seen() const { return seen_; }

 private:
  struct Point {
    double time;
    std::vector<double> v;
  };
  std::size_t capacity_;
  std::size_t stride_ = 1, seen_ = 0;
  std::vector<Point> kept_;
  Point last_{};
  bool have_last_ = false;
};

struct RunReport {
  std::string title = "mdgpu run report";
  std::string input_name;  // shown above the input text ("" : no input section)
  std::string input_text;
  using Rows = std::vector<std::pair<std::string, std::string>>;
  Rows system;  // atoms, species, cell, potential, executor ...
  Rows run;     // outcome, steps, wall time, atom-steps/s ...
  std::string outcome;   // one line: "completed", "stopped by signal 15 at step 400", ...
  bool outcome_ok = true;  // false: shown as a failure (signal, safety check, error)
  std::vector<std::string> warnings;
  std::string time_unit = "ps";  // x axis of the plots
  std::string energy_unit = "eV", pressure_unit = "bar", volume_unit = "A^3",
              temperature_unit = "K";
  ThermoTrace thermo;
};

// Axis units of the plots for the run's units ("metal" or "lj"); `norm`: energies per atom.
void set_report_units(RunReport& r, const std::string& units, bool norm);

// &, <, >, " and ' as character references (text and attribute values).
std::string html_escape(std::string_view s);

// One line plot as an inline <svg> element: the x values against each named series (drawn
// in order, with a legend when there are several), nice ticks, non-finite points skipped.
std::string svg_line_plot(const std::string& title, const std::string& xlabel,
                          const std::string& ylabel, const std::vector<double>& x,
                          const std::vector<std::pair<std::string, std::vector<double>>>& series,
                          int width = 540, int height = 280);

// The whole page.
std::string render_report_html(const RunReport& r);

// Writes the page atomically (FILE.tmp, then renamed); throws Error when it cannot.
void write_report(const std::string& path, const RunReport& r);

struct Job;  // io/app.hpp
// The report of a `mdgpu run` job (run_job, io/app.cpp): title, input text, system rows,
// units of the plots; started now.
RunReport begin_run_report(const Job& job);
// The run rows and the outcome when the run ends, completed or stopped: steps first..last of
// the job's total, wall seconds of the loop, throughput, rebuilds (when `stats`), warnings.
void end_run_report(RunReport& r, const Job& job, long first_step, long last_step,
                    double wall_seconds, const struct RunStats* stats,
                    const std::string& outcome, bool ok);

// Warnings of a run: printed to stderr as "mdgpu: warning: TEXT" and kept for the report.
void run_warning(const std::string& text);
std::vector<std::string>& run_warnings();

}  // namespace md
