#include "common/auth.hpp"

#include <sodium.h>

#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/crypto.hpp"
#include "common/enum_text.hpp"

namespace crowd::auth {

namespace {

constexpr EnumText<Role, 4> kRole{{"enterprise", "worker", "operator", "integration"}, "role"};

}  // namespace

std::string role_name(Role r) {
  return kRole.name(r);
}

std::optional<Role> role_from(const std::string& name) {
  return kRole.find(name);
}

std::string issue_token(const std::string& secret, const Principal& p) {
  if (secret.size() < 16) throw std::invalid_argument("token secret too short");
  nlohmann::json payload = {
      {"sub", p.party_id}, {"role", role_name(p.role)}, {"iat", p.issued_at_ms}, {"exp", p.expires_at_ms}};
  std::string body = crypto::base64url_encode(payload.dump());
  return body + "." + crypto::base64url_encode(crypto::hmac_sha256_raw(secret, body));
}

std::optional<Principal> verify_token(const std::string& secret, const std::string& token, std::int64_t now_ms) {
  auto dot = token.find('.');
  if (dot == std::string::npos || token.size() > 4096) return std::nullopt;
  std::string body = token.substr(0, dot);
  std::string expected = crypto::base64url_encode(crypto::hmac_sha256_raw(secret, body));
  if (!crypto::equal_constant_time(expected, token.substr(dot + 1))) return std::nullopt;
  try {
    auto j = nlohmann::json::parse(crypto::base64url_decode(body));
    auto role = role_from(j.at("role").get<std::string>());
    if (!role) return std::nullopt;
    Principal p{j.at("sub").get<std::string>(), *role, j.at("iat").get<std::int64_t>(),
                j.at("exp").get<std::int64_t>()};
    if (p.expires_at_ms <= now_ms || p.party_id.empty()) return std::nullopt;
    return p;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string hash_password(const std::string& password) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE, crypto_pwhash_ALG_ARGON2ID13) != 0)
    throw std::runtime_error("password hashing ran out of memory");
  return out;
}

bool verify_password(const std::string& encoded, const std::string& password) {
  if (sodium_init() < 0) return false;
  if (encoded.empty() || encoded.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_verify(encoded.c_str(), password.data(), password.size()) == 0;
}

}  // namespace crowd::auth
