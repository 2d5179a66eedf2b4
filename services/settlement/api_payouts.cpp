// Payouts, withdrawals, refunds, provider deposits and notifications, operator resolution and
// reconciliation (payouts.hpp for the machine behind them).
#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/crash.hpp"
#include "common/crypto.hpp"
#include "common/domain/identity.hpp"
#include "common/idempotency.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/money.hpp"
#include "common/signature.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/payouts.hpp"
#include "services/settlement/reconcile.hpp"

namespace crowd::settlement {

namespace {

using auth::Role;
using nlohmann::json;

constexpr std::int64_t kMaxFen = 1'000'000'000'000;

http::Problem insufficient(const std::string& field, std::int64_t available) {
  http::Problem p(409, "insufficient-funds", "Insufficient funds", "the amount is more than the available balance",
                  {{field, "more than the available balance"}});
  p.extra["available"] = crowd::money::to_json(available);
  return p;
}

json deposit_json(soci::session& s, const std::string& id) {
  const auto d = find_provider_deposit(s, id);
  if (!d) throw http::not_found("deposit");
  json j{{"deposit_id", d->id},
         {"enterprise_id", d->enterprise_id},
         {"amount", crowd::money::to_json(d->amount_fen)},
         {"provider", d->provider},
         {"status", d->status},
         {"transfer_id", d->transfer_id},
         {"created_at", clock::rfc3339(d->created_at_ms)}};
  if (d->provider_ref) j["provider_ref"] = *d->provider_ref;
  if (d->pay_url) j["pay_url"] = *d->pay_url;
  return j;
}

// Places a pending deposit with the provider (merchant_ref = deposit id: placing again is safe) and keeps
// its answer. Returns false when it could not be placed now (the payout job tries again).
bool place_deposit(db::Database& db, Provider& provider, const std::string& id) {
  ProviderOrder o;
  o.merchant_ref = id;
  o.kind = "deposit";
  const bool pending = db.with([&](soci::session& s) {
    const auto d = find_provider_deposit(s, id);
    if (!d || d->status != "pending") return false;
    o.payee = "enterprise:" + d->enterprise_id;
    o.amount_fen = d->amount_fen;
    return true;
  });
  if (!pending) return false;
  const PlaceResult r = provider.place(o);
  if (r.outcome != PlaceResult::Outcome::accepted) {
    log::warn("deposit not placed yet", {{"deposit_id", id}, {"error", r.error}});
    if (r.outcome == PlaceResult::Outcome::rejected && r.error.rfind("not sent", 0) != 0) {
      db.tx([&](soci::session& s) { fail_pending_deposit(s, id, clock::now_ms()); });
    }
    return false;
  }
  db.tx([&](soci::session& s) { set_deposit_placed(s, id, r.provider_ref, r.pay_url); });
  return true;
}

// POST /v1/deposits with a provider: the deposit is recorded pending (its transfer id reserved), placed
// with the provider, and credited when the provider's signed deposit.succeeded arrives.
http::Response post_provider_deposit(db::Database& db, Provider& provider, http::Request& req) {
  const DepositInput in = deposit_input(req);
  std::string id;
  auto res = idempotency::run(
      db, in.key,
      [&](soci::session& s) {
        DepositRecord d;
        d.id = ids::make("dep");
        d.enterprise_id = in.enterprise_id;
        d.idempotency_key = in.key.key;
        d.amount_fen = in.amount_fen;
        d.provider = provider.name();
        d.status = "pending";
        d.transfer_id = "dep:" + in.enterprise_id + ":" + in.key.key;
        d.created_at_ms = clock::now_ms();
        if (transfer_exists(s, d.transfer_id)) throw std::logic_error("deposit transfer exists without its key");
        insert_deposit(s, d);
        id = d.id;
        return http::Response::json_of(201, deposit_json(s, d.id));
      },
      in.options);
  if (id.empty()) return res;  // a replay: the first response
  place_deposit(db, provider, id);
  return http::Response::json_of(201, db.with([&](soci::session& s) { return deposit_json(s, id); }));
}

// GET /v1/deposits/{id} — the enterprise's own, or any for operators.
http::Response get_deposit(db::Database& db, http::Request& r) {
  const auto& who = http::require_role(r, {Role::enterprise, Role::operator_});
  const json j = db.with([&](soci::session& s) { return deposit_json(s, r.param("id")); });
  if (who.role == Role::enterprise && j.value("enterprise_id", "") != who.party_id) throw http::not_found("deposit");
  return http::Response::json_of(200, j);
}

json payout_account_json(soci::session& s, const std::string& worker_id) {
  const auto a = find_payout_account(s, worker_id);
  if (!a) throw http::not_found("payout account");
  json j{{"worker_id", worker_id},
         {"mode", a->mode},
         {"payee", {{"account_no", a->payee_masked}, {"holder_name", a->holder_masked}}},
         {"updated_at", clock::rfc3339(a->updated_at_ms)}};
  if (!a->blocked_reason.empty()) j["blocked_reason"] = a->blocked_reason;
  return j;
}

struct PayoutAccountInput {
  std::string mode, account_no, holder;
};

// {mode: auto|on_request, payee: {account_no: 8..32 digits, holder_name}}
PayoutAccountInput payout_account_input(const json& body) {
  http::Fields f(body);
  PayoutAccountInput in;
  in.mode = f.one_of("mode", {"auto", "on_request"});
  if (auto payee = f.opt_object("payee")) {
    http::Fields pf(*payee, "payee");
    in.account_no = pf.str("account_no", 8, 32);
    in.holder = pf.str("holder_name", 1, 60);
    for (char c : in.account_no) {
      if (c < '0' || c > '9') {
        pf.fail("account_no", "digits only");
        break;
      }
    }
    f.merge(pf);
  } else {
    f.fail("payee", "required");
  }
  f.done();
  return in;
}

// PUT /v1/payout-account — workers.
http::Response put_payout_account(db::Database& db, const PayoutSettings& st, http::Request& r) {
  const auto& who = http::require_role(r, {Role::worker});
  const PayoutAccountInput in = payout_account_input(r.json_body());
  if (st.payee_key.empty()) {
    throw http::Problem(503, "not-configured", "Payout accounts are not configured", "CROWD_PII_KEY is not set");
  }
  PayoutAccountRow a;
  a.worker_id = who.party_id;
  a.mode = in.mode;
  a.payee_sealed = crypto::seal(st.payee_key, in.account_no);
  a.payee_masked = domain::mask_account_number(in.account_no);
  a.holder_masked = domain::mask_name(in.holder);
  return db.tx([&](soci::session& s) {
    a.updated_at_ms = clock::now_ms();
    upsert_payout_account(s, a);
    return http::Response::json_of(200, payout_account_json(s, who.party_id));
  });
}

http::Response get_payout_account(db::Database& db, http::Request& r) {
  const auto& who = http::require_role(r, {Role::worker});
  return http::Response::json_of(200, db.with([&](soci::session& s) { return payout_account_json(s, who.party_id); }));
}

// POST /v1/withdrawals {amount} — workers; Idempotency-Key required; at least the minimum.
// POST /v1/refunds {amount} — enterprises: unused available balance back to them.
http::Response money_out(db::Database& db, const PayoutSettings& st, http::Request& r, Role role) {
  const auto& who = http::require_role(r, {role});
  idempotency::Options required;
  required.required = true;
  const std::string route = role == Role::worker ? "POST /v1/withdrawals " : "POST /v1/refunds ";
  const auto key = idempotency::key_of(r, route + who.party_id, required);
  const json body = r.json_body();
  http::Fields f(body);
  const std::int64_t amount = f.money_fen("amount", 1, kMaxFen);
  if (f.ok() && role == Role::worker && amount < st.min_withdrawal_fen) {
    f.fail("amount.amount_fen", "at least " + std::to_string(st.min_withdrawal_fen) + " fen");
  }
  f.done();
  return idempotency::run(
      db, key,
      [&](soci::session& s) {
        const std::string party_kind = role == Role::worker ? "worker" : "enterprise";
        try {
          const auto p = create_payout(s, party_kind, who.party_id, "request", amount, key->key, st);
          return http::Response::json_of(201, payout_json(p));
        } catch (const InsufficientFunds&) {
          const std::string source =
              role == Role::worker ? worker_payable(who.party_id) : enterprise_available(who.party_id);
          throw insufficient("amount.amount_fen", balance_of(s, source));
        }
      },
      required);
}

http::Response post_withdrawal(db::Database& db, const PayoutSettings& st, http::Request& r) {
  http::require_role(r, {Role::worker});
  const bool has_account = db.with([&](soci::session& s) { return payout_account_exists(s, r.principal->party_id); });
  if (!has_account) {
    throw http::Problem(409, "no-payout-account", "No payout account", "set one with PUT /v1/payout-account",
                        {{"payout_account", "required before a withdrawal"}});
  }
  return money_out(db, st, r, Role::worker);
}

json payout_items(const std::vector<PayoutRow>& rows) {
  json items = json::array();
  for (const auto& p : rows) items.push_back(payout_json(p));
  return {{"items", items}};
}

// GET /v1/payouts — the caller's payouts (workers) or refunds (enterprises), newest first (100).
http::Response list_own_payouts(db::Database& db, http::Request& r) {
  const auto& who = http::require_role(r, {Role::worker, Role::enterprise});
  PayoutQuery q;
  q.party_id = who.party_id;
  q.newest_first = true;
  return http::Response::json_of(200, db.with([&](soci::session& s) { return payout_items(list_payouts(s, q)); }));
}

http::Response get_payout(db::Database& db, http::Request& r) {
  const auto& who = http::require_role(r, {Role::worker, Role::enterprise, Role::operator_});
  auto p = db.with([&](soci::session& s) { return find_payout(s, r.param("id")); });
  if (!p || (who.role != Role::operator_ && p->party_id != who.party_id)) throw http::not_found("payout");
  return http::Response::json_of(200, payout_json(*p));
}

// POST /v1/provider/notifications — the provider's signed outcomes. 401 unless the signature and time
// check; a replayed event id is acknowledged (200 "duplicate") and changes nothing.
http::Response post_notification(db::Database& db, const PayoutSettings& st, const std::string& provider_secret,
                                 http::Request& r) {
  if (provider_secret.empty()) throw http::not_found("route");
  const auto verdict = signature::verify_headers(provider_secret, r.headers,
                                                 signature::payload(r.method, r.target, r.body), clock::now_ms());
  if (verdict != signature::Verdict::ok) {
    log::warn("provider notification refused", {{"reason", signature::describe(verdict)}});
    throw http::unauthorized(signature::describe(verdict));
  }
  const json body = r.json_body();
  const std::string result = db.tx([&](soci::session& s) {
    auto out = apply_notification(s, body, st);
    crash_point("settlement.notification.before_commit");
    return out;
  });
  crash_point("settlement.notification.after_commit");
  return http::Response::json_of(200, {{"result", result}});
}

// GET /v1/admin/payouts?status= (parked unless asked) — operators.
http::Response list_admin_payouts(db::Database& db, http::Request& r) {
  http::require_role(r, {Role::operator_});
  PayoutQuery q;
  q.status = r.query_param("status").value_or("parked");
  q.limit = 200;
  return http::Response::json_of(200, db.with([&](soci::session& s) { return payout_items(list_payouts(s, q)); }));
}

http::Response resolve_payout(db::Database& db, Provider* provider, const PayoutSettings& st, http::Request& r) {
  const auto& who = http::require_role(r, {Role::operator_});
  const json body = r.json_body();
  http::Fields f(body);
  const std::string outcome = f.one_of("outcome", {"succeeded", "failed"});
  const std::string note = f.str("note", 1, 500);
  f.done();
  if (!provider) throw http::Problem(503, "not-configured", "No payment provider is configured");
  const auto p = resolve_parked(db, *provider, r.param("id"), outcome, who.party_id, note, st);
  return http::Response::json_of(200, payout_json(p));
}

http::Response post_reconciliation(db::Database& db, Provider* provider, http::Request& r) {
  http::require_role(r, {Role::operator_});
  const json body = r.json_body();
  http::Fields f(body);
  const std::string day = f.str("day", 10, 10);
  if (!clock::parse_rfc3339(day + "T00:00:00+08:00")) f.fail("day", "must be YYYY-MM-DD (China Standard Time)");
  f.done();
  if (!provider) throw http::Problem(503, "not-configured", "No payment provider is configured");
  const auto out = reconcile_day(db, *provider, day);
  if (!out) throw http::Problem(502, "statement-unavailable", "The provider's statement could not be fetched");
  return http::Response::json_of(200, *out);
}

http::Response get_reconciliation(db::Database& db, http::Request& r) {
  http::require_role(r, {Role::operator_});
  const std::string day = r.param("day");
  const auto x = db.with([&](soci::session& s) { return find_reconciliation(s, day); });
  if (!x) throw http::not_found("reconciliation");
  const json mismatches = json::parse(x->mismatches);
  return http::Response::json_of(200, {{"day", day},
                                       {"ran_at", clock::rfc3339(x->ran_at_ms)},
                                       {"statement_sha256", x->statement_sha256},
                                       {"lines", x->lines},
                                       {"matched", x->matched},
                                       {"mismatches", mismatches},
                                       {"ok", mismatches.empty()}});
}

}  // namespace

void add_payout_routes(http::Router& router, db::Database& db, Provider* provider, const PayoutSettings& st,
                       const std::string& provider_secret) {
  if (provider) {
    router.post("/v1/deposits", [&db, provider](http::Request& r) { return post_provider_deposit(db, *provider, r); });
  }
  router.get("/v1/deposits/{id}", [&db](http::Request& r) { return get_deposit(db, r); });
  router.put("/v1/payout-account", [&db, &st](http::Request& r) { return put_payout_account(db, st, r); });
  router.get("/v1/payout-account", [&db](http::Request& r) { return get_payout_account(db, r); });
  router.post("/v1/withdrawals", [&db, &st](http::Request& r) { return post_withdrawal(db, st, r); });
  router.post("/v1/refunds", [&db, &st](http::Request& r) { return money_out(db, st, r, Role::enterprise); });
  router.get("/v1/payouts", [&db](http::Request& r) { return list_own_payouts(db, r); });
  router.get("/v1/payouts/{id}", [&db](http::Request& r) { return get_payout(db, r); });
  router.post("/v1/provider/notifications",
              [&db, &st, provider_secret](http::Request& r) { return post_notification(db, st, provider_secret, r); });
  // Operators.
  router.get("/v1/admin/payouts", [&db](http::Request& r) { return list_admin_payouts(db, r); });
  router.post("/v1/admin/payouts/{id}/resolve",
              [&db, provider, &st](http::Request& r) { return resolve_payout(db, provider, st, r); });
  router.post("/v1/admin/reconciliations",
              [&db, provider](http::Request& r) { return post_reconciliation(db, provider, r); });
  router.get("/v1/admin/reconciliations/{day}", [&db](http::Request& r) { return get_reconciliation(db, r); });
}

int place_pending_deposits(db::Database& db, Provider& provider) {
  const long long now = clock::now_ms();
  const auto ids = db.with([&](soci::session& s) { return unplaced_deposits(s, now - 2000, 50); });
  int placed = 0;
  for (const auto& id : ids) placed += place_deposit(db, provider, id) ? 1 : 0;
  return placed;
}

}  // namespace crowd::settlement
