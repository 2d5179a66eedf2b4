#include "services/settlement/rules.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "services/settlement/fees.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd::settlement;

namespace {

Acceptance acceptance(std::int64_t units, std::int64_t amount) {
  Acceptance a;
  a.assignment_id = "asg_1";
  a.submission_id = "sub_1";
  a.task_id = "tsk_1";
  a.enterprise_id = "ent_1";
  a.worker_id = "wkr_1";
  a.currency = "CNY";
  a.units = units;
  a.amount_fen = amount;
  return a;
}

}  // namespace

TEST_CASE("a hold request needs budget = units × pay in CNY") {
  HoldRequest h{"tsk_1", "ent_1", "rd_design", "Logo", "CNY", 3, 10'000, 30'000};
  CHECK_FALSE(hold_request_problem(h));
  h.budget_fen = 29'999;
  CHECK(hold_request_problem(h));
  h.budget_fen = 30'000;
  h.currency = "USD";
  CHECK(hold_request_problem(h));
  h.currency = "CNY";
  h.units = 0;
  CHECK(hold_request_problem(h));
  h.units = 3;
  h.task_id = "tsk:1";  // would break account naming
  CHECK(hold_request_problem(h));
  HoldRequest huge{"tsk_1", "ent_1", "c", "t", "CNY", INT64_MAX / 2, 3, 0};
  CHECK(hold_request_problem(huge));  // overflow, not a wrapped budget
}

TEST_CASE("release: only held escrows, only open units, only money that is there") {
  EscrowState e = held_escrow();
  CHECK_FALSE(release_problem(e, 5));
  CHECK(release_problem(e, 6));
  CHECK(release_problem(e, 0));
  e.units_settled = 2;
  e.settled_fen = 20'000;
  CHECK_FALSE(release_problem(e, 3));
  CHECK(release_problem(e, 4));
  e.status = EscrowStatus::rejected;
  CHECK(release_problem(e, 1));
}

TEST_CASE("release ids: the cancel answer or one assignment, each its own transfer") {
  CHECK_FALSE(release_id_problem("cancel"));
  CHECK_FALSE(release_id_problem("asg:asg_01ABC"));
  CHECK(release_id_problem(""));
  CHECK(release_id_problem("asg:"));
  CHECK(release_id_problem("asg:a:b"));
  CHECK(release_id_problem("asg:a b"));
  CHECK(release_id_problem("asg:" + std::string(101, 'x')));
  CHECK(release_id_problem("Cancel"));
  CHECK(release_transfer_id("tsk_1", "cancel") == "release:tsk_1:cancel");
  CHECK(release_transfer_id("tsk_1", "asg:asg_2") == "release:tsk_1:asg:asg_2");
  CHECK(released_assignment("asg:asg_2") == "asg_2");
  CHECK_FALSE(released_assignment("cancel"));
}

TEST_CASE("settlement: amount must be units × pay of the escrow and still be held") {
  const EscrowState e = held_escrow();
  CHECK_FALSE(settlement_problem(e, acceptance(2, 20'000)));
  CHECK(settlement_problem(e, acceptance(2, 20'001)));  // price differs from the escrow's
  CHECK(settlement_problem(e, acceptance(6, 60'000)));  // more units than the task has
  auto other = acceptance(1, 10'000);
  other.enterprise_id = "ent_2";
  CHECK(settlement_problem(e, other));
  EscrowState drained = e;
  drained.units_settled = 4;
  drained.settled_fen = 40'000;
  CHECK(settlement_problem(drained, acceptance(2, 20'000)));
  CHECK_FALSE(settlement_problem(drained, acceptance(1, 10'000)));
  EscrowState closed = e;
  closed.status = EscrowStatus::closed;
  CHECK(settlement_problem(closed, acceptance(1, 10'000)));
}

TEST_CASE("split: amount = fee + gross, gross = iit + net") {
  const Split s = split_amount(100'000, 5'000, 3'000);
  CHECK(s.worker_gross_fen == 95'000);
  CHECK(s.net_fen == 92'000);
  CHECK(s.fee_fen + s.worker_gross_fen == s.amount_fen);
  CHECK(s.iit_fen + s.net_fen == s.worker_gross_fen);
  CHECK_THROWS(split_amount(100, 101, 0));
  CHECK_THROWS(split_amount(100, -1, 0));
  CHECK_THROWS(split_amount(100, 10, 91));
  CHECK_THROWS(split_amount(0, 0, 0));
}

TEST_CASE("settlement legs leave the escrow, skip zero parts and add up to the amount") {
  const Split s = split_amount(100'000, 5'000, 0);
  const auto legs = settlement_legs("asg_1", "stl_1", "tsk_1", "wkr_1", s);
  REQUIRE(legs.size() == 2);
  CHECK(legs[0].id == "stl:asg_1:fee");
  CHECK(legs[0].credit_account == kFeeRevenue);
  CHECK(legs[1].id == "stl:asg_1:net");
  CHECK(legs[1].credit_account == "wkr:wkr_1:payable");
  CHECK(legs[1].ref == "stl_1");
  CHECK_FALSE(legs_problem(legs, "task:tsk_1:escrow", 100'000));
  CHECK(legs_problem(legs, "task:tsk_1:escrow", 100'001));
  const auto all = settlement_legs("asg_1", "stl_1", "tsk_1", "wkr_1", split_amount(100'000, 5'000, 2'000));
  REQUIRE(all.size() == 3);
  CHECK(all[1].id == "stl:asg_1:iit");
  CHECK(all[1].credit_account == kIitPayable);
  CHECK_FALSE(legs_problem(all, "task:tsk_1:escrow", 100'000));
}

TEST_CASE("statement periods are CST months") {
  const auto p = parse_period("2026-11");
  REQUIRE(p);
  // 2026-11-01T00:00+08:00 = 2026-10-31T16:00Z = 1793462400000 ms.
  CHECK(p->start_ms == 1'793'462'400'000);
  CHECK(p->end_ms - p->start_ms == 30LL * 86'400'000);
  const auto dec = parse_period("2026-12");
  REQUIRE(dec);
  CHECK(dec->end_ms == cst_month_start_ms(2027, 1));
  CHECK(cst_month_start_ms(1970, 1) == -8 * 3'600'000);
  const auto feb = parse_period("2028-02");  // leap year
  REQUIRE(feb);
  CHECK(feb->end_ms - feb->start_ms == 29LL * 86'400'000);
  CHECK_FALSE(parse_period("2026-13"));
  CHECK_FALSE(parse_period("2026-1"));
  CHECK_FALSE(parse_period("26-11-1"));
  CHECK_FALSE(parse_period("2026/11"));
  CHECK_FALSE(parse_period(""));
}

TEST_CASE("movements add credits and debits of touched accounts only") {
  std::vector<AccountMovement> m{{"ent:ent_1:available", 1'000}, {"task:tsk_1:escrow", 0}};
  TransferSpec hold{"hold:tsk_1", "ent:ent_1:available", "task:tsk_1:escrow", 600, "CNY", "escrow_hold", "tsk_1"};
  TransferSpec dep{"dep:ent_1:k", kClearing, "ent:ent_1:available", 500, "CNY", "deposit", "dep_1"};
  apply_to_movements(m, hold);
  apply_to_movements(m, dep);
  CHECK(m[0].closing_fen() == 900);
  CHECK(m[1].closing_fen() == 600);
}

TEST_CASE("an enterprise sees one line per settlement") {
  std::vector<TransferSpec> t{
      {"hold:tsk_1", "ent:ent_1:available", "task:tsk_1:escrow", 600, "CNY", "escrow_hold", "tsk_1"},
      {"stl:asg_1:fee", "task:tsk_1:escrow", kFeeRevenue, 30, "CNY", "settlement_fee", "stl_1"},
      {"stl:asg_1:iit", "task:tsk_1:escrow", kIitPayable, 20, "CNY", "settlement_iit", "stl_1"},
      {"stl:asg_1:net", "task:tsk_1:escrow", "wkr:wkr_1:payable", 250, "CNY", "settlement_net", "stl_1"},
      {"stl:asg_2:net", "task:tsk_1:escrow", "wkr:wkr_2:payable", 300, "CNY", "settlement_net", "stl_2"},
  };
  const auto merged = merge_settlement_legs(t);
  REQUIRE(merged.size() == 3);
  CHECK(merged[1].id == "stl_1");
  CHECK(merged[1].kind == "settlement");
  CHECK(merged[1].amount_fen == 300);
  CHECK(merged[1].credit_account.empty());
  CHECK(merged[2].id == "stl_2");
  std::vector<AccountMovement> m{{"task:tsk_1:escrow", 0}};
  for (const auto& x : merged) apply_to_movements(m, x);
  CHECK(m[0].closing_fen() == 0);
}

TEST_CASE("payout: the one split of settle and preview, same inputs, same figures, the state is only read") {
  crowd::domain::IitYearState before;  // nothing earned yet this year
  const Payout first = compute_payout("rd_design", 1'000'000, before, 2026, 3);
  // rd_design 5%: fee 500.00; gross 9,500.00; IIT (9,500 × 80% − 5,000) × 3% = 78.00.
  CHECK(first.split.amount_fen == 1'000'000);
  CHECK(first.split.fee_fen == crowd::domain::platform_fee("rd_design", 1'000'000));
  CHECK(first.split.fee_fen == 50'000);
  CHECK(first.split.worker_gross_fen == 950'000);
  CHECK(first.split.iit_fen == 7'800);
  CHECK(first.split.net_fen == 942'200);
  CHECK(first.withholds);
  CHECK(first.tax_year == 2026);
  CHECK(first.tax_month == 3);
  CHECK(first.computation_json()["method"] == "cumulative");
  CHECK(first.computation_json()["withheld_fen"] == 7'800);
  CHECK(first.computation_json()["income_fen"] == 950'000);
  CHECK(first.computation_text() == first.computation_json().dump());  // stored text = the JSON, byte for byte
  CHECK(first.tax_after.cum_income_fen == 950'000);
  CHECK(first.tax_after.cum_withheld_fen == 7'800);
  CHECK(first.tax_after.last_month == 3);
  CHECK(before.cum_income_fen == 0);  // the caller's state is untouched

  // Same inputs, same figures (what makes the preview equal the settlement).
  const Payout again = compute_payout("rd_design", 1'000'000, before, 2026, 3);
  CHECK(again.split.fee_fen == first.split.fee_fen);
  CHECK(again.split.iit_fen == first.split.iit_fen);
  CHECK(again.split.net_fen == first.split.net_fen);
  CHECK(again.computation_json() == first.computation_json());

  // The next payment in the month continues the cumulation: (14,250 × 80% − 5,000) × 3% − 78 = 114.00.
  const Payout second = compute_payout("knowledge", 500'000, first.tax_after, 2026, 3);
  CHECK(second.split.worker_gross_fen == 475'000);
  CHECK(second.split.iit_fen == 11'400);
  CHECK(second.computation_json()["previously_withheld_fen"] == 7'800);
}

TEST_CASE("payout: minimum fee, a fee that takes everything, bad inputs") {
  const crowd::domain::IitYearState none;
  // life_service 3% with a 1.00 yuan floor: 10.00 yuan → fee 1.00; small gross, no tax.
  const Payout small = compute_payout("life_service", 1'000, none, 2026, 1);
  CHECK(small.split.fee_fen == 100);
  CHECK(small.split.worker_gross_fen == 900);
  CHECK(small.split.iit_fen == 0);
  CHECK(small.split.net_fen == 900);
  CHECK(small.withholds);
  // With the fee allowed the whole amount (a share of 10000 bp, the rule before issue 9 §6), the floor is never
  // above the amount: 0.50 yuan is all fee, nothing enters the tax cumulation.
  const Payout all_fee = compute_payout("rd_design", 50, none, 2026, 1, 10'000);
  CHECK(all_fee.split.fee_fen == 50);
  CHECK(all_fee.split.net_fen == 0);
  CHECK_FALSE(all_fee.withholds);
  CHECK(all_fee.computation_json().is_null());
  CHECK(all_fee.computation_text() == "null");
  CHECK(all_fee.tax_after.cum_income_fen == 0);
  // With the configured cap (20 % by default) the floor never eats a small price: 0.50 → fee 0.10, net 0.40;
  // 0.10 → fee 0.02, net 0.08 (micro-piecework pays its worker).
  const Payout capped = compute_payout("rd_design", 50, none, 2026, 1);
  CHECK(capped.split.fee_fen == 10);
  CHECK(capped.split.net_fen == 40);
  CHECK(capped.fee.cap_applied);
  CHECK(capped.withholds);
  const Payout micro = compute_payout("knowledge", 10, none, 2026, 1);
  CHECK(micro.split.fee_fen == 2);
  CHECK(micro.split.net_fen == 8);
  const Payout large = compute_payout("rd_design", 1'000'000, none, 2026, 1);
  CHECK(large.split.fee_fen == 50'000);
  CHECK_FALSE(large.fee.cap_applied);

  CHECK_THROWS_AS(compute_payout("unknown", 1'000, none, 2026, 1), std::invalid_argument);
  CHECK_THROWS_AS(compute_payout("rd_design", 0, none, 2026, 1), std::invalid_argument);
  crowd::domain::IitYearState later{2026, 100'000, 0, 1, 5};
  CHECK_THROWS_AS(compute_payout("rd_design", 1'000, later, 2026, 4), std::invalid_argument);  // month goes back
}

TEST_CASE("offer terms: ids, CNY, amount = units × pay") {
  OfferTerms o{"ofr_1", "tsk_1", "ent_1", "wkr_1", "CNY", 1, 12'345, 12'345};
  CHECK_FALSE(offer_problem(o));
  auto bad = o;
  bad.amount_fen = 12'344;
  CHECK(offer_problem(bad));
  bad = o;
  bad.worker_id = "";
  CHECK(offer_problem(bad));
  bad = o;
  bad.task_id = "tsk:1";
  CHECK(offer_problem(bad));
  bad = o;
  bad.currency = "USD";
  CHECK(offer_problem(bad));
  bad = o;
  bad.units = 0;
  bad.amount_fen = 0;
  CHECK(offer_problem(bad));
}
