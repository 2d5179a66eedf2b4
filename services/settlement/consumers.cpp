#include "services/settlement/consumers.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/ids.hpp"
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
    refuse(e, "release for task " + task_id + " whose escrow is not held (yet)");
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

void publish_completed(soci::session& s, const SettlementRecord& r, const std::string& trace_id) {
  events::publish(s, "settlement.completed", r.assignment_id,
                  {{"settlement_id", r.id},
                   {"assignment_id", r.assignment_id},
                   {"submission_id", r.submission_id},
                   {"task_id", r.task_id},
                   {"enterprise_id", r.enterprise_id},
                   {"worker_id", r.worker_id},
                   {"category", r.category},
                   {"title", r.title},
                   {"units", r.units},
                   {"amount_fen", r.split.amount_fen},
                   {"fee_fen", r.split.fee_fen},
                   {"worker_gross_fen", r.split.worker_gross_fen},
                   {"iit_fen", r.split.iit_fen},
                   {"net_fen", r.split.net_fen},
                   {"currency", r.currency},
                   {"tax_year", r.tax_year},
                   {"tax_month", r.tax_month},
                   {"settled_at_ms", r.settled_at_ms}},
                  trace_id);
}

}  // namespace

// delivery.accepted (delivery) → settlement of one assignment, once.
// amount = the event's amount_fen, which must equal units × pay of the escrow and still be in it; the split
// (fee by the escrow's category, worker gross, IIT by the cumulative method on the worker's state of this CST
// month, net) is compute_payout's, the same the net pay preview shows; linked transfers "stl:{asg}:fee|iit|net" out of
// the task escrow (zero legs skipped), the IIT year state, the settlement row and the escrow counters commit together,
// then settlement.completed. Idempotent: an assignment already settled is a no-op (settlements.assignment_id is
// unique). Any mismatch throws: the event stays pending, is retried, then dead-lettered (logged as refused).
void on_delivery_accepted(soci::session& s, const events::Event& e) {
  const Acceptance a = acceptance_of(e);
  if (find_settlement_by_assignment(s, a.assignment_id)) {
    log::info("assignment already settled; event ignored", {{"assignment_id", a.assignment_id}, {"event_id", e.id}});
    return;
  }
  const auto escrow = load_escrow(s, a.task_id);
  if (!escrow) refuse(e, "no escrow for task " + a.task_id);
  if (auto problem = settlement_problem(*escrow, a)) refuse(e, *problem);
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

  const auto legs = settlement_legs(a.assignment_id, r.id, a.task_id, a.worker_id, r.split);
  if (auto problem = legs_problem(legs, task_escrow(a.task_id), a.amount_fen)) {
    throw std::logic_error("settlement legs: " + *problem);
  }
  // Crash points (test builds) after every write of the settlement path: each must leave nothing half done.
  for (const auto& leg : legs) {
    if (transfer(s, leg) == Applied::duplicate) refuse(e, "transfer " + leg.id + " exists without a settlement");
    crash_point(("settlement.settle.after_" + leg.kind).c_str());
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
  r.computation = pay.computation.is_null() ? "null" : pay.computation.dump();
  r.accepted_at_ms = a.accepted_at_ms;
  insert_settlement(s, r);
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

void subscribe(events::Subscriptions& subs) {
  subs.on("tasks", "task.created", on_task_created);
  subs.on("matching", "task.units_released", on_units_released);
  subs.on("matching", "offer.created", on_offer_created);
  subs.on("tasks", "task.cancelled", on_task_cancelled);
  subs.on("delivery", "delivery.accepted", on_delivery_accepted);
}

}  // namespace crowd::settlement
