#include "services/accounts/credentials.hpp"

#include "common/crypto.hpp"
#include "common/domain/identity.hpp"
#include "common/http.hpp"
#include "services/accounts/registration.hpp"

namespace crowd::accounts {
namespace {

// Fold an identifier the way registration stored it; a code that fails its check is still looked up (and
// matches nothing), so a malformed identifier and an unknown one answer alike.
std::string credit_code_key(const std::string& raw) {
  const domain::CreditCodeCheck c = domain::check_credit_code(raw);
  return c.normalized.empty() ? trim(raw) : c.normalized;
}

}  // namespace

LoginRequest parse_login(const json& body) {
  http::Fields f(body);
  LoginRequest r;
  if (f.has("api_key")) {
    if (f.has("role")) f.fail("role", "must be absent when api_key is given");
    r.kind = LoginKind::api_key;
    r.identifier = api_key_sha256(f.str("api_key", 1, 200));
    f.done();
    return r;
  }
  const std::string role = f.one_of("role", {"enterprise", "worker", "operator"});
  if (role == "enterprise") {
    r.kind = LoginKind::enterprise;
    r.identifier = credit_code_key(f.str("credit_code", 1, 40));
  } else if (role == "worker") {
    r.kind = LoginKind::worker;
    r.identifier = normalize_phone(f.str("phone", 1, 32));
  } else if (role == "operator") {
    r.kind = LoginKind::operator_;
    r.identifier = trim(f.str("username", 1, 64));
  }
  // No minimum length here: a policy change must not lock out passwords set under an older one.
  r.password = f.str("password", 1, 128);
  f.done();
  return r;
}

const std::string& dummy_password_hash() {
  static const std::string hash = auth::hash_password(crypto::random_token(24));
  return hash;
}

bool password_matches(const std::optional<PasswordCredential>& found, const std::string& password) {
  if (!found) {
    (void)auth::verify_password(dummy_password_hash(), password);
    return false;
  }
  return auth::verify_password(found->password_hash, password);
}

NewApiKey generate_api_key() {
  NewApiKey k;
  k.key = "ck_" + crypto::random_token(32);
  k.key_sha256 = api_key_sha256(k.key);
  return k;
}

std::string api_key_sha256(const std::string& key) {
  return crypto::sha256_hex(key);
}

auth::Principal principal_for(const std::string& party_id, auth::Role role, std::int64_t now_ms, std::int64_t ttl_s) {
  return auth::Principal{party_id, role, now_ms, now_ms + ttl_s * 1000};
}

json token_response(const std::string& secret, const auth::Principal& p, std::int64_t ttl_s) {
  return {{"access_token", auth::issue_token(secret, p)},
          {"token_type", "Bearer"},
          {"expires_in", ttl_s},
          {"party_id", p.party_id},
          {"role", auth::role_name(p.role)}};
}

}  // namespace crowd::accounts
