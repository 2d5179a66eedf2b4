// accounts: enterprises, workers, operators and integrations; real-name verification, credentials and
// tokens, API keys, credit records, audited operator reads of personal data. Port 8101.
#include <chrono>
#include <cstdio>
#include <exception>

#include "common/clock.hpp"
#include "common/config.hpp"
#include "common/idempotency.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "services/accounts/credentials.hpp"
#include "services/accounts/handlers.hpp"

int main() {
  using namespace crowd;
  try {
    Service svc("accounts", 8101);
    accounts::Context ctx{svc, accounts::pii_keys_from_env(),
                          accounts::make_verifier(config::env_str("CROWD_IDENTITY_VERIFIER", "sandbox"))};
    log::info("identity verifier: sandbox (checksums only; no authority is asked)");
    accounts::register_routes(ctx);
    svc.every("purge-idempotency-keys", std::chrono::hours(1),
              [&svc] { idempotency::purge(svc.db(), clock::now_ms()); });

    // The operator bootstrap needs the tables before run() serves: migrate here (run() migrates again,
    // which is a no-op).
    const auto migrations = db::embedded_migrations();
    svc.db().migrate_service(migrations);
    accounts::bootstrap_operator(svc.db());
    (void)accounts::dummy_password_hash();  // computed now, so the first failed log-in is not faster
    return svc.run(migrations);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "accounts: refusing to start: %s\n", e.what());
    log::error("refusing to start", {{"error", e.what()}});
    return 2;
  }
}
