// GET /v1/me, GET /v1/workers/{id}/credit, GET /v1/admin/accounts/workers/{id}.
#include "common/clock.hpp"
#include "common/ids.hpp"
#include "services/accounts/api.hpp"
#include "services/accounts/registration.hpp"
#include "services/accounts/store.hpp"

namespace crowd::accounts {
namespace {

json me_of(soci::session& s, const auth::Principal& p) {
  json j;
  switch (p.role) {
    case auth::Role::enterprise:
      if (auto e = store::find_enterprise(s, p.party_id)) j = enterprise_json(*e);
      break;
    case auth::Role::worker:
      if (auto w = store::find_worker(s, p.party_id)) j = worker_json(*w);
      break;
    case auth::Role::operator_:
      if (auto o = store::find_operator(s, p.party_id))
        j = {{"id", o->id}, {"username", o->username}, {"created_at", clock::rfc3339(o->created_at_ms)}};
      break;
    case auth::Role::integration:
      if (auto i = store::find_integration(s, p.party_id))
        j = {{"id", i->id}, {"name", i->name}, {"created_at", clock::rfc3339(i->created_at_ms)}};
      break;
  }
  // A valid token for a party this database does not hold (another environment's secret, a wiped store).
  if (j.is_null()) throw http::not_found("party " + p.party_id);
  j["role"] = auth::role_name(p.role);
  return j;
}

}  // namespace

// GET /v1/me — any authenticated role: the caller's own profile, with personal data masked. Read-only.
http::Response get_me(Context& ctx, http::Request& req) {
  const auth::Principal& p = http::require_auth(req);
  const json j = ctx.db.with([&](soci::session& s) { return me_of(s, p); });
  return http::Response::json_of(200, j);
}

// GET /v1/workers/{id}/credit — any authenticated role: the public credit record (信用评价). 404 for an
// unknown worker. basis "default" while the score is the registration default (scoring comes later).
http::Response get_worker_credit(Context& ctx, http::Request& req) {
  http::require_auth(req);
  const std::string id = req.param("id");
  const auto c = ctx.db.with([&](soci::session& s) { return store::find_credit_record(s, id); });
  if (!c) throw http::not_found("worker " + id);
  return http::Response::json_of(200, {{"worker_id", c->worker_id},
                                       {"score", c->score},
                                       {"completed_assignments", c->completed_assignments},
                                       {"basis", c->basis},
                                       {"since", clock::rfc3339(c->since_ms)}});
}

// GET /v1/admin/accounts/workers/{id}[?reason=...] — operators only: the worker with the clear real name,
// ID number and phone. The audit row (operator, worker, fields, reason, request id, time) commits in the
// same transaction as the read, so no clear value leaves without its audit row. 404 for an unknown worker
// (no audit row: nothing was read).
http::Response admin_get_worker(Context& ctx, http::Request& req) {
  const auth::Principal& p = http::require_role(req, {auth::Role::operator_});
  const std::string id = req.param("id");
  const std::optional<std::string> reason = req.query_param("reason");
  if (reason && utf8_length(*reason) > 200) throw http::invalid({{"reason", "must have at most 200 characters"}});
  json j = ctx.db.tx([&](soci::session& s) {
    const auto w = store::find_worker(s, id);
    const auto secrets = store::find_worker_secrets(s, id);
    if (!w || !secrets) throw http::not_found("worker " + id);
    store::insert_pii_access(
        s, {ids::make("aud"), p.party_id, id, "real_name,id_number,phone", reason, req.request_id, clock::now_ms()});
    json out = worker_json(*w);
    out["real_name"] = open_pii(ctx.keys, secrets->real_name_sealed);
    out["id_number"] = open_pii(ctx.keys, secrets->id_number_sealed);
    out["phone"] = open_pii(ctx.keys, secrets->phone_sealed);
    return out;
  });
  http::Response r = http::Response::json_of(200, j);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace crowd::accounts
