#include "services/settlement/consumers.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

namespace {

using nlohmann::json;

// Reads a required member of an event's data; a missing or mistyped one is the producer's contract
// breach (std::invalid_argument: retried, then dead-lettered).
std::string str_of(const events::Event& e, const char* name) {
  const auto it = e.data.find(name);
  if (it == e.data.end() || !it->is_string()) {
    throw std::invalid_argument(e.type + " " + e.id + ": data." + name + " must be a string");
  }
  return it->get<std::string>();
}

std::int64_t int_of(const events::Event& e, const char* name) {
  const auto it = e.data.find(name);
  if (it == e.data.end() || !it->is_number_integer()) {
    throw std::invalid_argument(e.type + " " + e.id + ": data." + name + " must be an integer");
  }
  return it->get<std::int64_t>();
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

HoldRequest hold_request_of(const events::Event& e) {
  HoldRequest h;
  h.task_id = str_of(e, "task_id");
  h.enterprise_id = str_of(e, "enterprise_id");
  h.category = str_of(e, "category");
  h.title = str_of(e, "title");
  h.currency = str_of(e, "currency");
  h.units = int_of(e, "units");
  h.pay_per_unit_fen = int_of(e, "pay_per_unit_fen");
  h.budget_fen = int_of(e, "budget_fen");
  return h;
}

Acceptance acceptance_of(const events::Event& e) {
  Acceptance a;
  a.submission_id = str_of(e, "submission_id");
  a.assignment_id = str_of(e, "assignment_id");
  a.task_id = str_of(e, "task_id");
  a.enterprise_id = str_of(e, "enterprise_id");
  a.worker_id = str_of(e, "worker_id");
  a.category = str_of(e, "category");
  a.title = str_of(e, "title");
  a.currency = str_of(e, "currency");
  a.units = int_of(e, "units");
  a.amount_fen = int_of(e, "amount_fen");
  a.accepted_at_ms = int_of(e, "accepted_at_ms");
  return a;
}

// ---- Two-phase escrow (rules.hpp, 003_escrow_reservations.sql) ----

// What an assignment holds, from any event that names it. amount_fen is taken from the event when it carries
// it (assignment.created, delivery.accepted, dispute.resolved), else units × the escrow's pay (rejections,
// expiries and releases do not carry it). worker_id is "" for a release (matching's event does not name one).
ReserveRequest reserve_request_of(const events::Event& e, const std::string& assignment_id, std::int64_t units,
                                  const std::string& worker_id, const std::optional<EscrowState>& escrow) {
  ReserveRequest r;
  r.assignment_id = assignment_id;
  r.task_id = str_of(e, "task_id");
  r.enterprise_id = str_of(e, "enterprise_id");
  r.worker_id = worker_id;
  r.units = units;
  if (e.data.contains("amount_fen")) {
    r.amount_fen = int_of(e, "amount_fen");
  } else if (escrow) {
    r.amount_fen = checked_mul(units, escrow->pay_per_unit_fen).value_or(-1);
  }
  return r;
}

// A reservation's figures against the event's: a contradiction is refused. A release names no worker, and a
// tombstone written from one stores none: the worker is compared only when both sides know it.
void check_same_assignment(const events::Event& e, const Reservation& known, ReserveRequest r) {
  if (r.worker_id.empty() || known.worker_id.empty()) r.worker_id = known.worker_id;
  if (auto problem = reservation_mismatch(known, r)) refuse(e, *problem);
}

// The row of an assignment's reservation, from the figures of the event that names it.
Reservation reservation_of(const ReserveRequest& r, const std::string& status) {
  Reservation x;
  x.assignment_id = r.assignment_id;
  x.task_id = r.task_id;
  x.enterprise_id = r.enterprise_id;
  x.worker_id = r.worker_id;
  x.units = r.units;
  x.amount_fen = r.amount_fen;
  x.status = status;
  return x;
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
  Reservation x = reservation_of(r, kReserved);
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
    if (known->status == kVoided) return;
    if (known->status != kReserved) {
      refuse(e, "assignment " + r.assignment_id + " was settled (" + known->ended_by + "); it cannot be voided");
    }
    transfer(s, void_transfer_id(r.assignment_id), assignment_reserved(r.assignment_id), task_escrow(r.task_id),
             known->amount_fen, "escrow_void", r.task_id);
    known->status = kVoided;
    known->ended_by = why;
    end_reservation(s, *known);
    return;
  }
  if (find_settlement_by_assignment(s, r.assignment_id)) {
    refuse(e, "assignment " + r.assignment_id + " was settled; it cannot be voided");
  }
  if (auto problem = assignment_figures_problem(escrow, r)) refuse(e, *problem);
  Reservation x = reservation_of(r, kVoided);
  x.ended_by = why;
  const std::string escrow_account = task_escrow(r.task_id);
  x.moved_money =
      escrow.status == "held" && r.units <= escrow.units_open() && r.amount_fen <= balance_of(s, escrow_account);
  if (x.moved_money) {
    const std::string reserved = assignment_reserved(r.assignment_id);
    transfer(s, reserve_transfer_id(r.assignment_id), escrow_account, reserved, r.amount_fen, "escrow_reserve",
             r.task_id);
    transfer(s, void_transfer_id(r.assignment_id), reserved, escrow_account, r.amount_fen, "escrow_void", r.task_id);
  }
  insert_reservation(s, x);
}

}  // namespace

// task.created (tasks) → escrow hold.
// Holds budget_fen from ent:{enterprise}:available in task:{task}:escrow with transfer "hold:{task}" and
// publishes escrow.held. When the available balance is short, records a rejected escrow and publishes
// escrow.rejected {reason: insufficient_funds}: the event is done (not retried); a later task.created event
// for the same task (a funding retry by tasks) tries again. Idempotent: a task already held is a no-op.
// Malformed data (budget != units × pay, ...) throws: retried, then dead-lettered.
void on_task_created(soci::session& s, const events::Event& e) {
  const HoldRequest h = hold_request_of(e);
  if (auto problem = hold_request_problem(h)) refuse(e, *problem);
  if (const auto existing = load_escrow(s, h.task_id); existing && existing->status != "rejected") {
    log::info("escrow already held; task.created ignored", {{"task_id", h.task_id}, {"event_id", e.id}});
    return;
  }
  const std::string available = enterprise_available(h.enterprise_id);
  // Decision read; the conditional debit inside transfer() is the guard (a concurrent spend makes it throw
  // and the event is retried).
  if (balance_of(s, available) < h.budget_fen) {
    save_hold_outcome(s, h, "rejected", 0, "");
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
  save_hold_outcome(s, h, "held", h.budget_fen, transfer_id);
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
  const std::string task_id = str_of(e, "task_id");
  if (e.data.value("released_by_matching", false)) {
    log::info("task cancelled after matching released its units; nothing to release here", {{"task_id", task_id}});
    return;
  }
  if (!load_escrow(s, task_id)) {
    log::info("task cancelled before any hold; nothing to release", {{"task_id", task_id}});
    return;
  }
  on_units_released(s, e);
}

namespace {

std::string release_id_of(const events::Event& e) {
  const auto it = e.data.find("release_id");
  if (it == e.data.end() || it->is_null()) return kCancelReleaseId;
  return str_of(e, "release_id");
}

}  // namespace

void on_units_released(soci::session& s, const events::Event& e) {
  const std::string task_id = str_of(e, "task_id");
  const std::string enterprise_id = str_of(e, "enterprise_id");
  const std::int64_t units = int_of(e, "units_released");
  const std::string release_id = release_id_of(e);
  if (auto problem = release_id_problem(release_id)) refuse(e, *problem);
  const auto escrow = load_escrow(s, task_id);
  if (!escrow) refuse(e, "no escrow for task " + task_id);
  if (escrow->enterprise_id != enterprise_id) refuse(e, "enterprise_id differs from the escrow's");
  // A release from matching presumes a task that opened, so a hold: against a rejected escrow it is early
  // (a funding retry's hold has not arrived yet), and acknowledging it would strand that money once the
  // hold comes. Refused: retried until the hold lands. tasks' task.cancelled for a never-funded task is a
  // no-op, as before.
  if (escrow->status == "rejected" && e.type == "task.units_released" && units > 0) {
    wait_for(e, "release for task " + task_id + " whose escrow is not held (yet)");
  }
  if (escrow->status == "rejected" || units == 0) {
    log::info("nothing to release", {{"task_id", task_id}, {"status", escrow->status}, {"units", units}});
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
    void_reservation(s, e, *escrow, reserve_request_of(e, *asg, units, "", escrow), "released");
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

namespace {

// settlement.completed: one per settlement, so its data is written as text directly (JsonObjectWriter:
// the same bytes as nlohmann's dump, keys in ascending order).
void publish_completed(soci::session& s, const SettlementRecord& r, const std::string& trace_id) {
  JsonObjectWriter data;
  data.field("amount_fen", r.split.amount_fen).field("assignment_id", r.assignment_id).field("category", r.category);
  data.field("currency", r.currency);
  if (r.dispute_id.empty()) {
    data.null_field("dispute_id");
  } else {
    data.field("dispute_id", r.dispute_id);
  }
  data.field("enterprise_id", r.enterprise_id)
      .field("fee_fen", r.split.fee_fen)
      .field("iit_fen", r.split.iit_fen)
      .field("kind", r.kind)
      .field("net_fen", r.split.net_fen)
      .field("settled_at_ms", r.settled_at_ms)
      .field("settlement_id", r.id)
      .field("submission_id", r.submission_id)
      .field("task_id", r.task_id)
      .field("tax_month", r.tax_month)
      .field("tax_year", r.tax_year)
      .field("title", r.title)
      .field("units", r.units)
      .field("worker_gross_fen", r.split.worker_gross_fen)
      .field("worker_id", r.worker_id);
  events::publish_text(s, "settlement.completed", r.assignment_id, data.done(), trace_id);
}

}  // namespace

// delivery.accepted (delivery) → settlement of one assignment, once.
// amount = the event's amount_fen, which must equal units × pay of the escrow and still be in it; the split
// (fee by the escrow's category, worker gross, IIT by the cumulative method on the worker's state of this CST
// month, net) is compute_payout's, the same the net pay preview shows; linked transfers "stl:{asg}:fee|iit|net" out of
// the assignment's reservation asg:{asg}:reserved (zero legs skipped), the IIT year state, the settlement row, the
// reservation (→ posted) and the escrow counters commit together, then settlement.completed (kind "acceptance").
// When delivery.accepted overtook assignment.created, the reservation is made first in the same transaction (a
// late assignment.created is then a no-op). Idempotent: an assignment already settled, or ruled on
// (dispute.resolved), is a no-op. Refused: a voided assignment (rejected, expired, released), figures differing
// from the reservation's, any mismatch with the escrow: retried, then dead-lettered (logged as refused).
void on_delivery_accepted(soci::session& s, const events::Event& e) {
  const Acceptance a = acceptance_of(e);
  auto reservation = load_reservation(s, a.assignment_id);
  if (reservation && reservation->status == kPosted) {
    // Settled already (a repeat), or ruled on: the ruling decided the assignment's money, so a delivery
    // accepted afterwards pays nothing more (logged; the same no-op as a repeat, whatever came first).
    log::info("assignment already settled or ruled on; delivery.accepted ignored",
              {{"assignment_id", a.assignment_id}, {"ended_by", reservation->ended_by}, {"event_id", e.id}});
    return;
  }
  if (!reservation && find_settlement_by_assignment(s, a.assignment_id)) {
    log::info("assignment already settled; event ignored", {{"assignment_id", a.assignment_id}, {"event_id", e.id}});
    return;
  }
  const auto escrow = load_escrow(s, a.task_id);
  if (!escrow) refuse(e, "no escrow for task " + a.task_id);
  if (auto problem = settlement_problem(*escrow, a)) refuse(e, *problem);
  const ReserveRequest wanted = reserve_request_of(e, a.assignment_id, a.units, a.worker_id, escrow);
  if (reservation) {
    check_same_assignment(e, *reservation, wanted);
    if (reservation->status == kVoided) {
      refuse(e, "assignment " + a.assignment_id + " was voided (" + reservation->ended_by + "); it cannot be settled");
    }
  } else {
    // delivery.accepted overtook assignment.created: reserve first, in this transaction.
    reservation = reserve(s, e, *escrow, wanted);
  }
  const std::string reserved = assignment_reserved(a.assignment_id);
  if (a.category != escrow->category) {
    log::warn("delivery.accepted category differs from the task's; the task's applies",
              {{"assignment_id", a.assignment_id}, {"event", a.category}, {"task", escrow->category}});
  }
  SettlementRecord r;
  r.id = ids::make("stl");
  r.settled_at_ms = clock::now_ms();
  // The same reading of the worker's tax state and the same split as the net pay preview (api_preview.cpp).
  const PayoutAt at = payout_at(s, a.worker_id, escrow->category, a.amount_fen, r.settled_at_ms);
  const Payout& pay = at.payout;
  r.split = pay.split;

  const auto legs = settlement_legs_from(reserved, a.assignment_id, r.id, a.worker_id, r.split);
  // Crash points (test builds) after every write of the settlement path: each must leave nothing half done.
  if (post_legs(s, legs, a.amount_fen, [](const TransferSpec& leg) {
        crash_point(("settlement.settle.after_" + leg.kind).c_str());
      }) == Applied::duplicate) {
    refuse(e, "a settlement transfer of assignment " + a.assignment_id + " exists without a settlement");
  }
  if (pay.withholds) save_iit_year(s, a.worker_id, at.tax_row, iit_row_of(pay.tax_after));
  crash_point("settlement.settle.after_tax_state");

  r.assignment_id = a.assignment_id;
  r.submission_id = a.submission_id;
  r.task_id = a.task_id;
  r.enterprise_id = a.enterprise_id;
  r.worker_id = a.worker_id;
  r.category = escrow->category;
  r.title = a.title;
  r.units = a.units;
  r.tax_year = pay.tax_year;
  r.tax_month = pay.tax_month;
  r.computation = pay.computation_text();
  r.accepted_at_ms = a.accepted_at_ms;
  insert_settlement(s, r);
  reservation->status = kPosted;
  reservation->ended_by = "acceptance";
  reservation->settlement_id = r.id;
  end_reservation(s, *reservation);
  crash_point("settlement.settle.after_record");
  add_settled(s, *escrow, a.units, a.amount_fen);
  crash_point("settlement.settle.before_publish");
  publish_completed(s, r, e.trace_id);
}

// offer.created (matching) → the offer, kept for the net pay preview (GET /v1/offers/{id}/net-pay-preview).
// Moves no money. Idempotent: offers.offer_id is the primary key and a repeat inserts nothing (a repeat
// with other figures is logged, the first kept: an offer's terms never change). Malformed data (amount !=
// units × pay, ...) is refused: retried, then dead-lettered.
void on_offer_created(soci::session& s, const events::Event& e) {
  OfferRecord o;
  o.offer_id = str_of(e, "offer_id");
  o.task_id = str_of(e, "task_id");
  o.enterprise_id = str_of(e, "enterprise_id");
  o.worker_id = str_of(e, "worker_id");
  o.units = int_of(e, "units");
  o.pay_per_unit_fen = int_of(e, "pay_per_unit_fen");
  o.amount_fen = int_of(e, "amount_fen");
  o.currency = str_of(e, "currency");
  o.category = str_of(e, "category");
  o.expires_at_ms = int_of(e, "expires_at_ms");
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
  const std::string assignment_id = str_of(e, "assignment_id");
  if (str_of(e, "currency") != "CNY") refuse(e, "currency must be CNY");
  const auto escrow = load_escrow(s, str_of(e, "task_id"));
  const ReserveRequest r = reserve_request_of(e, assignment_id, int_of(e, "units"), str_of(e, "worker_id"), escrow);
  if (const auto known = load_reservation(s, assignment_id)) {
    check_same_assignment(e, *known, r);
    log::info("assignment already reserved, settled or voided; assignment.created ignored",
              {{"assignment_id", assignment_id}, {"status", known->status}, {"event_id", e.id}});
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
  const std::string assignment_id = str_of(e, "assignment_id");
  const auto escrow = load_escrow(s, str_of(e, "task_id"));
  const ReserveRequest r = reserve_request_of(e, assignment_id, int_of(e, "units"), str_of(e, "worker_id"), escrow);
  if (!escrow) refuse(e, "no escrow for task " + r.task_id);
  void_reservation(s, e, *escrow, r, why);
}

Ruling ruling_of(const events::Event& e) {
  Ruling d;
  d.dispute_id = str_of(e, "dispute_id");
  d.assignment_id = str_of(e, "assignment_id");
  d.task_id = str_of(e, "task_id");
  d.enterprise_id = str_of(e, "enterprise_id");
  d.worker_id = str_of(e, "worker_id");
  d.operator_id = str_of(e, "operator_id");
  d.units = int_of(e, "units");
  d.amount_fen = int_of(e, "amount_fen");
  d.worker_share_fen = int_of(e, "worker_share_fen");
  d.resolved_at_ms = int_of(e, "resolved_at_ms");
  return d;
}

}  // namespace

void on_delivery_rejected(soci::session& s, const events::Event& e) {
  void_for(s, e, "rejected");
}

void on_assignment_expired(soci::session& s, const events::Event& e) {
  void_for(s, e, "expired");
}

// dispute.resolved (disputes) → the ruling applied once, out of the assignment's reservation, in one
// transaction: the worker's share is split and taxed exactly like pay (compute_payout via payout_at: fee by
// the task's category, IIT by the cumulative method on the worker's state of this CST month, net), as legs
// "stl:{asg}:fee|iit|net" and a settlement row of kind "ruling" with the dispute id; the rest goes back to the
// enterprise's available balance ("dsp:{asg}:refund", kind dispute_refund, ref = the dispute id); the
// reservation is posted; the escrow counts the units settled, the share settled and the refund released.
// Then settlement.completed (kind "ruling"; only when the share is > 0: a 0 share has no settlement, nothing
// to invoice) and escrow.ruled (always). A ruling that overtook assignment.created reserves first.
// Idempotent: the same dispute's ruling again is a no-op. Refused: an assignment already settled (accepted,
// or ruled by another dispute) or voided, figures differing from the reservation's or the escrow's, a share
// outside 0..amount.
void on_dispute_resolved(soci::session& s, const events::Event& e) {
  const Ruling d = ruling_of(e);
  if (auto problem = ruling_problem(d)) refuse(e, *problem);
  auto reservation = load_reservation(s, d.assignment_id);
  if (reservation && reservation->status == kPosted) {
    if (reservation->ended_by == "ruling" && reservation->dispute_id == d.dispute_id) {
      log::info("ruling already applied; event ignored", {{"dispute_id", d.dispute_id}, {"event_id", e.id}});
      return;
    }
    refuse(e, "assignment " + d.assignment_id + " was already settled (" + reservation->ended_by + ")");
  }
  if (reservation && reservation->status == kVoided) {
    refuse(e, "assignment " + d.assignment_id + " was voided (" + reservation->ended_by + "); nothing to rule on");
  }
  if (!reservation && find_settlement_by_assignment(s, d.assignment_id)) {
    refuse(e, "assignment " + d.assignment_id + " was already settled");
  }
  const auto escrow = load_escrow(s, d.task_id);
  if (!escrow) refuse(e, "no escrow for task " + d.task_id);
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
  if (auto problem = settlement_problem(*escrow, whole)) refuse(e, *problem);
  const ReserveRequest wanted = reserve_request_of(e, d.assignment_id, d.units, d.worker_id, escrow);
  if (reservation) {
    check_same_assignment(e, *reservation, wanted);
  } else {
    reservation = reserve(s, e, *escrow, wanted);
  }
  const std::string reserved = assignment_reserved(d.assignment_id);
  const std::int64_t share = d.worker_share_fen;
  const std::int64_t refund = d.amount_fen - share;

  SettlementRecord r;
  if (share > 0) {
    r.id = ids::make("stl");
    r.settled_at_ms = clock::now_ms();
    const PayoutAt at = payout_at(s, d.worker_id, escrow->category, share, r.settled_at_ms);
    const Payout& pay = at.payout;
    r.split = pay.split;
    const auto legs = settlement_legs_from(reserved, d.assignment_id, r.id, d.worker_id, r.split);
    if (post_legs(s, legs, share) == Applied::duplicate) {
      refuse(e, "a settlement transfer of assignment " + d.assignment_id + " exists without a settlement");
    }
    if (pay.withholds) save_iit_year(s, d.worker_id, at.tax_row, iit_row_of(pay.tax_after));
    r.assignment_id = d.assignment_id;
    r.submission_id = "";  // a ruling settles no submission
    r.task_id = d.task_id;
    r.enterprise_id = d.enterprise_id;
    r.worker_id = d.worker_id;
    r.category = escrow->category;
    r.title = escrow_title(s, d.task_id);
    r.units = d.units;
    r.tax_year = pay.tax_year;
    r.tax_month = pay.tax_month;
    r.computation = pay.computation_text();
    r.accepted_at_ms = d.resolved_at_ms;
    r.kind = "ruling";
    r.dispute_id = d.dispute_id;
    insert_settlement(s, r);
    mark_settlement_ruling(s, r.id, d.dispute_id);
  }
  const std::string refund_id = refund_transfer_id(d.assignment_id);
  if (refund > 0 && transfer(s, refund_id, reserved, enterprise_available(d.enterprise_id), refund, "dispute_refund",
                             d.dispute_id) == Applied::duplicate) {
    refuse(e, "transfer " + refund_id + " exists without its ruling");
  }
  reservation->status = kPosted;
  reservation->ended_by = "ruling";
  reservation->settlement_id = r.id;
  reservation->dispute_id = d.dispute_id;
  reservation->refund_fen = refund;
  end_reservation(s, *reservation);
  add_ruled(s, *escrow, d.units, share, refund);
  if (share > 0) publish_completed(s, r, e.trace_id);
  events::publish(s, "escrow.ruled", d.assignment_id,
                  {{"dispute_id", d.dispute_id},
                   {"assignment_id", d.assignment_id},
                   {"task_id", d.task_id},
                   {"enterprise_id", d.enterprise_id},
                   {"worker_id", d.worker_id},
                   {"units", d.units},
                   {"amount_fen", d.amount_fen},
                   {"worker_share_fen", share},
                   {"refund_fen", refund},
                   {"settlement_id", share > 0 ? json(r.id) : json(nullptr)},
                   {"refund_transfer_id", refund > 0 ? json(refund_id) : json(nullptr)}},
                  e.trace_id);
}

void on_invoice_issued(soci::session& s, const events::Event& e) {
  const std::string id = str_of(e, "invoice_id"), number = str_of(e, "number"), ent = str_of(e, "enterprise_id"),
                    stl = str_of(e, "settlement_id");
  const long long total = int_of(e, "total_fen"), at = e.occurred_at_ms;
  s << "INSERT INTO invoices_seen (invoice_id, number, enterprise_id, settlement_id, total_fen, issued_at_ms) "
       "VALUES (:i, :n, :e, :s, :t, :a) ON CONFLICT (invoice_id) DO NOTHING",
      soci::use(id), soci::use(number), soci::use(ent), soci::use(stl), soci::use(total), soci::use(at);
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
  subs.on("disputes", "dispute.resolved", on_dispute_resolved);
}

}  // namespace crowd::settlement
