#include "services/tasks/jobs.hpp"

#include "common/service.hpp"

namespace crowd::tasks {

void add_jobs(Service& /*svc*/) {
  // Nothing periodic of its own (see jobs.hpp).
}

}  // namespace crowd::tasks
