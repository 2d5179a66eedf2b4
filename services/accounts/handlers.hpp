// HTTP handlers of accounts: thin wrappers that parse with the domain core (registration, credentials),
// touch the store in one transaction and render. Each opens with its contract.
#pragma once

#include <memory>
#include <string>

#include "common/http.hpp"
#include "common/service.hpp"
#include "services/accounts/pii.hpp"
#include "services/accounts/verifier.hpp"

namespace crowd::accounts {

struct Context {
  Service& svc;
  PiiKeys keys;
  std::unique_ptr<IdentityVerifier> verifier;
};

void register_routes(Context& ctx);

// From CROWD_OPERATOR_USERNAME / CROWD_OPERATOR_PASSWORD: creates that operator when absent (idempotent;
// an existing operator's password is left alone). Both unset: nothing to do. Throws std::invalid_argument
// when only one is set or the password is shorter than 10 characters. Needs the migrated database.
void bootstrap_operator(db::Database& db);

// The handlers (routes.cpp binds them).
http::Response register_enterprise(Context& ctx, http::Request& req);
http::Response register_worker(Context& ctx, http::Request& req);
http::Response issue_token(Context& ctx, http::Request& req);
http::Response create_api_key(Context& ctx, http::Request& req);
http::Response revoke_api_key(Context& ctx, http::Request& req);
http::Response get_me(Context& ctx, http::Request& req);
http::Response get_worker_credit(Context& ctx, http::Request& req);
http::Response admin_get_worker(Context& ctx, http::Request& req);

}  // namespace crowd::accounts
