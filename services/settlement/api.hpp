// HTTP endpoints of settlement. Each is a plain function over the service's database so tests can call it
// without a server; add_routes() binds them to the router.
#pragma once

#include "common/db.hpp"
#include "common/http.hpp"
#include "common/idempotency.hpp"
#include "services/settlement/payouts.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

http::Response post_deposit(db::Database& db, http::Request& req);  // POST /v1/deposits

// What a POST /v1/deposits asks for, checked (role, required Idempotency-Key, amount) before anything is
// written; both deposit paths (instant and through the provider) start here.
struct DepositInput {
  std::string enterprise_id;
  idempotency::Key key;
  idempotency::Options options;
  std::int64_t amount_fen = 0;
};
DepositInput deposit_input(http::Request& req);
http::Response get_my_balance(db::Database& db, http::Request& req);       // GET /v1/balances/me
http::Response get_my_statement(db::Database& db, http::Request& req);     // GET /v1/statements/me?period=
http::Response get_settlement(db::Database& db, http::Request& req);       // GET /v1/settlements/{id}
http::Response list_settlements(db::Database& db, http::Request& req);     // GET /v1/settlements?task_id=
http::Response get_ledger_check(db::Database& db, http::Request& req);     // GET /v1/admin/settlement/check
http::Response get_net_pay_preview(db::Database& db, http::Request& req);  // GET /v1/offers/{id}/net-pay-preview
http::Response get_fee_quote(http::Request& req);  // GET /v1/fees/quote?category=&amount_fen=[&units=]
http::Response get_fee_rules(http::Request& req);  // GET /v1/fees/rules

// What the preview's figures rest on (its "basis" member).
inline constexpr const char* kPreviewBasis = "current tax state; later payments this month change it";
// Who bears the platform fee, as the fee quote and the fee rules say it.
inline constexpr const char* kFeeExplanation =
    "The enterprise pays the posted price and nothing more: it is escrowed when the task is funded. The platform "
    "fee is deducted from that price when a unit is settled (each unit of a task settles, and is charged, on its "
    "own), so the worker bears it: the worker's gross pay is price - fee, and IIT is withheld from the gross. "
    "fee = amount x rate_bp / 10000 rounded half up, at least min_fen, never more than max_share_bp / 10000 of "
    "the amount (rounded down; cap.applied says when the cap lowered the fee).";

// instant_deposits: POST /v1/deposits credits at once (no provider configured: development and unit tests);
// otherwise add_payout_routes() binds it to the provider.
void add_routes(http::Router& router, db::Database& db, bool instant_deposits = true);

// api_payouts.cpp: payout account, withdrawals, refunds, payouts, deposits through the provider (when
// provider is set), the provider's notifications, operator resolution and reconciliation.
void add_payout_routes(http::Router& router, db::Database& db, Provider* provider, const PayoutSettings& settings,
                       const std::string& provider_secret);
// Places deposits recorded while the provider could not be reached; returns how many were placed.
int place_pending_deposits(db::Database& db, Provider& provider);

// A settlement as the API shows it. with_tax (the worker, operators) adds iit, net, the tax month and the
// IIT computation; the enterprise sees the price, the platform fee and the worker's gross only.
nlohmann::json settlement_json(const SettlementRecord& r, bool with_tax);

// Runs fn in a transaction that reads one consistent snapshot (REPEATABLE READ on PostgreSQL; SQLite's
// write transaction already is one), for endpoints that add up several queries.
template <class F>
auto read_consistent(db::Database& db, F&& fn) {
  return db.read([&](soci::session& s) { return fn(s); });
}

}  // namespace crowd::settlement
