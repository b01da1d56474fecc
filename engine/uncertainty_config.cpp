// [uncertainty] keys of a run (host-only).
#include "engine/config.hpp"
#include "engine/uncertainty.hpp"

namespace md {

UncertaintySettings read_uncertainty_settings(Section& s) {
  UncertaintySettings u;
  u.every = s.get_int("every", 10);
  if (u.every < 1) s.fail("every", "must be at least 1");
  u.threshold = s.get_double("threshold");
  if (!(u.threshold > 0.0)) s.fail("threshold", "must be positive");
  const std::string a = s.get_choice("action", {"warn", "stop", "harvest"}, std::string("warn"));
  u.action = a == "warn" ? UncertaintyAction::warn
             : a == "stop" ? UncertaintyAction::stop
                           : UncertaintyAction::harvest;
  u.harvest_file = s.get_string("harvest_file", std::string("uncertain.extxyz"));
  s.finish();
  return u;
}

}  // namespace md
