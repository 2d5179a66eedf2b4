// Matching's event consumers. Each runs inside the transaction that records the event in the inbox
// (duplicates are filtered there), publishes follow-ups through the outbox in that same transaction,
// and is idempotent on its own as well (conditional updates, ON CONFLICT). Every event's data is read with
// events::Fields: malformed data is refused once, naming every fault; the entry stays pending, is retried,
// and is dead-lettered after CROWD_MAX_DELIVERIES.
#pragma once

#include <cstdint>

#include "common/events.hpp"
#include "services/matching/engine.hpp"

namespace crowd::matching {

// accounts worker.registered → the worker in the index (offline, load 0; a repeat refreshes the profile).
void on_worker_registered(soci::session& s, const events::Event& e, std::int64_t now_ms);
// tasks task.opened → the task (open, 0 units assigned) and its first offers. If a cancel request came
// first, the task is stored closed and the cancel request is answered now (task.units_released "cancel").
void on_task_opened(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms);
// tasks task.cancel_requested → task closed to accepts, pending offers withdrawn, and EVERY request
// answered with task.units_released release_id "cancel": the first answer releases the units never
// assigned and records that figure; a repeat re-sends the same figure with the current units_assigned
// (settlement pays a release id once; tasks recomputes, which gets a repeated cancel out of `cancelling`).
// A request before task.opened makes a closed placeholder; task.opened answers it.
void on_task_cancel_requested(soci::session& s, const events::Event& e, std::int64_t now_ms);
// delivery delivery.rejected → assignment rejected, its unit leaves units_assigned, load − 1. An open task
// offers the unit again; a closed task releases it: task.units_released release_id "asg:{assignment_id}",
// units_released = the assignment's units, units_assigned = the count after it.
void on_delivery_rejected(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms);
// delivery assignment.expired (no submission by the deadline) → as delivery.rejected, status expired.
void on_assignment_expired(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms);
// delivery delivery.accepted → assignment completed, load − 1.
void on_delivery_accepted(soci::session& s, const events::Event& e, std::int64_t now_ms);

// Subscribes all of the above (time from crowd::clock at each event).
void add_consumers(events::Subscriptions& subs, const Settings& cfg);

}  // namespace crowd::matching
