#include "services/accounts/pii.hpp"

#include <stdexcept>

#include "common/config.hpp"
#include "common/crypto.hpp"

namespace crowd::accounts {
namespace {

std::string key_of(const char* variable, const std::string& hex) {
  if (hex.empty()) throw std::invalid_argument(std::string(variable) + " is required (64 hex characters, 32 bytes)");
  try {
    return crypto::key_from_hex(hex);
  } catch (const std::invalid_argument&) {
    // The value itself is a secret: say what is wrong, never echo it.
    throw std::invalid_argument(std::string(variable) + " must be 64 hex characters (32 bytes); got " +
                                std::to_string(hex.size()) + " characters");
  }
}

}  // namespace

PiiKeys pii_keys_from(const std::string& seal_hex, const std::string& hmac_hex) {
  PiiKeys k{key_of("CROWD_PII_KEY", seal_hex), key_of("CROWD_PII_HMAC_KEY", hmac_hex)};
  if (k.seal_key == k.hmac_key)
    throw std::invalid_argument("CROWD_PII_KEY and CROWD_PII_HMAC_KEY must be two different keys");
  return k;
}

PiiKeys pii_keys_from_env() {
  return pii_keys_from(config::env_str("CROWD_PII_KEY", ""), config::env_str("CROWD_PII_HMAC_KEY", ""));
}

std::string lookup_hmac(const PiiKeys& keys, std::string_view kind, std::string_view value) {
  std::string message(kind);
  message.push_back('\0');
  message.append(value);
  return crypto::hmac_sha256_hex(keys.hmac_key, message);
}

std::string seal_pii(const PiiKeys& keys, std::string_view value) {
  return crypto::seal(keys.seal_key, value);
}

std::string open_pii(const PiiKeys& keys, std::string_view sealed) {
  return crypto::open(keys.seal_key, sealed);
}

}  // namespace crowd::accounts
