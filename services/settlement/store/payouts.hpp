// The SQL of money out of and into the platform through the provider (payouts.hpp for the machine): payouts
// and their attempts, payout accounts, provider notifications seen, provider deposits, stored
// reconciliations. Rows in, typed values out; every function runs in the caller's session/transaction.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace crowd::settlement {

// A payouts row (004_payouts.sql). status is the database's word (payouts_machine.hpp parses it).
struct PayoutRow {
  std::string id, party_kind, party_id, origin, currency = "CNY", status, current_ref, provider_ref, last_error,
                                                resolution;
  std::int64_t amount_fen = 0;
  int attempts = 0, max_attempts = 0;
  std::optional<std::int64_t> next_attempt_at_ms;
  std::int64_t created_at_ms = 0, updated_at_ms = 0;
};

std::optional<PayoutRow> find_payout(soci::session& s, const std::string& id);
// Payouts of a party and/or in a status (empty: any), created in [from_ms, to_ms), oldest first unless
// newest_first, at most limit.
struct PayoutQuery {
  std::string party_id;
  std::string status;
  std::int64_t from_ms = 0;
  std::int64_t to_ms = std::numeric_limits<std::int64_t>::max();
  bool newest_first = false;
  int limit = 100;
};
std::vector<PayoutRow> list_payouts(soci::session& s, const PayoutQuery& q);

// The due sets of the payout machine: payouts in `status` whose next attempt (or last update) is at most
// `before_ms`, oldest first, at most `limit`.
enum class DueBy { next_attempt, last_update };
std::vector<PayoutRow> due_payouts(soci::session& s, const std::string& status, DueBy by, std::int64_t before_ms,
                                   int limit);

// Inserts a new payout row (p.status pending, p.next_attempt_at_ms its first attempt); key: its
// Idempotency-Key, if any.
void insert_payout(soci::session& s, const PayoutRow& p, const std::optional<std::string>& key);
// Moves payout p from `from` to `to` only if it is still in `from` with p.attempts attempts (the optimistic
// guard of every step); false when another step got there first.
bool advance_payout(soci::session& s, const PayoutRow& p, const std::string& from, const std::string& to,
                    const std::string& error, std::optional<std::int64_t> next_at);
// Claims attempt n (merchant_ref ref) of a pending payout p (still at p.attempts): the payout becomes
// submitting and the attempt is recorded. False when another placer claimed it first (nothing written).
bool claim_attempt(soci::session& s, const PayoutRow& p, int n, const std::string& ref, std::int64_t now_ms);
void set_payout_provider_ref(soci::session& s, const std::string& payout_id, const std::string& provider_ref);
void set_payout_next_attempt(soci::session& s, const std::string& payout_id, std::int64_t next_at_ms);
void set_payout_resolution(soci::session& s, const std::string& payout_id, const std::string& resolution);
// No further attempt: max_attempts = attempts.
void exhaust_payout_attempts(soci::session& s, const std::string& payout_id);

// An attempt's status and error (provider_ref kept when the new one is empty).
void set_attempt(soci::session& s, const std::string& merchant_ref, const std::string& status,
                 const std::string& provider_ref, const std::string& error);
// The payout an attempt belongs to, if that merchant_ref is ours.
std::optional<std::string> payout_of_attempt(soci::session& s, const std::string& merchant_ref);

// Payout accounts (PUT /v1/payout-account).
struct PayoutAccountRow {
  std::string worker_id, mode, payee_sealed, payee_masked, holder_masked, blocked_reason;
  std::int64_t updated_at_ms = 0;
};
// Inserts or replaces a worker's account (a new account clears a block left by a returned payout).
void upsert_payout_account(soci::session& s, const PayoutAccountRow& a);
// The account without its sealed payee (payee_sealed left empty).
std::optional<PayoutAccountRow> find_payout_account(soci::session& s, const std::string& worker_id);
bool payout_account_exists(soci::session& s, const std::string& worker_id);
std::optional<std::string> sealed_payee(soci::session& s, const std::string& worker_id);
void block_payout_account(soci::session& s, const std::string& worker_id, const std::string& reason);
// Workers paid automatically, not blocked, with a payable of at least min_fen and no payout under way.
std::vector<std::string> auto_payout_candidates(soci::session& s, std::int64_t min_fen, int limit);

// Provider notifications by event id: false when this event id was recorded before.
bool record_provider_event(soci::session& s, const std::string& event_id, const std::string& type,
                           const std::string& merchant_ref, std::int64_t now_ms);
void set_provider_event_outcome(soci::session& s, const std::string& event_id, const std::string& outcome);

// Deposits as the provider path sees them (insert_deposit of store.hpp writes them).
struct ProviderDeposit {
  std::string id, enterprise_id, provider, status, transfer_id;
  std::int64_t amount_fen = 0, created_at_ms = 0;
  std::optional<std::string> provider_ref, pay_url;
};
std::optional<ProviderDeposit> find_provider_deposit(soci::session& s, const std::string& id);
// Pending deposits not placed yet (no provider_ref) created before before_ms, oldest first.
std::vector<std::string> unplaced_deposits(soci::session& s, std::int64_t before_ms, int limit);
void set_deposit_placed(soci::session& s, const std::string& id, const std::string& provider_ref,
                        const std::string& pay_url);
// A pending deposit's outcome (completed | failed); nothing when it is no longer pending.
void end_pending_deposit(soci::session& s, const std::string& id, const std::string& status,
                         const std::string& provider_ref, std::int64_t now_ms);
// The provider refused a pending deposit for good.
void fail_pending_deposit(soci::session& s, const std::string& id, std::int64_t now_ms);

// A stored reconciliation (reconcile.hpp writes them, store/reports.hpp saves them).
struct ReconciliationRow {
  std::string day;  // YYYY-MM-DD, CST
  std::int64_t ran_at_ms = 0;
  std::string statement_sha256;
  int lines = 0;
  int matched = 0;
  std::string mismatches;  // JSON array
};
std::optional<ReconciliationRow> find_reconciliation(soci::session& s, const std::string& day);

}  // namespace crowd::settlement
