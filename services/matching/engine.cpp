#include "services/matching/engine.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "common/config.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/idempotency.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "services/matching/ranking.hpp"
#include "services/matching/rules.hpp"
#include "services/matching/store.hpp"
#include "services/matching/views.hpp"

namespace crowd::matching {

namespace {

std::int64_t clamp_env(const char* name, std::int64_t def, std::int64_t min, std::int64_t max) {
  return std::clamp(config::env_int(name, def), min, max);
}

bool make_offer(soci::session& s, const store::TaskRow& task, const Candidate& c, const Settings& cfg,
                std::int64_t now_ms) {
  store::OfferRow o;
  o.id = ids::make("ofr");
  o.task_id = task.profile.id;
  o.worker_id = c.worker_id;
  o.status = OfferStatus::pending;
  o.score = c.score;
  o.distance_m = c.distance_m;
  o.created_at_ms = now_ms;
  // An offer never outlives the task's deadline.
  o.expires_at_ms = std::min(now_ms + cfg.offer_ttl_ms, task.deadline_ms);
  if (!store::insert_offer(s, o)) return false;
  // In the offer's transaction: settlement learns every offer that exists, and no offer that does not
  // (its net pay preview, GET /v1/offers/{id}/net-pay-preview).
  events::publish(s, "offer.created", o.id, offer_created_data(o, task));
  return true;
}

}  // namespace

Settings Settings::from_env() {
  Settings c;
  c.offers_per_unit = static_cast<int>(clamp_env("CROWD_MATCH_OFFERS_PER_UNIT", c.offers_per_unit, 1, 100));
  c.min_offers = static_cast<int>(clamp_env("CROWD_MATCH_MIN_OFFERS", c.min_offers, 1, 1000));
  c.offers_max = static_cast<std::size_t>(clamp_env("CROWD_MATCH_OFFERS_MAX", 500, 1, 100000));
  c.offer_ttl_ms = clamp_env("CROWD_OFFER_TTL_S", 900, 1, 30LL * 86400) * 1000;
  c.retry_ms = clamp_env("CROWD_MATCH_RETRY_MS", c.retry_ms, 0, 3600000);
  c.online_offers_max = static_cast<int>(clamp_env("CROWD_MATCH_ONLINE_OFFERS_MAX", c.online_offers_max, 0, 1000));
  c.online_scan_max = static_cast<int>(clamp_env("CROWD_MATCH_ONLINE_SCAN_MAX", c.online_scan_max, 1, 100000));
  c.sweep_batch = static_cast<int>(clamp_env("CROWD_MATCH_SWEEP_BATCH", c.sweep_batch, 1, 10000));
  c.sweep_period_ms = clamp_env("CROWD_MATCH_SWEEP_MS", c.sweep_period_ms, 50, 600000);
  c.idempotency_ttl_ms = clamp_env("CROWD_IDEMPOTENCY_TTL_S", 86400, 60, 30LL * 86400) * 1000;
  return c;
}

int offer_round(soci::session& s, const std::string& task_id, const Settings& cfg, std::int64_t now_ms) {
  // Locks the task first (writers of a task queue in one order) and backs the sweep off this task for
  // retry_ms: if this round finds nobody, the next try waits; if it makes offers, they keep the sweep
  // away anyway until they are decided or expire.
  if (!store::lock_task(s, task_id, now_ms + cfg.retry_ms)) return 0;
  const auto task = store::find_task(s, task_id);
  if (!task || !task->opened) return 0;
  if (task_gate(task->is_open, task->deadline_ms, task->units_assigned, task->units_total, now_ms) != TaskGate::open) {
    return 0;
  }
  const std::size_t target = offer_target(task->units_free(), cfg.offers_per_unit, cfg.min_offers, cfg.offers_max);
  const auto live = static_cast<std::size_t>(store::count_live_offers(s, task_id, now_ms));
  if (live >= target) return 0;

  std::optional<BoxE6> box;
  if (task->profile.place && task->profile.radius_m)
    box = bounding_box_e6(*task->profile.place, *task->profile.radius_m);
  const auto ranked = rank(task->profile, store::candidate_workers(s, task_id, box));
  const std::size_t n = offers_to_create(target, live, ranked.size());
  int created = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (make_offer(s, *task, ranked[i], cfg, now_ms)) ++created;
  }
  return created;
}

int offer_open_tasks_to_worker(soci::session& s, const std::string& worker_id, const Settings& cfg,
                               std::int64_t now_ms) {
  const auto worker = store::find_worker(s, worker_id);
  if (!worker || !worker->profile.online || !worker->profile.verified || cfg.online_offers_max <= 0) return 0;
  const auto tasks = store::open_tasks_not_offered_to(s, worker_id, now_ms, cfg.online_scan_max);

  struct Fit {
    Candidate candidate;
    const store::TaskRow* task;
  };
  std::vector<Fit> fits;
  for (const auto& t : tasks) {
    if (!t.opened) continue;
    if (auto c = evaluate(t.profile, worker->profile)) fits.push_back(Fit{std::move(*c), &t});
  }
  // Best fit first; equal scores by task id (older tasks first, ids are time-ordered).
  std::sort(fits.begin(), fits.end(), [](const Fit& a, const Fit& b) {
    if (a.candidate.score != b.candidate.score) return a.candidate.score > b.candidate.score;
    return a.task->profile.id < b.task->profile.id;
  });
  const std::size_t n = std::min(fits.size(), static_cast<std::size_t>(cfg.online_offers_max));
  int created = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (make_offer(s, *fits[i].task, fits[i].candidate, cfg, now_ms)) ++created;
  }
  return created;
}

SweepResult sweep(db::Database& db, const Settings& cfg, std::int64_t now_ms) {
  SweepResult r;
  r.offers_expired = db.tx([&](soci::session& s) {
    idempotency::purge(s, now_ms, cfg.idempotency_ttl_ms);
    return store::expire_offers(s, now_ms);
  });
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

}  // namespace crowd::matching
