#include "services/settlement/service.hpp"

#include <memory>
#include <string>

#include "common/service.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/jobs.hpp"
#include "services/settlement/payouts.hpp"
#include "services/settlement/provider.hpp"
#include "services/settlement/settings.hpp"

namespace crowd::settlement {

namespace {

void install(Service& svc) {
  const Settings& settings = svc.keep(std::make_unique<Settings>(Settings::from_env(svc.config().port)));
  Provider* provider = nullptr;
  if (settings.has_provider()) provider = &svc.keep(make_http_provider(settings.provider));
  add_routes(svc.router(), svc.db(), /*instant_deposits=*/provider == nullptr);
  add_payout_routes(svc.router(), svc.db(), provider, settings.payouts,
                    provider != nullptr ? settings.provider.secret : std::string());
  subscribe(svc.events());
  if (provider != nullptr) add_jobs(svc, *provider, settings);
  // Idempotency keys are kept forever here: a deposit's key names its transfer "dep:{enterprise}:{key}" for
  // good, so its record (one per deposit) is kept to replay that deposit rather than fail on the transfer.
  svc.housekeeping().idempotency_retention_ms = 0;
}

}  // namespace

ServiceSpec spec() {
  return {"settlement",
          8105,
          // 16 KiB SQLite pages: each settlement writes rows into a dozen B-trees, and rows that grow in place (a
          // reservation posted, an escrow's counters) split 4 KiB pages and miss the page cache far more often.
          // The settlement benchmark ran about 10 % faster; single-row commits cost more (README, Benchmarks).
          {.sqlite_page_size = 16384},
          {"escrow.held", "escrow.rejected", "escrow.released", "escrow.ruled", "settlement.completed",
           "payout.succeeded", "payout.failed", "payout.parked", "payout.returned", "refund.succeeded", "refund.failed",
           "refund.parked", "deposit.completed", "deposit.failed"},
          install};
}

}  // namespace crowd::settlement
