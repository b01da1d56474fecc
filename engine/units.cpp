#include "engine/units.hpp"

#include <stdexcept>

namespace md {

Units Units::by_name(const std::string& name) {
  if (name == "metal") return metal();
  if (name == "lj") return lj();
  throw std::runtime_error("unknown units \"" + name + "\" (supported: metal, lj)");
}

}  // namespace md
