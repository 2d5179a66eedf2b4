#include "services/paysandbox/service.hpp"

#include <memory>

#include "common/service.hpp"
#include "services/paysandbox/api.hpp"
#include "services/paysandbox/jobs.hpp"
#include "services/paysandbox/settings.hpp"

namespace crowd::paysandbox {

ServiceSpec spec() {
  return {"paysandbox", 8107, {}, {}, [](Service& svc) {
            const Settings& settings = svc.keep(std::make_unique<Settings>(Settings::from_env()));
            add_routes(svc.router(), svc.db(), settings);
            add_jobs(svc, settings);
          }};
}

}  // namespace crowd::paysandbox
