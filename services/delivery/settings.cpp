#include "services/delivery/settings.hpp"

#include <stdexcept>

#include "common/config.hpp"

namespace crowd::delivery {

Settings Settings::from_env() {
  Settings s;
  const auto max_revisions = config::env_int("CROWD_MAX_REVISIONS", s.max_revisions);
  if (max_revisions < 0 || max_revisions > 100) throw std::invalid_argument("CROWD_MAX_REVISIONS must be 0..100");
  s.max_revisions = static_cast<int>(max_revisions);
  const auto grace_s = config::env_int("CROWD_ASSIGNMENT_GRACE_S", s.assignment_grace_ms / 1000);
  if (grace_s < 0 || grace_s > 30LL * 86400) throw std::invalid_argument("CROWD_ASSIGNMENT_GRACE_S must be 0..2592000");
  s.assignment_grace_ms = grace_s * 1000;
  return s;
}

}  // namespace crowd::delivery
