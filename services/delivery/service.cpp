#include "services/delivery/service.hpp"

#include <memory>

#include "common/service.hpp"
#include "services/delivery/api.hpp"
#include "services/delivery/consumers.hpp"
#include "services/delivery/jobs.hpp"
#include "services/delivery/settings.hpp"

namespace crowd::delivery {

// Idempotency keys are pruned by the kit's housekeeping, as for every service.
ServiceSpec spec() {
  return {"delivery",
          8104,
          {},
          {"submission.created", "delivery.accepted", "delivery.revision_requested", "delivery.rejected",
           "assignment.expired"},
          [](Service& svc) {
            const Settings& settings = svc.keep(std::make_unique<Settings>(Settings::from_env()));
            auto& api = svc.keep(std::make_unique<Api>(svc.db(), settings));
            add_routes(svc.router(), api);
            add_consumers(svc.events());
            add_jobs(svc, settings);
          }};
}

}  // namespace crowd::delivery
