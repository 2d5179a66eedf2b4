// The tasks service: tasks and their lifecycle (post, fund through settlement's escrow, open to matching,
// follow assignments and settlements, cancel, complete). See api.hpp and consumers.hpp.
#include <chrono>

#include "common/service.hpp"
#include "services/tasks/api.hpp"
#include "services/tasks/consumers.hpp"

int main() {
  crowd::Service svc("tasks", 8102);
  crowd::tasks::Api api(svc.db());
  crowd::tasks::register_routes(svc.router(), api);
  crowd::tasks::register_consumers(svc.events());
  svc.every("purge-idempotency-keys", std::chrono::minutes(10), [&api] { api.purge_idempotency_keys(); });
  return svc.run(crowd::db::embedded_migrations());
}
