#include "services/settlement/planner.hpp"

#include "common/clock.hpp"

namespace crowd::settlement {

std::optional<std::string> same_assignment_problem(const Reservation& known, ReserveRequest r) {
  if (r.worker_id.empty() || known.worker_id.empty()) r.worker_id = known.worker_id;
  return reservation_mismatch(known, r);
}

namespace {

// The reservation to pay from: the known one when its figures agree, else a new one the escrow can make.
std::optional<Refuse> take_reservation(const PayRequest& r, const PayLoad& l, PayPlan& p) {
  if (l.reservation) {
    if (auto problem = same_assignment_problem(*l.reservation, r.wanted)) return Refuse{*problem};
    p.reservation_after = *l.reservation;
    return std::nullopt;
  }
  if (auto problem = reserve_problem(*l.escrow, r.wanted, l.unreserved_fen)) return Refuse{*problem};
  p.reserve_first = reservation_of(r.wanted, ReservationStatus::reserved);
  p.reservation_after = *p.reserve_first;
  return std::nullopt;
}

// The split and tax of the paid amount, as the net pay preview computes it (compute_payout), into the plan.
void split_pay(const PayRequest& r, const PayLoad& l, PayPlan& p) {
  const auto ym = clock::cst_year_month(r.now_ms);
  const Payout pay = compute_payout(l.escrow->category, r.pay_fen, iit_state_of(l.tax_row), ym.year, ym.month);
  SettlementRecord x;
  x.id = r.settlement_id;
  x.settled_at_ms = r.now_ms;
  x.split = pay.split;
  x.assignment_id = r.wanted.assignment_id;
  x.task_id = r.wanted.task_id;
  x.enterprise_id = r.wanted.enterprise_id;
  x.worker_id = r.wanted.worker_id;
  x.category = l.escrow->category;
  x.units = r.wanted.units;
  x.tax_year = pay.tax_year;
  x.tax_month = pay.tax_month;
  x.computation = pay.computation_text();
  p.legs = settlement_legs_from(assignment_reserved(x.assignment_id), x.assignment_id, x.id, x.worker_id, x.split);
  p.legs_total_fen = r.pay_fen;
  p.withholds = pay.withholds;
  p.tax_before = l.tax_row;
  p.tax_after = iit_row_of(pay.tax_after);
  p.settlement = std::move(x);
}

}  // namespace

std::variant<PayPlan, Refuse> plan_pay(const PayRequest& r, const PayLoad& l) {
  PayPlan p;
  p.escrow_before = *l.escrow;
  if (auto refused = take_reservation(r, l, p)) return *refused;
  if (r.pay_fen > 0) split_pay(r, l, p);
  p.reservation_after.status = ReservationStatus::posted;
  p.reservation_after.settlement_id = p.settlement ? p.settlement->id : "";
  p.delta.units_settled = r.wanted.units;
  p.delta.settled_fen = r.pay_fen;
  return p;
}

namespace {

// An assignment whose reservation was posted or voided, or settled before reservations existed: what the
// pay events found before planning (nullopt: go on).
std::optional<PayDecision> acceptance_already(const Acceptance& a, const PayLoad& l) {
  if (l.reservation && l.reservation->status == ReservationStatus::posted) {
    // Settled already (a repeat), or ruled on: the ruling decided the assignment's money, so a delivery
    // accepted afterwards pays nothing more (the same no-op as a repeat, whatever came first).
    return NoOp{"event ignored: assignment already settled or ruled on (" + l.reservation->ended_by + ")",
                {{"assignment_id", a.assignment_id}}};
  }
  if (!l.reservation && l.settled_before) {
    return NoOp{"event ignored: assignment already settled", {{"assignment_id", a.assignment_id}}};
  }
  if (!l.escrow) return Refuse{"no escrow for task " + a.task_id};
  if (auto problem = settlement_problem(*l.escrow, a)) return Refuse{*problem};
  return std::nullopt;
}

}  // namespace

PayDecision plan_acceptance(const Acceptance& a, const PayLoad& l, const std::string& settlement_id,
                            std::int64_t now_ms) {
  if (auto done = acceptance_already(a, l)) return *done;
  const PayRequest req{
      reserve_request_of({a.assignment_id, a.task_id, a.enterprise_id, a.worker_id, a.units, a.amount_fen}, l.escrow),
      a.amount_fen, settlement_id, now_ms};
  if (l.reservation) {
    if (auto problem = same_assignment_problem(*l.reservation, req.wanted)) return Refuse{*problem};
    if (l.reservation->status == ReservationStatus::voided) {
      return Refuse{"assignment " + a.assignment_id + " was voided (" + l.reservation->ended_by +
                    "); it cannot be settled"};
    }
  }
  auto planned = plan_pay(req, l);
  if (auto* refused = std::get_if<Refuse>(&planned)) return *refused;
  PayPlan p = std::get<PayPlan>(std::move(planned));
  p.settlement->submission_id = a.submission_id;
  p.settlement->title = a.title;
  p.settlement->accepted_at_ms = a.accepted_at_ms;
  p.reservation_after.ended_by = "acceptance";
  p.crash_points = true;
  return p;
}

namespace {

std::optional<PayDecision> ruling_already(const Ruling& d, const PayLoad& l) {
  if (auto problem = ruling_problem(d)) return Refuse{*problem};
  if (l.reservation && l.reservation->status == ReservationStatus::posted) {
    if (l.reservation->ended_by == "ruling" && l.reservation->dispute_id == d.dispute_id) {
      return NoOp{"event ignored: ruling already applied", {{"assignment_id", d.assignment_id}}};
    }
    return Refuse{"assignment " + d.assignment_id + " was already settled (" + l.reservation->ended_by + ")"};
  }
  if (l.reservation && l.reservation->status == ReservationStatus::voided) {
    return Refuse{"assignment " + d.assignment_id + " was voided (" + l.reservation->ended_by +
                  "); nothing to rule on"};
  }
  if (!l.reservation && l.settled_before) return Refuse{"assignment " + d.assignment_id + " was already settled"};
  if (!l.escrow) return Refuse{"no escrow for task " + d.task_id};
  // The acceptance rules hold for the reserved amount as a whole (escrow held, same enterprise, amount =
  // units × pay, units and money still in the escrow).
  Acceptance whole;
  whole.assignment_id = d.assignment_id;
  whole.task_id = d.task_id;
  whole.enterprise_id = d.enterprise_id;
  whole.worker_id = d.worker_id;
  whole.currency = "CNY";
  whole.units = d.units;
  whole.amount_fen = d.amount_fen;
  if (auto problem = settlement_problem(*l.escrow, whole)) return Refuse{*problem};
  return std::nullopt;
}

nlohmann::json escrow_ruled_of(const Ruling& d, const PayPlan& p, std::int64_t refund) {
  using nlohmann::json;
  return {{"dispute_id", d.dispute_id},
          {"assignment_id", d.assignment_id},
          {"task_id", d.task_id},
          {"enterprise_id", d.enterprise_id},
          {"worker_id", d.worker_id},
          {"units", d.units},
          {"amount_fen", d.amount_fen},
          {"worker_share_fen", d.worker_share_fen},
          {"refund_fen", refund},
          {"settlement_id", p.settlement ? json(p.settlement->id) : json(nullptr)},
          {"refund_transfer_id", p.refund ? json(p.refund->id) : json(nullptr)}};
}

}  // namespace

PayDecision plan_ruling(const Ruling& d, const PayLoad& l, const std::string& settlement_id, std::int64_t now_ms) {
  if (auto done = ruling_already(d, l)) return *done;
  const PayRequest req{
      reserve_request_of({d.assignment_id, d.task_id, d.enterprise_id, d.worker_id, d.units, d.amount_fen}, l.escrow),
      d.worker_share_fen, settlement_id, now_ms};
  auto planned = plan_pay(req, l);
  if (auto* refused = std::get_if<Refuse>(&planned)) return *refused;
  PayPlan p = std::get<PayPlan>(std::move(planned));
  const std::int64_t refund = d.amount_fen - d.worker_share_fen;
  if (p.settlement) {
    p.settlement->submission_id = "";  // a ruling settles no submission
    p.settlement->title = l.title;
    p.settlement->accepted_at_ms = d.resolved_at_ms;
    p.settlement->kind = "ruling";
    p.settlement->dispute_id = d.dispute_id;
  }
  if (refund > 0) {
    p.refund = TransferSpec{refund_transfer_id(d.assignment_id),
                            assignment_reserved(d.assignment_id),
                            enterprise_available(d.enterprise_id),
                            refund,
                            "CNY",
                            "dispute_refund",
                            d.dispute_id,
                            0};
  }
  p.reservation_after.ended_by = "ruling";
  p.reservation_after.dispute_id = d.dispute_id;
  p.reservation_after.refund_fen = refund;
  p.delta.released_fen = refund;
  p.delta.ruling = true;
  p.escrow_ruled = escrow_ruled_of(d, p, refund);
  return p;
}

}  // namespace crowd::settlement
