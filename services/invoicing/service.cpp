#include "services/invoicing/service.hpp"

#include <memory>

#include "common/service.hpp"
#include "services/invoicing/api.hpp"
#include "services/invoicing/consumers.hpp"
#include "services/invoicing/settings.hpp"

namespace crowd::invoicing {

ServiceSpec spec() {
  return {"invoicing", 8106, {}, {"invoice.issued"}, [](Service& svc) {
            const Settings& settings = svc.keep(std::make_unique<Settings>(Settings::from_env()));
            auto& api = svc.keep(std::make_unique<Api>(svc.db()));
            add_routes(svc.router(), api);
            add_consumers(svc.events(), settings);
          }};
}

}  // namespace crowd::invoicing
