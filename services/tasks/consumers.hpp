// Event consumers of the tasks service. Each runs inside the kit's transaction that records the event id
// in the inbox, so a redelivered event is skipped; beyond that each keeps its own unique key (the task's
// status, the assignment id, the settlement mark) so a re-emitted fact with a new event id is a no-op too,
// and each tolerates any order across the matching and settlement streams (lifecycle.hpp).
// A malformed event (missing field) throws: it stays pending, is retried and finally dead-lettered.
#pragma once

#include <soci/soci.h>

#include "common/events.hpp"

namespace crowd::tasks {

void on_escrow_held_event(soci::session& s, const events::Event& e);
void on_escrow_rejected_event(soci::session& s, const events::Event& e);
void on_assignment_created_event(soci::session& s, const events::Event& e);
void on_units_released_event(soci::session& s, const events::Event& e);
void on_settlement_completed_event(soci::session& s, const events::Event& e);

// settlement: escrow.held, escrow.rejected, settlement.completed; matching: assignment.created,
// task.units_released.
void register_consumers(events::Subscriptions& subs);

}  // namespace crowd::tasks
