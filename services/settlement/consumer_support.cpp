#include "services/settlement/consumer_support.hpp"

#include <stdexcept>

#include "common/events/fields.hpp"
#include "common/log.hpp"
#include "services/settlement/ledger.hpp"

namespace crowd::settlement::detail {

// ---- The events as settlement reads them ----

namespace {

// The ids an event names of one assignment, in the order their faults are listed.
template <class T>
void read_assignment_ids(events::Fields& f, T& x) {
  x.assignment_id = f.id("assignment_id");
  x.task_id = f.id("task_id");
  x.enterprise_id = f.id("enterprise_id");
  x.worker_id = f.id("worker_id");
}

}  // namespace

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
  read_assignment_ids(f, a);
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
  read_assignment_ids(f, d);
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

ReleaseRequest read_release(const events::Event& e) {
  events::Fields f(e);
  ReleaseRequest r;
  r.from_matching = e.type == "task.units_released";
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
  read_assignment_ids(f, a.figures);
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

// ---- Loads ----

AssignmentLoad load_assignment(soci::session& s, const AssignmentFigures& f) {
  AssignmentLoad l;
  l.escrow = load_escrow(s, f.task_id);
  l.reservation = load_reservation(s, f.assignment_id);
  if (!l.reservation) l.settled_before = find_settlement_by_assignment(s, f.assignment_id).has_value();
  if (l.escrow && !l.reservation && !l.settled_before) l.unreserved_fen = balance_of(s, task_escrow(f.task_id));
  return l;
}

}  // namespace crowd::settlement::detail
