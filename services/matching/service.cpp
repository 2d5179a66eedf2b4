#include "services/matching/service.hpp"

#include <memory>

#include "common/service.hpp"
#include "services/matching/api.hpp"
#include "services/matching/consumers.hpp"
#include "services/matching/jobs.hpp"
#include "services/matching/settings.hpp"

namespace crowd::matching {

ServiceSpec spec() {
  // engine.cpp make_offer: offer.created; offers.cpp take_unit: assignment.created; consumers.cpp (a cancel
  // answered, a unit back to a closed task): task.units_released.
  return {"matching", 8103, {}, {"offer.created", "assignment.created", "task.units_released"}, [](Service& svc) {
            const Settings& cfg = svc.keep(std::make_unique<Settings>(Settings::from_env()));
            Api& api = svc.keep(std::make_unique<Api>([&svc]() -> db::Database& { return svc.db(); }, cfg));
            api.add_routes(svc.router());
            add_consumers(svc.events(), cfg);
            add_jobs(svc, cfg);
          }};
}

}  // namespace crowd::matching
