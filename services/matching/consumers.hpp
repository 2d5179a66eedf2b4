// Matching's event consumers. Each runs inside the transaction that records the event in the inbox
// (duplicates are filtered there), publishes follow-ups through the outbox in that same transaction,
// and is idempotent on its own as well (conditional updates, ON CONFLICT). Malformed data throws: the
// entry stays pending, is retried, and is dead-lettered after CROWD_MAX_DELIVERIES.
#pragma once

#include <cstdint>

#include "common/events.hpp"
#include "services/matching/engine.hpp"

namespace crowd::matching {

// accounts worker.registered → the worker in the index (offline, load 0; a repeat refreshes the profile).
void on_worker_registered(soci::session& s, const events::Event& e, std::int64_t now_ms);
// tasks task.opened → the task (open, 0 units assigned) and its first offers. If a cancel request came
// first, the task is stored closed and task.units_released is published now.
void on_task_opened(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms);
// tasks task.cancel_requested → task closed to accepts, pending offers withdrawn, task.units_released
// published exactly once per task.
void on_task_cancel_requested(soci::session& s, const events::Event& e, std::int64_t now_ms);
// delivery delivery.rejected → assignment rejected, its unit back to the task, load − 1, offers again
// unless the task is closed.
void on_delivery_rejected(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms);
// delivery delivery.accepted → assignment completed, load − 1.
void on_delivery_accepted(soci::session& s, const events::Event& e, std::int64_t now_ms);

// Subscribes all of the above (time from crowd::clock at each event).
void add_consumers(events::Subscriptions& subs, const Settings& cfg);

}  // namespace crowd::matching
