#include "services/accounts/credentials.hpp"

#include <doctest/doctest.h>

#include "common/auth.hpp"
#include "common/crypto.hpp"
#include "common/http.hpp"

using namespace crowd::accounts;
using crowd::auth::Role;

namespace {

const std::string kSecret = "a-test-secret-of-at-least-32-characters";

std::vector<std::string> error_fields(const json& body) {
  try {
    parse_login(body);
  } catch (const crowd::http::Problem& p) {
    CHECK(p.status == 422);
    std::vector<std::string> out;
    for (const auto& e : p.errors) out.push_back(e.field);
    return out;
  }
  return {};
}

}  // namespace

TEST_CASE("log-in requests: each role's identifier is normalised as registration stored it") {
  LoginRequest r = parse_login({{"role", "enterprise"}, {"credit_code", "91350100m000100y43"}, {"password", "x"}});
  CHECK(r.kind == LoginKind::enterprise);
  CHECK(r.identifier == "91350100M000100Y43");
  CHECK(r.password == "x");
  r = parse_login({{"role", "worker"}, {"phone", "+86 138 0013 8000"}, {"password", "pw"}});
  CHECK(r.kind == LoginKind::worker);
  CHECK(r.identifier == "13800138000");
  r = parse_login({{"role", "operator"}, {"username", "ops"}, {"password", "pw"}});
  CHECK(r.kind == LoginKind::operator_);
  CHECK(r.identifier == "ops");
  r = parse_login({{"api_key", "ck_abc"}});
  CHECK(r.kind == LoginKind::api_key);
  CHECK(r.identifier == crowd::crypto::sha256_hex("ck_abc"));
  // A credit code failing its check is still a log-in attempt (it matches nobody: 401, not 422).
  r = parse_login({{"role", "enterprise"}, {"credit_code", "nonsense"}, {"password", "x"}});
  CHECK(r.kind == LoginKind::enterprise);
}

TEST_CASE("log-in requests: malformed shapes are 422 with field errors") {
  CHECK(error_fields({{"password", "x"}}) == std::vector<std::string>{"role"});
  CHECK(error_fields({{"role", "integration"}, {"password", "x"}}) == std::vector<std::string>{"role"});
  CHECK(error_fields({{"role", "worker"}, {"password", "x"}}) == std::vector<std::string>{"phone"});
  CHECK(error_fields({{"role", "enterprise"}, {"credit_code", "91350100M000100Y43"}}) ==
        std::vector<std::string>{"password"});
  CHECK(error_fields({{"api_key", "ck_abc"}, {"role", "enterprise"}}) == std::vector<std::string>{"role"});
  CHECK(error_fields({{"api_key", 5}}) == std::vector<std::string>{"api_key"});
}

TEST_CASE("passwords: a known credential verifies, a wrong or unknown one does not") {
  const PasswordCredential c{"ent_1", Role::enterprise, crowd::auth::hash_password("correct horse 1")};
  CHECK(password_matches(c, "correct horse 1"));
  CHECK_FALSE(password_matches(c, "correct horse 2"));
  CHECK_FALSE(password_matches(std::nullopt, "correct horse 1"));
  CHECK_FALSE(dummy_password_hash().empty());
  CHECK(&dummy_password_hash() == &dummy_password_hash());  // computed once
}

TEST_CASE("tokens for each role carry the party and role and expire after the TTL") {
  const std::int64_t now = 1'800'000'000'000;
  for (Role role : {Role::enterprise, Role::worker, Role::operator_, Role::integration}) {
    CAPTURE(crowd::auth::role_name(role));
    const auto p = principal_for("party_1", role, now, 3600);
    const json t = token_response(kSecret, p, 3600);
    CHECK(t.at("token_type") == "Bearer");
    CHECK(t.at("expires_in") == 3600);
    CHECK(t.at("party_id") == "party_1");
    CHECK(t.at("role") == crowd::auth::role_name(role));
    const auto back = crowd::auth::verify_token(kSecret, t.at("access_token").get<std::string>(), now + 1000);
    REQUIRE(back);
    CHECK(back->party_id == "party_1");
    CHECK(back->role == role);
    CHECK(back->expires_at_ms == now + 3'600'000);
    CHECK_FALSE(crowd::auth::verify_token(kSecret, t.at("access_token").get<std::string>(), now + 3'600'000));
    CHECK_FALSE(crowd::auth::verify_token(kSecret + "x", t.at("access_token").get<std::string>(), now));
  }
}

TEST_CASE("API keys: ck_ prefix, 256 random bits, only the hash is kept") {
  const NewApiKey a = generate_api_key();
  const NewApiKey b = generate_api_key();
  CHECK(a.key.rfind("ck_", 0) == 0);
  CHECK(a.key.size() == 3 + 43);
  CHECK(a.key != b.key);
  CHECK(a.key_sha256 == crowd::crypto::sha256_hex(a.key));
  CHECK(a.key_sha256.size() == 64);
  CHECK(a.key_sha256.find(a.key) == std::string::npos);
}
