// Route table of accounts and the operator bootstrap.
#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/accounts/handlers.hpp"
#include "services/accounts/registration.hpp"
#include "services/accounts/store.hpp"

namespace crowd::accounts {

void register_routes(Context& ctx) {
  http::Router& r = ctx.svc.router();
  auto bind = [&ctx](http::Response (*fn)(Context&, http::Request&)) {
    return [&ctx, fn](http::Request& req) { return fn(ctx, req); };
  };
  r.post("/v1/enterprises", bind(register_enterprise));
  r.post("/v1/workers", bind(register_worker));
  r.post("/v1/auth/token", bind(issue_token));
  r.get("/v1/me", bind(get_me));
  r.post("/v1/api-keys", bind(create_api_key));
  r.del("/v1/api-keys/{id}", bind(revoke_api_key));
  r.get("/v1/workers/{id}/credit", bind(get_worker_credit));
  r.get("/v1/admin/accounts/workers/{id}", bind(admin_get_worker));
}

void bootstrap_operator(db::Database& db) {
  const std::string username = trim(config::env_str("CROWD_OPERATOR_USERNAME", ""));
  const std::string password = config::env_str("CROWD_OPERATOR_PASSWORD", "");
  if (username.empty() && password.empty()) return;
  if (username.empty() || password.empty())
    throw std::invalid_argument("CROWD_OPERATOR_USERNAME and CROWD_OPERATOR_PASSWORD must be set together");
  if (utf8_length(username) > 64)
    throw std::invalid_argument("CROWD_OPERATOR_USERNAME must have at most 64 characters");
  if (utf8_length(password) < 10 || utf8_length(password) > 128)
    throw std::invalid_argument("CROWD_OPERATOR_PASSWORD must have 10 to 128 characters");
  if (db.with([&](soci::session& s) { return store::operator_exists(s, username); })) return;
  const std::string hash = auth::hash_password(password);
  const store::OperatorView op{ids::make("op"), username, clock::now_ms()};
  const bool created = db.tx([&](soci::session& s) { return store::insert_operator_if_absent(s, op, hash); });
  if (created) log::info("operator created from CROWD_OPERATOR_USERNAME", {{"operator_id", op.id}});
}

}  // namespace crowd::accounts
