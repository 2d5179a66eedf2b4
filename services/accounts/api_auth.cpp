// POST /v1/auth/token, POST /v1/api-keys, DELETE /v1/api-keys/{id}.
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "services/accounts/api.hpp"
#include "services/accounts/credentials.hpp"
#include "services/accounts/registration.hpp"
#include "services/accounts/store.hpp"

namespace crowd::accounts {
namespace {

constexpr std::int64_t kActiveKeysMax = 20;  // per party: a leak is bounded and listing stays cheap

http::Response no_store(http::Response r) {
  r.headers.emplace_back("Cache-Control", "no-store");  // tokens and keys must not sit in caches
  return r;
}

http::Response token_for(Context& ctx, const std::string& party_id, auth::Role role) {
  const std::int64_t ttl_s = ctx.token_ttl_s;
  const auth::Principal p = principal_for(party_id, role, clock::now_ms(), ttl_s);
  return no_store(http::Response::json_of(200, token_response(ctx.token_secret, p, ttl_s)));
}

// An API key is exchanged for a token of its party; a revoked or unknown key fails like a wrong password.
http::Response api_key_login(Context& ctx, const LoginRequest& r) {
  auto key = ctx.db.with([&](soci::session& s) { return store::find_api_key_by_hash(s, r.identifier); });
  if (!key || key->revoked_at_ms) throw http::unauthorized(kInvalidCredentials);
  auto role = auth::role_from(key->role);
  if (!role) throw std::runtime_error("api key " + key->id + " has an unknown role");
  return token_for(ctx, key->party_id, *role);
}

std::optional<PasswordCredential> find_credential(Context& ctx, const LoginRequest& r) {
  return ctx.db.with([&](soci::session& s) -> std::optional<PasswordCredential> {
    switch (r.kind) {
      case LoginKind::enterprise:
        return store::enterprise_credential(s, r.identifier);
      case LoginKind::worker:
        return store::worker_credential(s, lookup_hmac(ctx.keys, "phone", r.identifier));
      case LoginKind::operator_:
        return store::operator_credential(s, r.identifier);
      case LoginKind::api_key:
        break;
    }
    return std::nullopt;
  });
}

}  // namespace

// POST /v1/auth/token — public. Password log-in for enterprises (credit code), workers (phone) and
// operators (username), or an API key exchange. 422 for a malformed body; 401 with one generic message for
// any wrong or unknown credential (a dummy Argon2id verification keeps an unknown user as slow as a known
// one). Read-only, so naturally idempotent.
http::Response issue_token(Context& ctx, http::Request& req) {
  const LoginRequest r = parse_login(req.json_body());
  if (r.kind == LoginKind::api_key) return api_key_login(ctx, r);
  const std::optional<PasswordCredential> found = find_credential(ctx, r);
  if (!password_matches(found, r.password)) throw http::unauthorized(kInvalidCredentials);
  return token_for(ctx, found->party_id, found->role);
}

namespace {

struct KeyRequest {
  std::optional<std::string> name;
  bool new_integration = false;  // operator: create an integration party that owns the key
};

// enterprise: {name?} (a key for itself); operator: {role: "integration", name}.
KeyRequest parse_key_request(const auth::Principal& p, const json& body) {
  http::Fields f(body);
  KeyRequest k;
  if (p.role == auth::Role::operator_) {
    f.one_of("role", {"integration"});
    k.name = trim(f.str("name", 2, 100));
    k.new_integration = true;
  } else {
    if (f.has("role") && body.at("role") != "enterprise") f.fail("role", "an enterprise creates keys for itself only");
    if (auto n = f.opt_str("name", 100)) k.name = trim(*n);
  }
  f.done();
  return k;
}

}  // namespace

// POST /v1/api-keys — enterprise (a key for itself) or operator (a new integration party and its key).
// Idempotency-Key honoured (the replay shows the same key again: the stored response is sealed). 409 past
// kActiveKeysMax active keys. The key is returned once; only its SHA-256 is stored.
http::Response create_api_key(Context& ctx, http::Request& req) {
  const auth::Principal& p = http::require_role(req, {auth::Role::enterprise, auth::Role::operator_});
  const KeyRequest kr = parse_key_request(p, req.body.empty() ? json::object() : req.json_body());
  const auto idem = idempotency_key(ctx, req);
  return no_store(run_idempotent(ctx, idem, [&](soci::session& s) {
    const std::int64_t now = clock::now_ms();
    store::ApiKeyRow row{ids::make("key"), p.party_id, "enterprise", kr.name, p.party_id, now, std::nullopt};
    if (kr.new_integration) {
      const store::IntegrationView integration{ids::make("int"), kr.name.value_or(""), p.party_id, now};
      store::insert_integration(s, integration);
      row.party_id = integration.id;
      row.role = "integration";
    } else if (store::count_active_api_keys(s, p.party_id) >= kActiveKeysMax) {
      throw http::conflict("at most " + std::to_string(kActiveKeysMax) + " active API keys; revoke one first");
    }
    const NewApiKey key = generate_api_key();
    store::insert_api_key(s, row, key.key_sha256);
    json body = {{"id", row.id},
                 {"key", key.key},
                 {"party_id", row.party_id},
                 {"role", row.role},
                 {"name", kr.name ? json(*kr.name) : json(nullptr)},
                 {"created_at", clock::rfc3339(now)}};
    return http::Response::json_of(201, body);
  }));
}

// DELETE /v1/api-keys/{id} — the key's own party; an operator may also revoke integration keys (operators
// administer integrations). Anyone else gets 404, as for an unknown key (existence is not revealed).
// Idempotent: revoking a revoked key answers 204 and keeps the first revocation time. Tokens already
// issued for the key stay valid until they expire (CROWD_TOKEN_TTL_S).
http::Response revoke_api_key(Context& ctx, http::Request& req) {
  const auth::Principal& p = http::require_auth(req);
  const std::string id = req.param("id");
  ctx.db.tx([&](soci::session& s) {
    const auto key = store::find_api_key(s, id);
    const bool allowed =
        key && (key->party_id == p.party_id || (p.role == auth::Role::operator_ && key->role == "integration"));
    if (!allowed) throw http::not_found("API key " + id);
    store::revoke_api_key(s, id, clock::now_ms());
  });
  return http::Response::no_content();
}

}  // namespace crowd::accounts
