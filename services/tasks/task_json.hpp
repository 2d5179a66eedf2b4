// JSON shapes of a task: the API views and the data of the events the service publishes
// (schemas/events/CATALOGUE.md, task.*.schema.json). Pure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>

#include "services/tasks/lifecycle.hpp"
#include "services/tasks/task.hpp"

namespace crowd::tasks {

// The owner enterprise's and operators' view: every field.
nlohmann::json owner_view(const Task& t);
// Workers' view: the work, the pay and the place, without the enterprise's private fields (enterprise_id,
// budget, posted units, escrow and funding details).
nlohmann::json worker_view(const Task& t);

// The `data` of the event e about t; units_released and released_by_matching (added only when true) are
// used by task.cancelled only.
nlohmann::json event_data(Emit e, const Task& t, std::int64_t units_released = 0, bool released_by_matching = false);

}  // namespace crowd::tasks
