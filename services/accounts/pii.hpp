// Keys for personal data at rest: CROWD_PII_KEY seals values (XChaCha20-Poly1305), CROWD_PII_HMAC_KEY keys
// the look-up hashes that carry uniqueness and log-in without the clear value. Both are 64 hex characters.
#pragma once

#include <string>
#include <string_view>

namespace crowd::accounts {

struct PiiKeys {
  std::string seal_key;  // 32 raw bytes
  std::string hmac_key;  // 32 raw bytes
};

// From the two variables' values; throws std::invalid_argument with a message naming the variable at fault
// (missing, not 64 hex characters, or the same key given for both purposes).
PiiKeys pii_keys_from(const std::string& seal_hex, const std::string& hmac_hex);
PiiKeys pii_keys_from_env();  // reads CROWD_PII_KEY and CROWD_PII_HMAC_KEY

// Keyed hash of a personal datum for look-ups; kind ("id_number", "phone") separates the domains, so equal
// strings of different kinds never collide.
std::string lookup_hmac(const PiiKeys& keys, std::string_view kind, std::string_view value);

std::string seal_pii(const PiiKeys& keys, std::string_view value);
std::string open_pii(const PiiKeys& keys, std::string_view sealed);  // throws on tampering or a wrong key

}  // namespace crowd::accounts
