// Tokens, passwords and roles. Tokens are issued by accounts and verified locally by every service with
// the shared secret (CROWD_TOKEN_SECRET): base64url(payload) "." base64url(HMAC-SHA256(secret, payload)).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace crowd::auth {

enum class Role { enterprise, worker, operator_, integration };

std::string role_name(Role r);  // "enterprise", "worker", "operator", "integration"
std::optional<Role> role_from(const std::string& name);

struct Principal {
  std::string party_id;  // ent_..., wkr_..., op_..., int_...
  Role role = Role::worker;
  std::int64_t issued_at_ms = 0;
  std::int64_t expires_at_ms = 0;
};

std::string issue_token(const std::string& secret, const Principal& p);
// nullopt when the signature is wrong, the payload malformed or the token expired at now_ms.
std::optional<Principal> verify_token(const std::string& secret, const std::string& token, std::int64_t now_ms);

// Argon2id (libsodium, interactive limits). The result is the self-describing encoded string.
std::string hash_password(const std::string& password);
bool verify_password(const std::string& encoded, const std::string& password);

}  // namespace crowd::auth
