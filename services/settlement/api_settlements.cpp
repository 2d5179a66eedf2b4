// Settlements (read), the operators' ledger check, and the route table.
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/money.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/ledger_check.hpp"
#include "services/settlement/store/money.hpp"

namespace crowd::settlement {

namespace {

using auth::Role;
using nlohmann::json;

json money(std::int64_t fen) {
  return crowd::money::to_json(fen);
}

json transfer_ids(const SettlementRecord& r) {
  json ids = json::array();
  for (const auto& leg : settlement_legs(r.assignment_id, r.id, r.task_id, r.worker_id, r.split)) ids.push_back(leg.id);
  return ids;
}

// Whether the caller may see this settlement, and with the tax details: operators and the worker see
// everything, the enterprise of the task sees the price side only, anyone else nothing.
std::optional<bool> view_with_tax(const auth::Principal& who, const SettlementRecord& r) {
  if (who.role == Role::operator_) return true;
  if (who.role == Role::worker && who.party_id == r.worker_id) return true;
  if (who.role == Role::enterprise && who.party_id == r.enterprise_id) return false;
  return std::nullopt;
}

}  // namespace

json settlement_json(const SettlementRecord& r, bool with_tax) {
  json out{{"settlement_id", r.id},
           {"assignment_id", r.assignment_id},
           {"submission_id", r.submission_id},
           {"task_id", r.task_id},
           {"enterprise_id", r.enterprise_id},
           {"worker_id", r.worker_id},
           {"category", r.category},
           {"title", r.title},
           {"units", r.units},
           {"amount", money(r.split.amount_fen)},
           {"fee", money(r.split.fee_fen)},
           {"worker_gross", money(r.split.worker_gross_fen)},
           {"accepted_at", clock::rfc3339(r.accepted_at_ms)},
           {"settled_at", clock::rfc3339(r.settled_at_ms)},
           {"kind", r.kind},
           {"dispute_id", r.dispute_id.empty() ? json(nullptr) : json(r.dispute_id)}};
  if (with_tax) {
    out["iit"] = money(r.split.iit_fen);
    out["net"] = money(r.split.net_fen);
    out["tax_year"] = r.tax_year;
    out["tax_month"] = r.tax_month;
    out["tax_computation"] = json::parse(r.computation);
    out["transfer_ids"] = transfer_ids(r);
  }
  return out;
}

// GET /v1/settlements/{id} — the task's enterprise (price side), the worker and operators (with tax).
// Anyone else gets 404, so settlement ids cannot be probed.
http::Response get_settlement(db::Database& db, http::Request& req) {
  const auto& who = http::require_role(req, {Role::enterprise, Role::worker, Role::operator_});
  const std::string id = req.param("id");
  const auto r = db.with([&](soci::session& s) { return find_settlement(s, id); });
  const auto with_tax = r ? view_with_tax(who, *r) : std::nullopt;
  if (!with_tax) throw http::not_found("settlement " + id);
  return http::Response::json_of(200, settlement_json(*r, *with_tax));
}

// GET /v1/settlements?task_id=&limit=&cursor= — the task's enterprise and operators see all of the task's
// settlements, a worker only its own. An enterprise asking about another's task gets 404.
// → {items: [...], next_cursor: string|null}; the cursor is the last settlement id of the page.
http::Response list_settlements(db::Database& db, http::Request& req) {
  const auto& who = http::require_role(req, {Role::enterprise, Role::worker, Role::operator_});
  const std::string task_id = req.query_param("task_id").value_or("");
  if (task_id.empty()) throw http::invalid({{"task_id", "required"}});
  const auto page = http::page_of(req);
  return db.with([&](soci::session& s) {
    if (who.role == Role::enterprise) {
      const auto escrow = load_escrow(s, task_id);
      if (!escrow || escrow->enterprise_id != who.party_id) throw http::not_found("task " + task_id);
    }
    const auto only = who.role == Role::worker ? std::optional<std::string>(who.party_id) : std::nullopt;
    auto rows = settlements_of_task(s, task_id, only, page.cursor, page.limit + 1);
    json out{{"items", json::array()}, {"next_cursor", nullptr}};
    if (rows.size() > static_cast<std::size_t>(page.limit)) {
      rows.resize(page.limit);
      out["next_cursor"] = rows.back().id;
    }
    for (const auto& r : rows) out["items"].push_back(settlement_json(r, who.role != Role::enterprise));
    return http::Response::json_of(200, out);
  });
}

// GET /v1/admin/settlement/check — operators only. Reads one consistent snapshot and checks the ledger's
// invariants (ledger_check.hpp). → 200 {ok, checked_at, accounts, transfers, checks: [{name, ok, detail,
// violations}]}; a failed check is reported (ok false), not raised.
http::Response get_ledger_check(db::Database& db, http::Request& req) {
  http::require_role(req, {Role::operator_});
  const auto snap = read_consistent(db, [&](soci::session& s) { return load_ledger_snapshot(s); });
  json out = to_json(check_ledger(snap));
  out["checked_at"] = clock::rfc3339(clock::now_ms());
  out["accounts"] = snap.accounts.size();
  out["transfers"] = snap.transfers;
  return http::Response::json_of(200, out);
}

void add_routes(http::Router& router, db::Database& db, bool instant_deposits) {
  auto bind = [&db](http::Response (*fn)(db::Database&, http::Request&)) {
    return [&db, fn](http::Request& req) { return fn(db, req); };
  };
  if (instant_deposits) router.post("/v1/deposits", bind(post_deposit));
  router.get("/v1/balances/me", bind(get_my_balance));
  router.get("/v1/statements/me", bind(get_my_statement));
  router.get("/v1/settlements/{id}", bind(get_settlement));
  router.get("/v1/settlements", bind(list_settlements));
  router.get("/v1/admin/settlement/check", bind(get_ledger_check));
  router.get("/v1/offers/{id}/net-pay-preview", bind(get_net_pay_preview));
  router.get("/v1/fees/quote", get_fee_quote);
  router.get("/v1/fees/rules", get_fee_rules);
}

}  // namespace crowd::settlement
