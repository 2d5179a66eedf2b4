#include "services/paysandbox/service.hpp"

#include <chrono>
#include <memory>

#include "common/service.hpp"
#include "services/paysandbox/sandbox.hpp"

namespace crowd::paysandbox {

ServiceSpec spec() {
  return {"paysandbox", 8107, {}, {}, [](Service& svc) {
            const Settings& settings = svc.keep(std::make_unique<Settings>(Settings::from_env()));
            add_routes(svc.router(), svc.db(), settings);
            // Decides the outcome of due orders, then notifies the platform of them (signed).
            svc.every("decide", std::chrono::milliseconds(100), [&svc, &settings] { decide_due(svc.db(), settings); });
            svc.every("notify", std::chrono::milliseconds(100), [&svc, &settings] { deliver_due(svc.db(), settings); });
          }};
}

}  // namespace crowd::paysandbox
