// Route table of accounts and the operator bootstrap.
#include "services/accounts/api.hpp"

#include "common/auth.hpp"
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/accounts/store.hpp"

namespace crowd::accounts {

void add_routes(http::Router& r, Context& ctx) {
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

void bootstrap_operator(db::Database& db, const OperatorLogin& login) {
  if (db.with([&](soci::session& s) { return store::operator_exists(s, login.username); })) return;
  const std::string hash = auth::hash_password(login.password);
  const store::OperatorView op{ids::make("op"), login.username, clock::now_ms()};
  const bool created = db.tx([&](soci::session& s) { return store::insert_operator_if_absent(s, op, hash); });
  if (created) log::info("operator created from CROWD_OPERATOR_USERNAME", {{"operator_id", op.id}});
}

}  // namespace crowd::accounts
