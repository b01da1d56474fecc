// [potential] style = "table": table_style ("linear" | "spline"), n (table length N) and
// per pair a file, a keyword (section) and an optional cutoff (LAMMPS pair_style table
// <style> N; pair_coeff i j file keyword [cutoff]).
#include <cstdio>

#include "engine/error.hpp"
#include "models/pair_config_util.hpp"
#include "models/potential_files.hpp"
#include "models/table/table.hpp"

namespace md {

std::unique_ptr<Potential> make_table(Section& s, const PotentialSetup& setup) {
  TableParams p;
  const std::size_t n = setup.type_names.size();
  p.n_types = static_cast<int>(n);
  p.style = s.get_choice("table_style", {"linear", "spline"}) == "linear" ? TableStyle::linear
                                                                          : TableStyle::spline;
  const std::int64_t len = s.get_int("n");
  if (len < 2 || len > 10000000)
    s.fail("n", "must be between 2 and 10^7 (a table of n points takes 40 n bytes per pair)");
  p.n = static_cast<int>(len);
  p.pair_table.assign(n * n, -1);
  std::vector<char> set(n * n, 0);
  for (Section& e : s.tables("pairs")) {
    const auto [i, j] = pair_types(e, setup.type_names);
    const std::string path = potential_file_from(e, "file", setup.input_dir);
    const std::string keyword = e.get_string("keyword");
    const TableFile tf = read_table_file(path, keyword);
    if (setup.units.name != "metal")
      std::fprintf(stderr, "mdgpu: warning: table file %s is read in %s units (table files "
                   "carry no units; most published ones are in metal units: eV, Angstrom)\n",
                   path.c_str(), setup.units.name.c_str());
    double cut = tf.rflag ? tf.rhi : tf.rfile.back();
    if (e.has("cutoff")) cut = e.get_double("cutoff");
    try {
      p.tables.push_back(build_pair_table(tf, p.style, p.n, cut));
    } catch (const InputError&) {
      throw;
    } catch (const Error& err) {
      e.fail(e.has("cutoff") ? "cutoff" : "file", err.what());
    }
    if (set[i * n + j]) e.fail("types", "pair given twice");
    set[i * n + j] = set[j * n + i] = 1;
    p.pair_table[i * n + j] = p.pair_table[j * n + i] = static_cast<int>(p.tables.size()) - 1;
    e.finish();
  }
  require_all_pairs(s, set, setup, "table");
  return std::make_unique<TablePotential>(setup.ctx, std::move(p));
}

}  // namespace md
