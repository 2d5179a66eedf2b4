// The double-entry ledger of the settlement service.
//
// Balance convention: every account's balance_fen = Σ credits − Σ debits. A transfer moves money FROM its
// debit_account TO its credit_account: the debit side goes down, the credit side goes up by the same amount,
// so the sum of all balances is zero at every commit. Money enters the platform from external:clearing
// (the outside world), which is the only account allowed to go negative (its balance is minus the money
// held by the platform). Every transfer has a caller-chosen id that is unique forever, so a replay of the
// same effect is a no-op.
//
// Accounts (ids are "{kind}:{owner}:{purpose}"; owner ids never contain ':'):
//   ent:{enterprise_id}:available   an enterprise's money free to fund tasks
//   task:{task_id}:escrow           money held for one task and not reserved by any of its assignments
//   asg:{assignment_id}:reserved    one assignment's share of its task's escrow (two-phase escrow: reserved
//                                   on assignment.created, then posted by acceptance/ruling or voided back)
//   wkr:{worker_id}:payable         net pay owed to a worker
//   wkr:{worker_id}:payout_pending  a payout placed with the provider, outcome not known yet
//   ent:{enterprise_id}:refund_pending  a refund of unused balance placed with the provider
//   platform:fee_revenue            platform service fees earned
//   platform:iit_payable            IIT withheld, owed to the tax bureau
//   external:clearing               the outside world (deposits come from here)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace soci {
class session;
}

namespace crowd::settlement {

inline constexpr const char* kFeeRevenue = "platform:fee_revenue";
inline constexpr const char* kIitPayable = "platform:iit_payable";
inline constexpr const char* kClearing = "external:clearing";

// Account ids. The owner id must be non-empty and free of ':' (std::invalid_argument otherwise).
std::string enterprise_available(const std::string& enterprise_id);
std::string task_escrow(const std::string& task_id);
std::string worker_payable(const std::string& worker_id);
// Money of an order placed with the payment provider whose outcome is not known yet (payouts.hpp).
std::string worker_payout_pending(const std::string& worker_id);
std::string enterprise_refund_pending(const std::string& enterprise_id);
std::string assignment_reserved(const std::string& assignment_id);

// "enterprise_available", "task_escrow", "assignment_reserved", "worker_payable", "platform_fee_revenue",
// "platform_iit_payable", "external_clearing"; nullopt for an id outside the naming scheme.
std::optional<std::string> account_kind(const std::string& account_id);
// Only external:clearing may go negative.
bool may_go_negative(const std::string& account_id);

struct TransferSpec {
  std::string id;
  std::string debit_account;   // money leaves this account
  std::string credit_account;  // money arrives here
  std::int64_t amount_fen = 0;
  std::string currency = "CNY";
  // deposit, escrow_hold, escrow_release, escrow_reserve, escrow_void, settlement_fee, settlement_iit,
  // settlement_net, dispute_refund
  std::string kind;
  std::string ref;                 // the business object it belongs to (deposit id, task id, settlement id, dispute id)
  std::int64_t created_at_ms = 0;  // as stored; transfer() stamps the clock and ignores this field
};

// Pair assertions on a transfer before it is written: nullopt when valid, else what is wrong
// (amount > 0, both accounts known and different, id/kind non-empty, currency CNY).
std::optional<std::string> transfer_problem(const TransferSpec& t);

// Linked transfers that split one amount (a settlement): every leg is valid, every leg leaves `from`,
// and the legs add up to `total_fen` exactly. nullopt when they do.
std::optional<std::string> legs_problem(const std::vector<TransferSpec>& legs, const std::string& from,
                                        std::int64_t total_fen);

// Thrown when a debit would take a non-negative account below zero. The caller's transaction must roll
// back (the transfer row may already be written).
class InsufficientFunds : public std::runtime_error {
 public:
  InsufficientFunds(const std::string& account, std::int64_t amount_fen);
  std::string account;
  std::int64_t amount_fen;
};

enum class Applied { applied, duplicate };

// Writes one transfer and both balance updates inside the caller's open transaction.
// - A transfer id already present with the same accounts and amount: duplicate, nothing changes.
//   Present with different content: std::logic_error (an id must name one effect forever).
// - The debit is a conditional UPDATE (balance_fen >= amount unless the account may go negative); when it
//   matches no row, InsufficientFunds is thrown and the caller's transaction must roll back.
// - An invalid spec (transfer_problem) is a programmer error: std::logic_error.
// Accounts are opened on first use.
Applied transfer(soci::session& s, const TransferSpec& t);
Applied transfer(soci::session& s, const std::string& id, const std::string& from, const std::string& to,
                 std::int64_t amount_fen, const std::string& kind, const std::string& ref);

// Linked legs that split `total_fen` leaving one account (a settlement's fee, IIT and net), written
// together in the caller's open transaction: each leg's row and credit, then one conditional debit of the
// total (the overdraft guard, InsufficientFunds). `after_leg` (may be empty) runs after each leg is written
// (crash points). Legs that fail legs_problem (not all leaving the first leg's account, not adding up to
// total_fen, any invalid leg): std::logic_error, nothing written. A leg id already present:
// Applied::duplicate at once, and the caller's transaction must roll back (earlier legs may be written).
// Accounts are opened on first use.
Applied post_legs(soci::session& s, const std::vector<TransferSpec>& legs, std::int64_t total_fen,
                  const std::function<void(const TransferSpec&)>& after_leg = {});

// Whether a transfer with this id was written (a release or any other effect already applied).
bool transfer_exists(soci::session& s, const std::string& id);

// The balance of an account (0 when it was never opened). Credits to the platform accounts are written
// at the commit of the transaction that made them (ledger.cpp); reading one writes them first.
std::int64_t balance_of(soci::session& s, const std::string& account_id);

// Product of two non-negative amounts, nullopt on overflow.
std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b);

}  // namespace crowd::settlement
