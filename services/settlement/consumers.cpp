#include "services/settlement/consumers.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "services/settlement/consumer_support.hpp"
#include "services/settlement/ledger.hpp"
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
  if (auto problem = hold_request_problem(h)) refuse(e, *problem);
  if (const auto existing = load_escrow(s, h.task_id); existing && existing->status != EscrowStatus::rejected) {
    log::info("escrow already held; task.created ignored", {{"task_id", h.task_id}, {"event_id", e.id}});
    return;
  }
  const std::string available = enterprise_available(h.enterprise_id);
  // Decision read; the conditional debit inside transfer() is the guard (a concurrent spend makes it throw
  // and the event is retried).
  if (balance_of(s, available) < h.budget_fen) {
    save_hold_outcome(s, h, EscrowStatus::rejected, 0, "");
    events::publish(s, "escrow.rejected", h.task_id,
                    {{"task_id", h.task_id},
                     {"enterprise_id", h.enterprise_id},
                     {"amount_fen", h.budget_fen},
                     {"reason", "insufficient_funds"}},
                    e.trace_id);
    return;
  }
  const std::string transfer_id = "hold:" + h.task_id;
  if (transfer(s, transfer_id, available, task_escrow(h.task_id), h.budget_fen, "escrow_hold", h.task_id) ==
      Applied::duplicate) {
    refuse(e, "transfer " + transfer_id + " exists but the escrow is not held");
  }
  save_hold_outcome(s, h, EscrowStatus::held, h.budget_fen, transfer_id);
  events::publish(s, "escrow.held", h.task_id,
                  {{"task_id", h.task_id},
                   {"enterprise_id", h.enterprise_id},
                   {"amount_fen", h.budget_fen},
                   {"transfer_id", transfer_id}},
                  e.trace_id);
}

// task.units_released (matching) → one escrow release.
// Moves units_released × pay_per_unit from task:{task}:escrow back to ent:{enterprise}:available with
// transfer "release:{task}:{release_id}" (release_id absent → "cancel") and publishes escrow.released.
// Several releases of one task apply (the cancel answer, then one per assignment that came back); each
// release id applies once: a transfer already written under it makes the event a no-op, whatever its
// figures (a repeated cancel answer). 0 units or a rejected (never held) escrow: nothing to do.
// Refused (throws: retried, then dead-lettered): no escrow, another enterprise, a malformed release_id, an
// "asg:" release of an assignment settlement already paid, more units or money than the escrow still holds
// unsettled and unreleased.
void on_units_released(soci::session& s, const events::Event& e);

// tasks task.cancelled. Published for a task cancelled before it opened (and again if the hold arrives
// after the cancel): the hold (if any) is released like matching's answer, under the same release id
// "cancel", so the two can never both pay out. Before any hold there is nothing to release, and the
// re-publication after the hold will come. A task.cancelled with released_by_matching: true comes from a
// task that opened: matching's task.units_released events return its escrow, so it is only logged here.
void on_task_cancelled(soci::session& s, const events::Event& e) {
  const ReleaseEvent r = read_release(e);
  if (r.released_by_matching) {
    log::info("task cancelled after matching released its units; nothing to release here", {{"task_id", r.task_id}});
    return;
  }
  if (!load_escrow(s, r.task_id)) {
    log::info("task cancelled before any hold; nothing to release", {{"task_id", r.task_id}});
    return;
  }
  on_units_released(s, e);
}

void on_units_released(soci::session& s, const events::Event& e) {
  const ReleaseEvent ev = read_release(e);
  const std::string& task_id = ev.task_id;
  const std::string& enterprise_id = ev.enterprise_id;
  const std::int64_t units = ev.units;
  const std::string& release_id = ev.release_id;
  if (auto problem = release_id_problem(release_id)) refuse(e, *problem);
  const auto escrow = load_escrow(s, task_id);
  if (!escrow) refuse(e, "no escrow for task " + task_id);
  if (escrow->enterprise_id != enterprise_id) refuse(e, "enterprise_id differs from the escrow's");
  // A release from matching presumes a task that opened, so a hold: against a rejected escrow it is early
  // (a funding retry's hold has not arrived yet), and acknowledging it would strand that money once the
  // hold comes. Refused: retried until the hold lands. tasks' task.cancelled for a never-funded task is a
  // no-op, as before.
  if (escrow->status == EscrowStatus::rejected && e.type == "task.units_released" && units > 0) {
    wait_for(e, "release for task " + task_id + " whose escrow is not held (yet)");
  }
  if (escrow->status == EscrowStatus::rejected || units == 0) {
    log::info("nothing to release", {{"task_id", task_id}, {"status", to_string(escrow->status)}, {"units", units}});
    return;
  }
  const std::string transfer_id = release_transfer_id(task_id, release_id);
  if (transfer_exists(s, transfer_id)) {
    log::info("release already applied; event ignored",
              {{"task_id", task_id}, {"release_id", release_id}, {"event_id", e.id}});
    return;
  }
  if (const auto asg = released_assignment(release_id); asg && find_settlement_by_assignment(s, *asg)) {
    refuse(e, "assignment " + *asg + " was settled; its units cannot be released");
  }
  if (auto problem = release_problem(*escrow, units)) refuse(e, *problem);
  const std::int64_t amount = units * escrow->pay_per_unit_fen;  // no overflow: checked by release_problem
  // Two-phase escrow: an assignment's units come back through its reservation, voided first (the void
  // writes reserve + void, or a tombstone, when assignment.created has not arrived yet).
  if (const auto asg = released_assignment(release_id)) {
    void_reservation(s, e, *escrow, reserve_request_of({*asg, task_id, enterprise_id, "", units, std::nullopt}, escrow),
                     "released");
  }
  // Only unreserved money goes back: the task escrow account holds exactly that. A "cancel" larger than it
  // means some assignment still holds a reservation matching no longer counts (its void is on another
  // stream, not here yet): refused, retried until it lands.
  if (const std::int64_t unreserved = balance_of(s, task_escrow(task_id)); amount > unreserved) {
    wait_for(e, "release of " + std::to_string(amount) + " fen > the escrow's unreserved " +
                    std::to_string(unreserved) + " fen (reservations still open)");
  }
  if (transfer(s, transfer_id, task_escrow(task_id), enterprise_available(enterprise_id), amount, "escrow_release",
               task_id) == Applied::duplicate) {
    // A concurrent consumer wrote it first (PostgreSQL, several instances): retried, then a no-op above.
    throw std::runtime_error("transfer " + transfer_id + " was written concurrently; the event will be retried");
  }
  add_released(s, *escrow, units, amount, transfer_id);
  events::publish(s, "escrow.released", task_id,
                  {{"task_id", task_id},
                   {"enterprise_id", enterprise_id},
                   {"release_id", release_id},
                   {"units", units},
                   {"amount_fen", amount},
                   {"transfer_id", transfer_id}},
                  e.trace_id);
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
  const std::string& assignment_id = a.figures.assignment_id;
  if (a.currency != "CNY") refuse(e, "currency must be CNY");
  const auto escrow = load_escrow(s, a.figures.task_id);
  const ReserveRequest r = reserve_request_of(a.figures, escrow);
  if (const auto known = load_reservation(s, assignment_id)) {
    check_same_assignment(e, *known, r);
    log::info("assignment already reserved, settled or voided; assignment.created ignored",
              {{"assignment_id", assignment_id}, {"status", to_string(known->status)}, {"event_id", e.id}});
    return;
  }
  if (find_settlement_by_assignment(s, assignment_id)) {
    log::info("assignment settled before reservations existed; assignment.created ignored",
              {{"assignment_id", assignment_id}, {"event_id", e.id}});
    return;
  }
  if (!escrow) refuse(e, "no escrow for task " + r.task_id);
  reserve(s, e, *escrow, r);
}

namespace {

// delivery.rejected / assignment.expired (delivery) → the reservation voided back to the task escrow. On an
// open task matching offers the unit again (a new assignment reserves it); on a cancelled one matching's
// "asg:{asg}" release returns it to the enterprise next. Refused: a settled or ruled assignment, figures
// differing from the reservation's, no escrow (yet).
void void_for(soci::session& s, const events::Event& e, const std::string& why) {
  const AssignmentEvent a = read_assignment(e, /*with_currency=*/false);
  const auto escrow = load_escrow(s, a.figures.task_id);
  const ReserveRequest r = reserve_request_of(a.figures, escrow);
  if (!escrow) refuse(e, "no escrow for task " + r.task_id);
  void_reservation(s, e, *escrow, r, why);
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
