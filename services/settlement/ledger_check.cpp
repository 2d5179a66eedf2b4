#include "services/settlement/ledger_check.hpp"

#include "services/settlement/ledger.hpp"

namespace crowd::settlement {

namespace {

using nlohmann::json;

void violate(CheckResult& c, json v) {
  c.ok = false;
  if (c.violations.size() < kMaxViolations) c.violations.push_back(std::move(v));
}

CheckResult sum_zero(const LedgerSnapshot& snap) {
  CheckResult c{"sum_of_balances_zero", true, "the balances of all accounts add up to 0", json::array()};
  std::int64_t sum = 0;
  for (const auto& a : snap.accounts) sum += a.balance_fen;
  if (sum != 0) violate(c, {{"sum_fen", sum}});
  return c;
}

CheckResult well_formed(const LedgerSnapshot& snap) {
  CheckResult c{"transfers_well_formed", true,
                "every transfer has amount > 0 and two different known accounts (" + std::to_string(snap.transfers) +
                    " transfers)",
                json::array()};
  for (const auto& id : snap.malformed_transfers) violate(c, {{"transfer_id", id}});
  return c;
}

// Stored balances against the balances rebuilt from the transfers: catches any update that bypassed the
// ledger or a transfer written without its balance updates.
CheckResult match_transfers(const LedgerSnapshot& snap) {
  CheckResult c{"balances_match_transfers", true,
                "each stored balance equals its credits minus its debits over all transfers", json::array()};
  std::map<std::string, std::int64_t> stored;
  for (const auto& a : snap.accounts) stored[a.id] = a.balance_fen;
  for (const auto& [id, balance] : stored) {
    const auto it = snap.recomputed_fen.find(id);
    const std::int64_t rebuilt = it == snap.recomputed_fen.end() ? 0 : it->second;
    if (rebuilt != balance) violate(c, {{"account", id}, {"stored_fen", balance}, {"from_transfers_fen", rebuilt}});
  }
  for (const auto& [id, rebuilt] : snap.recomputed_fen) {
    if (!stored.count(id)) violate(c, {{"account", id}, {"stored_fen", nullptr}, {"from_transfers_fen", rebuilt}});
  }
  return c;
}

CheckResult no_negative(const LedgerSnapshot& snap) {
  CheckResult c{"no_negative_balances", true, "no account but external:clearing is below zero", json::array()};
  for (const auto& a : snap.accounts) {
    if (a.balance_fen < 0 && (!a.allow_negative || !may_go_negative(a.id))) {
      violate(c, {{"account", a.id}, {"balance_fen", a.balance_fen}});
    }
  }
  return c;
}

std::int64_t balance_in(const std::map<std::string, std::int64_t>& balances, const std::string& account) {
  const auto it = balances.find(account);
  return it == balances.end() ? 0 : it->second;
}

// With two-phase escrow a task's money still in the platform's hands is split between its escrow account
// (unreserved) and the reservations of its assignments that are still open.
CheckResult escrow_match(const LedgerSnapshot& snap) {
  CheckResult c{"escrow_matches_task", true,
                "each task escrow account plus its open reservations holds held − settled − released", json::array()};
  std::map<std::string, std::int64_t> balances;
  for (const auto& a : snap.accounts) balances[a.id] = a.balance_fen;
  std::map<std::string, std::int64_t> reserved_of_task;
  for (const auto& r : snap.reservations) {
    if (r.status == "reserved") reserved_of_task[r.task_id] += balance_in(balances, r.account_id);
  }
  for (const auto& e : snap.escrows) {
    const std::int64_t expected = e.held_fen - e.settled_fen - e.released_fen;
    const std::int64_t escrow = balance_in(balances, e.account_id);
    const auto it = reserved_of_task.find(e.task_id);
    const std::int64_t reserved = it == reserved_of_task.end() ? 0 : it->second;
    if (escrow + reserved != expected) {
      violate(
          c, {{"task_id", e.task_id}, {"expected_fen", expected}, {"balance_fen", escrow}, {"reserved_fen", reserved}});
    }
  }
  return c;
}

CheckResult reservations_hold(const LedgerSnapshot& snap) {
  CheckResult c{"reservations_hold_their_amount", true,
                "a reserved assignment's account holds its amount, a posted or voided one 0, and every "
                "asg:*:reserved account has its reservation (" +
                    std::to_string(snap.reservations.size()) + " reservations)",
                json::array()};
  std::map<std::string, std::int64_t> balances;
  for (const auto& a : snap.accounts) balances[a.id] = a.balance_fen;
  std::map<std::string, bool> known;
  for (const auto& r : snap.reservations) {
    known[r.account_id] = true;
    const std::int64_t balance = balance_in(balances, r.account_id);
    const bool open = r.status == "reserved";
    const bool valid_status = open || r.status == "posted" || r.status == "voided";
    if (!valid_status || balance != (open ? r.amount_fen : 0)) {
      violate(c, {{"assignment_id", r.assignment_id},
                  {"status", r.status},
                  {"amount_fen", r.amount_fen},
                  {"balance_fen", balance}});
    }
  }
  for (const auto& a : snap.accounts) {
    if (account_kind(a.id) == std::optional<std::string>("assignment_reserved") && !known.count(a.id)) {
      violate(c, {{"account", a.id}, {"balance_fen", a.balance_fen}, {"reservation", nullptr}});
    }
  }
  return c;
}

CheckResult settlement_splits(const LedgerSnapshot& snap) {
  CheckResult c{"settlement_splits_balance", true,
                "amount = fee + worker_gross, worker_gross = iit + net, and the legs add up to the amount",
                json::array()};
  for (const auto& s : snap.settlements) {
    const bool split_ok = s.fee_fen + s.worker_gross_fen == s.amount_fen && s.iit_fen + s.net_fen == s.worker_gross_fen;
    if (!split_ok || s.legs_fen != s.amount_fen) {
      violate(c, {{"settlement_id", s.id}, {"amount_fen", s.amount_fen}, {"legs_fen", s.legs_fen}});
    }
  }
  return c;
}

// Money of a payout in flight sits in the party's pending account until its outcome: so each pending
// account holds exactly its open payouts, and a finished payout left nothing behind.
CheckResult pending_payouts(const LedgerSnapshot& snap) {
  CheckResult c{"pending_matches_open_payouts", true,
                "each payout/refund pending account holds the amount of its payouts not yet succeeded or failed",
                json::array()};
  std::map<std::string, std::int64_t> pending;
  for (const auto& a : snap.accounts) {
    const auto kind = account_kind(a.id);
    if (kind && (*kind == "worker_payout_pending" || *kind == "enterprise_refund_pending"))
      pending[a.id] = a.balance_fen;
  }
  for (const auto& [id, open] : snap.open_payouts_fen) pending.emplace(id, 0);
  for (const auto& [id, balance] : pending) {
    const auto it = snap.open_payouts_fen.find(id);
    const std::int64_t open = it == snap.open_payouts_fen.end() ? 0 : it->second;
    if (open != balance) violate(c, {{"account", id}, {"balance_fen", balance}, {"open_payouts_fen", open}});
  }
  return c;
}

}  // namespace

std::vector<CheckResult> check_ledger(const LedgerSnapshot& snap) {
  return {sum_zero(snap),     well_formed(snap),       match_transfers(snap),   no_negative(snap),
          escrow_match(snap), settlement_splits(snap), reservations_hold(snap), pending_payouts(snap)};
}

nlohmann::json to_json(const std::vector<CheckResult>& checks) {
  json out{{"ok", true}, {"checks", json::array()}};
  for (const auto& c : checks) {
    if (!c.ok) out["ok"] = false;
    out["checks"].push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}, {"violations", c.violations}});
  }
  return out;
}

}  // namespace crowd::settlement
