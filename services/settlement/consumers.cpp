#include "services/settlement/consumers.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "services/settlement/apply.hpp"
#include "services/settlement/consumer_support.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/planner.hpp"
#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

using namespace detail;

// task.created (tasks) → escrow hold.
// Holds budget_fen from ent:{enterprise}:available in task:{task}:escrow with transfer "hold:{task}" and
// publishes escrow.held. When the available balance is short, records a rejected escrow and publishes
// escrow.rejected {reason: insufficient_funds}: the event is done (not retried); a later task.created event
// for the same task (a funding retry by tasks) tries again. Idempotent: a task already held is a no-op.
// Malformed data (budget != units × pay, ...) throws: retried, then dead-lettered.
void on_task_created(soci::session& s, const events::Event& e) {
  const HoldRequest h = read_hold(e);
  HoldLoad l;
  l.escrow = load_escrow(s, h.task_id);
  if (!l.escrow || l.escrow->status == EscrowStatus::rejected) {
    l.available_fen = balance_of(s, enterprise_available(h.enterprise_id));
  }
  carry_out(s, e, plan_hold(h, l), apply_hold);
}

// task.units_released (matching) → one escrow release.
// Moves units_released × pay_per_unit from task:{task}:escrow back to ent:{enterprise}:available with
// transfer "release:{task}:{release_id}" (release_id absent → "cancel") and publishes escrow.released.
// Several releases of one task apply (the cancel answer, then one per assignment that came back); each
// release id applies once: a transfer already written under it makes the event a no-op, whatever its
// figures (a repeated cancel answer). 0 units or a rejected (never held) escrow: nothing to do.
// Refused (throws: retried, then dead-lettered): no escrow, another enterprise, a malformed release_id, an
// "asg:" release of an assignment settlement already paid, more units or money than the escrow still holds
// unsettled and unreleased. Waits (retried for as long as it takes): a release before the hold, more money
// than the escrow's unreserved balance (a void still on its way). It loads the escrow, its unreserved money,
// whether the release was applied, and for an "asg:" release the assignment's reservation and settlement.
void on_units_released(soci::session& s, const events::Event& e) {
  const ReleaseRequest r = read_release(e);
  ReleaseLoad l;
  l.assignment.escrow = load_escrow(s, r.task_id);
  if (l.assignment.escrow && !r.released_by_matching) {
    l.applied = transfer_exists(s, release_transfer_id(r.task_id, r.release_id));
    l.assignment.unreserved_fen = balance_of(s, task_escrow(r.task_id));
    if (const auto asg = released_assignment(r.release_id); asg && !l.applied) {
      l.assignment.reservation = load_reservation(s, *asg);
      l.assignment_settled = find_settlement_by_assignment(s, *asg).has_value();
      l.assignment.settled_before = !l.assignment.reservation && l.assignment_settled;
    }
  }
  carry_out(s, e, plan_release(r, l), apply_release);
}

// tasks task.cancelled. Published for a task cancelled before it opened (and again if the hold arrives
// after the cancel): the hold (if any) is released like matching's answer, under the same release id
// "cancel", so the two can never both pay out. Before any hold there is nothing to release, and the
// re-publication after the hold will come. A task.cancelled with released_by_matching: true comes from a
// task that opened: matching's task.units_released events return its escrow, so it is only logged here.
void on_task_cancelled(soci::session& s, const events::Event& e) {
  on_units_released(s, e);
}

// offer.created (matching) → the offer, kept for the net pay preview (GET /v1/offers/{id}/net-pay-preview).
// Moves no money. Idempotent: offers.offer_id is the primary key and a repeat inserts nothing (a repeat
// with other figures is logged, the first kept: an offer's terms never change). Malformed data (amount !=
// units × pay, ...) is refused: retried, then dead-lettered.
void on_offer_created(soci::session& s, const events::Event& e) {
  OfferRecord o = read_offer(e);
  o.received_at_ms = clock::now_ms();
  const OfferTerms terms{o.offer_id, o.task_id, o.enterprise_id,    o.worker_id,
                         o.currency, o.units,   o.pay_per_unit_fen, o.amount_fen};
  if (auto problem = offer_problem(terms)) refuse(e, *problem);
  if (!insert_offer(s, o)) {
    const auto known = find_offer(s, o.offer_id);
    if (known && (known->amount_fen != o.amount_fen || known->worker_id != o.worker_id)) {
      log::warn("offer.created repeated with other terms; the first is kept", {{"offer_id", o.offer_id}});
    }
  }
}

// assignment.created (matching) → the assignment's reservation: "rsv:{asg}" task:{task}:escrow →
// asg:{asg}:reserved, amount_fen = units × the escrow's pay. Idempotent: a reservation row (reserved,
// posted or voided: an acceptance, ruling or void that came first) or a settlement from before reservations
// existed makes it a no-op, provided its figures agree. Refused (retried, then dead-lettered): no held escrow
// (yet), another task/enterprise/worker than a known reservation, amount != units × pay, more than the
// escrow's unreserved money (transiently possible while the void of a unit's previous assignment is still
// on the delivery stream: the retry finds it applied; if it is dead-lettered anyway, the acceptance, ruling
// or void of this assignment reserves by itself).
void on_assignment_created(soci::session& s, const events::Event& e) {
  const AssignmentEvent a = read_assignment(e, /*with_currency=*/true);
  carry_out(s, e, plan_reserve(a.figures, a.currency, load_assignment(s, a.figures)), apply_reserve);
}

namespace {

// delivery.rejected / assignment.expired (delivery) → the reservation voided back to the task escrow. On an
// open task matching offers the unit again (a new assignment reserves it); on a cancelled one matching's
// "asg:{asg}" release returns it to the enterprise next. Refused: a settled or ruled assignment, figures
// differing from the reservation's, no escrow (yet).
void void_for(soci::session& s, const events::Event& e, const std::string& why) {
  const AssignmentEvent a = read_assignment(e, /*with_currency=*/false);
  const AssignmentLoad l = load_assignment(s, a.figures);
  carry_out(s, e, plan_void(reserve_request_of(a.figures, l.escrow), why, l), apply_void);
}

}  // namespace

void on_delivery_rejected(soci::session& s, const events::Event& e) {
  void_for(s, e, "rejected");
}

void on_assignment_expired(soci::session& s, const events::Event& e) {
  void_for(s, e, "expired");
}

void on_invoice_issued(soci::session& s, const events::Event& e) {
  insert_invoice_seen(s, read_invoice(e));
}

void subscribe(events::Subscriptions& subs) {
  subs.on("tasks", "task.created", on_task_created);
  subs.on("matching", "task.units_released", on_units_released);
  subs.on("matching", "offer.created", on_offer_created);
  subs.on("tasks", "task.cancelled", on_task_cancelled);
  subs.on("delivery", "delivery.accepted", on_delivery_accepted);
  subs.on("invoicing", "invoice.issued", on_invoice_issued);  // for the enterprises' statements
  subs.on("matching", "assignment.created", on_assignment_created);
  subs.on("delivery", "delivery.rejected", on_delivery_rejected);
  subs.on("delivery", "assignment.expired", on_assignment_expired);
  // No service publishes dispute.resolved yet: the catalogue marks it awaiting its producer (the dispute work
  // makes delivery its producer). Kept so that rulings apply as soon as one does.
  // Awaiting its producer: the dispute workflow in delivery (catalogue.json marks it).
  subs.on("delivery", "dispute.resolved", on_dispute_resolved);
}

}  // namespace crowd::settlement
