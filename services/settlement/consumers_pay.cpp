// settlement's handlers of pay: delivery.accepted (a settlement) and dispute.resolved (a split ruling).
#include "services/settlement/consumers.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/crash.hpp"
#include "common/ids.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "services/settlement/consumer_support.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

using namespace detail;

namespace {

using nlohmann::json;

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

}  // namespace crowd::settlement
