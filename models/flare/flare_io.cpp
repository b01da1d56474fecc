// Readers of mir-flare's mapped-model files: lmp.flare (LAMMPS pair_style flare coefficients)
// and the uncertainty files L_inv_<name> and sparse_desc_<name> (LAMMPS compute
// flare/std/atom). Host-only; errors are md::InputError naming the file and line.
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "engine/error.hpp"
#include "models/flare/flare.hpp"

namespace md {

namespace {

// Whitespace-separated tokens with their line numbers.
class TokenReader {
 public:
  explicit TokenReader(const std::string& path) : path_(path), in_(path) {
    if (!in_) throw InputError(path, 0, "cannot open file");
  }
  // The next whole line (may be blank); false at the end.
  bool line(std::string& text) {
    pending_.clear();
    pos_ = 0;
    if (!std::getline(in_, text)) return false;
    ++line_;
    return true;
  }
  // Words of the next non-blank line.
  std::vector<std::string> words(const std::string& what) {
    std::string text;
    while (line(text)) {
      std::vector<std::string> w = split(text);
      if (!w.empty()) return w;
    }
    fail("unexpected end of file, expected " + what);
  }
  // Next token, crossing lines; false at the end of the file.
  bool token(std::string& tok) {
    while (pos_ >= pending_.size()) {
      std::string text;
      if (!std::getline(in_, text)) return false;
      ++line_;
      pending_ = split(text);
      pos_ = 0;
    }
    tok = pending_[pos_++];
    return true;
  }
  double number(const std::string& what) {
    std::string tok;
    if (!token(tok)) fail("unexpected end of file, expected " + what);
    return to_number(tok, what);
  }
  double to_number(const std::string& tok, const std::string& what) const {
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
  // Fails when anything but blanks is left.
  void expect_end(const std::string& what) {
    std::string tok;
    if (token(tok)) fail("unexpected \"" + tok + "\" after " + what);
  }
  [[noreturn]] void fail(const std::string& msg) const { throw InputError(path_, line_, msg); }
  long line_number() const { return line_; }

  static std::vector<std::string> split(const std::string& text) {
    std::istringstream in(text);
    std::vector<std::string> w;
    std::string t;
    while (in >> t) w.push_back(t);
    return w;
  }

 private:
  std::string path_;
  std::ifstream in_;
  long line_ = 0;
  std::vector<std::string> pending_;
  std::size_t pos_ = 0;
};

// "<power> NormalizedDotProduct|DotProduct"
void read_kernel_line(TokenReader& r, int& power, bool& normalized) {
  const std::vector<std::string> w = r.words("the kernel line (power and kernel name)");
  if (w.size() != 2) r.fail("expected \"<power> NormalizedDotProduct|DotProduct\"");
  const long p = r.integer(w[0], "kernel power");
  if (p != 1 && p != 2) r.fail("kernel power " + w[0] + " is not supported (1 or 2)");
  power = static_cast<int>(p);
  if (w[1] == "NormalizedDotProduct")
    normalized = true;
  else if (w[1] == "DotProduct")
    normalized = false;
  else
    r.fail("kernel \"" + w[1] + "\" is not supported (NormalizedDotProduct or DotProduct)");
}

// "chebyshev", "n_species n_max l_max size", "quadratic|cosine", n_species^2 cutoffs
void read_descriptor_settings(TokenReader& r, int& n_species, int& n_max, int& l_max,
                              long& size, FlareCutoff* cutoff_kind, std::vector<double>* cutoffs,
                              long* sizes_line = nullptr) {
  std::vector<std::string> w = r.words("the radial basis name");
  if (w.size() != 1 || w[0] != "chebyshev")
    r.fail("radial basis \"" + w[0] + "\" is not supported (chebyshev)");
  w = r.words("n_species n_max l_max beta_size");
  if (sizes_line) *sizes_line = r.line_number();
  if (w.size() != 4) r.fail("expected four integers: n_species n_max l_max beta_size");
  n_species = static_cast<int>(r.integer(w[0], "n_species"));
  n_max = static_cast<int>(r.integer(w[1], "n_max"));
  l_max = static_cast<int>(r.integer(w[2], "l_max"));
  size = r.integer(w[3], "beta_size");
  if (n_species < 1 || n_species > 64) r.fail("n_species " + w[0] + " out of range 1..64");
  if (n_max < 1 || n_max > 64) r.fail("n_max " + w[1] + " out of range 1..64");
  if (l_max < 0 || l_max > 12) r.fail("l_max " + w[2] + " out of range 0..12");
  if (size < 0) r.fail("beta_size " + w[3] + " is negative");
  w = r.words("the cutoff function name");
  if (w.size() != 1 || (w[0] != "quadratic" && w[0] != "cosine"))
    r.fail("cutoff function \"" + w[0] + "\" is not supported (quadratic or cosine)");
  if (cutoff_kind) *cutoff_kind = w[0] == "quadratic" ? FlareCutoff::quadratic : FlareCutoff::cosine;
  const int nc = n_species * n_species;
  w = r.words(std::to_string(nc) + " pair cutoffs");
  if (static_cast<int>(w.size()) != nc)
    r.fail("expected " + std::to_string(nc) + " pair cutoffs (n_species^2), got " +
           std::to_string(w.size()));
  if (cutoffs) {
    cutoffs->resize(nc);
    for (int k = 0; k < nc; ++k) {
      (*cutoffs)[k] = r.to_number(w[k], "cutoff");
      if (!((*cutoffs)[k] > 0.0)) r.fail("cutoff " + w[k] + " is not positive");
    }
  }
}

}  // namespace

FlareModel read_flare_model(const std::string& path) {
  TokenReader r(path);
  FlareModel m;
  m.path = path;
  std::string first;
  if (!r.line(first)) r.fail("empty file, expected a pair_style flare coefficient file");
  m.contributor = first;
  read_kernel_line(r, m.power, m.normalized);
  long sizes_line = 0;
  read_descriptor_settings(r, m.n_species, m.n_max, m.l_max, m.beta_size, &m.cutoff_kind,
                           &m.cutoffs, &sizes_line);
  const long nd = m.n_descriptors();
  const long expect = m.power == 2 ? nd * (nd + 1) / 2 : nd;
  if (m.beta_size != expect)
    throw InputError(path, sizes_line,"beta_size " + std::to_string(m.beta_size) + " does not match n_species " +
           std::to_string(m.n_species) + ", n_max " + std::to_string(m.n_max) + ", l_max " +
           std::to_string(m.l_max) + " and power " + std::to_string(m.power) + " (expected " +
           std::to_string(expect) + " = " +
           (m.power == 2 ? "n_d (n_d + 1) / 2" : std::string("n_d")) + ", n_d = " +
           std::to_string(nd) + ")");
  const long total = m.beta_size * m.n_species;
  m.beta.resize(static_cast<std::size_t>(total));
  std::string tok;
  for (long k = 0; k < total; ++k) {
    if (!r.token(tok))
      r.fail("unexpected end of file: " + std::to_string(k) + " of " + std::to_string(total) +
             " coefficients (" + std::to_string(m.n_species) + " species x beta_size " +
             std::to_string(m.beta_size) + ")");
    m.beta[k] = r.to_number(tok, "coefficient " + std::to_string(k + 1));
  }
  r.expect_end(std::to_string(total) + " coefficients");
  return m;
}

FlareUncertaintyModel read_flare_uncertainty(const std::string& l_inv_path,
                                             const std::string& sparse_path,
                                             const FlareModel& model) {
  FlareUncertaintyModel u;
  u.l_inv_path = l_inv_path;
  u.sparse_path = sparse_path;
  const int nd = model.n_descriptors();
  {
    TokenReader r(l_inv_path);
    std::string first;
    if (!r.line(first) || first.rfind("L_inverse_block file", 0) != 0)
      r.fail("expected an L_inverse_block file (mir-flare write_L_inverse)");
    read_kernel_line(r, u.power, u.normalized);
    if (u.power != model.power || u.normalized != model.normalized)
      r.fail("kernel does not match the coefficient file " + model.path);
    std::vector<std::string> w = r.words("the number of hyperparameters");
    if (w.size() != 1) r.fail("expected the number of hyperparameters");
    const long nh = r.integer(w[0], "number of hyperparameters");
    if (nh < 1 || nh > 100) r.fail("number of hyperparameters " + w[0] + " out of range");
    w = r.words("the hyperparameters");
    if (static_cast<long>(w.size()) != nh)
      r.fail("expected " + std::to_string(nh) + " hyperparameters, got " + std::to_string(w.size()));
    for (const auto& t : w) u.hyperparameters.push_back(r.to_number(t, "hyperparameter"));
    int S = 0, nmax = 0, lmax = 0;
    long n_kernels = 0;
    std::vector<double> cut;
    read_descriptor_settings(r, S, nmax, lmax, n_kernels, nullptr, &cut);
    if (S != model.n_species || nmax != model.n_max || lmax != model.l_max)
      r.fail("descriptor settings (" + std::to_string(S) + " " + std::to_string(nmax) + " " +
             std::to_string(lmax) + ") do not match the coefficient file " + model.path);
    if (n_kernels != 1) r.fail("only one kernel is supported, the file has " + std::to_string(n_kernels));
    w = r.words("the number of sparse environments");
    if (w.size() != 1) r.fail("expected the number of sparse environments");
    const long ns = r.integer(w[0], "number of sparse environments");
    if (ns < 1 || ns > 200000) r.fail("number of sparse environments " + w[0] + " out of range");
    u.n_sparse = static_cast<int>(ns);
    u.l_inv.assign(static_cast<std::size_t>(ns) * ns, 0.0);
    for (long j = 0; j < ns; ++j)
      for (long k = 0; k <= j; ++k)
        u.l_inv[j * ns + k] = r.number("L_inv(" + std::to_string(j) + ", " + std::to_string(k) + ")");
    r.expect_end("the lower triangle of L_inv");
  }
  {
    TokenReader r(sparse_path);
    std::string first;
    if (!r.line(first) || first.rfind("sparse_descriptors file", 0) != 0)
      r.fail("expected a sparse_descriptors file (mir-flare write_sparse_descriptors)");
    std::string tok;
    auto next_int = [&](const std::string& what) {
      if (!r.token(tok)) r.fail("unexpected end of file, expected " + what);
      return r.integer(tok, what);
    };
    if (next_int("the number of kernels") != 1) r.fail("only one kernel is supported");
    next_int("the kernel index");
    const long ns = next_int("the number of sparse environments");
    const long nt = next_int("the number of species");
    if (ns != u.n_sparse)
      r.fail(std::to_string(ns) + " sparse environments but " + l_inv_path + " has " +
             std::to_string(u.n_sparse));
    if (nt != model.n_species)
      r.fail(std::to_string(nt) + " species but the coefficient file has " +
             std::to_string(model.n_species));
    long seen = 0;
    for (long s = 0; s < nt; ++s) {
      const long cnt = next_int("the sparse count of species " + std::to_string(s));
      if (cnt < 0 || seen + cnt > ns) r.fail("sparse count " + tok + " out of range");
      u.sparse_count.push_back(static_cast<int>(cnt));
      for (long j = 0; j < cnt * nd; ++j)
        u.sparse_desc.push_back(r.number("sparse descriptor value"));
      seen += cnt;
    }
    if (seen != ns) r.fail("species counts add up to " + std::to_string(seen) + ", not " + std::to_string(ns));
    r.expect_end("the sparse descriptors");
  }
  return u;
}

}  // namespace md
