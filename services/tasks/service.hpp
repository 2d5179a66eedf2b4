// tasks: the tasks enterprises post and their lifecycle (post, fund through settlement's escrow, open to
// matching, follow assignments, their ends and settlements, cancel, complete), put together. Port 8102.
// Roles: api.hpp (routes), consumers.hpp (events), jobs.hpp (periodic work), store.hpp (SQL), and the pure
// domain: task.hpp, task_spec.hpp, lifecycle.hpp, task_json.hpp.
#pragma once

#include "common/service_main.hpp"

namespace crowd::tasks {

ServiceSpec spec();

}  // namespace crowd::tasks
