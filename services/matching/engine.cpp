#include "services/matching/engine.hpp"

#include <soci/soci.h>

#include <algorithm>

#include "common/events.hpp"
#include "common/ids.hpp"
#include "services/matching/ranking.hpp"
#include "services/matching/rules.hpp"
#include "services/matching/store.hpp"
#include "services/matching/views.hpp"

namespace crowd::matching {

namespace {

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

  struct Fit {
    Candidate candidate;
    store::TaskRow task;
  };
  std::vector<Fit> fits;
  for (auto& t : store::open_tasks_for_worker(s, worker->profile, now_ms)) {
    if (auto c = evaluate(t.profile, worker->profile)) fits.push_back(Fit{std::move(*c), std::move(t)});
  }
  // Best fit first; equal scores by task id (older tasks first, ids are time-ordered).
  std::sort(fits.begin(), fits.end(), [](const Fit& a, const Fit& b) {
    if (a.candidate.score != b.candidate.score) return a.candidate.score > b.candidate.score;
    return a.task.profile.id < b.task.profile.id;
  });
  // Up to the cap in this one call: an offer lost to a concurrent round of the same task is replaced by
  // the next best fit.
  int created = 0;
  for (std::size_t i = 0; i < fits.size() && created < cfg.online_offers_max; ++i) {
    if (make_offer(s, fits[i].task, fits[i].candidate, cfg, now_ms)) ++created;
  }
  return created;
}

}  // namespace crowd::matching
