// Configuration of accounts (the kit's own variables, the token secret among them, are in config::ServiceConfig).
#pragma once

#include <optional>
#include <string>

#include "services/accounts/pii.hpp"

namespace crowd::accounts {

// The operator created at start when absent.
struct OperatorLogin {
  std::string username;  // trimmed, 1..64 characters
  std::string password;  // 10..128 characters
};

struct Settings {
  PiiKeys keys;                                     // CROWD_PII_KEY, CROWD_PII_HMAC_KEY (required)
  std::string verifier = "sandbox";                 // CROWD_IDENTITY_VERIFIER (make_verifier)
  std::optional<OperatorLogin> bootstrap_operator;  // CROWD_OPERATOR_USERNAME + CROWD_OPERATOR_PASSWORD
  // Throws std::invalid_argument naming the variable at fault (a PII key missing or malformed; only one of
  // the operator variables set; an operator username over 64 or a password outside 10..128 characters).
  static Settings from_env();
};

}  // namespace crowd::accounts
