#include "services/settlement/ledger_check.hpp"

#include <doctest/doctest.h>

using namespace crowd::settlement;

namespace {

// A consistent ledger: 1000 deposited, 600 held for tsk_1, of which 300 settled (30 fee, 270 net).
LedgerSnapshot healthy() {
  LedgerSnapshot s;
  s.accounts = {{"external:clearing", true, -1'000},
                {"ent:ent_1:available", false, 400},
                {"task:tsk_1:escrow", false, 300},
                {"platform:fee_revenue", false, 30},
                {"wkr:wkr_1:payable", false, 270}};
  for (const auto& a : s.accounts) s.recomputed_fen[a.id] = a.balance_fen;
  s.transfers = 4;
  s.escrows = {{"tsk_1", "task:tsk_1:escrow", 600, 300, 0}};
  s.settlements = {{"stl_1", 300, 30, 270, 0, 270, 300}};
  return s;
}

const CheckResult& named(const std::vector<CheckResult>& checks, const std::string& name) {
  for (const auto& c : checks) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no check " + name);
}

}  // namespace

TEST_CASE("a consistent ledger passes every check") {
  const auto checks = check_ledger(healthy());
  CHECK(checks.size() == 8);
  for (const auto& c : checks) CHECK_MESSAGE(c.ok, c.name);
  CHECK(to_json(checks)["ok"] == true);
}

TEST_CASE("balances that do not add up to zero are reported") {
  auto s = healthy();
  s.accounts[1].balance_fen += 1;
  const auto checks = check_ledger(s);
  CHECK_FALSE(named(checks, "sum_of_balances_zero").ok);
  CHECK_FALSE(named(checks, "balances_match_transfers").ok);
  CHECK(to_json(checks)["ok"] == false);
}

TEST_CASE("a negative account other than clearing is reported") {
  auto s = healthy();
  s.accounts[1].balance_fen = -5;
  s.accounts[0].balance_fen = -595;
  s.recomputed_fen.clear();
  for (const auto& a : s.accounts) s.recomputed_fen[a.id] = a.balance_fen;
  const auto checks = check_ledger(s);
  CHECK(named(checks, "sum_of_balances_zero").ok);
  CHECK_FALSE(named(checks, "no_negative_balances").ok);
  CHECK(named(checks, "no_negative_balances").violations[0]["account"] == "ent:ent_1:available");
}

TEST_CASE("an escrow whose balance differs from held − settled − released is reported") {
  auto s = healthy();
  s.escrows[0].released_fen = 100;
  CHECK_FALSE(named(check_ledger(s), "escrow_matches_task").ok);
}

TEST_CASE("a transfer account missing from accounts and malformed transfers are reported") {
  auto s = healthy();
  s.recomputed_fen["platform:iit_payable"] = 7;
  s.malformed_transfers = {"bad:1"};
  const auto checks = check_ledger(s);
  CHECK_FALSE(named(checks, "balances_match_transfers").ok);
  CHECK_FALSE(named(checks, "transfers_well_formed").ok);
}

TEST_CASE("a settlement whose legs or split do not balance is reported") {
  auto s = healthy();
  s.settlements[0].legs_fen = 299;
  CHECK_FALSE(named(check_ledger(s), "settlement_splits_balance").ok);
  s = healthy();
  s.settlements[0].net_fen = 260;
  CHECK_FALSE(named(check_ledger(s), "settlement_splits_balance").ok);
}

TEST_CASE("violations are capped") {
  auto s = healthy();
  for (int i = 0; i < 200; ++i) s.malformed_transfers.push_back("bad:" + std::to_string(i));
  CHECK(named(check_ledger(s), "transfers_well_formed").violations.size() == kMaxViolations);
}

TEST_CASE("a payout pending account must hold exactly its open payouts") {
  LedgerSnapshot s = healthy();
  // 100 of the worker's 270 is in flight with the provider.
  s.accounts[4].balance_fen = 170;
  s.accounts.push_back({"wkr:wkr_1:payout_pending", false, 100});
  for (const auto& a : s.accounts) s.recomputed_fen[a.id] = a.balance_fen;
  s.open_payouts_fen["wkr:wkr_1:payout_pending"] = 100;
  CHECK(named(check_ledger(s), "pending_matches_open_payouts").ok);
  // The payout succeeded but its money stayed (or a payout is open with no money behind it).
  s.open_payouts_fen.clear();
  const auto stuck = named(check_ledger(s), "pending_matches_open_payouts");
  CHECK_FALSE(stuck.ok);
  CHECK(stuck.violations[0]["account"] == "wkr:wkr_1:payout_pending");
  s.open_payouts_fen["ent:ent_1:refund_pending"] = 50;
  s.open_payouts_fen["wkr:wkr_1:payout_pending"] = 100;
  const auto missing = named(check_ledger(s), "pending_matches_open_payouts");
  CHECK_FALSE(missing.ok);
  CHECK(missing.violations[0]["account"] == "ent:ent_1:refund_pending");
}

namespace {

// healthy(), with two-phase escrow: of tsk_1's 300 left, 100 is reserved by asg_2 (open), asg_1 was posted
// (its settlement above) and asg_3 voided back.
LedgerSnapshot with_reservations() {
  auto s = healthy();
  s.accounts[2].balance_fen = 200;
  s.accounts.push_back({"asg:asg_2:reserved", false, 100});
  s.accounts.push_back({"asg:asg_1:reserved", false, 0});
  s.accounts.push_back({"asg:asg_3:reserved", false, 0});
  s.recomputed_fen.clear();
  for (const auto& a : s.accounts) s.recomputed_fen[a.id] = a.balance_fen;
  s.reservations = {{"asg_1", "tsk_1", "asg:asg_1:reserved", "posted", 300},
                    {"asg_2", "tsk_1", "asg:asg_2:reserved", "reserved", 100},
                    {"asg_3", "tsk_1", "asg:asg_3:reserved", "voided", 100}};
  return s;
}

}  // namespace

TEST_CASE("reservations: task escrow + open reservations = held − settled − released") {
  const auto checks = check_ledger(with_reservations());
  for (const auto& c : checks) CHECK_MESSAGE(c.ok, c.name);

  // Money of an open reservation counted nowhere: the escrow equation breaks.
  auto s = with_reservations();
  s.reservations[1].status = "voided";
  auto broken = check_ledger(s);
  CHECK_FALSE(named(broken, "escrow_matches_task").ok);
  CHECK_FALSE(named(broken, "reservations_hold_their_amount").ok);  // and a voided one holds money

  // The escrow account alone no longer has to hold held − settled − released.
  s = with_reservations();
  s.escrows[0].settled_fen = 200;
  CHECK_FALSE(named(check_ledger(s), "escrow_matches_task").ok);
}

TEST_CASE("reservations: posted or voided ones hold 0, open ones their amount, no account without its row") {
  auto s = with_reservations();
  s.reservations[1].amount_fen = 99;  // the account holds 100
  CHECK_FALSE(named(check_ledger(s), "reservations_hold_their_amount").ok);

  s = with_reservations();
  s.reservations.pop_back();  // asg:asg_3:reserved without its reservation
  const auto c = named(check_ledger(s), "reservations_hold_their_amount");
  CHECK_FALSE(c.ok);
  CHECK(c.violations[0]["account"] == "asg:asg_3:reserved");

  s = with_reservations();
  s.reservations[2].status = "cancelled";  // not a state a reservation can be in
  CHECK_FALSE(named(check_ledger(s), "reservations_hold_their_amount").ok);

  // A reservation account below zero is reported like any other account but clearing.
  s = with_reservations();
  s.accounts[6].balance_fen = -1;
  s.accounts[2].balance_fen = 201;
  CHECK_FALSE(named(check_ledger(s), "no_negative_balances").ok);
}
