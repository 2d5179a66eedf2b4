#include "services/settlement/consumer_support.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/events/fields.hpp"
#include "common/log.hpp"
#include "services/settlement/ledger.hpp"

namespace crowd::settlement::detail {

// ---- The events as settlement reads them ----

HoldRequest read_hold(const events::Event& e) {
  events::Fields f(e);
  HoldRequest h;
  h.task_id = f.id("task_id");
  h.enterprise_id = f.id("enterprise_id");
  h.category = f.str("category");
  h.title = f.str("title");
  h.currency = f.str("currency");
  h.units = f.i64("units", 0, kMaxEventUnits);
  h.pay_per_unit_fen = f.i64("pay_per_unit_fen", 0, kMaxEventFen);
  h.budget_fen = f.i64("budget_fen", 0, kMaxEventFen);
  f.done();
  return h;
}

Acceptance read_acceptance(const events::Event& e) {
  events::Fields f(e);
  Acceptance a;
  a.submission_id = f.id("submission_id");
  a.assignment_id = f.id("assignment_id");
  a.task_id = f.id("task_id");
  a.enterprise_id = f.id("enterprise_id");
  a.worker_id = f.id("worker_id");
  a.category = f.str("category");
  a.title = f.str("title");
  a.currency = f.str("currency");
  a.units = f.i64("units", 0, kMaxEventUnits);
  a.amount_fen = f.i64("amount_fen", 0, kMaxEventFen);
  a.accepted_at_ms = f.i64("accepted_at_ms", 0, kMaxEventMs);
  f.done();
  return a;
}

Ruling read_ruling(const events::Event& e) {
  events::Fields f(e);
  Ruling d;
  d.dispute_id = f.id("dispute_id");
  d.assignment_id = f.id("assignment_id");
  d.task_id = f.id("task_id");
  d.enterprise_id = f.id("enterprise_id");
  d.worker_id = f.id("worker_id");
  d.operator_id = f.id("operator_id");
  d.units = f.i64("units", 0, kMaxEventUnits);
  d.amount_fen = f.i64("amount_fen", 0, kMaxEventFen);
  d.worker_share_fen = f.i64("worker_share_fen", 0, kMaxEventFen);
  d.resolved_at_ms = f.i64("resolved_at_ms", 0, kMaxEventMs);
  f.done();
  return d;
}

OfferRecord read_offer(const events::Event& e) {
  events::Fields f(e);
  OfferRecord o;
  o.offer_id = f.id("offer_id");
  o.task_id = f.id("task_id");
  o.enterprise_id = f.id("enterprise_id");
  o.worker_id = f.id("worker_id");
  o.units = f.i64("units", 0, kMaxEventUnits);
  o.pay_per_unit_fen = f.i64("pay_per_unit_fen", 0, kMaxEventFen);
  o.amount_fen = f.i64("amount_fen", 0, kMaxEventFen);
  o.currency = f.str("currency");
  o.category = f.str("category");
  o.expires_at_ms = f.i64("expires_at_ms", 0, kMaxEventMs);
  f.done();
  return o;
}

InvoiceSeen read_invoice(const events::Event& e) {
  events::Fields f(e);
  InvoiceSeen i;
  i.invoice_id = f.id("invoice_id");
  i.number = f.str("number");
  i.enterprise_id = f.id("enterprise_id");
  i.settlement_id = f.id("settlement_id");
  i.total_fen = f.i64("total_fen", 0, kMaxEventFen);
  i.issued_at_ms = e.occurred_at_ms;
  f.done();
  return i;
}

ReleaseEvent read_release(const events::Event& e) {
  events::Fields f(e);
  ReleaseEvent r;
  r.task_id = f.id("task_id");
  r.released_by_matching = f.opt_bool("released_by_matching").value_or(false);
  if (!r.released_by_matching) {
    r.enterprise_id = f.id("enterprise_id");
    r.units = f.i64("units_released", 0, kMaxEventUnits);
  }
  r.release_id = f.opt_str("release_id", 200).value_or(kCancelReleaseId);
  f.done();
  return r;
}

AssignmentEvent read_assignment(const events::Event& e, bool with_currency) {
  events::Fields f(e);
  AssignmentEvent a;
  a.figures.assignment_id = f.id("assignment_id");
  a.figures.task_id = f.id("task_id");
  a.figures.enterprise_id = f.id("enterprise_id");
  a.figures.worker_id = f.id("worker_id");
  a.figures.units = f.i64("units", 0, kMaxEventUnits);
  a.figures.amount_fen = f.opt_i64("amount_fen", 0, kMaxEventFen);
  if (with_currency) a.currency = f.str("currency");
  f.done();
  return a;
}

// A refusal to apply an event whose data contradicts what settlement holds: logged loudly, then thrown so
// the event stays pending, is retried (the state may catch up) and is finally dead-lettered for an operator.
[[noreturn]] void refuse(const events::Event& e, const std::string& why) {
  log::error("settlement refuses event", {{"event_id", e.id}, {"type", e.type}, {"key", e.key}, {"reason", why}});
  throw events::Refusal(e.type + " " + e.id + " refused: " + why);
}

// Not a contradiction but an event that overtook the one it needs (from another stream): a transient
// failure, retried with backoff for as long as it takes and never dead-lettered, so a slow producer cannot
// park the money of a cancellation for an operator.
[[noreturn]] void wait_for(const events::Event& e, const std::string& why) {
  log::warn("settlement waits for an earlier event", {{"event_id", e.id}, {"type", e.type}, {"reason", why}});
  throw WaitingForEvent(e.type + " " + e.id + " waits: " + why);
}

// ---- Two-phase escrow (rules.hpp, 003_escrow_reservations.sql) ----

// A reservation's figures against the event's: a contradiction is refused. A release names no worker, and a
// tombstone written from one stores none: the worker is compared only when both sides know it.
void check_same_assignment(const events::Event& e, const Reservation& known, ReserveRequest r) {
  if (r.worker_id.empty() || known.worker_id.empty()) r.worker_id = known.worker_id;
  if (auto problem = reservation_mismatch(known, r)) refuse(e, *problem);
}

// Reserves the assignment's share now: "rsv:{asg}" from the task escrow to asg:{asg}:reserved, and the row.
// Only money no other assignment reserved may be taken (reserve_problem against the task escrow's balance,
// which holds exactly the unreserved money; the conditional debit in transfer() is the guard).
Reservation reserve(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r) {
  const std::string escrow_account = task_escrow(r.task_id);
  if (auto problem = reserve_problem(escrow, r, balance_of(s, escrow_account))) refuse(e, *problem);
  const std::string transfer_id = reserve_transfer_id(r.assignment_id);
  if (transfer(s, transfer_id, escrow_account, assignment_reserved(r.assignment_id), r.amount_fen, "escrow_reserve",
               r.task_id) == Applied::duplicate) {
    // The transfer and the row are written together: only a concurrent writer (PostgreSQL, several
    // instances) gets here. Retried, the row is then found.
    throw std::runtime_error("transfer " + transfer_id + " was written concurrently; the event will be retried");
  }
  Reservation x = reservation_of(r, ReservationStatus::reserved);
  insert_reservation(s, x);
  return x;
}

// Voids an assignment's reservation: "void:{asg}" back to the task escrow (the unit is free again, or is
// released next by the caller). `why`: rejected, expired or released. Idempotent: voided already → nothing.
// Refused: a reservation posted (settled or ruled), or a settlement of the assignment from before 003.
// Nothing reserved yet (the void overtook assignment.created): reserve + void when the task escrow holds the
// money, else the row alone (a tombstone; the escrow's unreserved money is lent to another assignment until
// its own void arrives). Either way the late assignment.created finds the row and does nothing.
void void_reservation(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r,
                      const std::string& why) {
  if (auto known = load_reservation(s, r.assignment_id)) {
    check_same_assignment(e, *known, r);
    if (known->status == ReservationStatus::voided) return;
    if (known->status != ReservationStatus::reserved) {
      refuse(e, "assignment " + r.assignment_id + " was settled (" + known->ended_by + "); it cannot be voided");
    }
    transfer(s, void_transfer_id(r.assignment_id), assignment_reserved(r.assignment_id), task_escrow(r.task_id),
             known->amount_fen, "escrow_void", r.task_id);
    known->status = ReservationStatus::voided;
    known->ended_by = why;
    end_reservation(s, *known);
    return;
  }
  if (find_settlement_by_assignment(s, r.assignment_id)) {
    refuse(e, "assignment " + r.assignment_id + " was settled; it cannot be voided");
  }
  if (auto problem = assignment_figures_problem(escrow, r)) refuse(e, *problem);
  Reservation x = reservation_of(r, ReservationStatus::voided);
  x.ended_by = why;
  const std::string escrow_account = task_escrow(r.task_id);
  x.moved_money = escrow.status == EscrowStatus::held && r.units <= escrow.units_open() &&
                  r.amount_fen <= balance_of(s, escrow_account);
  if (x.moved_money) {
    const std::string reserved = assignment_reserved(r.assignment_id);
    transfer(s, reserve_transfer_id(r.assignment_id), escrow_account, reserved, r.amount_fen, "escrow_reserve",
             r.task_id);
    transfer(s, void_transfer_id(r.assignment_id), reserved, escrow_account, r.amount_fen, "escrow_void", r.task_id);
  }
  insert_reservation(s, x);
}

}  // namespace crowd::settlement::detail
