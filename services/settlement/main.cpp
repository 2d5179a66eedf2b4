// settlement: the double-entry ledger, task escrows, settlements of accepted deliveries (fee, IIT withheld,
// worker payable), payouts, refunds and deposits through the payment provider, reconciliation, balances
// and statements. Port 8105.
#include "common/clock.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/payouts.hpp"
#include "services/settlement/reconcile.hpp"

int main() {
  using namespace crowd::settlement;
  // 16 KiB SQLite pages: each settlement writes rows into a dozen B-trees, and rows that grow in place (a
  // reservation posted, an escrow's counters) split 4 KiB pages and miss the page cache far more often. The
  // settlement benchmark ran about 10 % faster; single-row commits cost more (README, Benchmarks).
  crowd::Service svc("settlement", 8105, {.sqlite_page_size = 16384});
  const auto provider_settings = HttpProviderSettings::from_env(svc.config().port);
  const auto payout_settings = PayoutSettings::from_env();
  // No provider URL: deposits are credited at once (development); payouts wait for a provider.
  // An attempt "submitting" for longer than this was interrupted by a crash; a call in flight must end first.
  if (payout_settings.recover_after_ms <= provider_settings.timeout.count()) {
    throw std::invalid_argument("CROWD_PAYOUT_RECOVER_AFTER_MS must be above CROWD_PROVIDER_TIMEOUT_MS");
  }
  std::unique_ptr<Provider> provider;
  if (!provider_settings.base_url.empty()) provider = make_http_provider(provider_settings);
  add_routes(svc.router(), svc.db(), /*instant_deposits=*/!provider);
  add_payout_routes(svc.router(), svc.db(), provider.get(), payout_settings,
                    provider ? provider_settings.secret : std::string());
  subscribe(svc.events());
  if (provider) {
    svc.every("payouts", std::chrono::milliseconds(250), [&] { run_payouts(svc.db(), *provider, payout_settings); });
    svc.every("auto-payouts", std::chrono::milliseconds(1000), [&] { run_auto_payouts(svc.db(), payout_settings); });
    svc.every("deposits", std::chrono::milliseconds(1000), [&] { place_pending_deposits(svc.db(), *provider); });
    // Yesterday's reconciliation (CST), once the day is over; looked at every 10 minutes.
    svc.every("reconcile", std::chrono::minutes(10), [&] {
      const std::int64_t yesterday = crowd::clock::now_ms() + 8LL * 3600 * 1000 - 24LL * 3600 * 1000;
      const std::string day = crowd::clock::rfc3339(yesterday).substr(0, 10);
      const bool done = svc.db().with([&](soci::session& s) {
        soci::rowset<soci::row> rows = (s.prepare << "SELECT 1 FROM reconciliations WHERE day = :d", soci::use(day));
        return rows.begin() != rows.end();
      });
      if (!done) {
        const auto out = reconcile_day(svc.db(), *provider, day);
        if (out && !out->value("ok", false)) {
          crowd::log::error("reconciliation found mismatches", {{"day", day}, {"count", (*out)["mismatches"].size()}});
        }
      }
    });
  }
  // No purge of idempotency keys here: a deposit's key names its transfer "dep:{enterprise}:{key}" for good,
  // so its record (one per deposit) is kept to replay that deposit rather than fail on the transfer.
  return svc.run(crowd::db::embedded_migrations());
}
