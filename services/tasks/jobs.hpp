// Periodic work of the tasks service. None today: the service reacts to requests and events only, and the
// kit's housekeeping (common/service.hpp) prunes its Idempotency-Key records, outbox and inbox.
#pragma once

namespace crowd {
class Service;
}

namespace crowd::tasks {

void add_jobs(Service& svc);

}  // namespace crowd::tasks
