// settlement's handlers of pay: delivery.accepted (a settlement) and dispute.resolved (a split ruling), each
// read → load → plan (planner.hpp) → apply (apply.hpp).
#include <soci/soci.h>

#include <variant>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/settlement/apply.hpp"
#include "services/settlement/consumer_support.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/planner.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

using namespace detail;

namespace {

// What plan_acceptance and plan_ruling read: load_assignment's, the worker's IIT row of now's CST year and
// (for a ruling's settlement) the task's title.
PayLoad load_pay(soci::session& s, const AssignmentFigures& f, std::int64_t now_ms, bool with_title) {
  PayLoad l;
  static_cast<AssignmentLoad&>(l) = load_assignment(s, f);
  l.tax_row = load_iit_year(s, f.worker_id, clock::cst_year_month(now_ms).year);
  if (with_title) l.title = escrow_title(s, f.task_id);
  return l;
}

}  // namespace

// delivery.accepted (delivery) → settlement of one assignment, once.
// amount = the event's amount_fen, which must equal units × pay of the escrow and still be in it; the split
// (fee by the escrow's category, worker gross, IIT by the cumulative method on the worker's state of this CST
// month, net) is compute_payout's, the same the net pay preview shows; linked transfers "stl:{asg}:fee|iit|net"
// out of the assignment's reservation asg:{asg}:reserved (zero legs skipped), the IIT year state, the settlement
// row, the reservation (→ posted) and the escrow counters commit together, then settlement.completed (kind
// "acceptance"). When delivery.accepted overtook assignment.created, the reservation is made first in the same
// transaction (a late assignment.created is then a no-op). Idempotent: an assignment already settled, or ruled
// on (dispute.resolved), is a no-op. Refused: a voided assignment (rejected, expired, released), figures
// differing from the reservation's, any mismatch with the escrow: retried, then dead-lettered (logged as refused).
void on_delivery_accepted(soci::session& s, const events::Event& e) {
  const Acceptance a = read_acceptance(e);
  const std::int64_t now = clock::now_ms();
  const PayLoad l =
      load_pay(s, {a.assignment_id, a.task_id, a.enterprise_id, a.worker_id, a.units, a.amount_fen}, now, false);
  if (l.escrow && a.category != l.escrow->category) {
    log::warn("delivery.accepted category differs from the task's; the task's applies",
              {{"assignment_id", a.assignment_id}, {"event", a.category}, {"task", l.escrow->category}});
  }
  carry_out(s, e, plan_acceptance(a, l, ids::make("stl"), now), apply_pay);
}

// dispute.resolved (disputes) → the ruling applied once, out of the assignment's reservation, in one
// transaction: the worker's share is split and taxed exactly like pay (compute_payout: fee by the task's
// category, IIT by the cumulative method on the worker's state of this CST month, net), as legs
// "stl:{asg}:fee|iit|net" and a settlement row of kind "ruling" with the dispute id; the rest goes back to the
// enterprise's available balance ("dsp:{asg}:refund", kind dispute_refund, ref = the dispute id); the
// reservation is posted; the escrow counts the units settled, the share settled and the refund released.
// Then settlement.completed (kind "ruling"; only when the share is > 0: a 0 share has no settlement, nothing
// to invoice) and escrow.ruled (always). A ruling that overtook assignment.created reserves first.
// Idempotent: the same dispute's ruling again is a no-op. Refused: an assignment already settled (accepted,
// or ruled by another dispute) or voided, figures differing from the reservation's or the escrow's, a share
// outside 0..amount.
void on_dispute_resolved(soci::session& s, const events::Event& e) {
  const Ruling d = read_ruling(e);
  const std::int64_t now = clock::now_ms();
  const PayLoad l =
      load_pay(s, {d.assignment_id, d.task_id, d.enterprise_id, d.worker_id, d.units, d.amount_fen}, now, true);
  carry_out(s, e, plan_ruling(d, l, ids::make("stl"), now), apply_pay);
}

}  // namespace crowd::settlement
