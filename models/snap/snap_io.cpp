// Readers for LAMMPS SNAP files: .snapcoeff (elements, radius, weight, coefficients),
// .snapparam (keyword value lines, LAMMPS defaults) and the optional .snap include file.
// Host-only; errors are md::InputError naming the file and line.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <filesystem>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "engine/error.hpp"
#include "models/snap/snap.hpp"

namespace md {

namespace {

// LAMMPS' tokenizer for these files: '#' starts a comment, quotes are separators.
std::vector<std::string> words_of(const std::string& line) {
  std::string s = line.substr(0, line.find('#'));
  for (char& c : s)
    if (c == '"' || c == '\'' || c == '\t' || c == '\r' || c == '\f' || c == '\n') c = ' ';
  std::istringstream in(s);
  std::vector<std::string> w;
  std::string t;
  while (in >> t) w.push_back(t);
  return w;
}

class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), in_(path) {
    if (!in_) throw InputError(path, 0, "cannot open file");
  }
  // Next line with at least one word (comments and blank lines skipped); false at the end.
  bool next(std::vector<std::string>& words) {
    std::string line;
    while (std::getline(in_, line)) {
      ++line_;
      words = words_of(line);
      if (!words.empty()) return true;
    }
    return false;
  }
  void need(std::vector<std::string>& words, const std::string& what) {
    if (!next(words)) fail("unexpected end of file, expected " + what);
  }
  [[noreturn]] void fail(const std::string& msg) const { throw InputError(path_, line_, msg); }
  double number(const std::string& tok, const std::string& what) const {
    char* end = nullptr;
    const double v = std::strtod(tok.c_str(), &end);
    if (tok.empty() || *end != '\0' || !std::isfinite(v))
      fail(what + ": \"" + tok + "\" is not a number");
    return v;
  }
  long integer(const std::string& tok, const std::string& what) const {
    char* end = nullptr;
    errno = 0;
    const long v = std::strtol(tok.c_str(), &end, 10);
    if (tok.empty() || *end != '\0') fail(what + ": \"" + tok + "\" is not an integer");
    if (errno == ERANGE || v > 2000000000L || v < -2000000000L)
      fail(what + ": " + tok + " is out of range");
    return v;
  }
  long line() const { return line_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::ifstream in_;
  long line_ = 0;
};

int flag_value(const LineReader& r, const std::string& key, const std::string& tok) {
  const long v = r.integer(tok, key);
  if (v != 0 && v != 1) r.fail(key + ": expected 0 or 1, got " + tok);
  return static_cast<int>(v);
}

}  // namespace

SnapModel read_snap_model(const std::string& coeff_path, const std::string& param_path,
                          const std::vector<std::string>& type_elements) {
  SnapModel m;
  m.coeff_file = coeff_path;
  m.param_file = param_path;
  // elements in order of first appearance (LAMMPS map_element2type); NULL leaves a type out
  for (const auto& name : type_elements) {
    if (name == "NULL") {
      m.type_element.push_back(-1);
      continue;
    }
    auto it = std::find(m.elements.begin(), m.elements.end(), name);
    if (it == m.elements.end()) {
      m.type_element.push_back(static_cast<int>(m.elements.size()));
      m.elements.push_back(name);
    } else {
      m.type_element.push_back(static_cast<int>(it - m.elements.begin()));
    }
  }
  const int nelem = static_cast<int>(m.elements.size());
  if (nelem == 0) throw InputError(coeff_path, 0, "no SNAP element is mapped to a system type");

  // ---------------------------------------------------------------- .snapcoeff
  LineReader rc(coeff_path);
  std::vector<std::string> w;
  rc.need(w, "the header \"nelements ncoeff\"");
  if (w.size() != 2) rc.fail("expected \"nelements ncoeff\" (2 values)");
  const long nfile = rc.integer(w[0], "number of elements");
  const long ncoeffall = rc.integer(w[1], "number of coefficients");
  const long header_line = rc.line();
  if (nfile < 1) rc.fail("number of elements must be positive");
  if (ncoeffall < 1) rc.fail("number of coefficients must be positive");
  {  // sizes before allocations: each coefficient is a line of at least 2 bytes (small
     // counts are cheap: the reader then names the line where the file ends)
    std::error_code ec;
    const auto bytes = static_cast<long long>(std::filesystem::file_size(coeff_path, ec));
    const long long n = static_cast<long long>(nfile) * ncoeffall;
    if (ec || (n > 65536 && n > bytes / 2))
      rc.fail("the header says " + std::to_string(nfile) + " elements of " +
              std::to_string(ncoeffall) + " coefficients, more than the file (" +
              std::to_string(ec ? 0 : bytes) + " bytes) holds");
  }
  m.ncoeffall = static_cast<int>(ncoeffall);
  m.radius.assign(nelem, 0.0);
  m.weight.assign(nelem, 0.0);
  m.coeff.assign(static_cast<std::size_t>(nelem) * ncoeffall, 0.0);
  std::vector<int> found(nelem, 0);
  for (long b = 0; b < nfile; ++b) {
    rc.need(w, "an element line \"Element radius weight\"");
    if (w.size() != 3) rc.fail("expected \"Element radius weight\" (3 values)");
    const auto it = std::find(m.elements.begin(), m.elements.end(), w[0]);
    const int e = it == m.elements.end() ? -1 : static_cast<int>(it - m.elements.begin());
    if (e >= 0) {
      if (found[e]) rc.fail("element " + w[0] + " appears twice");
      found[e] = 1;
      m.radius[e] = rc.number(w[1], "radius of " + w[0]);
      m.weight[e] = rc.number(w[2], "weight of " + w[0]);
      if (!(m.radius[e] > 0.0)) rc.fail("radius of " + w[0] + " must be positive");
    }
    for (long k = 0; k < ncoeffall; ++k) {
      rc.need(w, "coefficient " + std::to_string(k) + " of element " + w[0]);
      if (w.size() != 1) rc.fail("expected one coefficient per line");
      const double v = rc.number(w[0], "coefficient");
      if (e >= 0) m.coeff[static_cast<std::size_t>(e) * ncoeffall + k] = v;
    }
  }
  if (rc.next(w)) rc.fail("unexpected content after " + std::to_string(nfile) + " element blocks");
  for (int e = 0; e < nelem; ++e)
    if (!found[e])
      throw InputError(coeff_path, 0, "element " + m.elements[e] + " not found in the file");

  // ---------------------------------------------------------------- .snapparam
  LineReader rp(param_path);
  bool have_rcutfac = false, have_twojmax = false, have_sinner = false, have_dinner = false;
  std::map<std::string, long> seen;
  while (rp.next(w)) {
    const std::string& key = w[0];
    if (w.size() < 2) rp.fail("keyword " + key + " without a value");
    if (seen.count(key)) rp.fail("keyword " + key + " given twice (first at line " +
                                 std::to_string(seen[key]) + ")");
    seen[key] = rp.line();
    if (key == "sinner" || key == "dinner") {
      if (static_cast<int>(w.size()) != nelem + 1)
        rp.fail(key + ": expected one value per element (" + std::to_string(nelem) + ")");
      auto& dst = key == "sinner" ? m.sinner : m.dinner;
      dst.clear();
      for (int e = 0; e < nelem; ++e) dst.push_back(rp.number(w[e + 1], key));
      (key == "sinner" ? have_sinner : have_dinner) = true;
      continue;
    }
    if (w.size() != 2) rp.fail("keyword " + key + " takes one value");
    const std::string& v = w[1];
    if (key == "rcutfac") {
      m.rcutfac = rp.number(v, key);
      if (!(m.rcutfac > 0.0)) rp.fail("rcutfac must be positive");
      have_rcutfac = true;
    } else if (key == "twojmax") {
      const long t = rp.integer(v, key);
      if (t < 0 || t > kSnapMaxTwoJ)
        rp.fail("twojmax must be in 0.." + std::to_string(kSnapMaxTwoJ) + " (got " + v + ")");
      m.twojmax = static_cast<int>(t);
      have_twojmax = true;
    } else if (key == "rfac0") {
      m.rfac0 = rp.number(v, key);
    } else if (key == "rmin0") {
      m.rmin0 = rp.number(v, key);
    } else if (key == "switchflag") {
      m.switchflag = flag_value(rp, key, v);
    } else if (key == "bzeroflag") {
      m.bzeroflag = flag_value(rp, key, v);
    } else if (key == "quadraticflag") {
      m.quadraticflag = flag_value(rp, key, v);
    } else if (key == "chemflag") {
      m.chemflag = flag_value(rp, key, v);
    } else if (key == "bnormflag") {
      m.bnormflag = flag_value(rp, key, v);
    } else if (key == "wselfallflag") {
      m.wselfallflag = flag_value(rp, key, v);
    } else if (key == "switchinnerflag") {
      m.switchinnerflag = flag_value(rp, key, v);
    } else if (key == "chunksize" || key == "parallelthresh") {
      rp.integer(v, key);  // LAMMPS tuning knobs: accepted and ignored
    } else {
      rp.fail("unknown SNAP parameter \"" + key + "\"");
    }
  }
  if (!have_rcutfac) throw InputError(param_path, 0, "required keyword rcutfac is missing");
  if (!have_twojmax) throw InputError(param_path, 0, "required keyword twojmax is missing");
  if (m.switchinnerflag && !(have_sinner && have_dinner))
    throw InputError(param_path, 0, "switchinnerflag 1 needs both sinner and dinner");
  if (!m.switchinnerflag && (have_sinner || have_dinner))
    throw InputError(param_path, seen.count("sinner") ? seen["sinner"] : seen["dinner"],
                     "sinner/dinner given but switchinnerflag is 0");
  if (m.switchinnerflag)
    for (int e = 0; e < nelem; ++e)
      if (!(m.dinner[e] > 0.0))
        throw InputError(param_path, seen["dinner"], "dinner must be positive");
  if (m.chemflag && nfile != nelem)
    throw InputError(coeff_path, header_line,
                     "chemflag 1 needs exactly the mapped elements in the coefficient file (" +
                         std::to_string(nelem) + "), file has " + std::to_string(nfile));

  // ---------------------------------------------------------------- consistency of counts
  const int ncomp = snap_ncomponents(m.twojmax);
  const int nchem = m.chemflag ? nelem : 1;
  const long ncoeff = static_cast<long>(ncomp) * nchem * nchem * nchem;
  const long expect = m.quadraticflag ? 1 + ncoeff + ncoeff * (ncoeff + 1) / 2 : 1 + ncoeff;
  if (ncoeffall != expect)
    throw InputError(coeff_path, header_line,
                     "the file has " + std::to_string(ncoeffall) + " coefficients per element, but " +
                         param_path + " (twojmax " + std::to_string(m.twojmax) +
                         (m.quadraticflag ? ", quadratic" : ", linear") +
                         (m.chemflag ? ", chemflag" : "") + ") needs " + std::to_string(expect));
  return m;
}

// ---------------------------------------------------------------- .snap include file

SnapInclude read_snap_include(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(path, 0, "cannot open file");
  SnapInclude inc;
  std::map<std::string, std::string> vars;
  std::string line, pending;
  long lineno = 0, start = 0;
  bool have_style = false, have_snap_coeff = false;
  while (std::getline(in, line)) {
    ++lineno;
    std::string s = line.substr(0, line.find('#'));
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
    if (pending.empty()) start = lineno;
    if (!s.empty() && s.back() == '&') {  // continuation
      s.pop_back();
      pending += s + " ";
      continue;
    }
    s = pending + s;
    pending.clear();
    // ${name} and $x substitution
    std::string out;
    for (std::size_t k = 0; k < s.size(); ++k) {
      if (s[k] == '$' && k + 1 < s.size()) {
        std::string name;
        if (s[k + 1] == '{') {
          const std::size_t e = s.find('}', k + 2);
          if (e == std::string::npos) throw InputError(path, start, "unterminated ${...}");
          name = s.substr(k + 2, e - k - 2);
          k = e;
        } else {
          name = s.substr(k + 1, 1);
          k += 1;
        }
        if (!vars.count(name)) throw InputError(path, start, "undefined variable " + name);
        out += vars[name];
      } else {
        out += s[k];
      }
    }
    std::istringstream ws(out);
    std::vector<std::string> w;
    std::string t;
    while (ws >> t) w.push_back(t);
    if (w.empty()) continue;
    auto fail = [&](const std::string& msg) { throw InputError(path, start, msg); };
    auto num = [&](const std::string& tok) {
      char* end = nullptr;
      const double v = std::strtod(tok.c_str(), &end);
      if (*end != '\0') fail("\"" + tok + "\" is not a number");
      return v;
    };
    if (w[0] == "variable") {
      if (w.size() != 4 || (w[2] != "equal" && w[2] != "index"))
        fail("only \"variable NAME equal|index VALUE\" is supported");
      if (!vars.count(w[1]) || w[2] == "equal") vars[w[1]] = w[3];
    } else if (w[0] == "pair_style") {
      if (w.size() == 2 && w[1] == "snap") {
        have_style = true;
      } else if (w.size() == 6 && w[1] == "hybrid/overlay" && w[2] == "zbl" && w[5] == "snap") {
        inc.zbl.present = true;
        inc.zbl.inner = num(w[3]);
        inc.zbl.outer = num(w[4]);
        have_style = true;
      } else if (w.size() == 6 && w[1] == "hybrid/overlay" && w[2] == "snap" && w[3] == "zbl") {
        inc.zbl.present = true;
        inc.zbl.inner = num(w[4]);
        inc.zbl.outer = num(w[5]);
        have_style = true;
      } else {
        fail("supported: \"pair_style snap\" or \"pair_style hybrid/overlay zbl INNER OUTER snap\"");
      }
    } else if (w[0] == "pair_coeff") {
      if (!have_style) fail("pair_coeff before pair_style");
      if (w.size() >= 5 && w[1] == "*" && w[2] == "*") {
        std::size_t k = 3;
        if (w[k] == "snap") ++k;
        if (w.size() < k + 3) fail("expected pair_coeff * * [snap] COEFF PARAM ELEMENTS...");
        if (have_snap_coeff) fail("second SNAP pair_coeff line");
        inc.coeff_file = w[k];
        inc.param_file = w[k + 1];
        inc.elements.assign(w.begin() + static_cast<long>(k) + 2, w.end());
        have_snap_coeff = true;
      } else if (w.size() == 6 && w[3] == "zbl") {
        if (!inc.zbl.present) fail("pair_coeff ... zbl without zbl in pair_style");
        SnapIncludeZbl::Pair p{};
        p.t1 = static_cast<int>(num(w[1]));
        p.t2 = static_cast<int>(num(w[2]));
        p.z1 = num(w[4]);
        p.z2 = num(w[5]);
        inc.zbl.pairs.push_back(p);
      } else {
        fail("unsupported pair_coeff line");
      }
    } else {
      fail("unsupported command \"" + w[0] + "\" in a SNAP include file");
    }
  }
  if (!have_snap_coeff) throw InputError(path, 0, "no \"pair_coeff * * ... snap\" line");
  return inc;
}

}  // namespace md
