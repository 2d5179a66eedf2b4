// settlement's SQL for its reports: what the daily reconciliation reads and stores (reconcile.cpp) and the
// period figures of a statement (statements.cpp). Rows in, typed values out.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"
#include "services/settlement/store/payouts.hpp"

namespace soci {
class session;
}

namespace crowd::settlement {

// --- Reconciliation ---

// A deposit as reconciliation compares it with the provider's statement.
struct DepositOutcome {
  std::int64_t amount_fen = 0;
  std::string status;
  std::string provider;  // "instant": credited in process, never through the provider
};
std::optional<DepositOutcome> find_deposit_outcome(soci::session& s, const std::string& deposit_id);

// A transfer the provider's statement should show: a payout sent or returned, or a deposit.
struct ProviderMovement {
  std::string ref;
  std::string kind;  // payout_sent | payout_returned | deposit
  std::int64_t amount_fen = 0;
};
// The ledger's provider movements created in [from_ms, to_ms).
std::vector<ProviderMovement> provider_movements(soci::session& s, std::int64_t from_ms, std::int64_t to_ms);

// One row per day (ReconciliationRow: store/payouts.hpp): a second run of the day replaces the first.
void save_reconciliation(soci::session& s, const ReconciliationRow& r);

// --- A statement's period figures ---

// Which side of a transfer an account is on: debit (money leaves it) or credit (money arrives).
enum class TransferSide { debit, credit };
// Σ amount of the transfers of `kind` created in the period with `account` on `side`.
std::int64_t transfers_total(soci::session& s, const std::string& kind, TransferSide side, const std::string& account,
                             const Period& p);

// An enterprise's settlements in the period (settled_at_ms): how many, the price of the work, the fees.
struct SettledTotals {
  std::int64_t count = 0;
  std::int64_t amount_fen = 0;
  std::int64_t fee_fen = 0;
};
SettledTotals enterprise_settled(soci::session& s, const std::string& enterprise_id, const Period& p);

// A worker's settlements in the period: how many, gross pay, IIT withheld, net pay.
struct EarnedTotals {
  std::int64_t count = 0;
  std::int64_t gross_fen = 0;
  std::int64_t iit_fen = 0;
  std::int64_t net_fen = 0;
};
EarnedTotals worker_earned(soci::session& s, const std::string& worker_id, const Period& p);

// The e-invoices issued to an enterprise in the period, by issue time then id.
std::vector<InvoiceSeen> invoices_seen_in(soci::session& s, const std::string& enterprise_id, const Period& p);

}  // namespace crowd::settlement
