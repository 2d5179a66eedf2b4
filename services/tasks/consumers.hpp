// Event consumers of the tasks service. Each runs inside the kit's transaction that records the event id
// in the inbox, so a redelivered event is skipped; beyond that each keeps its own unique key (the task's
// status, the assignment id, the end of an assignment) so a re-emitted fact with a new event id is a no-op
// too, and each tolerates any order across the matching, settlement and delivery streams (lifecycle.hpp).
// Every event's data is read with events::Fields: a malformed event is refused once, naming every fault; it
// stays pending, is retried and finally dead-lettered.
#pragma once

#include <soci/soci.h>

#include <cstdint>

#include "common/events.hpp"

namespace crowd::tasks {

void on_escrow_held_event(soci::session& s, const events::Event& e, std::int64_t now_ms);
void on_escrow_rejected_event(soci::session& s, const events::Event& e, std::int64_t now_ms);
void on_assignment_created_event(soci::session& s, const events::Event& e, std::int64_t now_ms);
void on_units_released_event(soci::session& s, const events::Event& e, std::int64_t now_ms);
void on_settlement_completed_event(soci::session& s, const events::Event& e, std::int64_t now_ms);
// delivery delivery.rejected and assignment.expired: the assignment ended without acceptance.
void on_assignment_ended_event(soci::session& s, const events::Event& e, std::int64_t now_ms);

// settlement: escrow.held, escrow.rejected, settlement.completed; matching: assignment.created,
// task.units_released; delivery: delivery.rejected, assignment.expired (time from crowd::clock at each event).
void add_consumers(events::Subscriptions& subs);

}  // namespace crowd::tasks
