#include "services/matching/jobs.hpp"

#include <soci/soci.h>

#include <chrono>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/log.hpp"
#include "common/service.hpp"
#include "services/matching/engine.hpp"
#include "services/matching/store.hpp"

namespace crowd::matching {

SweepResult sweep(db::Database& db, const Settings& cfg, std::int64_t now_ms) {
  SweepResult r;
  r.offers_expired = db.tx([&](soci::session& s) { return store::expire_offers(s, now_ms); });
  const auto task_ids =
      db.with([&](soci::session& s) { return store::tasks_needing_offers(s, now_ms, cfg.sweep_batch); });
  for (const auto& id : task_ids) {
    // One transaction per task: a long sweep never holds SQLite's write lock for long.
    r.offers_created += db.tx([&](soci::session& s) { return offer_round(s, id, cfg, now_ms); });
  }
  r.tasks_rematched = task_ids.size();
  if (r.offers_expired > 0 || r.offers_created > 0) {
    log::info("matching sweep", {{"offers_expired", r.offers_expired},
                                 {"tasks_rematched", r.tasks_rematched},
                                 {"offers_created", r.offers_created}});
  }
  return r;
}

void add_jobs(Service& svc, const Settings& cfg) {
  // Expires offers and re-offers tasks left without a pending offer.
  svc.every("matching-sweep", std::chrono::milliseconds(cfg.sweep_period_ms),
            [&svc, &cfg] { sweep(svc.db(), cfg, clock::now_ms()); });
}

}  // namespace crowd::matching
