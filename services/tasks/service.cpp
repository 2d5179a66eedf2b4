#include "services/tasks/service.hpp"

#include <memory>

#include "common/service.hpp"
#include "services/tasks/api.hpp"
#include "services/tasks/consumers.hpp"
#include "services/tasks/jobs.hpp"

namespace crowd::tasks {

ServiceSpec spec() {
  // Every type store::apply and the POST handler publish (lifecycle.hpp emit_type).
  return {"tasks",
          8102,
          {},
          {"task.created", "task.opened", "task.funding_failed", "task.cancel_requested", "task.cancelled",
           "task.completed"},
          [](Service& svc) {
            Api& api = svc.keep(std::make_unique<Api>(svc.db()));
            add_routes(svc.router(), api);
            add_consumers(svc.events());
            add_jobs(svc);
          }};
}

}  // namespace crowd::tasks
