// The HTML run report (io/report.hpp): escaping, the thinned thermo trace, the SVG plots
// (ticks, gaps at non-finite values, constant series), the page, and `[output] report` in a
// run: written at the end with the input text and six plots, and refused (one InputError
// naming file and key) when empty, not a string, in a missing folder, or the same file as
// an input or another output.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "engine/error.hpp"
#include "io/app.hpp"
#include "io/report.hpp"
#include "support.hpp"

using namespace md;

namespace {

std::string slurp(const std::string& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::size_t count(const std::string& s, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

const char* kInput = R"(units = "lj"
# a comment with <b>markup</b> & "quotes"
[system]
lattice = { kind = "fcc", a = 1.6796, repeat = [3, 3, 3], elements = ["A"] }
masses = { A = 1.0 }
[velocity]
temperature = 1.0
[potential]
style = "lj"
cutoff = 2.5
pairs = [{ types = ["A", "A"], epsilon = 1.0, sigma = 1.0 }]
[run]
steps = 40
[output]
thermo = { every = 5, file = "rep_thermo.csv" }
)";

}  // namespace

TEST_SUITE("report") {
  TEST_CASE("html_escape replaces the five special characters") {
    CHECK(html_escape("a<b>&\"c\"'d'") == "a&lt;b&gt;&amp;&quot;c&quot;&#39;d&#39;");
    CHECK(html_escape("</pre><script>x</script>").find('<') == std::string::npos);
    CHECK(html_escape("plain text 1.5") == "plain text 1.5");
  }

  TEST_CASE("thermo trace: every sample, then evenly thinned, the newest always kept") {
    ThermoTrace few(64);
    for (int i = 0; i < 10; ++i) few.add(i, {double(i), 0, 0, 0, 0, 0, 0});
    CHECK(few.size() == 10);
    CHECK(few.time().back() == 9);

    ThermoTrace tr(64);
    for (int i = 0; i <= 10000; ++i) tr.add(0.5 * i, {double(i), 1, 2, 3, 4, 5, 6});
    CHECK(tr.samples_seen() == 10001);
    CHECK(tr.size() <= 65);
    CHECK(tr.size() >= 32);
    const std::vector<double> t = tr.time(), pe = tr.column(0), vol = tr.column(6);
    CHECK(t.front() == 0.0);
    CHECK(t.back() == 5000.0);  // the newest sample
    CHECK(pe.back() == 10000.0);
    CHECK(vol.back() == 6.0);
    const double stride = t[1] - t[0];
    for (std::size_t i = 1; i + 1 < t.size(); ++i) CHECK(t[i] - t[i - 1] == stride);
  }

  TEST_CASE("svg plot: one polyline per finite piece, escaped labels, constant series") {
    const std::vector<double> x = {0, 1, 2, 3, 4, 5};
    const std::vector<double> y = {1.0, 2.0, std::nan(""), 4.0, 5.0, 6.0};
    const std::string svg = svg_line_plot("T<&>", "time", "y", x, {{"a", y}});
    CHECK(svg.rfind("<svg", 0) == 0);
    CHECK(count(svg, "<polyline") == 2);  // split at the NaN
    CHECK(svg.find("T&lt;&amp;&gt;") != std::string::npos);
    CHECK(svg.find("T<&>") == std::string::npos);
    CHECK(svg.find("nan") == std::string::npos);
    // a constant series still gets an axis around its value and a visible line
    const std::string flat = svg_line_plot("V", "t", "v", x, {{"V", std::vector<double>(6, 1234.5)}});
    CHECK(count(flat, "<polyline") == 1);
    CHECK(flat.find("1234.5") != std::string::npos);
    CHECK(flat.find("nan") == std::string::npos);
    CHECK(flat.find("inf") == std::string::npos);
    // two series: a legend naming both
    const std::string two = svg_line_plot("E", "t", "e", x, {{"TotEng", x}, {"Econserve", x}});
    CHECK(count(two, "<polyline") == 2);
    CHECK(two.find(">Econserve<") != std::string::npos);
    // small fluctuations on a large offset get distinct tick labels
    const std::string fine = svg_line_plot("P", "t", "p", {0, 1, 2}, {{"p", {-3456.120, -3456.125, -3456.121}}});
    CHECK(fine.find("-3456.12") != std::string::npos);
    CHECK(fine.find(">-3456.122<") != std::string::npos);
  }

  TEST_CASE("page: outcome, tables, warnings and input escaped, no scripts") {
    RunReport r;
    r.title = "t";
    r.input_name = "in.toml";
    r.input_text = "x = \"</pre><script>alert(1)</script>\"\n";
    r.run = {{"steps", "10"}};
    r.system = {{"atoms", "4"}};
    r.outcome = "stopped by signal 15 at step 10";
    r.outcome_ok = false;
    r.warnings = {"careful <here>"};
    for (int i = 0; i < 5; ++i) r.thermo.add(i, {-1.0 * i, 1, 2, 2, 3, 4, 5});
    const std::string html = render_report_html(r);
    CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
    CHECK(html.find("<script") == std::string::npos);
    CHECK(html.find("&lt;/pre&gt;&lt;script&gt;") != std::string::npos);
    CHECK(html.find("careful &lt;here&gt;") != std::string::npos);
    CHECK(html.find("class=\"bad\"") != std::string::npos);
    CHECK(count(html, "<svg") == 6);
    CHECK(html.find("Total and conserved energy") == std::string::npos);  // Econserve == TotEng
    RunReport one;
    one.thermo.add(0, {1, 1, 1, 1, 1, 1, 1});
    CHECK(count(render_report_html(one), "<svg") == 0);  // one sample: no plots, a sentence
  }

  EXEC_TEST_CASE("[output] report: written at the end of a run with the input and the plots") {
    const std::string dir = test::temp_dir();
    const std::string path = dir + "/report_run.toml";
    std::ofstream(path) << kInput << "report = \"report_run.html\"\n";
    RunOverrides ov;
    ov.backend = test::backend_str();
    ov.quiet = true;
    Job job = load_job(path, ov);
    CHECK(job.report_file == dir + "/report_run.html");
    std::filesystem::remove(job.report_file);
    REQUIRE(run_job(job, ov) == 0);
    const std::string html = slurp(job.report_file);
    CHECK(html.find("completed: 40 steps") != std::string::npos);
    CHECK(html.find("atom-steps/s") != std::string::npos);
    CHECK(html.find("&lt;b&gt;markup&lt;/b&gt; &amp; &quot;quotes&quot;") != std::string::npos);
    CHECK(html.find("<b>markup") == std::string::npos);
    CHECK(count(html, "<svg") == 6);
    CHECK(html.find("9 (every 5 steps") != std::string::npos);  // steps 0, 5, ..., 40
    CHECK(html.find(">108<") != std::string::npos);             // atoms
    CHECK(!std::filesystem::exists(job.report_file + ".tmp"));

    // --report overrides the key (relative to the working folder)
    ov.report = dir + "/report_flag.html";
    Job job2 = load_job(path, ov);
    CHECK(job2.report_file == ov.report);
  }

  TEST_CASE("[output] report: bad values are one InputError naming the file and the key") {
    const std::string dir = test::temp_dir();
    const std::string path = dir + "/report_bad.toml";
    RunOverrides ov;
    ov.backend = "cpu";
    ov.quiet = true;
    auto message = [&](const std::string& line) {
      std::ofstream(path) << kInput << line << "\n";
      try {
        (void)load_job(path, ov);
      } catch (const InputError& e) {
        return std::string(e.what());
      }
      return std::string("no error");
    };
    std::string m = message("report = \"\"");
    CHECK(m.find("report_bad.toml") != std::string::npos);
    CHECK(m.find("report") != std::string::npos);
    CHECK(m.find("must not be empty") != std::string::npos);
    m = message("report = 3");
    CHECK(m.find("report") != std::string::npos);
    CHECK(m.find("expected a string") != std::string::npos);
    m = message("report = \"no_such_folder/run.html\"");
    CHECK(m.find("does not exist") != std::string::npos);
    m = message("report = \"report_bad.toml\"");  // the input itself
    CHECK(m.find("may never overwrite an input") != std::string::npos);
    m = message("report = \"rep_thermo.csv\"");  // the thermo file
    CHECK(m.find("same file") != std::string::npos);
    m = message("report = { file = \"x.html\" }");
    CHECK(m.find("expected a string") != std::string::npos);
    ov.report = dir + "/no_such_folder/x.html";
    m = message("");
    CHECK(m.find("--report") != std::string::npos);
    CHECK(m.find("does not exist") != std::string::npos);
  }
}
