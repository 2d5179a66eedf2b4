#include "services/settlement/jobs.hpp"

#include <chrono>
#include <cstdint>
#include <string>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/payouts.hpp"
#include "services/settlement/reconcile.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

void reconcile_yesterday(db::Database& db, Provider& provider) {
  const std::int64_t yesterday = clock::now_ms() + 8LL * 3600 * 1000 - 24LL * 3600 * 1000;
  const std::string day = clock::rfc3339(yesterday).substr(0, 10);
  if (db.with([&](soci::session& s) { return reconciliation_exists(s, day); })) return;
  const auto out = reconcile_day(db, provider, day);
  if (out && !out->value("ok", false)) {
    log::error("reconciliation found mismatches", {{"day", day}, {"count", (*out)["mismatches"].size()}});
  }
}

void add_jobs(Service& svc, Provider& provider, const Settings& settings) {
  const PayoutSettings& payouts = settings.payouts;
  svc.every("payouts", std::chrono::milliseconds(250),
            [&svc, &provider, &payouts] { run_payouts(svc.db(), provider, payouts); });
  svc.every("auto-payouts", std::chrono::milliseconds(1000), [&svc, &payouts] { run_auto_payouts(svc.db(), payouts); });
  svc.every("deposits", std::chrono::milliseconds(1000),
            [&svc, &provider] { place_pending_deposits(svc.db(), provider); });
  // Yesterday's reconciliation (CST), once the day is over; looked at every 10 minutes.
  svc.every("reconcile", std::chrono::minutes(10), [&svc, &provider] { reconcile_yesterday(svc.db(), provider); });
}

}  // namespace crowd::settlement
