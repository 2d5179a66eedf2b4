// The planner (planner.hpp) over the order in which the events of one task and assignment can arrive, without a
// database: what was loaded in, a plan, a no-op or a refusal out.
#include "services/settlement/planner.hpp"

#include <doctest/doctest.h>

#include <variant>

#include "services/settlement/test_support.hpp"

using namespace crowd::settlement;

namespace {

constexpr std::int64_t kNow = 1'767'225'600'000 + 10LL * 24 * 3600 * 1000;  // 2026-01-11 (CST)

EscrowState escrow() {
  return held_escrow(100'000, 3);
}

Acceptance acceptance() {
  Acceptance a;
  a.submission_id = "sub_1";
  a.assignment_id = "asg_1";
  a.task_id = "tsk_1";
  a.enterprise_id = "ent_1";
  a.worker_id = "wkr_1";
  a.category = "rd_design";
  a.title = "t";
  a.currency = "CNY";
  a.units = 1;
  a.amount_fen = 100'000;
  a.accepted_at_ms = kNow - 1000;
  return a;
}

Ruling ruling(std::int64_t share) {
  Ruling d;
  d.dispute_id = "dsp_1";
  d.assignment_id = "asg_1";
  d.task_id = "tsk_1";
  d.enterprise_id = "ent_1";
  d.worker_id = "wkr_1";
  d.operator_id = "op_1";
  d.units = 1;
  d.amount_fen = 100'000;
  d.worker_share_fen = share;
  d.resolved_at_ms = kNow - 1000;
  return d;
}

Reservation reservation(ReservationStatus status, const std::string& ended_by = "") {
  Reservation r;
  r.assignment_id = "asg_1";
  r.task_id = "tsk_1";
  r.enterprise_id = "ent_1";
  r.worker_id = "wkr_1";
  r.units = 1;
  r.amount_fen = 100'000;
  r.status = status;
  r.ended_by = ended_by;
  if (ended_by == "ruling") r.dispute_id = "dsp_1";
  return r;
}

// Loaded after assignment.created reserved the unit.
PayLoad reserved() {
  PayLoad l;
  l.reservation = reservation(ReservationStatus::reserved);
  l.escrow = escrow();
  l.title = "t";
  return l;
}

// Loaded when the pay event overtook assignment.created: no reservation, the escrow's money unreserved.
PayLoad not_reserved(std::int64_t unreserved = 300'000) {
  PayLoad l;
  l.escrow = escrow();
  l.unreserved_fen = unreserved;
  l.title = "t";
  return l;
}

}  // namespace

TEST_CASE("acceptance after the reservation: legs out of it, the reservation posted, the escrow settled") {
  const PayDecision d = plan_acceptance(acceptance(), reserved(), "stl_1", kNow);
  REQUIRE(std::holds_alternative<PayPlan>(d));
  const PayPlan& p = std::get<PayPlan>(d);
  CHECK_FALSE(p.reserve_first);
  REQUIRE(p.settlement);
  CHECK(p.settlement->id == "stl_1");
  CHECK(p.settlement->kind == "acceptance");
  CHECK(p.settlement->submission_id == "sub_1");
  CHECK(p.settlement->split.amount_fen == 100'000);
  CHECK(p.settlement->split.fee_fen == 5'000);
  CHECK(p.legs_total_fen == 100'000);
  std::int64_t sum = 0;
  for (const auto& leg : p.legs) {
    CHECK(leg.debit_account == assignment_reserved("asg_1"));
    sum += leg.amount_fen;
  }
  CHECK(sum == 100'000);
  CHECK(p.withholds);
  CHECK_FALSE(p.tax_before);
  CHECK(p.tax_after.cum_income_fen == 95'000);
  CHECK(p.reservation_after.status == ReservationStatus::posted);
  CHECK(p.reservation_after.ended_by == "acceptance");
  CHECK(p.reservation_after.settlement_id == "stl_1");
  CHECK(p.delta.units_settled == 1);
  CHECK(p.delta.settled_fen == 100'000);
  CHECK_FALSE(p.delta.ruling);
  CHECK(p.crash_points);
  CHECK_FALSE(p.refund);
  CHECK_FALSE(p.escrow_ruled);
}

TEST_CASE("acceptance before the reservation: reserves first, then pays") {
  const PayDecision d = plan_acceptance(acceptance(), not_reserved(), "stl_1", kNow);
  REQUIRE(std::holds_alternative<PayPlan>(d));
  const PayPlan& p = std::get<PayPlan>(d);
  REQUIRE(p.reserve_first);
  CHECK(p.reserve_first->status == ReservationStatus::reserved);
  CHECK(p.reserve_first->amount_fen == 100'000);
  CHECK(p.reservation_after.status == ReservationStatus::posted);
  // Not enough unreserved money (another assignment holds it): refused, nothing planned.
  CHECK(std::holds_alternative<Refuse>(plan_acceptance(acceptance(), not_reserved(99'999), "stl_1", kNow)));
}

TEST_CASE("acceptance repeated, after a ruling, or settled before reservations: a no-op") {
  PayLoad posted = reserved();
  posted.reservation = reservation(ReservationStatus::posted, "acceptance");
  CHECK(std::holds_alternative<NoOp>(plan_acceptance(acceptance(), posted, "stl_2", kNow)));
  posted.reservation = reservation(ReservationStatus::posted, "ruling");
  CHECK(std::holds_alternative<NoOp>(plan_acceptance(acceptance(), posted, "stl_2", kNow)));
  PayLoad old = not_reserved();
  old.settled_before = true;
  CHECK(std::holds_alternative<NoOp>(plan_acceptance(acceptance(), old, "stl_2", kNow)));
}

TEST_CASE("acceptance refused: voided, contradicting figures, no escrow, more than the escrow holds") {
  PayLoad voided = reserved();
  voided.reservation = reservation(ReservationStatus::voided, "rejected");
  CHECK(std::holds_alternative<Refuse>(plan_acceptance(acceptance(), voided, "stl_1", kNow)));
  Acceptance other = acceptance();
  other.worker_id = "wkr_2";
  CHECK(std::holds_alternative<Refuse>(plan_acceptance(other, reserved(), "stl_1", kNow)));
  PayLoad none = reserved();
  none.escrow.reset();
  CHECK(std::holds_alternative<Refuse>(plan_acceptance(acceptance(), none, "stl_1", kNow)));
  Acceptance wrong_amount = acceptance();
  wrong_amount.amount_fen = 100'001;
  CHECK(std::holds_alternative<Refuse>(plan_acceptance(wrong_amount, reserved(), "stl_1", kNow)));
  PayLoad spent = reserved();
  spent.escrow->units_settled = 3;
  spent.escrow->settled_fen = 300'000;
  CHECK(std::holds_alternative<Refuse>(plan_acceptance(acceptance(), spent, "stl_1", kNow)));
}

TEST_CASE("ruling: the share paid like pay, the rest refunded, escrow.ruled always") {
  const PayDecision d = plan_ruling(ruling(40'000), reserved(), "stl_1", kNow);
  REQUIRE(std::holds_alternative<PayPlan>(d));
  const PayPlan& p = std::get<PayPlan>(d);
  REQUIRE(p.settlement);
  CHECK(p.settlement->kind == "ruling");
  CHECK(p.settlement->dispute_id == "dsp_1");
  CHECK(p.settlement->submission_id.empty());
  CHECK(p.settlement->split.amount_fen == 40'000);
  CHECK(p.legs_total_fen == 40'000);
  REQUIRE(p.refund);
  CHECK(p.refund->id == refund_transfer_id("asg_1"));
  CHECK(p.refund->amount_fen == 60'000);
  CHECK(p.refund->credit_account == enterprise_available("ent_1"));
  CHECK(p.reservation_after.ended_by == "ruling");
  CHECK(p.reservation_after.refund_fen == 60'000);
  CHECK(p.delta.ruling);
  CHECK(p.delta.settled_fen == 40'000);
  CHECK(p.delta.released_fen == 60'000);
  CHECK_FALSE(p.crash_points);
  REQUIRE(p.escrow_ruled);
  CHECK((*p.escrow_ruled)["settlement_id"] == "stl_1");
  CHECK((*p.escrow_ruled)["refund_fen"] == 60'000);
}

TEST_CASE("ruling with a zero share: no settlement, everything refunded, with the whole: no refund") {
  const PayDecision zero = plan_ruling(ruling(0), reserved(), "stl_1", kNow);
  REQUIRE(std::holds_alternative<PayPlan>(zero));
  const PayPlan& z = std::get<PayPlan>(zero);
  CHECK_FALSE(z.settlement);
  CHECK(z.legs.empty());
  REQUIRE(z.refund);
  CHECK(z.refund->amount_fen == 100'000);
  CHECK((*z.escrow_ruled)["settlement_id"].is_null());
  CHECK(z.reservation_after.settlement_id.empty());
  const PayDecision whole = plan_ruling(ruling(100'000), reserved(), "stl_1", kNow);
  REQUIRE(std::holds_alternative<PayPlan>(whole));
  CHECK_FALSE(std::get<PayPlan>(whole).refund);
  CHECK((*std::get<PayPlan>(whole).escrow_ruled)["refund_transfer_id"].is_null());
}

TEST_CASE("ruling before assignment.created reserves first, after an acceptance or a void it is refused") {
  const PayDecision first = plan_ruling(ruling(50'000), not_reserved(), "stl_1", kNow);
  REQUIRE(std::holds_alternative<PayPlan>(first));
  CHECK(std::get<PayPlan>(first).reserve_first);
  PayLoad accepted = reserved();
  accepted.reservation = reservation(ReservationStatus::posted, "acceptance");
  CHECK(std::holds_alternative<Refuse>(plan_ruling(ruling(50'000), accepted, "stl_1", kNow)));
  PayLoad voided = reserved();
  voided.reservation = reservation(ReservationStatus::voided, "expired");
  CHECK(std::holds_alternative<Refuse>(plan_ruling(ruling(50'000), voided, "stl_1", kNow)));
  PayLoad old = not_reserved();
  old.settled_before = true;
  CHECK(std::holds_alternative<Refuse>(plan_ruling(ruling(50'000), old, "stl_1", kNow)));
}

TEST_CASE("ruling repeated: a no-op, another dispute's ruling on the same assignment: refused") {
  PayLoad ruled = reserved();
  ruled.reservation = reservation(ReservationStatus::posted, "ruling");
  CHECK(std::holds_alternative<NoOp>(plan_ruling(ruling(50'000), ruled, "stl_2", kNow)));
  Ruling other = ruling(50'000);
  other.dispute_id = "dsp_2";
  CHECK(std::holds_alternative<Refuse>(plan_ruling(other, ruled, "stl_2", kNow)));
  CHECK(std::holds_alternative<Refuse>(plan_ruling(ruling(100'001), reserved(), "stl_1", kNow)));  // share > amount
}

TEST_CASE("a micro-piecework acceptance pays its worker (the fee cap)") {
  EscrowState e = escrow();
  e.pay_per_unit_fen = 10;
  e.held_fen = 30;
  PayLoad l;
  l.escrow = e;
  l.unreserved_fen = 30;
  Acceptance a = acceptance();
  a.amount_fen = 10;
  const PayDecision d = plan_acceptance(a, l, "stl_1", kNow);
  REQUIRE(std::holds_alternative<PayPlan>(d));
  CHECK(std::get<PayPlan>(d).settlement->split.fee_fen == 2);
  CHECK(std::get<PayPlan>(d).settlement->split.net_fen == 8);
}

// ---- The escrow paths: hold, reserve, void, release ----

namespace {

HoldRequest hold() {
  HoldRequest h;
  h.task_id = "tsk_1";
  h.enterprise_id = "ent_1";
  h.category = "rd_design";
  h.title = "t";
  h.currency = "CNY";
  h.units = 3;
  h.pay_per_unit_fen = 100'000;
  h.budget_fen = 300'000;
  return h;
}

AssignmentFigures figures(std::optional<std::int64_t> amount = 100'000, const std::string& worker = "wkr_1") {
  return {"asg_1", "tsk_1", "ent_1", worker, 1, amount};
}

AssignmentLoad with_escrow(std::int64_t unreserved = 300'000) {
  AssignmentLoad l;
  l.escrow = escrow();
  l.unreserved_fen = unreserved;
  return l;
}

AssignmentLoad with_reservation(ReservationStatus status, const std::string& ended_by = "") {
  AssignmentLoad l;
  l.escrow = escrow();
  l.reservation = reservation(status, ended_by);
  return l;
}

ReleaseRequest release(const std::string& release_id, std::int64_t units, bool from_matching = true) {
  ReleaseRequest r;
  r.task_id = "tsk_1";
  r.enterprise_id = "ent_1";
  r.units = units;
  r.release_id = release_id;
  r.from_matching = from_matching;
  return r;
}

ReleaseLoad release_load(std::int64_t unreserved) {
  ReleaseLoad l;
  l.assignment = with_escrow(unreserved);
  return l;
}

}  // namespace

TEST_CASE("hold: funded, short of funds, repeated, retried after a rejection, malformed") {
  HoldLoad l;
  l.available_fen = 300'000;
  HoldDecision d = plan_hold(hold(), l);
  REQUIRE(std::holds_alternative<HoldPlan>(d));
  CHECK(std::get<HoldPlan>(d).funded);
  CHECK(std::get<HoldPlan>(d).transfer_id == "hold:tsk_1");

  l.available_fen = 299'999;
  d = plan_hold(hold(), l);
  REQUIRE(std::holds_alternative<HoldPlan>(d));
  CHECK_FALSE(std::get<HoldPlan>(d).funded);
  CHECK(std::get<HoldPlan>(d).transfer_id.empty());

  l.escrow = escrow();  // held already: a repeat
  CHECK(std::holds_alternative<NoOp>(plan_hold(hold(), l)));
  l.escrow->status = EscrowStatus::rejected;  // a funding retry tries again
  l.available_fen = 300'000;
  d = plan_hold(hold(), l);
  REQUIRE(std::holds_alternative<HoldPlan>(d));
  CHECK(std::get<HoldPlan>(d).funded);

  HoldRequest bad = hold();
  bad.budget_fen = 299'999;  // != units × pay
  CHECK(std::holds_alternative<Refuse>(plan_hold(bad, HoldLoad{})));
}

TEST_CASE("reserve: first, after an acceptance or void that came first, contradicting, short, no escrow") {
  ReserveDecision d = plan_reserve(figures(), "CNY", with_escrow());
  REQUIRE(std::holds_alternative<ReservePlan>(d));
  CHECK(std::get<ReservePlan>(d).reservation.status == ReservationStatus::reserved);
  CHECK(std::get<ReservePlan>(d).reservation.amount_fen == 100'000);

  for (auto status : {ReservationStatus::reserved, ReservationStatus::posted, ReservationStatus::voided}) {
    CHECK(std::holds_alternative<NoOp>(plan_reserve(figures(), "CNY", with_reservation(status, "acceptance"))));
  }
  AssignmentLoad old = with_escrow();
  old.settled_before = true;
  CHECK(std::holds_alternative<NoOp>(plan_reserve(figures(), "CNY", old)));

  CHECK(std::holds_alternative<Refuse>(plan_reserve(figures(), "USD", with_escrow())));
  CHECK(std::holds_alternative<Refuse>(
      plan_reserve(figures(100'000, "wkr_2"), "CNY", with_reservation(ReservationStatus::reserved))));
  CHECK(std::holds_alternative<Refuse>(plan_reserve(figures(99'000), "CNY", with_escrow())));  // != units × pay
  CHECK(std::holds_alternative<Refuse>(plan_reserve(figures(), "CNY", with_escrow(99'999))));  // lent elsewhere
  CHECK(std::holds_alternative<Refuse>(plan_reserve(figures(), "CNY", AssignmentLoad{})));
}

TEST_CASE("void: of a reservation, repeated, before assignment.created (moved or a tombstone), of a settled one") {
  const ReserveRequest r = reserve_request_of(figures(), escrow());
  VoidDecision d = plan_void(r, "rejected", with_reservation(ReservationStatus::reserved));
  REQUIRE(std::holds_alternative<VoidPlan>(d));
  const VoidPlan p = std::get<VoidPlan>(d);
  CHECK(p.known);
  CHECK(p.row.status == ReservationStatus::voided);
  CHECK(p.row.ended_by == "rejected");
  CHECK(p.returned_fen == 100'000);

  const auto again = plan_void(r, "rejected", with_reservation(ReservationStatus::voided, "rejected"));
  REQUIRE(std::holds_alternative<NoOp>(again));
  CHECK(std::get<NoOp>(again).why.empty());

  d = plan_void(r, "expired", with_escrow());  // the void overtook assignment.created
  REQUIRE(std::holds_alternative<VoidPlan>(d));
  CHECK_FALSE(std::get<VoidPlan>(d).known);
  CHECK(std::get<VoidPlan>(d).row.moved_money);
  CHECK(std::get<VoidPlan>(d).returned_fen == 0);
  d = plan_void(r, "expired", with_escrow(99'999));  // the money is lent to another assignment: a tombstone
  REQUIRE(std::holds_alternative<VoidPlan>(d));
  CHECK_FALSE(std::get<VoidPlan>(d).row.moved_money);

  CHECK(std::holds_alternative<Refuse>(
      plan_void(r, "rejected", with_reservation(ReservationStatus::posted, "acceptance"))));
  AssignmentLoad old = with_escrow();
  old.settled_before = true;
  CHECK(std::holds_alternative<Refuse>(plan_void(r, "rejected", old)));
  CHECK(std::holds_alternative<Refuse>(plan_void(r, "rejected", AssignmentLoad{})));
  const ReserveRequest other = reserve_request_of(figures(100'000, "wkr_2"), escrow());
  CHECK(std::holds_alternative<Refuse>(plan_void(other, "rejected", with_reservation(ReservationStatus::reserved))));
}

TEST_CASE("release: the cancel answer, applied once, early, waiting for a void, more than the escrow holds") {
  ReleaseDecision d = plan_release(release("cancel", 3), release_load(300'000));
  REQUIRE(std::holds_alternative<ReleasePlan>(d));
  CHECK(std::get<ReleasePlan>(d).amount_fen == 300'000);
  CHECK(std::get<ReleasePlan>(d).transfer_id == "release:tsk_1:cancel");
  CHECK_FALSE(std::get<ReleasePlan>(d).void_first);

  ReleaseLoad applied = release_load(0);
  applied.applied = true;
  CHECK(std::holds_alternative<NoOp>(plan_release(release("cancel", 3), applied)));
  // One unit still reserved by an assignment matching no longer counts: waits for its void.
  CHECK(std::holds_alternative<Wait>(plan_release(release("cancel", 3), release_load(200'000))));
  CHECK(std::holds_alternative<Refuse>(plan_release(release("cancel", 4), release_load(400'000))));

  ReleaseLoad rejected = release_load(0);
  rejected.assignment.escrow->status = EscrowStatus::rejected;
  CHECK(std::holds_alternative<Wait>(plan_release(release("cancel", 3), rejected)));         // before the retry's hold
  CHECK(std::holds_alternative<NoOp>(plan_release(release("cancel", 3, false), rejected)));  // tasks' cancel
  CHECK(std::holds_alternative<NoOp>(plan_release(release("cancel", 0), release_load(300'000))));

  CHECK(std::holds_alternative<Refuse>(plan_release(release("cancel", 3), ReleaseLoad{})));
  ReleaseRequest other = release("cancel", 3);
  other.enterprise_id = "ent_2";
  CHECK(std::holds_alternative<Refuse>(plan_release(other, release_load(300'000))));
  CHECK(std::holds_alternative<Refuse>(plan_release(release("asg:", 1), release_load(300'000))));
}

TEST_CASE("task.cancelled: after matching released, before any hold, else like the cancel answer") {
  ReleaseRequest by_matching = release("cancel", 0, false);
  by_matching.released_by_matching = true;
  CHECK(std::holds_alternative<NoOp>(plan_release(by_matching, release_load(300'000))));
  CHECK(std::holds_alternative<NoOp>(plan_release(release("cancel", 3, false), ReleaseLoad{})));
  CHECK(std::holds_alternative<ReleasePlan>(plan_release(release("cancel", 3, false), release_load(300'000))));
}

TEST_CASE("an assignment's release: its reservation voided first, the money it returns released") {
  ReleaseLoad l = release_load(200'000);  // one unit reserved by asg_1
  l.assignment.reservation = reservation(ReservationStatus::reserved);
  ReleaseDecision d = plan_release(release("asg:asg_1", 1), l);
  REQUIRE(std::holds_alternative<ReleasePlan>(d));
  const ReleasePlan& p = std::get<ReleasePlan>(d);
  REQUIRE(p.void_first);
  CHECK(p.void_first->row.ended_by == "released");
  CHECK(p.amount_fen == 100'000);
  CHECK(p.transfer_id == "release:tsk_1:asg:asg_1");

  // Voided already (rejected): nothing to void, the unit's money is in the escrow.
  l.assignment.reservation = reservation(ReservationStatus::voided, "rejected");
  l.assignment.unreserved_fen = 300'000;
  d = plan_release(release("asg:asg_1", 1), l);
  REQUIRE(std::holds_alternative<ReleasePlan>(d));
  CHECK_FALSE(std::get<ReleasePlan>(d).void_first);

  // Settled: its units cannot come back.
  l.assignment.reservation = reservation(ReservationStatus::posted, "acceptance");
  l.assignment_settled = true;
  CHECK(std::holds_alternative<Refuse>(plan_release(release("asg:asg_1", 1), l)));
  l.assignment_settled = false;  // ruled with a zero share: no settlement row, the reservation posted
  l.assignment.reservation = reservation(ReservationStatus::posted, "ruling");
  CHECK(std::holds_alternative<Refuse>(plan_release(release("asg:asg_1", 1), l)));
}
