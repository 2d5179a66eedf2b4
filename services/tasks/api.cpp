#include "services/tasks/api.hpp"

#include <algorithm>

#include "common/auth.hpp"
#include "common/clock.hpp"
#include "common/events.hpp"
#include "common/idempotency.hpp"
#include "common/ids.hpp"
#include "services/tasks/lifecycle.hpp"
#include "services/tasks/store.hpp"
#include "services/tasks/task_json.hpp"
#include "services/tasks/task_spec.hpp"

namespace crowd::tasks {

namespace {

using auth::Role;
using http::Request;
using http::Response;
using json = nlohmann::json;

// Optimistic-concurrency retries of a cancel racing an event handler (PostgreSQL; SQLite serialises).
constexpr int kCancelAttemptsMax = 3;

Task new_task(const std::string& enterprise_id, TaskSpec spec, std::int64_t now_ms) {
  Task t;
  t.id = ids::make("tsk");
  t.enterprise_id = enterprise_id;
  t.progress = Progress{Status::pending_funding, spec.units, 0, 0};
  t.spec = std::move(spec);
  t.version = 1;
  t.created_at_ms = now_ms;
  t.updated_at_ms = now_ms;
  return t;
}

// Location of the task a POST answered with (this request's, or the first one's when replayed).
Response with_location(Response r) {
  const json body = json::parse(r.body, nullptr, false);
  if (r.status == 202 && body.is_object() && body.contains("id")) {
    r.headers.emplace_back("Location", "/v1/tasks/" + body["id"].get<std::string>());
  }
  return r;
}

// The query of GET /v1/tasks for this caller; every bad parameter is reported at once (422).
store::ListQuery list_query(const Request& req, const auth::Principal& who) {
  const http::Page page = http::page_of(req, 20, 100);
  store::ListQuery q;
  q.limit = page.limit + 1;  // one more row tells whether a next page exists
  std::vector<http::FieldError> errors;
  if (auto st = req.query_param("status")) {
    if (!status_from(*st)) {
      errors.push_back({"status", "is not a task status"});
    } else if (who.role == Role::worker && *st != "open") {
      errors.push_back({"status", "workers can list open tasks only"});
    }
    q.status = *st;
  }
  if (who.role == Role::worker) q.status = "open";
  if (who.role == Role::enterprise) q.enterprise_id = who.party_id;
  if (auto cat = req.query_param("category")) {
    if (std::find(std::begin(kCategories), std::end(kCategories), *cat) == std::end(kCategories)) {
      errors.push_back({"category", "must be one of: rd_design, manufacturing, knowledge, life_service"});
    }
    q.category = *cat;
  }
  if (!page.cursor.empty()) {
    auto before = http::decode_cursor(page.cursor, "tsk");
    if (!before) errors.push_back({"cursor", "is not a valid cursor"});
    q.before_id = before.value_or("~");
  }
  if (!errors.empty()) throw http::invalid(errors);
  return q;
}

}  // namespace

// POST /v1/tasks. Who: an enterprise (the task is its own). Idempotency: optional Idempotency-Key (same
// key and body → the first response; different body → 422 idempotency-key-reuse). The task
// (pending_funding), task.created and the key record commit together; settlement holds the escrow from
// task.created. Failure: 422 with every field error, nothing written.
Response Api::post_task(Request& req) {
  const auth::Principal& who = http::require_role(req, {Role::enterprise});
  const json body = req.json_body();
  const auto key = idempotency::key_of(req, who.party_id);
  // A retry is answered before validation, so it gets the first response even if a rule (the deadline)
  // would now refuse the same body.
  if (key) {
    auto replayed = db_.with([&](soci::session& s) { return idempotency::lookup(s, *key); });
    if (replayed) return with_location(std::move(*replayed));
  }

  const std::int64_t now = clock::now_ms();
  SpecResult v = validate_task_spec(body, now);
  if (!v.spec) throw http::invalid(v.errors);
  const Task t = new_task(who.party_id, std::move(*v.spec), now);
  return with_location(idempotency::run(db_, key, [&](soci::session& s) {
    store::insert(s, t);
    events::publish(s, "task.created", t.id, event_data(Emit::created, t), req.request_id);
    return Response::json_of(202, owner_view(t));
  }));
}

// GET /v1/tasks/{id}. Who: the owner enterprise and operators (full view); workers while the task is open
// or in progress, or when they hold an assignment on it (worker view). Anyone else: 404, so ids of other
// enterprises' tasks are not confirmed. Read-only.
Response Api::get_task(Request& req) {
  const auth::Principal& who = http::require_role(req, {Role::enterprise, Role::worker, Role::operator_});
  const std::string id = req.param("id");
  return db_.with([&](soci::session& s) {
    std::optional<Task> t = store::find(s, id);
    if (!t) throw http::not_found("no task " + id);
    if (who.role == Role::operator_) return Response::json_of(200, owner_view(*t));
    if (who.role == Role::enterprise) {
      if (t->enterprise_id != who.party_id) throw http::not_found("no task " + id);
      return Response::json_of(200, owner_view(*t));
    }
    if (!open_to_workers(t->progress.status) && !store::worker_assigned(s, id, who.party_id)) {
      throw http::not_found("no task " + id);
    }
    return Response::json_of(200, worker_view(*t));
  });
}

// GET /v1/tasks?status=&category=&limit=&cursor=. Who: an enterprise (its own tasks), a worker (open tasks
// only, worker view), an operator (all). Newest first; next_cursor is null on the last page. Read-only.
Response Api::list_tasks(Request& req) {
  const auth::Principal& who = http::require_role(req, {Role::enterprise, Role::worker, Role::operator_});
  const store::ListQuery q = list_query(req, who);
  std::vector<Task> rows = db_.with([&](soci::session& s) { return store::list(s, q); });
  const bool more = static_cast<int>(rows.size()) == q.limit;
  if (more) rows.pop_back();
  json items = json::array();
  for (const Task& t : rows) items.push_back(who.role == Role::worker ? worker_view(t) : owner_view(t));
  json next = more ? json(http::encode_cursor(rows.back().id)) : json(nullptr);
  return Response::json_of(200, {{"items", items}, {"next_cursor", next}});
}

// POST /v1/tasks/{id}/cancel. Who: the owner enterprise (others: 404; workers, operators: 403).
// pending_funding / funding_failed → cancelled at once (200, task.cancelled); open / in_progress →
// cancelling (202, task.cancel_requested; matching answers every request with task.units_released, so an
// in_progress task whose earlier cancel was answered asks again and comes back); cancelling → 202 again, no
// new event; completed / cancelled → 409. Idempotency: optional Idempotency-Key; without one a repeated
// cancel is harmless anyway (202 while cancelling or in progress, 409 once cancelled).
Response Api::cancel_task(Request& req) {
  const auth::Principal& who = http::require_role(req, {Role::enterprise});
  const std::string id = req.param("id");
  const auto key = idempotency::key_of(req, who.party_id);
  struct Raced {};  // the task changed between read and conditional update: run again on a fresh read

  for (int attempt = 0; attempt < kCancelAttemptsMax; ++attempt) {
    try {
      return idempotency::run(db_, key, [&](soci::session& s) {
        std::optional<Task> t = store::find(s, id);
        if (!t || t->enterprise_id != who.party_id) throw http::not_found("no task " + id);
        const CancelDecision d = on_cancel(t->progress);
        if (d.kind == CancelKind::refused) {
          http::Problem p =
              http::conflict("a " + std::string(status_name(t->progress.status)) + " task cannot be cancelled");
          p.extra["task_status"] = status_name(t->progress.status);
          throw p;
        }
        if (!store::apply(s, *t, d.step, false, clock::now_ms(), req.request_id)) throw Raced{};
        return Response::json_of(d.kind == CancelKind::cancelled_now ? 200 : 202, owner_view(*t));
      });
    } catch (const Raced&) {
      // rolled back; next attempt
    }
  }
  throw http::conflict("the task changed while it was being cancelled; retry");
}

void add_routes(http::Router& router, Api& api) {
  router.post("/v1/tasks", [&api](Request& r) { return api.post_task(r); });
  router.get("/v1/tasks", [&api](Request& r) { return api.list_tasks(r); });
  router.get("/v1/tasks/{id}", [&api](Request& r) { return api.get_task(r); });
  router.post("/v1/tasks/{id}/cancel", [&api](Request& r) { return api.cancel_task(r); });
}

}  // namespace crowd::tasks
