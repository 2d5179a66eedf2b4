#include "services/paysandbox/settings.hpp"

#include <stdexcept>

#include "common/config.hpp"

namespace crowd::paysandbox {

Settings Settings::from_env() {
  Settings s;
  s.secret = config::env_str("CROWD_PROVIDER_SECRET", "");
  if (s.secret.size() < 16) throw std::invalid_argument("CROWD_PROVIDER_SECRET must be set (at least 16 characters)");
  s.delay_ms = config::env_int("CROWD_SANDBOX_DELAY_MS", s.delay_ms);
  s.stall_ms = config::env_int("CROWD_SANDBOX_STALL_MS", s.stall_ms);
  s.autopay_deposits = config::env_bool("CROWD_SANDBOX_AUTOPAY_DEPOSITS", s.autopay_deposits);
  return s;
}

}  // namespace crowd::paysandbox
