// The planner of a task's escrow (planner.hpp): holds, reservations, voids and releases.
#include <variant>

#include "services/settlement/planner.hpp"

namespace crowd::settlement {

// task.created: held when the enterprise's available balance covers the budget, else rejected (the event is
// done; a later task.created, a funding retry by tasks, tries again). A task held already is a no-op.
HoldDecision plan_hold(const HoldRequest& h, const HoldLoad& l) {
  if (auto problem = hold_request_problem(h)) return Refuse{*problem};
  if (l.escrow && l.escrow->status != EscrowStatus::rejected) {
    return NoOp{"escrow already held; task.created ignored", {{"task_id", h.task_id}}};
  }
  HoldPlan p;
  p.hold = h;
  // A decision read; the conditional debit of the transfer is the guard (a concurrent spend makes it throw
  // and the event is retried).
  p.funded = l.available_fen >= h.budget_fen;
  if (p.funded) p.transfer_id = "hold:" + h.task_id;
  return p;
}

// assignment.created: a reservation row (reserved, posted or voided: an acceptance, ruling or void that came
// first) or a settlement from before reservations makes it a no-op, provided its figures agree. Only money no
// other assignment reserved may be taken (reserve_problem against the task escrow's unreserved balance).
ReserveDecision plan_reserve(const AssignmentFigures& f, const std::string& currency, const AssignmentLoad& l) {
  if (currency != "CNY") return Refuse{"currency must be CNY"};
  const ReserveRequest r = reserve_request_of(f, l.escrow);
  if (l.reservation) {
    if (auto problem = same_assignment_problem(*l.reservation, r)) return Refuse{*problem};
    return NoOp{"assignment already reserved, settled or voided; assignment.created ignored",
                {{"assignment_id", r.assignment_id}, {"status", to_string(l.reservation->status)}}};
  }
  if (l.settled_before) {
    return NoOp{"assignment settled before reservations existed; assignment.created ignored",
                {{"assignment_id", r.assignment_id}}};
  }
  if (!l.escrow) return Refuse{"no escrow for task " + r.task_id};
  if (auto problem = reserve_problem(*l.escrow, r, l.unreserved_fen)) return Refuse{*problem};
  return ReservePlan{reservation_of(r, ReservationStatus::reserved)};
}

// A void: idempotent (voided already: nothing). Refused: a reservation posted (settled or ruled), or a
// settlement of the assignment from before 003. Nothing reserved yet (the void overtook assignment.created):
// reserve + void when the task escrow holds the money, else the row alone (a tombstone; the escrow's
// unreserved money is lent to another assignment until its own void arrives). Either way the late
// assignment.created finds the row and does nothing.
VoidDecision plan_void(const ReserveRequest& r, const std::string& why, const AssignmentLoad& l) {
  if (!l.escrow) return Refuse{"no escrow for task " + r.task_id};
  if (l.reservation) {
    const Reservation& known = *l.reservation;
    if (auto problem = same_assignment_problem(known, r)) return Refuse{*problem};
    if (known.status == ReservationStatus::voided) return NoOp{};
    if (known.status != ReservationStatus::reserved) {
      return Refuse{"assignment " + r.assignment_id + " was settled (" + known.ended_by + "); it cannot be voided"};
    }
    VoidPlan p;
    p.row = known;
    p.row.status = ReservationStatus::voided;
    p.row.ended_by = why;
    p.known = true;
    p.returned_fen = known.amount_fen;
    return p;
  }
  if (l.settled_before) return Refuse{"assignment " + r.assignment_id + " was settled; it cannot be voided"};
  if (auto problem = assignment_figures_problem(*l.escrow, r)) return Refuse{*problem};
  VoidPlan p;
  p.row = reservation_of(r, ReservationStatus::voided);
  p.row.ended_by = why;
  p.row.moved_money =
      l.escrow->status == EscrowStatus::held && r.units <= l.escrow->units_open() && r.amount_fen <= l.unreserved_fen;
  return p;
}

namespace {

// task.cancelled: only a task cancelled before it opened is released here (matching's task.units_released
// events return the escrow of one that opened), and only once a hold exists (the re-publication after the
// hold will come).
std::optional<NoOp> cancel_not_here(const ReleaseRequest& r, const ReleaseLoad& l) {
  if (r.from_matching) return std::nullopt;
  if (r.released_by_matching) {
    return NoOp{"task cancelled after matching released its units; nothing to release here", {{"task_id", r.task_id}}};
  }
  if (!l.assignment.escrow) return NoOp{"task cancelled before any hold; nothing to release", {{"task_id", r.task_id}}};
  return std::nullopt;
}

}  // namespace

// A release: each release id applies once (its transfer written: a no-op, whatever the figures). Refused: no
// escrow, another enterprise, a malformed release_id, an "asg:" release of an assignment already settled,
// more units or money than the escrow still holds unsettled and unreleased. Waits: a release from matching
// before the hold (a funding retry's hold has not arrived yet: acknowledging it would strand that money once
// the hold comes), and more money than the escrow's unreserved balance (some assignment still holds a
// reservation matching no longer counts; its void is on another stream, not here yet).
ReleaseDecision plan_release(const ReleaseRequest& r, const ReleaseLoad& l) {
  if (auto skip = cancel_not_here(r, l)) return *skip;
  if (auto problem = release_id_problem(r.release_id)) return Refuse{*problem};
  const auto& escrow = l.assignment.escrow;
  if (!escrow) return Refuse{"no escrow for task " + r.task_id};
  if (escrow->enterprise_id != r.enterprise_id) return Refuse{"enterprise_id differs from the escrow's"};
  if (escrow->status == EscrowStatus::rejected && r.from_matching && r.units > 0) {
    return Wait{"release for task " + r.task_id + " whose escrow is not held (yet)"};
  }
  if (escrow->status == EscrowStatus::rejected || r.units == 0) {
    return NoOp{"nothing to release",
                {{"task_id", r.task_id}, {"status", to_string(escrow->status)}, {"units", r.units}}};
  }
  if (l.applied)
    return NoOp{"release already applied; event ignored", {{"task_id", r.task_id}, {"release_id", r.release_id}}};
  const auto asg = released_assignment(r.release_id);
  if (asg && l.assignment_settled) return Refuse{"assignment " + *asg + " was settled; its units cannot be released"};
  if (auto problem = release_problem(*escrow, r.units)) return Refuse{*problem};
  ReleasePlan p;
  p.escrow_before = *escrow;
  p.units = r.units;
  p.amount_fen = r.units * escrow->pay_per_unit_fen;  // no overflow: checked by release_problem
  p.transfer_id = release_transfer_id(r.task_id, r.release_id);
  p.release_id = r.release_id;
  std::int64_t unreserved = l.assignment.unreserved_fen;
  if (asg) {
    // Two-phase escrow: an assignment's units come back through its reservation, voided first.
    const auto voided =
        plan_void(reserve_request_of({*asg, r.task_id, r.enterprise_id, "", r.units, std::nullopt}, escrow), "released",
                  l.assignment);
    if (const auto* refused = std::get_if<Refuse>(&voided)) return *refused;
    if (const auto* v = std::get_if<VoidPlan>(&voided)) {
      unreserved += v->returned_fen;
      p.void_first = *v;
    }
  }
  // Only unreserved money goes back: the task escrow account holds exactly that.
  if (p.amount_fen > unreserved) {
    return Wait{"release of " + std::to_string(p.amount_fen) + " fen > the escrow's unreserved " +
                std::to_string(unreserved) + " fen (reservations still open)"};
  }
  return p;
}

}  // namespace crowd::settlement
