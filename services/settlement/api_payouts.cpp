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
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT id, enterprise_id, amount_fen, provider, status, transfer_id, created_at_ms, "
                    "provider_ref, pay_url FROM deposits WHERE id = :id",
       soci::use(id));
  for (const auto& r : rows) {
    json j{{"deposit_id", db::get_str(r, 0)},
           {"enterprise_id", db::get_str(r, 1)},
           {"amount", crowd::money::to_json(db::get_i64(r, 2))},
           {"provider", db::get_str(r, 3)},
           {"status", db::get_str(r, 4)},
           {"transfer_id", db::get_str(r, 5)},
           {"created_at", clock::rfc3339(db::get_i64(r, 6))}};
    if (r.get_indicator(7) != soci::i_null) j["provider_ref"] = db::get_str(r, 7);
    if (r.get_indicator(8) != soci::i_null) j["pay_url"] = db::get_str(r, 8);
    return j;
  }
  throw http::not_found("deposit");
}

// Places a pending deposit with the provider (merchant_ref = deposit id: placing again is safe) and keeps
// its answer. Returns false when it could not be placed now (the payout job tries again).
bool place_deposit(db::Database& db, Provider& provider, const std::string& id) {
  ProviderOrder o;
  o.merchant_ref = id;
  o.kind = "deposit";
  const bool pending = db.with([&](soci::session& s) {
    soci::rowset<soci::row> rows =
        (s.prepare << "SELECT enterprise_id, amount_fen FROM deposits WHERE id = :id AND status = 'pending'",
         soci::use(id));
    for (const auto& r : rows) {
      o.payee = "enterprise:" + db::get_str(r, 0);
      o.amount_fen = db::get_i64(r, 1);
      return true;
    }
    return false;
  });
  if (!pending) return false;
  const PlaceResult r = provider.place(o);
  if (r.outcome != PlaceResult::Outcome::accepted) {
    log::warn("deposit not placed yet", {{"deposit_id", id}, {"error", r.error}});
    if (r.outcome == PlaceResult::Outcome::rejected && r.error.rfind("not sent", 0) != 0) {
      db.tx([&](soci::session& s) {
        const long long now = clock::now_ms();
        s << "UPDATE deposits SET status = 'failed', updated_at_ms = :n WHERE id = :id AND status = 'pending'",
            soci::use(now), soci::use(id);
      });
    }
    return false;
  }
  db.tx([&](soci::session& s) {
    s << "UPDATE deposits SET provider_ref = :p, pay_url = :u WHERE id = :id", soci::use(r.provider_ref),
        soci::use(r.pay_url), soci::use(id);
  });
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

json payout_account_json(soci::session& s, const std::string& worker_id) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT mode, payee_masked, holder_masked, blocked_reason, updated_at_ms FROM payout_accounts "
                    "WHERE worker_id = :w",
       soci::use(worker_id));
  for (const auto& r : rows) {
    json j{{"worker_id", worker_id},
           {"mode", db::get_str(r, 0)},
           {"payee", {{"account_no", db::get_str(r, 1)}, {"holder_name", db::get_str(r, 2)}}},
           {"updated_at", clock::rfc3339(db::get_i64(r, 4))}};
    if (!db::get_str(r, 3).empty()) j["blocked_reason"] = db::get_str(r, 3);
    return j;
  }
  throw http::not_found("payout account");
}

}  // namespace

void add_payout_routes(http::Router& router, db::Database& db, Provider* provider, const PayoutSettings& st,
                       const std::string& provider_secret) {
  if (provider) {
    router.post("/v1/deposits", [&db, provider](http::Request& r) { return post_provider_deposit(db, *provider, r); });
  }
  router.get("/v1/deposits/{id}", [&db](http::Request& r) {
    const auto& who = http::require_role(r, {Role::enterprise, Role::operator_});
    const json j = db.with([&](soci::session& s) { return deposit_json(s, r.param("id")); });
    if (who.role == Role::enterprise && j.value("enterprise_id", "") != who.party_id) throw http::not_found("deposit");
    return http::Response::json_of(200, j);
  });

  // PUT /v1/payout-account {mode: auto|on_request, payee: {account_no: 8..32 digits, holder_name}} — workers.
  router.put("/v1/payout-account", [&db, &st](http::Request& r) {
    const auto& who = http::require_role(r, {Role::worker});
    const json body = r.json_body();
    http::Fields f(body);
    const std::string mode = f.one_of("mode", {"auto", "on_request"});
    std::string account_no, holder;
    if (auto payee = f.opt_object("payee")) {
      http::Fields pf(*payee, "payee");
      account_no = pf.str("account_no", 8, 32);
      holder = pf.str("holder_name", 1, 60);
      for (char c : account_no) {
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
    if (st.payee_key.empty()) {
      throw http::Problem(503, "not-configured", "Payout accounts are not configured", "CROWD_PII_KEY is not set");
    }
    const std::string sealed = crypto::seal(st.payee_key, account_no);
    const std::string masked = domain::mask_account_number(account_no), holder_masked = domain::mask_name(holder);
    return db.tx([&](soci::session& s) {
      const long long now = clock::now_ms();
      // A new account clears a block left by a returned payout.
      s << "INSERT INTO payout_accounts (worker_id, mode, payee_sealed, payee_masked, holder_masked, blocked_reason, "
           "updated_at_ms) VALUES (:w, :m, :p, :pm, :hm, '', :now) ON CONFLICT (worker_id) DO UPDATE SET "
           "mode = excluded.mode, payee_sealed = excluded.payee_sealed, payee_masked = excluded.payee_masked, "
           "holder_masked = excluded.holder_masked, blocked_reason = '', updated_at_ms = excluded.updated_at_ms",
          soci::use(who.party_id), soci::use(mode), soci::use(sealed), soci::use(masked), soci::use(holder_masked),
          soci::use(now);
      return http::Response::json_of(200, payout_account_json(s, who.party_id));
    });
  });
  router.get("/v1/payout-account", [&db](http::Request& r) {
    const auto& who = http::require_role(r, {Role::worker});
    return http::Response::json_of(200,
                                   db.with([&](soci::session& s) { return payout_account_json(s, who.party_id); }));
  });

  // POST /v1/withdrawals {amount} — workers; Idempotency-Key required; at least the minimum.
  // POST /v1/refunds {amount} — enterprises: unused available balance back to them.
  auto money_out = [&db, &st](http::Request& r, Role role) {
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
  };
  router.post("/v1/withdrawals", [money_out, &db](http::Request& r) {
    http::require_role(r, {Role::worker});
    const bool has_account = db.with([&](soci::session& s) {
      soci::rowset<soci::row> rows =
          (s.prepare << "SELECT 1 FROM payout_accounts WHERE worker_id = :w", soci::use(r.principal->party_id));
      return rows.begin() != rows.end();
    });
    if (!has_account) {
      throw http::Problem(409, "no-payout-account", "No payout account", "set one with PUT /v1/payout-account",
                          {{"payout_account", "required before a withdrawal"}});
    }
    return money_out(r, Role::worker);
  });
  router.post("/v1/refunds", [money_out](http::Request& r) { return money_out(r, Role::enterprise); });

  // GET /v1/payouts — the caller's payouts (workers) or refunds (enterprises), newest first (100).
  router.get("/v1/payouts", [&db](http::Request& r) {
    const auto& who = http::require_role(r, {Role::worker, Role::enterprise});
    return db.with([&](soci::session& s) {
      PayoutQuery q;
      q.party_id = who.party_id;
      q.newest_first = true;
      json items = json::array();
      for (const auto& p : list_payouts(s, q)) items.push_back(payout_json(p));
      return http::Response::json_of(200, {{"items", items}});
    });
  });
  router.get("/v1/payouts/{id}", [&db](http::Request& r) {
    const auto& who = http::require_role(r, {Role::worker, Role::enterprise, Role::operator_});
    auto p = db.with([&](soci::session& s) { return find_payout(s, r.param("id")); });
    if (!p || (who.role != Role::operator_ && p->party_id != who.party_id)) throw http::not_found("payout");
    return http::Response::json_of(200, payout_json(*p));
  });

  // POST /v1/provider/notifications — the provider's signed outcomes. 401 unless the signature and time
  // check; a replayed event id is acknowledged (200 "duplicate") and changes nothing.
  router.post("/v1/provider/notifications", [&db, &st, provider_secret](http::Request& r) {
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
  });

  // Operators.
  router.get("/v1/admin/payouts", [&db](http::Request& r) {
    http::require_role(r, {Role::operator_});
    const std::string status = r.query_param("status").value_or("parked");
    return db.with([&](soci::session& s) {
      PayoutQuery q;
      q.status = status;
      q.limit = 200;
      json items = json::array();
      for (const auto& p : list_payouts(s, q)) items.push_back(payout_json(p));
      return http::Response::json_of(200, {{"items", items}});
    });
  });
  router.post("/v1/admin/payouts/{id}/resolve", [&db, provider, &st](http::Request& r) {
    const auto& who = http::require_role(r, {Role::operator_});
    const json body = r.json_body();
    http::Fields f(body);
    const std::string outcome = f.one_of("outcome", {"succeeded", "failed"});
    const std::string note = f.str("note", 1, 500);
    f.done();
    if (!provider) throw http::Problem(503, "not-configured", "No payment provider is configured");
    const auto p = resolve_parked(db, *provider, r.param("id"), outcome, who.party_id, note, st);
    return http::Response::json_of(200, payout_json(p));
  });
  router.post("/v1/admin/reconciliations", [&db, provider](http::Request& r) {
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
  });
  router.get("/v1/admin/reconciliations/{day}", [&db](http::Request& r) {
    http::require_role(r, {Role::operator_});
    return db.with([&](soci::session& s) {
      const std::string day = r.param("day");
      soci::rowset<soci::row> rows =
          (s.prepare << "SELECT ran_at_ms, statement_sha256, lines, matched, mismatches FROM reconciliations "
                        "WHERE day = :d",
           soci::use(day));
      for (const auto& row : rows) {
        const json mismatches = json::parse(db::get_str(row, 4));
        return http::Response::json_of(200, {{"day", day},
                                             {"ran_at", clock::rfc3339(db::get_i64(row, 0))},
                                             {"statement_sha256", db::get_str(row, 1)},
                                             {"lines", db::get_i64(row, 2)},
                                             {"matched", db::get_i64(row, 3)},
                                             {"mismatches", mismatches},
                                             {"ok", mismatches.empty()}});
      }
      throw http::not_found("reconciliation");
    });
  });
}

int place_pending_deposits(db::Database& db, Provider& provider) {
  const long long now = clock::now_ms();
  const auto ids = db.with([&](soci::session& s) {
    std::vector<std::string> out;
    soci::rowset<soci::row> rows =
        (s.prepare
             << "SELECT id FROM deposits WHERE status = 'pending' AND provider_ref IS NULL AND created_at_ms < :t "
                "ORDER BY created_at_ms LIMIT 50",
         soci::use(now - 2000));
    for (const auto& r : rows) out.push_back(db::get_str(r, 0));
    return out;
  });
  int placed = 0;
  for (const auto& id : ids) placed += place_deposit(db, provider, id) ? 1 : 0;
  return placed;
}

}  // namespace crowd::settlement
