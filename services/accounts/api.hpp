// HTTP API of accounts: add_routes binds the handlers of the api_*.cpp route files (registration, auth,
// profile), thin wrappers that parse with the domain core (registration, credentials), touch the store in
// one transaction and render. Each opens with its contract.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/db.hpp"
#include "common/http.hpp"
#include "common/idempotency.hpp"
#include "services/accounts/pii.hpp"
#include "services/accounts/settings.hpp"
#include "services/accounts/verifier.hpp"

namespace crowd::accounts {

// What the handlers work with.
struct Context {
  db::Database& db;
  PiiKeys keys;
  std::unique_ptr<IdentityVerifier> verifier;
  std::string token_secret;      // the kit's CROWD_TOKEN_SECRET: tokens are signed with it
  std::int64_t token_ttl_s = 0;  // the kit's CROWD_TOKEN_TTL_S
};

// The routes of accounts on `ctx` (which must outlive the router).
void add_routes(http::Router& router, Context& ctx);

// Idempotency-Key of the creating POSTs (common/idempotency.hpp), scoped by idempotency::scope_of (the
// caller, or "public:" + route for registrations). Request hashes are keyed and responses sealed with the
// PII keys: bodies hold personal data and passwords, and a response may hold an API key shown once.
inline idempotency::Options idempotency_options(const PiiKeys& keys) {
  idempotency::Options opt;
  opt.seal_key = keys.seal_key;
  opt.hash_key = keys.hmac_key;
  return opt;
}
// The request's key (nullopt without the header; Problem 400 when malformed): read it before slow work.
inline std::optional<idempotency::Key> idempotency_key(const Context& ctx, const http::Request& req) {
  return idempotency::key_of(req, idempotency::scope_of(req), idempotency_options(ctx.keys));
}
// idempotency::run with accounts' options.
inline http::Response run_idempotent(Context& ctx, const std::optional<idempotency::Key>& key,
                                     const idempotency::Effect& effect) {
  return idempotency::run(ctx.db, key, effect, idempotency_options(ctx.keys));
}

// The start-up operator (Settings::bootstrap_operator, from CROWD_OPERATOR_USERNAME / CROWD_OPERATOR_PASSWORD):
// created when absent (idempotent; an existing operator's password is left alone). Needs the migrated
// database.
void bootstrap_operator(db::Database& db, const OperatorLogin& login);

// The handlers (add_routes binds them).
http::Response register_enterprise(Context& ctx, http::Request& req);
http::Response register_worker(Context& ctx, http::Request& req);
http::Response issue_token(Context& ctx, http::Request& req);
http::Response create_api_key(Context& ctx, http::Request& req);
http::Response revoke_api_key(Context& ctx, http::Request& req);
http::Response get_me(Context& ctx, http::Request& req);
http::Response get_worker_credit(Context& ctx, http::Request& req);
http::Response admin_get_worker(Context& ctx, http::Request& req);

}  // namespace crowd::accounts
