// The [parallel] input keys of io/parallel_config.hpp (read_parallel_section): defaults and
// the messages for bad values, which must name the file, line and key. No MPI needed.
#include <string>

#include <doctest/doctest.h>

#include "engine/error.hpp"
#include "io/parallel_config.hpp"
#include "io/toml_section.hpp"

namespace md {
namespace {

ParallelSettings parse(const std::string& text) {
  const toml::table t = toml::parse(text);
  TomlSection root(t, "", "in.toml");
  return read_parallel_section(root);
}

// The message of the InputError the text raises ("" when none).
std::string error_of(const std::string& text) {
  try {
    parse(text);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("parallel_config") {
  TEST_CASE("[parallel] timeout: default, zero, value") {
    CHECK(parse("units = \"lj\"\n").timeout == 600);
    CHECK(parse("[parallel]\ntransport = \"host\"\n").timeout == 600);
    CHECK(parse("[parallel]\ntimeout = 0\n").timeout == 0);
    CHECK(parse("[parallel]\ntimeout = 2.5\n").timeout == 2.5);
  }

  TEST_CASE("[parallel] timeout: bad values name the file, line and key") {
    const std::string neg = error_of("[parallel]\n\ntimeout = -1\n");
    CHECK(neg.find("in.toml:3") != std::string::npos);
    CHECK(neg.find("[parallel] timeout") != std::string::npos);
    CHECK(neg.find("non-negative number of seconds") != std::string::npos);
    const std::string text = error_of("[parallel]\ntimeout = \"long\"\n");
    CHECK(text.find("in.toml:2") != std::string::npos);
    CHECK(text.find("[parallel] timeout: expected a number") != std::string::npos);
    const std::string inf = error_of("[parallel]\ntimeout = inf\n");
    CHECK(inf.find("[parallel] timeout") != std::string::npos);
    CHECK(error_of("[parallel]\ntimeout = 30\n").empty());
  }
}

}  // namespace md
