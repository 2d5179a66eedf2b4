#include "services/matching/consumers.hpp"

#include <soci/soci.h>

#include <limits>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/log.hpp"
#include "services/matching/ranking.hpp"
#include "services/matching/rules.hpp"
#include "services/matching/store.hpp"
#include "services/matching/views.hpp"

namespace crowd::matching {

namespace {

using nlohmann::json;

constexpr std::int64_t kUnitsMax = 1'000'000;
constexpr std::int64_t kFenMax = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMsMax = std::numeric_limits<std::int64_t>::max();

// {lat, lng} in degrees, or absent / null.
std::optional<GeoPoint> opt_point(events::Fields& f, const std::string& name) {
  const std::optional<json> p = f.opt_object(name);
  if (!p) return std::nullopt;
  FieldReader pf(*p, "data." + name);
  const GeoPoint g{pf.num("lat", -90, 90), pf.num("lng", -180, 180)};
  f.merge(pf);
  if (!pf.ok()) return std::nullopt;
  return g;
}

std::vector<std::string> skills_of(events::Fields& f, const char* name) {
  return normalise_skills(f.str_list(name, 0, 1000, 200));
}

// task.opened's data as matching keeps the task (open, nothing assigned yet).
store::TaskRow task_from(events::Fields& f) {
  store::TaskRow t;
  t.profile.id = f.id("task_id");
  t.enterprise_id = f.id("enterprise_id");
  t.category = f.opt_str("category", 100).value_or("");
  t.mode = f.opt_str("mode", 100).value_or("");
  t.title = f.opt_str("title", 1000).value_or("");
  t.units_total = f.i64("units", 1, kUnitsMax);
  t.pay_per_unit_fen = f.i64("pay_per_unit_fen", 0, kFenMax);
  t.currency = f.opt_str("currency", 10).value_or("CNY");
  t.profile.required_skills = skills_of(f, "required_skills");
  t.profile.place = opt_point(f, "place");
  t.profile.radius_m = f.opt_i64("radius_m", 0, 40'000'000);
  t.deadline_ms = f.i64("deadline_ms", 0, kMsMax);
  t.review_window_s = f.opt_i64("review_window_s", 0, kMsMax).value_or(0);
  t.is_open = true;
  t.opened = true;
  return t;
}

// Answers a cancel request of a closed task with task.units_released "cancel". The first answer records
// the units never assigned; a repeat re-sends that figure with the current count (settlement ignores it by
// release id, tasks recomputes from it). Nothing for an open task or a placeholder (task.opened answers).
void answer_cancel(soci::session& s, const std::string& task_id, std::int64_t now_ms) {
  const auto task = store::find_task(s, task_id);
  if (!task || task->is_open || !task->opened) return;
  const auto u = cancel_release(task->units_total, task->units_assigned, task->cancel_units_released);
  if (!task->cancel_units_released && !store::mark_units_released(s, task_id, u.units_released, now_ms)) {
    throw std::logic_error("task " + task_id + ": cancel answer recorded concurrently");  // the task is locked
  }
  events::publish(s, "task.units_released", task_id, units_released_data(task_id, task->enterprise_id, u));
}

// Loads the assignment an event of delivery names, with its task locked first (the lock order of every
// writer: task, offers, worker, assignments). nullopt when matching never made it.
std::optional<store::AssignmentRow> locked_assignment(soci::session& s, const events::Event& e) {
  events::Fields f(e);
  const std::string assignment_id = f.id("assignment_id");
  f.done();
  auto a = store::find_assignment(s, assignment_id);
  if (!a) {
    log::warn("delivery event for an unknown assignment: ignored",
              {{"event_id", e.id}, {"type", e.type}, {"assignment_id", assignment_id}});
    return std::nullopt;
  }
  store::lock_task(s, a->task_id);
  return store::find_assignment(s, assignment_id);
}

}  // namespace

void on_worker_registered(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  WorkerProfile w;
  w.id = f.id("worker_id");
  w.skills = skills_of(f, "skills");
  w.home = opt_point(f, "home");
  w.verified = f.opt_bool("verified").value_or(false);
  w.credit_score = static_cast<int>(f.opt_i64("credit_score", 0, 100).value_or(0));
  f.done();
  store::upsert_worker(s, w, now_ms);
}

void on_task_opened(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms) {
  events::Fields f(e);
  const auto t = task_from(f);
  f.done();
  if (store::insert_task(s, t, now_ms)) {
    offer_round(s, t.profile.id, cfg, now_ms);
    return;
  }
  const auto known = store::find_task(s, t.profile.id);
  if (known && !known->opened) {
    // The cancel request came first: the task is born closed, and now we know what to release.
    store::fill_placeholder_task(s, t, now_ms);
    answer_cancel(s, t.profile.id, now_ms);
  }
}

void on_task_cancel_requested(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  events::Fields f(e);
  const std::string task_id = f.id("task_id");
  const std::string enterprise_id = f.id("enterprise_id");
  f.done();
  if (!store::lock_task(s, task_id)) {
    store::insert_placeholder_task(s, task_id, enterprise_id, now_ms);
    return;
  }
  if (store::close_task(s, task_id, now_ms)) store::withdraw_pending_offers(s, task_id, now_ms);
  answer_cancel(s, task_id, now_ms);
}

namespace {

// A rejected or expired assignment: its units leave the count and the worker's load drops. An open task
// offers them again; a closed one (its cancel answer counted them as assigned) releases them under
// "asg:{assignment_id}". A duplicate or a verdict on a final assignment: no effect.
void on_assignment_ended(soci::session& s, const events::Event& e, DeliveryVerdict verdict, const Settings& cfg,
                         std::int64_t now_ms) {
  const auto a = locked_assignment(s, e);
  if (!a) return;
  const auto next = assignment_after(a->status, verdict);
  if (!next) return;
  if (!store::move_assignment(s, a->id, AssignmentStatus::active, *next, now_ms)) return;
  if (!store::release_units(s, a->task_id, a->units)) {
    throw std::logic_error("task " + a->task_id + " has fewer assigned units than assignment " + a->id);
  }
  store::add_load(s, a->worker_id, -1);
  const auto task = store::find_task(s, a->task_id);
  if (!task) throw std::logic_error("assignment " + a->id + " without its task");
  if (task->is_open) {
    offer_round(s, a->task_id, cfg, now_ms);  // back to the pool (nothing happens past the deadline)
    return;
  }
  // The task closed on a cancel request, whose answer counted this unit as assigned: release it now.
  const auto u = assignment_release(a->id, a->units, task->units_total, task->units_assigned);
  events::publish(s, "task.units_released", a->task_id, units_released_data(a->task_id, task->enterprise_id, u),
                  e.trace_id);
}

}  // namespace

void on_delivery_rejected(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms) {
  on_assignment_ended(s, e, DeliveryVerdict::rejected, cfg, now_ms);
}

void on_assignment_expired(soci::session& s, const events::Event& e, const Settings& cfg, std::int64_t now_ms) {
  on_assignment_ended(s, e, DeliveryVerdict::expired, cfg, now_ms);
}

void on_delivery_accepted(soci::session& s, const events::Event& e, std::int64_t now_ms) {
  const auto a = locked_assignment(s, e);
  if (!a || !assignment_after(a->status, DeliveryVerdict::accepted)) return;
  if (!store::move_assignment(s, a->id, AssignmentStatus::active, AssignmentStatus::completed, now_ms)) return;
  store::add_load(s, a->worker_id, -1);
}

void add_consumers(events::Subscriptions& subs, const Settings& cfg) {
  subs.on("accounts", "worker.registered",
          [](soci::session& s, const events::Event& e) { on_worker_registered(s, e, clock::now_ms()); });
  subs.on("tasks", "task.opened",
          [cfg](soci::session& s, const events::Event& e) { on_task_opened(s, e, cfg, clock::now_ms()); });
  subs.on("tasks", "task.cancel_requested",
          [](soci::session& s, const events::Event& e) { on_task_cancel_requested(s, e, clock::now_ms()); });
  subs.on("delivery", "delivery.rejected",
          [cfg](soci::session& s, const events::Event& e) { on_delivery_rejected(s, e, cfg, clock::now_ms()); });
  subs.on("delivery", "assignment.expired",
          [cfg](soci::session& s, const events::Event& e) { on_assignment_expired(s, e, cfg, clock::now_ms()); });
  subs.on("delivery", "delivery.accepted",
          [](soci::session& s, const events::Event& e) { on_delivery_accepted(s, e, clock::now_ms()); });
}

}  // namespace crowd::matching
