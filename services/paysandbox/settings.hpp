// Configuration of the sandbox payment provider.
#pragma once

#include <cstdint>
#include <string>

namespace crowd::paysandbox {

struct Settings {
  std::string secret;            // CROWD_PROVIDER_SECRET: shared with the platform (required)
  std::int64_t delay_ms = 300;   // CROWD_SANDBOX_DELAY_MS: from order to outcome
  std::int64_t stall_ms = 5000;  // CROWD_SANDBOX_STALL_MS: how long a "stall" answer takes
  bool autopay_deposits = true;  // CROWD_SANDBOX_AUTOPAY_DEPOSITS
  // Throws std::invalid_argument when the secret is missing or shorter than 16 characters.
  static Settings from_env();
};

}  // namespace crowd::paysandbox
