// The pure core of credentials: what a token request asks for, the password decision (always one Argon2id
// verification, so an unknown user costs as much as a wrong password), API key material and token
// responses. Storage look-ups are the caller's.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/auth.hpp"

namespace crowd::accounts {

using json = nlohmann::json;

// The one message of every failed log-in: it never says which part was wrong or whether the account exists.
inline constexpr const char* kInvalidCredentials = "invalid credentials";

enum class LoginKind { enterprise, worker, operator_, api_key };

struct LoginRequest {
  LoginKind kind = LoginKind::worker;
  // enterprise: the normalised credit code; worker: the normalised phone; operator: the username;
  // api_key: the SHA-256 (hex) of the presented key.
  std::string identifier;
  std::string password;  // empty for api_key
};
// {role: "enterprise", credit_code, password} | {role: "worker", phone, password} |
// {role: "operator", username, password} | {api_key}. Throws Problem 422 for a malformed request only;
// identifiers that match nobody are left to the look-up (and end in 401).
LoginRequest parse_login(const json& body);

// A stored password credential as the store found it.
struct PasswordCredential {
  std::string party_id;
  auth::Role role = auth::Role::worker;
  std::string password_hash;
};

// An Argon2id hash of a random password, computed once per process; verified against when no account
// matched, so both paths do the same work. Call it once at start to keep the first request fast.
const std::string& dummy_password_hash();

// True when found holds a credential whose hash verifies password. Exactly one Argon2id verification runs
// whatever the input.
bool password_matches(const std::optional<PasswordCredential>& found, const std::string& password);

// API keys: "ck_" + 43 base64url characters (256 random bits); only sha256_hex(key) is stored.
struct NewApiKey {
  std::string key;
  std::string key_sha256;
};
NewApiKey generate_api_key();
std::string api_key_sha256(const std::string& key);

auth::Principal principal_for(const std::string& party_id, auth::Role role, std::int64_t now_ms, std::int64_t ttl_s);
// {access_token, token_type: "Bearer", expires_in, party_id, role}
json token_response(const std::string& secret, const auth::Principal& p, std::int64_t ttl_s);

}  // namespace crowd::accounts
