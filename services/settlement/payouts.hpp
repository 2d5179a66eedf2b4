// Money out of and into the platform through the payment provider (provider.hpp).
//
// Payouts (workers) and refunds (enterprises) are one machine, a "payout" row with party_kind worker or
// enterprise (004_payouts.sql):
//   create   in one transaction: the row (pending) and the transfer po:{id}:hold from the source account
//            (wkr payable / ent available) to the pending account (wkr payout_pending / ent refund_pending).
//            The conditional debit of the ledger is the guard: two racing withdrawals cannot overdraw.
//   attempt  n = attempts + 1 is recorded (status submitting, merchant_ref "{id}-{n}") and committed BEFORE
//            the provider is called; then the call; then its answer in a second transaction:
//              accepted → submitted (the notification decides);
//              rejected (the provider refused it, or the request never left) → the attempt failed: retried
//                       with exponential backoff up to max_attempts, then failed (po:{id}:back, money back);
//              unknown  (timeout, 5xx, cut connection) → parked: never placed again; the provider's signed
//                       notification, reconciliation or an operator decides.
//            A crash between the two transactions leaves "submitting": recovery asks the provider about that
//            merchant_ref (found → adopt its answer; not found → place the same merchant_ref again).
//   outcome  signed notifications (or a status query when one is overdue): succeeded → po:{id}:sent to
//            external:clearing; failed → retry or back; returned (after success) → po:{id}:returned from
//            external:clearing to the source account (and a worker's automatic payouts stop until the
//            account is updated). Every step is conditional on the state it expects, so a late, repeated or
//            contradictory message changes nothing (a contradiction is logged and left for reconciliation).
// Deposits: POST /v1/deposits places a deposit order; the provider's deposit.succeeded credits
// dep:{enterprise}:{key} from external:clearing.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/db.hpp"
#include "common/http.hpp"
#include "services/settlement/provider.hpp"
#include "services/settlement/store/payouts.hpp"

namespace crowd::settlement {

struct PayoutSettings {
  std::int64_t min_withdrawal_fen = 1000;  // CROWD_PAYOUT_MIN_FEN: withdrawals and automatic payouts
  int max_attempts = 4;                    // CROWD_PAYOUT_MAX_ATTEMPTS
  std::int64_t backoff_base_ms = 2000;     // CROWD_PAYOUT_BACKOFF_MS: 2 s, 4 s, 8 s ... (capped)
  std::int64_t backoff_max_ms = 300'000;
  std::int64_t query_after_ms = 60'000;    // CROWD_PAYOUT_QUERY_AFTER_MS: submitted without news → query
  std::int64_t recover_after_ms = 10'000;  // a "submitting" attempt this old was interrupted by a crash
  std::string payee_key;                   // 32 raw bytes (CROWD_PAYEE_KEY, else CROWD_PII_KEY) sealing payee accounts
  static PayoutSettings from_env();
};

// PayoutRow, find_payout, list_payouts and the rest of the SQL: store/payouts.hpp; the transitions:
// payouts_machine.hpp.
nlohmann::json payout_json(const PayoutRow& p);

// The accounts a payout moves money between.
std::string payout_source(const PayoutRow& p);
std::string payout_pending(const PayoutRow& p);

// Creates a payout in the caller's transaction (throws InsufficientFunds when the source is short).
PayoutRow create_payout(soci::session& s, const std::string& party_kind, const std::string& party_id,
                        const std::string& origin, std::int64_t amount_fen, const std::optional<std::string>& key,
                        const PayoutSettings& settings);

// The payee of a worker (opened from its sealed form) or of an enterprise (its refund account: the
// sandbox pays back to the enterprise id). Throws http::Problem 409 when a worker has no payout account.
std::string payee_of(soci::session& s, const PayoutRow& p, const PayoutSettings& settings);

// One pass of the payout machine: places due attempts, recovers interrupted ones, queries overdue ones.
// Returns how many payouts it touched.
int run_payouts(db::Database& db, Provider& provider, const PayoutSettings& settings);
// Creates automatic payouts of workers whose payable reached the minimum; returns how many.
int run_auto_payouts(db::Database& db, const PayoutSettings& settings);

// A provider notification's effect (after its signature was checked), in the caller's transaction:
// "applied", "duplicate" (this event id was applied before), "ignored" (nothing to do in this state) or
// "conflict" (it contradicts the ledger: logged, nothing moved, reconciliation lists it).
std::string apply_notification(soci::session& s, const nlohmann::json& body, const PayoutSettings& settings);

// Operator: resolves a parked payout after checking the provider's own record of its current attempt.
// outcome "succeeded" | "failed". Throws http::Problem (409 when the provider says otherwise or the payout
// is not parked, 503 when the provider cannot be asked).
PayoutRow resolve_parked(db::Database& db, Provider& provider, const std::string& payout_id, const std::string& outcome,
                         const std::string& operator_id, const std::string& note, const PayoutSettings& settings);

}  // namespace crowd::settlement
