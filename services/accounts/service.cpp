#include "services/accounts/service.hpp"

#include <memory>

#include "common/log.hpp"
#include "common/service.hpp"
#include "services/accounts/api.hpp"
#include "services/accounts/credentials.hpp"
#include "services/accounts/settings.hpp"

namespace crowd::accounts {

// Idempotency keys are pruned by the kit's housekeeping, as for every service.
ServiceSpec spec() {
  return {"accounts", 8101, {}, {"enterprise.registered", "worker.registered"}, [](Service& svc) {
            const Settings& settings = svc.keep(std::make_unique<Settings>(Settings::from_env()));
            auto& ctx =
                svc.keep(std::make_unique<Context>(Context{svc.db(), settings.keys, make_verifier(settings.verifier),
                                                           svc.config().token_secret, svc.config().token_ttl_s}));
            log::info("identity verifier: sandbox (checksums only; no authority is asked)");
            add_routes(svc.router(), ctx);
            svc.on_start([&svc, &settings] {
              if (settings.bootstrap_operator) bootstrap_operator(svc.db(), *settings.bootstrap_operator);
              (void)dummy_password_hash();  // computed now, so the first failed log-in is not faster
            });
          }};
}

}  // namespace crowd::accounts
