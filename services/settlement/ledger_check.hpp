// Invariants of the whole ledger, checked on read (GET /v1/admin/settlement/check). The loader in
// store/money.cpp reads a snapshot inside one transaction; the checks below are pure.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crowd::settlement {

struct LedgerSnapshot {
  struct Account {
    std::string id;
    bool allow_negative = false;
    std::int64_t balance_fen = 0;
  };
  struct Escrow {
    std::string task_id;
    std::string account_id;
    std::int64_t held_fen = 0;
    std::int64_t settled_fen = 0;
    std::int64_t released_fen = 0;
  };
  struct Settlement {
    std::string id;
    std::int64_t amount_fen = 0;
    std::int64_t fee_fen = 0;
    std::int64_t worker_gross_fen = 0;
    std::int64_t iit_fen = 0;
    std::int64_t net_fen = 0;
    std::int64_t legs_fen = 0;  // sum of the transfers whose ref is this settlement
  };
  // 003: one assignment's share of its task's escrow (rules.hpp, two-phase escrow).
  struct Reservation {
    std::string assignment_id;
    std::string task_id;
    std::string account_id;
    std::string status;  // reserved | posted | voided
    std::int64_t amount_fen = 0;
  };
  std::vector<Account> accounts;
  std::map<std::string, std::int64_t> recomputed_fen;  // per account: Σ credits − Σ debits over transfers
  std::int64_t transfers = 0;
  std::vector<std::string> malformed_transfers;  // amount <= 0 or debit = credit or unknown account
  std::vector<Escrow> escrows;
  std::vector<Settlement> settlements;
  std::vector<Reservation> reservations;
  // Per payout/refund pending account: the amount of its payouts whose outcome is not final (pending,
  // submitting, submitted, parked).
  std::map<std::string, std::int64_t> open_payouts_fen;
};

struct CheckResult {
  std::string name;
  bool ok = true;
  std::string detail;
  nlohmann::json violations = nlohmann::json::array();  // at most kMaxViolations entries
};

inline constexpr std::size_t kMaxViolations = 50;

// sum_of_balances_zero, transfers_well_formed, balances_match_transfers, no_negative_balances,
// escrow_matches_task (task escrow + its open reservations = held − settled − released),
// settlement_splits_balance, reservations_hold_their_amount (reserved: the account holds amount_fen;
// posted/voided: 0; no asg:*:reserved account without its reservation), pending_matches_open_payouts.
std::vector<CheckResult> check_ledger(const LedgerSnapshot& snap);

nlohmann::json to_json(const std::vector<CheckResult>& checks);  // {ok, checks: [{name, ok, detail, violations}]}

}  // namespace crowd::settlement
