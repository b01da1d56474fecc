// Reader of QUIP/GAP potential files: gap.xml (pugixml) and one gap.xml.sparseX.<label> text
// file per descriptor (one number per line, md5 from the XML checked), the descriptor string
// parsed into typed options, and refusal by name of what mdgpu does not implement. Written
// from the file format (as gap_fit writes it) and the GAP papers; QUIP's code is not used.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include <pugixml.hpp>

#include "engine/error.hpp"
#include "models/gap/gap_model.hpp"

namespace md {

// ---------------------------------------------------------------- MD5 (RFC 1321)

std::string gap_md5_hex(const std::string& bytes) {
  static const std::uint32_t k[64] = {
      0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613,
      0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193,
      0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d,
      0x02441453, 0xd8a1e681, 0xe7d3fbc8, 0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
      0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122,
      0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
      0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665, 0xf4292244,
      0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
      0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb,
      0xeb86d391};
  static const int shift[4][4] = {{7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21}};
  std::string msg = bytes;
  const std::uint64_t bit_len = static_cast<std::uint64_t>(bytes.size()) * 8u;
  msg.push_back(static_cast<char>(0x80));
  while (msg.size() % 64 != 56) msg.push_back('\0');
  for (int b = 0; b < 8; ++b) msg.push_back(static_cast<char>((bit_len >> (8 * b)) & 0xffu));
  std::uint32_t h[4] = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  auto rotl = [](std::uint32_t x, int c) { return (x << c) | (x >> (32 - c)); };
  for (std::size_t off = 0; off < msg.size(); off += 64) {
    std::uint32_t w[16];
    for (int i = 0; i < 16; ++i) {
      w[i] = 0;
      for (int b = 0; b < 4; ++b)
        w[i] |= static_cast<std::uint32_t>(static_cast<unsigned char>(msg[off + 4 * i + b])) << (8 * b);
    }
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3];
    for (int i = 0; i < 64; ++i) {
      std::uint32_t f;
      int g;
      const int round = i / 16;
      if (round == 0) {
        f = (b & c) | (~b & d);
        g = i;
      } else if (round == 1) {
        f = (d & b) | (~d & c);
        g = (5 * i + 1) % 16;
      } else if (round == 2) {
        f = b ^ c ^ d;
        g = (3 * i + 5) % 16;
      } else {
        f = c ^ (b | ~d);
        g = (7 * i) % 16;
      }
      const std::uint32_t tmp = d;
      d = c;
      c = b;
      b = b + rotl(a + f + k[i] + w[g], shift[round][i % 4]);
      a = tmp;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
  }
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (std::uint32_t v : h)
    for (int b = 0; b < 4; ++b) {
      const unsigned byte = (v >> (8 * b)) & 0xffu;
      out.push_back(hex[byte >> 4]);
      out.push_back(hex[byte & 15u]);
    }
  return out;
}

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Where a node sits in the file (pugixml gives byte offsets).
struct XmlFile {
  std::string path, text;
  long line_of(const pugi::xml_node& n) const {
    const std::ptrdiff_t off = n.offset_debug();
    if (off < 0) return 0;
    return 1 + static_cast<long>(std::count(text.begin(), text.begin() + off, '\n'));
  }
  [[noreturn]] void fail(const pugi::xml_node& n, const std::string& msg) const {
    throw InputError(path, line_of(n), "gap: " + msg);
  }
};

double parse_double(const XmlFile& f, const pugi::xml_node& n, const std::string& what,
                    const std::string& text) {
  const char* s = text.c_str();
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  while (end && *end && std::isspace(static_cast<unsigned char>(*end))) ++end;
  if (end == s || (end && *end) || !std::isfinite(v))
    f.fail(n, what + ": \"" + text + "\" is not a finite number");
  return v;
}

long parse_long(const XmlFile& f, const pugi::xml_node& n, const std::string& what,
                const std::string& text) {
  const double v = parse_double(f, n, what, text);
  if (v != std::floor(v) || std::abs(v) > 1e15) f.fail(n, what + ": \"" + text + "\" is not an integer");
  return static_cast<long>(v);
}

std::string attr(const XmlFile& f, const pugi::xml_node& n, const char* name) {
  const pugi::xml_attribute a = n.attribute(name);
  if (!a) f.fail(n, std::string("<") + n.name() + "> has no attribute " + name);
  return a.value();
}

// key=value tokens of a descriptor string; values may be grouped in {...} or "...".
struct DescriptorArgs {
  std::string name;
  std::map<std::string, std::string> values;  // lower-case keys
  std::map<std::string, bool> used;
};

DescriptorArgs split_descriptor(const XmlFile& f, const pugi::xml_node& n, const std::string& s) {
  DescriptorArgs out;
  std::size_t i = 0;
  auto skip = [&] {
    while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  };
  skip();
  while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) out.name += s[i++];
  out.name = lower(out.name);
  for (skip(); i < s.size(); skip()) {
    std::string key;
    while (i < s.size() && s[i] != '=' && !std::isspace(static_cast<unsigned char>(s[i]))) key += s[i++];
    std::string value = "T";  // a bare key is a true flag
    if (i < s.size() && s[i] == '=') {
      ++i;
      value.clear();
      if (i < s.size() && (s[i] == '{' || s[i] == '"')) {
        const char close = s[i] == '{' ? '}' : '"';
        const std::size_t e = s.find(close, i + 1);
        if (e == std::string::npos) f.fail(n, "descriptor \"" + s + "\": unclosed " + s[i] + " after " + key);
        value = s.substr(i + 1, e - i - 1);
        i = e + 1;
      } else {
        while (i < s.size() && !std::isspace(static_cast<unsigned char>(s[i]))) value += s[i++];
      }
    }
    out.values[lower(key)] = value;
  }
  return out;
}

struct ArgReader {
  const XmlFile& f;
  const pugi::xml_node& n;
  DescriptorArgs& a;
  bool has(const std::string& k) const { return a.values.count(k) != 0; }
  std::string raw(const std::string& k) {
    a.used[k] = true;
    return a.values.at(k);
  }
  [[noreturn]] void bad(const std::string& k, const std::string& why) {
    f.fail(n, "descriptor " + a.name + ": " + k + "=" + a.values[k] + " " + why);
  }
  double num(const std::string& k, double def) {
    if (!has(k)) return def;
    return parse_double(f, n, "descriptor " + a.name + " " + k, raw(k));
  }
  int integer(const std::string& k, int def) {
    if (!has(k)) return def;
    return static_cast<int>(parse_long(f, n, "descriptor " + a.name + " " + k, raw(k)));
  }
  bool flag(const std::string& k, bool def) {
    if (!has(k)) return def;
    const std::string v = lower(raw(k));
    if (v == "t" || v == "true" || v == "1") return true;
    if (v == "f" || v == "false" || v == "0") return false;
    bad(k, "is not a logical (T or F)");
  }
  std::vector<double> list(const std::string& k) {
    std::vector<double> out;
    std::istringstream in(raw(k));
    std::string tok;
    while (in >> tok) out.push_back(parse_double(f, n, "descriptor " + a.name + " " + k, tok));
    return out;
  }
  // Options mdgpu does not implement: refused by name unless at their default.
  void refuse_unless(bool at_default, const std::string& k, const std::string& what) {
    if (has(k) && !at_default) bad(k, "is not supported by mdgpu (" + what + ")");
  }
  // Every key must be known: read, or fit-only (no effect on predictions).
  void finish() {
    static const char* fit_only[] = {
        "covariance_type", "delta", "theta_uniform", "theta_fac", "theta_file", "sparse_method",
        "n_sparse", "add_species", "zeta", "f0", "sparse_file", "print_sparse_index",
        "mark_sparse_atoms", "unique_hash_tolerance", "unique_descriptor_tolerance",
        "config_type_n_sparse", "sparse_separate_file", "xml_version", "mix_shift",
        "covariance_sigma0_fit", "lengthscale_factor", "lengthscale_uniform", "lengthscale_file"};
    for (const auto& kv : a.values) {
      if (a.used.count(kv.first)) continue;
      if (std::find_if(std::begin(fit_only), std::end(fit_only),
                       [&](const char* s) { return kv.first == s; }) != std::end(fit_only))
        continue;
      f.fail(n, "descriptor " + a.name + ": option " + kv.first + "=" + kv.second +
                    " is not supported by mdgpu");
    }
  }
};

void parse_distance_2b(ArgReader& r, GapDistance2b& d) {
  d.cutoff = r.num("cutoff", 0.0);
  d.width = r.num("cutoff_transition_width", 0.5);
  d.z1 = r.integer("z1", 0);
  d.z2 = r.integer("z2", 0);
  const int ne = r.integer("n_exponents", 1);
  if (r.has("exponents")) d.exponents = r.list("exponents");
  if (static_cast<int>(d.exponents.size()) != ne)
    r.bad("n_exponents", "but " + std::to_string(d.exponents.size()) + " exponents are given");
  r.refuse_unless(!r.flag("only_intra", false), "only_intra", "residue filters");
  r.refuse_unless(!r.flag("only_inter", false), "only_inter", "residue filters");
  r.refuse_unless(r.has("resid_name") ? r.raw("resid_name").empty() : true, "resid_name",
                  "residue filters");
  r.refuse_unless(r.integer("tail_exponent", 0) == 0, "tail_exponent", "the erf tail");
  r.num("tail_range", 1.0);  // matters only with tail_exponent
  if (!(d.cutoff > 0.0)) r.bad("cutoff", "must be positive");
}

void parse_angle_3b(ArgReader& r, GapAngle3b& d) {
  d.cutoff = r.num("cutoff", 0.0);
  d.width = r.num("cutoff_transition_width", 0.5);
  d.z = r.integer("z", 0);
  d.z1 = r.integer("z1", 0);
  d.z2 = r.integer("z2", 0);
  if (!(d.cutoff > 0.0)) r.bad("cutoff", "must be positive");
  if (!(d.width > 0.0 && d.width <= d.cutoff)) r.bad("cutoff_transition_width", "must be in (0, cutoff]");
}

void parse_soap(ArgReader& r, GapSoap& s, long xml_version) {
  s.cutoff = r.num("cutoff", 0.0);
  s.width = r.num("cutoff_transition_width", 0.5);
  s.l_max = r.integer("l_max", -1);
  s.n_max = r.integer("n_max", 0);
  s.atom_sigma = r.has("atom_sigma") ? r.num("atom_sigma", 0.0) : r.num("atom_gaussian_width", 0.0);
  s.central_weight = r.num("central_weight", 1.0);
  s.covariance_sigma0 = r.num("covariance_sigma0", 0.0);
  s.basis_error_exponent = r.num("basis_error_exponent", 10.0);
  s.normalise = r.has("normalize") ? r.flag("normalize", true) : r.flag("normalise", true);
  const int n_species = r.integer("n_species", 1);
  if (r.has("species_z")) {
    for (double z : r.list("species_z")) s.species_z.push_back(static_cast<int>(z));
  } else {
    s.species_z.push_back(0);
  }
  if (static_cast<int>(s.species_z.size()) != n_species)
    r.bad("n_species", "but species_Z lists " + std::to_string(s.species_z.size()));
  s.central_reference_all_species = r.flag("central_reference_all_species", n_species == 1);
  if (xml_version < 1426512068) s.central_reference_all_species = true;  // the old default
  s.two_l_plus_one = xml_version >= 1423143769;  // (2l+1)^-1/2 from this GAP version on
  const int n_z = r.integer("n_z", 1);
  r.refuse_unless(n_z == 1, "n_z", "several centre species in one descriptor");
  s.z_centre = r.integer("z", 0);
  const std::string basis = r.has("radial_basis") ? r.raw("radial_basis") : "";
  r.refuse_unless(basis.empty() || lower(basis) == "equispaced_gauss", "radial_basis",
                  "only EQUISPACED_GAUSS");
  r.refuse_unless(r.integer("cutoff_dexp", 0) == 0, "cutoff_dexp", "radial decay");
  r.num("cutoff_scale", 1.0);  // used only with cutoff_dexp > 0
  r.num("cutoff_rate", 1.0);
  r.refuse_unless(!r.flag("average", false), "average", "global SOAP");
  r.refuse_unless(!r.flag("diagonal_radial", false), "diagonal_radial", "compression");
  r.refuse_unless(r.integer("nu_r", 2) == 2, "nu_r", "compression");
  r.refuse_unless(r.integer("nu_s", 2) == 2, "nu_s", "compression");
  r.refuse_unless(!r.flag("z_mix", false), "z_mix", "compression");
  r.refuse_unless(!r.flag("r_mix", false), "r_mix", "compression");
  r.refuse_unless(!r.flag("sym_mix", false), "sym_mix", "compression");
  r.refuse_unless(r.flag("coupling", true), "coupling", "element-wise coupling");
  r.refuse_unless(r.integer("k", 0) == 0, "k", "compression");
  r.refuse_unless(r.has("z_map") ? r.raw("z_map").empty() : true, "z_map", "compression");
  if (!(s.cutoff > 0.0)) r.bad("cutoff", "must be positive");
  if (s.n_max < 1) r.bad("n_max", "must be at least 1");
  if (s.l_max < 0) r.bad("l_max", "must be given and >= 0");
  if (!(s.atom_sigma > 0.0)) r.bad("atom_sigma", "must be positive");
  if (!(s.width > 0.0 && s.width <= s.cutoff)) r.bad("cutoff_transition_width", "must be in (0, cutoff]");
}

void parse_so4(ArgReader& r, GapSo4& s) {
  s.cutoff = r.num("cutoff", 2.75);
  r.num("cutoff_transition_width", 0.5);  // not used: the SO4 density has a cosine cutoff
  s.z0_ratio = r.num("z0_ratio", 0.0);
  s.j_max = r.integer("j_max", 4);
  s.z_centre = r.has("z_center") ? r.integer("z_center", 0) : r.integer("z", 0);
  const int n_species = r.has("n_z_environment") ? r.integer("n_z_environment", 1)
                                                 : r.integer("n_species", 1);
  const std::string zkey = r.has("z_environment") ? "z_environment" : "species_z";
  s.species_z.clear();
  if (r.has(zkey)) {
    for (double z : r.list(zkey)) s.species_z.push_back(static_cast<int>(z));
  } else {
    s.species_z.push_back(0);
  }
  if (r.has("w")) s.w = r.list("w");
  if (static_cast<int>(s.species_z.size()) != n_species || s.w.size() != s.species_z.size())
    r.bad("n_species", "but species_Z and w list " + std::to_string(s.species_z.size()) +
                           " and " + std::to_string(s.w.size()) + " values");
  if (!(s.cutoff > 0.0)) r.bad("cutoff", "must be positive");
  if (s.j_max < 0 || s.j_max > 16) r.bad("j_max", "must be in 0..16");
}

std::string read_file(const std::string& path, const XmlFile* xml, const pugi::xml_node* n) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (xml) xml->fail(*n, "sparseX file \"" + path + "\" not found");
    throw InputError(path, 0, "gap: cannot open the potential file");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

GapModel read_gap_model(const std::string& xml_path) {
  GapModel m;
  m.path = xml_path;
  XmlFile f{xml_path, read_file(xml_path, nullptr, nullptr)};
  pugi::xml_document doc;
  const pugi::xml_parse_result res = doc.load_buffer(f.text.data(), f.text.size());
  if (!res) {
    const long line = 1 + static_cast<long>(std::count(f.text.begin(), f.text.begin() + res.offset, '\n'));
    throw InputError(xml_path, line, std::string("gap: XML error: ") + res.description());
  }
  const pugi::xml_node root = doc.document_element();
  // The potential: "IP GAP label=..." or "Sum init_args_pot1={core} init_args_pot2={IP GAP ...}".
  const pugi::xml_node pot = root.child("Potential");
  if (pot) {
    const std::string init = pot.attribute("init_args").value();
    std::istringstream in(init);
    std::string w1, w2;
    in >> w1 >> w2;
    if (lower(w1) == "sum") {
      std::string core = "?";
      const std::size_t p = init.find("init_args_pot1={");
      if (p != std::string::npos) core = init.substr(p + 16, init.find('}', p) - p - 16);
      f.fail(pot, "the potential is a Sum with the core potential \"" + core +
                      "\", which mdgpu does not read from the XML; remove it from the XML and "
                      "overlay the core part in the input instead: [potential] style = "
                      "\"overlay\" with a [[potential.terms]] style = \"zbl\" (or \"eam/alloy\", "
                      "\"table\") term and a style = \"gap\" term (models/overlay)");
    }
    if (!(lower(w1) == "ip" && lower(w2) == "gap"))
      f.fail(pot, "init_args=\"" + init + "\": only IP GAP potentials are supported");
  }
  const pugi::xml_node params = root.child("GAP_params");
  if (!params) f.fail(root, "no <GAP_params> element");
  m.xml_version = params.attribute("gap_version") ? parse_long(f, params, "gap_version", params.attribute("gap_version").value()) : 0;
  const pugi::xml_node data = params.child("GAP_data");
  if (!data) f.fail(params, "no <GAP_data> element");
  if (lower(data.attribute("do_core").value()) == "t")
    f.fail(data, "do_core=T: the XML carries a core potential, which mdgpu does not read; overlay "
                 "it in the input ([potential] style = \"overlay\", models/overlay)");
  for (const pugi::xml_node e : data.children("e0")) {
    const long z = parse_long(f, e, "e0 Z", attr(f, e, "Z"));
    if (z < 1 || z > 118) f.fail(e, "e0 Z=" + std::to_string(z) + " is not an element");
    m.e0[static_cast<std::size_t>(z)] = parse_double(f, e, "e0 value", attr(f, e, "value"));
  }
  const pugi::xml_node sparse = params.child("gpSparse");
  if (!sparse) f.fail(params, "no <gpSparse> element");
  const std::string dir = std::filesystem::path(xml_path).parent_path().string();
  for (const pugi::xml_node c : sparse.children("gpCoordinates")) {
    GapCoordinates g;
    g.line = f.line_of(c);
    g.label = attr(f, c, "label");
    g.dimensions = static_cast<int>(parse_long(f, c, "dimensions", attr(f, c, "dimensions")));
    g.delta = parse_double(f, c, "signal_variance", attr(f, c, "signal_variance"));
    g.f0 = c.attribute("signal_mean") ? parse_double(f, c, "signal_mean", c.attribute("signal_mean").value()) : 0.0;
    const long cov = parse_long(f, c, "covariance_type", attr(f, c, "covariance_type"));
    if (cov == 1) g.covariance = GapCovariance::ArdSe;
    else if (cov == 2) g.covariance = GapCovariance::DotProduct;
    else
      f.fail(c, "covariance_type=" + std::to_string(cov) + " is not supported by mdgpu (1 = ard_se, "
                "2 = dot_product; 3 = bond_real_space, 4 = pp are not)");
    const long nperm = c.attribute("n_permutations") ? parse_long(f, c, "n_permutations", c.attribute("n_permutations").value()) : 1;
    if (nperm != 1)
      f.fail(c, "n_permutations=" + std::to_string(nperm) + " is not supported by mdgpu (permutation-"
                "symmetrised kernels)");
    if (c.attribute("sparsified") && lower(c.attribute("sparsified").value()) != "t")
      f.fail(c, "sparsified=F (a full GP) is not supported by mdgpu");
    g.n_sparse = static_cast<int>(parse_long(f, c, "n_sparseX", attr(f, c, "n_sparseX")));
    if (g.dimensions < 1 || g.n_sparse < 0) f.fail(c, "dimensions and n_sparseX must be positive");
    if (g.covariance == GapCovariance::DotProduct) {
      if (c.attribute("zeta")) {
        g.zeta = parse_double(f, c, "zeta", c.attribute("zeta").value());
      } else if (c.child("theta")) {
        std::istringstream in(c.child("theta").text().get());
        if (!(in >> g.zeta)) f.fail(c.child("theta"), "dot_product without zeta");
      } else {
        f.fail(c, "dot_product covariance without a zeta attribute");
      }
    } else {
      const pugi::xml_node th = c.child("theta");
      if (!th) f.fail(c, "ard_se covariance without <theta>");
      std::istringstream in(th.text().get());
      std::string tok;
      while (in >> tok) g.theta.push_back(parse_double(f, th, "theta", tok));
      if (static_cast<int>(g.theta.size()) != g.dimensions)
        f.fail(th, std::to_string(g.theta.size()) + " theta values for " +
                       std::to_string(g.dimensions) + " dimensions");
      for (double t : g.theta)
        if (!(t > 0.0)) f.fail(th, "theta values must be positive");
    }
    const pugi::xml_node dn = c.child("descriptor");
    if (!dn) f.fail(c, "<gpCoordinates> without <descriptor>");
    g.descriptor = dn.text().get();
    DescriptorArgs args = split_descriptor(f, dn, g.descriptor);
    ArgReader r{f, dn, args};
    if (args.name == "distance_2b") {
      g.kind = GapDescriptorKind::Distance2b;
      parse_distance_2b(r, g.d2b);
      if (static_cast<int>(g.d2b.exponents.size()) != g.dimensions)
        f.fail(c, "distance_2b has " + std::to_string(g.d2b.exponents.size()) +
                      " exponents but dimensions=" + std::to_string(g.dimensions));
    } else if (args.name == "soap") {
      g.kind = GapDescriptorKind::Soap;
      parse_soap(r, g.soap, m.xml_version);
      if (g.soap.dimensions() != g.dimensions)
        f.fail(c, "soap with n_max=" + std::to_string(g.soap.n_max) + " l_max=" +
                      std::to_string(g.soap.l_max) + " and " + std::to_string(g.soap.species_z.size()) +
                      " species has " + std::to_string(g.soap.dimensions()) +
                      " components, but dimensions=" + std::to_string(g.dimensions));
      if (g.covariance != GapCovariance::DotProduct)
        f.fail(c, "soap with covariance_type ard_se is not supported by mdgpu (dot_product only)");
    } else if (args.name == "bispectrum_so4") {
      g.kind = GapDescriptorKind::BispectrumSo4;
      parse_so4(r, g.so4);
      if (g.so4.dimensions() != g.dimensions)
        f.fail(c, "bispectrum_so4 with j_max=" + std::to_string(g.so4.j_max) + " has " +
                      std::to_string(g.so4.dimensions()) + " components, but dimensions=" +
                      std::to_string(g.dimensions));
      if (g.covariance != GapCovariance::ArdSe)
        f.fail(c, "bispectrum_so4 with covariance_type dot_product is not supported by mdgpu (ard_se only)");
    } else if (args.name == "angle_3b") {
      g.kind = GapDescriptorKind::Angle3b;
      parse_angle_3b(r, g.a3b);
      if (g.dimensions != 3)
        f.fail(c, "angle_3b has 3 components, but dimensions=" + std::to_string(g.dimensions));
      if (g.covariance != GapCovariance::ArdSe)
        f.fail(c, "angle_3b with covariance_type dot_product is not supported by mdgpu (ard_se only)");
    } else {
      f.fail(dn, "descriptor \"" + args.name + "\" is not supported by mdgpu (supported: "
                 "distance_2b, angle_3b, soap, bispectrum_so4)");
    }
    r.finish();
    // sparse points: alpha and sparseCutoff per <sparseX i=...>
    g.alpha.assign(g.n_sparse, 0.0);
    g.sparse_cutoff.assign(g.n_sparse, 1.0);
    std::vector<char> seen(g.n_sparse, 0);
    int count = 0;
    for (const pugi::xml_node s : c.children("sparseX")) {
      const long i = parse_long(f, s, "sparseX i", attr(f, s, "i"));
      if (i < 1 || i > g.n_sparse || seen[i - 1])
        f.fail(s, "sparseX i=" + std::to_string(i) + " is out of range 1.." +
                      std::to_string(g.n_sparse) + " or repeated");
      seen[i - 1] = 1;
      g.alpha[i - 1] = parse_double(f, s, "alpha", attr(f, s, "alpha"));
      g.sparse_cutoff[i - 1] = parse_double(f, s, "sparseCutoff", attr(f, s, "sparseCutoff"));
      ++count;
    }
    if (count != g.n_sparse)
      f.fail(c, "n_sparseX=" + std::to_string(g.n_sparse) + " but " + std::to_string(count) +
                    " <sparseX> elements");
    // the sparse descriptors: a separate file (md5 checked) or inline text
    if (!c.attribute("sparseX_filename"))
      f.fail(c, "no sparseX_filename: sparse points inside the XML are not supported by mdgpu");
    const std::string name = c.attribute("sparseX_filename").value();
    const std::string spath = (std::filesystem::path(dir) / name).string();
    const std::string bytes = read_file(spath, &f, &c);
    if (c.attribute("sparseX_md5sum")) {
      const std::string want = lower(c.attribute("sparseX_md5sum").value());
      const std::string got = gap_md5_hex(bytes);
      if (want != got)
        f.fail(c, "sparseX file \"" + spath + "\" has md5 " + got + ", the XML says " + want +
                      " (the file does not belong to this model or was changed)");
    }
    std::istringstream in(bytes);
    std::string tok;
    g.sparse_x.reserve(static_cast<std::size_t>(g.n_sparse) * g.dimensions);
    long line = 0;
    while (in >> tok) {
      ++line;
      char* end = nullptr;
      const double v = std::strtod(tok.c_str(), &end);
      if (*end || !std::isfinite(v))
        throw InputError(spath, line, "gap: \"" + tok + "\" is not a finite number");
      g.sparse_x.push_back(v);
    }
    const std::size_t want = static_cast<std::size_t>(g.n_sparse) * g.dimensions;
    if (g.sparse_x.size() != want)
      throw InputError(spath, 0, "gap: " + std::to_string(g.sparse_x.size()) +
                                     " numbers, expected n_sparseX x dimensions = " +
                                     std::to_string(g.n_sparse) + " x " +
                                     std::to_string(g.dimensions) + " = " + std::to_string(want) +
                                     " (" + xml_path + ":" + std::to_string(g.line) + ")");
    m.coords.push_back(std::move(g));
  }
  if (m.coords.empty()) f.fail(sparse, "no <gpCoordinates> in <gpSparse>");
  return m;
}

}  // namespace md
