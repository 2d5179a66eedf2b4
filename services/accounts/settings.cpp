#include "services/accounts/settings.hpp"

#include <stdexcept>

#include "common/config.hpp"
#include "services/accounts/registration.hpp"

namespace crowd::accounts {

Settings Settings::from_env() {
  Settings s;
  s.keys = pii_keys_from_env();
  s.verifier = config::env_str("CROWD_IDENTITY_VERIFIER", s.verifier);
  const std::string username = trim(config::env_str("CROWD_OPERATOR_USERNAME", ""));
  const std::string password = config::env_str("CROWD_OPERATOR_PASSWORD", "");
  if (username.empty() && password.empty()) return s;
  if (username.empty() || password.empty())
    throw std::invalid_argument("CROWD_OPERATOR_USERNAME and CROWD_OPERATOR_PASSWORD must be set together");
  if (utf8_length(username) > 64)
    throw std::invalid_argument("CROWD_OPERATOR_USERNAME must have at most 64 characters");
  if (utf8_length(password) < 10 || utf8_length(password) > 128)
    throw std::invalid_argument("CROWD_OPERATOR_PASSWORD must have 10 to 128 characters");
  s.bootstrap_operator = OperatorLogin{username, password};
  return s;
}

}  // namespace crowd::accounts
