// The one writer of a plan (planner.hpp), in the caller's transaction: apply_hold (the hold transfer, the
// escrow row, escrow.held or escrow.rejected), apply_reserve (the reservation), apply_void (the void or the
// tombstone), apply_release (an assignment's void first, the release transfer, the escrow's counters,
// escrow.released) and apply_pay. apply_pay writes, in this order, each step only when the plan has it — the
// reservation made first ("rsv:{asg}" and its row), the settlement legs, the IIT year state, the settlement row, a
// ruling's refund, the reservation's end, the escrow's counters, then the events (settlement.completed, escrow.ruled).
// The acceptance path's crash points (test builds, common/crash.hpp) sit between these writes under the names the kill
// -9 integration test uses: settlement.settle.after_{leg kind}, after_tax_state, after_record, before_publish.
#pragma once

#include <soci/soci.h>

#include "common/events.hpp"
#include "services/settlement/planner.hpp"

namespace crowd::settlement {

// Throws events::Refusal when the hold's transfer exists without the escrow held.
void apply_hold(soci::session& s, const events::Event& e, const HoldPlan& p);
// Throw std::runtime_error when a concurrent writer wrote the same transfer first (retried).
void apply_reserve(soci::session& s, const events::Event& e, const ReservePlan& p);
void apply_void(soci::session& s, const events::Event& e, const VoidPlan& p);
void apply_release(soci::session& s, const events::Event& e, const ReleasePlan& p);

// Throws events::Refusal when a transfer of the plan exists without its effect (the ledger and the rows
// disagree), std::runtime_error when a concurrent writer wrote the same reservation first (retried).
void apply_pay(soci::session& s, const events::Event& e, const PayPlan& p);

// settlement.completed of a settlement (its data written as text: the same bytes as nlohmann's dump).
void publish_completed(soci::session& s, const SettlementRecord& r, const std::string& trace_id);

}  // namespace crowd::settlement
