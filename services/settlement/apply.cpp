#include "services/settlement/apply.hpp"

#include <stdexcept>

#include "common/crash.hpp"
#include "common/json_text.hpp"
#include "services/settlement/consumer_support.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

using detail::refuse;

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

namespace {

void crash_if(bool on, const char* name) {
  if (on) crash_point(name);
}

// The reservation a pay event made because it overtook assignment.created: "rsv:{asg}" and the row.
void reserve_first(soci::session& s, const Reservation& r) {
  const std::string transfer_id = reserve_transfer_id(r.assignment_id);
  if (transfer(s, transfer_id, task_escrow(r.task_id), assignment_reserved(r.assignment_id), r.amount_fen,
               "escrow_reserve", r.task_id) == Applied::duplicate) {
    // The transfer and the row are written together: only a concurrent writer (PostgreSQL, several
    // instances) gets here. Retried, the row is then found.
    throw std::runtime_error("transfer " + transfer_id + " was written concurrently; the event will be retried");
  }
  insert_reservation(s, r);
}

// The legs, the tax state and the settlement row (with the crash points of the acceptance path).
void write_settlement(soci::session& s, const events::Event& e, const PayPlan& p) {
  const SettlementRecord& r = *p.settlement;
  std::function<void(const TransferSpec&)> after_leg;
  if (p.crash_points) {
    after_leg = [](const TransferSpec& leg) { crash_point(("settlement.settle.after_" + leg.kind).c_str()); };
  }
  if (post_legs(s, p.legs, p.legs_total_fen, after_leg) == Applied::duplicate) {
    refuse(e, "a settlement transfer of assignment " + r.assignment_id + " exists without a settlement");
  }
  if (p.withholds) save_iit_year(s, r.worker_id, p.tax_before, p.tax_after);
  crash_if(p.crash_points, "settlement.settle.after_tax_state");
  insert_settlement(s, r);
  if (r.kind == "ruling") mark_settlement_ruling(s, r.id, r.dispute_id);
}

}  // namespace

void apply_hold(soci::session& s, const events::Event& e, const HoldPlan& p) {
  const HoldRequest& h = p.hold;
  if (!p.funded) {
    save_hold_outcome(s, h, EscrowStatus::rejected, 0, "");
    events::publish(s, "escrow.rejected", h.task_id,
                    {{"task_id", h.task_id},
                     {"enterprise_id", h.enterprise_id},
                     {"amount_fen", h.budget_fen},
                     {"reason", "insufficient_funds"}},
                    e.trace_id);
    return;
  }
  if (transfer(s, p.transfer_id, enterprise_available(h.enterprise_id), task_escrow(h.task_id), h.budget_fen,
               "escrow_hold", h.task_id) == Applied::duplicate) {
    refuse(e, "transfer " + p.transfer_id + " exists but the escrow is not held");
  }
  save_hold_outcome(s, h, EscrowStatus::held, h.budget_fen, p.transfer_id);
  events::publish(s, "escrow.held", h.task_id,
                  {{"task_id", h.task_id},
                   {"enterprise_id", h.enterprise_id},
                   {"amount_fen", h.budget_fen},
                   {"transfer_id", p.transfer_id}},
                  e.trace_id);
}

void apply_reserve(soci::session& s, const events::Event&, const ReservePlan& p) {
  reserve_first(s, p.reservation);
}

void apply_void(soci::session& s, const events::Event&, const VoidPlan& p) {
  const Reservation& x = p.row;
  const std::string reserved = assignment_reserved(x.assignment_id);
  const std::string escrow_account = task_escrow(x.task_id);
  if (p.known) {
    transfer(s, void_transfer_id(x.assignment_id), reserved, escrow_account, x.amount_fen, "escrow_void", x.task_id);
    end_reservation(s, x);
    return;
  }
  if (x.moved_money) {
    transfer(s, reserve_transfer_id(x.assignment_id), escrow_account, reserved, x.amount_fen, "escrow_reserve",
             x.task_id);
    transfer(s, void_transfer_id(x.assignment_id), reserved, escrow_account, x.amount_fen, "escrow_void", x.task_id);
  }
  insert_reservation(s, x);
}

void apply_release(soci::session& s, const events::Event& e, const ReleasePlan& p) {
  if (p.void_first) apply_void(s, e, *p.void_first);
  const EscrowState& escrow = p.escrow_before;
  if (transfer(s, p.transfer_id, task_escrow(escrow.task_id), enterprise_available(escrow.enterprise_id), p.amount_fen,
               "escrow_release", escrow.task_id) == Applied::duplicate) {
    // A concurrent consumer wrote it first (PostgreSQL, several instances): retried, then a no-op.
    throw std::runtime_error("transfer " + p.transfer_id + " was written concurrently; the event will be retried");
  }
  add_released(s, escrow, p.units, p.amount_fen, p.transfer_id);
  events::publish(s, "escrow.released", escrow.task_id,
                  {{"task_id", escrow.task_id},
                   {"enterprise_id", escrow.enterprise_id},
                   {"release_id", p.release_id},
                   {"units", p.units},
                   {"amount_fen", p.amount_fen},
                   {"transfer_id", p.transfer_id}},
                  e.trace_id);
}

void apply_pay(soci::session& s, const events::Event& e, const PayPlan& p) {
  if (p.reserve_first) reserve_first(s, *p.reserve_first);
  if (p.settlement) write_settlement(s, e, p);
  if (p.refund && transfer(s, *p.refund) == Applied::duplicate) {
    refuse(e, "transfer " + p.refund->id + " exists without its ruling");
  }
  end_reservation(s, p.reservation_after);
  crash_if(p.crash_points, "settlement.settle.after_record");
  if (p.delta.ruling) {
    add_ruled(s, p.escrow_before, p.delta.units_settled, p.delta.settled_fen, p.delta.released_fen);
  } else {
    add_settled(s, p.escrow_before, p.delta.units_settled, p.delta.settled_fen);
  }
  crash_if(p.crash_points, "settlement.settle.before_publish");
  if (p.settlement) publish_completed(s, *p.settlement, e.trace_id);
  if (p.escrow_ruled)
    events::publish(s, "escrow.ruled", p.reservation_after.assignment_id, *p.escrow_ruled, e.trace_id);
}

}  // namespace crowd::settlement
