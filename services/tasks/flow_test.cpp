// The handlers and consumers together on a real database (crowd::testing::ServiceDb: a fresh SQLite file, or
// PostgreSQL when CROWD_TEST_PG_URL is set) with the service's own migrations: every request, event and
// outbox row as the running service would see them, without HTTP or Redis.
#include <doctest/doctest.h>

#include <functional>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/ids.hpp"
#include "common/testing/service_db.hpp"
#include "services/tasks/api.hpp"
#include "services/tasks/consumers.hpp"

using namespace crowd;
using json = nlohmann::json;
using auth::Role;

namespace {

struct Reply {
  int status;
  json body;
};

// The stream each event the tasks service consumes arrives on.
std::string producer_of(const std::string& type) {
  if (type.rfind("escrow.", 0) == 0 || type == "settlement.completed") return "settlement";
  if (type.rfind("delivery.", 0) == 0 || type == "assignment.expired") return "delivery";
  return "matching";
}

class Fixture {
 public:
  Fixture() : db_(db::embedded_migrations(), 2), api_(*db_) {
    events::set_producer("tasks");
    tasks::add_consumers(subs_);
  }

  Reply call(const std::string& method, const std::string& path, const auth::Principal& who, const json& body = {},
             const std::string& idem_key = {}, std::map<std::string, std::string> query = {}) {
    http::Request r;
    r.method = method;
    r.path = path;
    r.target = path;
    r.query = std::move(query);
    r.principal = who;
    r.request_id = "req-test";
    r.headers["content-type"] = "application/json";
    if (!idem_key.empty()) r.headers["idempotency-key"] = idem_key;
    if (!body.is_null()) r.body = body.dump();
    http::Router router;
    tasks::add_routes(router, api_);
    auto m = router.match(r);
    REQUIRE(m.handler != nullptr);
    try {
      http::Response resp = (*m.handler)(r);
      return {resp.status, resp.body.empty() ? json() : json::parse(resp.body)};
    } catch (const http::Problem& p) {
      return {p.status, p.to_json(path)};
    }
  }

  // Delivers an event as the kit's consumer does: inbox claim and effect in one transaction.
  void deliver(const std::string& type, const json& data, std::string event_id = {}) {
    const events::Handler* h = subs_.find(type);
    REQUIRE(h != nullptr);
    run(type, data, std::move(event_id), [&](soci::session& s, const events::Event& e) { (*h)(s, e); });
  }
  // The same at a given time (the consumers' clock), for what happens past a task's deadline.
  void deliver_at(const std::string& type, const json& data, std::int64_t now_ms) {
    REQUIRE(subs_.find(type) != nullptr);
    REQUIRE((type == "delivery.rejected" || type == "assignment.expired"));
    run(type, data, {},
        [&](soci::session& s, const events::Event& e) { tasks::on_assignment_ended_event(s, e, now_ms); });
  }

  // The outbox's events, oldest first, as {type, data}.
  std::vector<std::pair<std::string, json>> outbox() {
    std::vector<std::pair<std::string, json>> out;
    for (events::Event& e : db_.outbox()) out.emplace_back(e.type, std::move(e.data));
    return out;
  }
  std::vector<json> published(const std::string& type) {
    std::vector<json> out;
    for (auto& [t, d] : outbox())
      if (t == type) out.push_back(d);
    return out;
  }

 private:
  void run(const std::string& type, const json& data, std::string event_id,
           const std::function<void(soci::session&, const events::Event&)>& apply) {
    events::Event e;
    e.id = event_id.empty() ? ids::make("evt") : event_id;
    e.type = type;
    e.producer = producer_of(type);
    e.key = data.value("task_id", "");
    e.data = data;
    db_->tx([&](soci::session& s) {
      if (events::inbox_claim(s, e.id, e.type)) apply(s, e);
    });
  }

  testing::ServiceDb db_;
  events::Subscriptions subs_;
  tasks::Api api_;
};

const auth::Principal kEnt{"ent_01JDA00000000000000000000A", Role::enterprise, 0, 0};
const auth::Principal kOtherEnt{"ent_01JDA00000000000000000000B", Role::enterprise, 0, 0};
const auth::Principal kWorker{"wkr_01JDA00000000000000000000C", Role::worker, 0, 0};
const auth::Principal kOperator{"op_01JDA00000000000000000000D", Role::operator_, 0, 0};

json body_of(const std::string& mode, std::int64_t units, std::int64_t pay_fen) {
  json b = {{"title", "Photo labels"},
            {"description", "Draw boxes"},
            {"category", "knowledge"},
            {"mode", mode},
            {"required_skills", {"Labeling"}},
            {"pay_per_unit", {{"amount_fen", pay_fen}, {"currency", "CNY"}}},
            {"deadline", clock::rfc3339(clock::now_ms() + 7LL * 24 * 3600 * 1000)},
            {"ip_terms", {{"transfer_on_acceptance", true}}}};
  if (mode == "piecework") b["units"] = units;
  return b;
}

std::string post(Fixture& f, const json& body, const auth::Principal& who = kEnt) {
  Reply r = f.call("POST", "/v1/tasks", who, body);
  REQUIRE(r.status == 202);
  return r.body["id"].get<std::string>();
}

json held(const std::string& task_id, std::int64_t amount) {
  return {{"task_id", task_id}, {"enterprise_id", kEnt.party_id}, {"amount_fen", amount}, {"transfer_id", "trf_1"}};
}
json assignment(const std::string& task_id, const std::string& id, std::int64_t units) {
  return {{"assignment_id", id},
          {"task_id", task_id},
          {"enterprise_id", kEnt.party_id},
          {"worker_id", kWorker.party_id},
          {"units", units}};
}
json settled(const std::string& task_id, const std::string& assignment_id, std::int64_t units) {
  return {{"settlement_id", "stl_" + assignment_id}, {"assignment_id", assignment_id}, {"task_id", task_id},
          {"enterprise_id", kEnt.party_id},          {"worker_id", kWorker.party_id},  {"units", units}};
}
json released(const std::string& task_id, std::int64_t released_units, std::int64_t assigned, std::int64_t total) {
  return {{"task_id", task_id},
          {"enterprise_id", kEnt.party_id},
          {"units_released", released_units},
          {"units_assigned", assigned},
          {"units_total", total}};
}

json released_as(const std::string& task_id, const std::string& release_id, std::int64_t released_units,
                 std::int64_t assigned, std::int64_t total) {
  json d = released(task_id, released_units, assigned, total);
  d["release_id"] = release_id;
  return d;
}

const auth::Principal kWorker2{"wkr_01JDA00000000000000000000E", Role::worker, 0, 0};

json assignment_by(const std::string& task_id, const std::string& id, const auth::Principal& worker) {
  json d = assignment(task_id, id, 1);
  d["worker_id"] = worker.party_id;
  return d;
}
json settled_by(const std::string& task_id, const std::string& assignment_id, const auth::Principal& worker) {
  json d = settled(task_id, assignment_id, 1);
  d["worker_id"] = worker.party_id;
  return d;
}
// delivery.rejected of a one-unit assignment, with the enterprise's reason.
json rejected(const std::string& task_id, const std::string& assignment_id, const auth::Principal& worker) {
  return {{"submission_id", "sub_" + assignment_id},
          {"assignment_id", assignment_id},
          {"task_id", task_id},
          {"enterprise_id", kEnt.party_id},
          {"worker_id", worker.party_id},
          {"units", 1},
          {"reason", "标注不完整"}};
}
// assignment.expired of a one-unit assignment.
json expired(const std::string& task_id, const std::string& assignment_id, const auth::Principal& worker,
             std::int64_t at_ms) {
  return {{"assignment_id", assignment_id}, {"task_id", task_id}, {"enterprise_id", kEnt.party_id},
          {"worker_id", worker.party_id},   {"units", 1},         {"reason", "deadline_passed"},
          {"expired_at_ms", at_ms}};
}

// Whether the task is in a worker's list of open tasks.
bool listed_for_workers(Fixture& f, const std::string& id) {
  Reply r = f.call("GET", "/v1/tasks", kWorker2);
  REQUIRE(r.status == 200);
  for (const json& t : r.body["items"])
    if (t["id"] == id) return true;
  return false;
}

std::string status_of(Fixture& f, const std::string& id) {
  return f.call("GET", "/v1/tasks/" + id, kOperator).body["status"].get<std::string>();
}

}  // namespace

TEST_CASE("post: 202 pending_funding with task.created in the same transaction") {
  Fixture f;
  Reply r = f.call("POST", "/v1/tasks", kEnt, body_of("piecework", 40, 250));
  REQUIRE(r.status == 202);
  const json& t = r.body;
  CHECK(ids::looks_like(t["id"].get<std::string>(), "tsk"));
  CHECK(t["status"] == "pending_funding");
  CHECK(t["budget"] == json({{"amount_fen", 10000}, {"currency", "CNY"}}));
  CHECK(t["units"] == 40);
  CHECK(t["units_total"] == 40);
  CHECK(t["units_assigned"] == 0);
  CHECK(t["required_skills"] == json({"labeling"}));
  CHECK(t["review_window_hours"] == 72);
  CHECK(t["enterprise_id"] == kEnt.party_id);

  auto created = f.published("task.created");
  REQUIRE(created.size() == 1);
  CHECK(created[0] == json({{"task_id", t["id"]},
                            {"enterprise_id", kEnt.party_id},
                            {"category", "knowledge"},
                            {"mode", "piecework"},
                            {"units", 40},
                            {"pay_per_unit_fen", 250},
                            {"budget_fen", 10000},
                            {"currency", "CNY"},
                            {"title", "Photo labels"}}));
  // GET answers what POST answered.
  CHECK(f.call("GET", "/v1/tasks/" + t["id"].get<std::string>(), kEnt).body == t);
}

TEST_CASE("post: roles and validation") {
  Fixture f;
  CHECK(f.call("POST", "/v1/tasks", kWorker, body_of("single", 1, 100)).status == 403);
  Reply bad = f.call("POST", "/v1/tasks", kEnt, json{{"mode", "contest"}});
  CHECK(bad.status == 422);
  CHECK(bad.body["type"] == "https://errors.crowd.example/validation");
  bool mode_error = false;
  for (const auto& e : bad.body["errors"]) mode_error = mode_error || e["field"] == "mode";
  CHECK(mode_error);
  CHECK(f.outbox().empty());
}

TEST_CASE("post: Idempotency-Key replays the first response, refuses another body") {
  Fixture f;
  json b = body_of("single", 1, 5000);
  Reply first = f.call("POST", "/v1/tasks", kEnt, b, "key-1");
  REQUIRE(first.status == 202);
  Reply again = f.call("POST", "/v1/tasks", kEnt, json::parse(b.dump(2)), "key-1");
  CHECK(again.status == 202);
  CHECK(again.body == first.body);
  CHECK(f.published("task.created").size() == 1);

  b["title"] = "Something else";
  Reply reuse = f.call("POST", "/v1/tasks", kEnt, b, "key-1");
  CHECK(reuse.status == 422);
  CHECK(reuse.body["type"] == "https://errors.crowd.example/idempotency-key-reuse");
  // Keys are per enterprise.
  CHECK(f.call("POST", "/v1/tasks", kOtherEnt, b, "key-1").status == 202);
  CHECK(f.published("task.created").size() == 2);
}

TEST_CASE("funding: escrow.held opens the task once, workers then see it") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  CHECK(f.call("GET", "/v1/tasks/" + id, kWorker).status == 404);
  f.deliver("escrow.held", held(id, 5000));
  f.deliver("escrow.held", held(id, 5000));  // re-emitted with a new event id
  CHECK(status_of(f, id) == "open");
  auto opened = f.published("task.opened");
  REQUIRE(opened.size() == 1);
  CHECK(opened[0]["units"] == 1);
  CHECK(opened[0]["review_window_s"] == 72 * 3600);
  CHECK(opened[0]["place"].is_null());

  Reply w = f.call("GET", "/v1/tasks/" + id, kWorker);
  CHECK(w.status == 200);
  CHECK_FALSE(w.body.contains("enterprise_id"));
  CHECK_FALSE(w.body.contains("budget"));
  CHECK(f.call("GET", "/v1/tasks/" + id, kOtherEnt).status == 404);
  CHECK(f.call("GET", "/v1/tasks/" + id, kEnt).body["escrow_transfer_id"] == "trf_1");
}

TEST_CASE("funding: a held amount other than the budget is refused") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  CHECK_THROWS(f.deliver("escrow.held", held(id, 4999)));
  CHECK(status_of(f, id) == "pending_funding");
}

TEST_CASE("funding: escrow.rejected → funding_failed, then cancel") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  f.deliver(
      "escrow.rejected",
      {{"task_id", id}, {"enterprise_id", kEnt.party_id}, {"amount_fen", 5000}, {"reason", "insufficient_funds"}});
  CHECK(status_of(f, id) == "funding_failed");
  auto failed = f.published("task.funding_failed");
  REQUIRE(failed.size() == 1);
  CHECK(failed[0] == json({{"task_id", id}, {"enterprise_id", kEnt.party_id}, {"reason", "insufficient_funds"}}));
  Reply c = f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt);
  CHECK(c.status == 200);
  CHECK(c.body["status"] == "cancelled");
}

TEST_CASE("piecework: assignments and settlements complete the task") {
  Fixture f;
  const std::string id = post(f, body_of("piecework", 5, 100));
  f.deliver("escrow.held", held(id, 500));
  f.deliver("assignment.created", assignment(id, "asg_1", 2));
  CHECK(status_of(f, id) == "in_progress");
  f.deliver("assignment.created", assignment(id, "asg_1", 2));  // the same assignment again
  f.deliver("assignment.created", assignment(id, "asg_2", 3));
  Reply mid = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(mid.body["units_assigned"] == 5);
  f.deliver("settlement.completed", settled(id, "asg_1", 2));
  f.deliver("settlement.completed", settled(id, "asg_1", 2));  // re-emitted
  CHECK(f.call("GET", "/v1/tasks/" + id, kEnt).body["units_completed"] == 2);
  f.deliver("settlement.completed", settled(id, "asg_2", 3));
  Reply done = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(done.body["status"] == "completed");
  CHECK(done.body["units_completed"] == 5);
  auto completed = f.published("task.completed");
  REQUIRE(completed.size() == 1);
  CHECK(completed[0] == json({{"task_id", id}, {"enterprise_id", kEnt.party_id}, {"units_completed", 5}}));
  // An assigned worker still reads the completed task; cancel is refused.
  CHECK(f.call("GET", "/v1/tasks/" + id, kWorker).status == 200);
  Reply c = f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt);
  CHECK(c.status == 409);
  CHECK(c.body["task_status"] == "completed");
}

TEST_CASE("order across streams: a settlement before its assignment counts once") {
  Fixture f;
  const std::string id = post(f, body_of("piecework", 2, 100));
  f.deliver("escrow.held", held(id, 200));
  f.deliver("settlement.completed", settled(id, "asg_1", 1));
  f.deliver("assignment.created", assignment(id, "asg_1", 1));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "in_progress");
  CHECK(r.body["units_assigned"] == 1);
  CHECK(r.body["units_completed"] == 1);
}

TEST_CASE("cancel before funding: cancelled at once, a late hold is handed back to settlement") {
  Fixture f;
  const std::string id = post(f, body_of("piecework", 4, 100));
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kOtherEnt).status == 404);
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kWorker).status == 403);
  Reply c = f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt, {}, "cancel-1");
  CHECK(c.status == 200);
  CHECK(c.body["status"] == "cancelled");
  // The same key replays; without a key, a second cancel is a conflict.
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt, {}, "cancel-1").body == c.body);
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 409);

  f.deliver("escrow.held", held(id, 400));
  CHECK(status_of(f, id) == "cancelled");
  CHECK(f.published("task.opened").empty());
  auto cancelled = f.published("task.cancelled");
  REQUIRE(cancelled.size() == 2);
  CHECK(cancelled[0] == json({{"task_id", id}, {"enterprise_id", kEnt.party_id}, {"units_released", 4}}));
  CHECK(cancelled[1] == cancelled[0]);
  CHECK(f.call("GET", "/v1/tasks/" + id, kEnt).body["escrow_transfer_id"] == "trf_1");
}

TEST_CASE("cancel of an open task: cancelling until matching releases, none assigned → cancelled") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 100));
  f.deliver("escrow.held", held(id, 100));
  Reply c = f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt);
  CHECK(c.status == 202);
  CHECK(c.body["status"] == "cancelling");
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 202);
  CHECK(f.published("task.cancel_requested").size() == 1);
  CHECK(f.call("GET", "/v1/tasks/" + id, kWorker).status == 404);

  f.deliver("task.units_released", released(id, 1, 0, 1));
  f.deliver("task.units_released", released(id, 1, 0, 1));
  CHECK(status_of(f, id) == "cancelled");
  auto cancelled = f.published("task.cancelled");
  REQUIRE(cancelled.size() == 1);
  CHECK(cancelled[0]["units_released"] == 1);
}

TEST_CASE("cancel of a task in progress: the assigned units go on and complete it") {
  Fixture f;
  const std::string id = post(f, body_of("piecework", 10, 100));
  f.deliver("escrow.held", held(id, 1000));
  f.deliver("assignment.created", assignment(id, "asg_1", 3));
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 202);
  f.deliver("task.units_released", released(id, 7, 3, 10));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "in_progress");
  CHECK(r.body["units_total"] == 3);
  CHECK(r.body["units"] == 10);
  f.deliver("settlement.completed", settled(id, "asg_1", 3));
  CHECK(status_of(f, id) == "completed");
  CHECK(f.published("task.cancelled").empty());
  REQUIRE(f.published("task.completed").size() == 1);
}

TEST_CASE("cancel, then the assigned unit comes back: each release recomputes, cancelled at the last") {
  Fixture f;
  const std::string id = post(f, body_of("piecework", 3, 100));
  f.deliver("escrow.held", held(id, 300));
  f.deliver("assignment.created", assignment(id, "asg_1", 1));
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 202);
  f.deliver("task.units_released", released_as(id, "cancel", 2, 1, 3));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "in_progress");
  CHECK(r.body["units_total"] == 1);
  // The delivery is rejected: matching releases that unit too, and the task ends cancelled, once.
  f.deliver("task.units_released", released_as(id, "asg:asg_1", 1, 0, 3));
  f.deliver("task.units_released", released_as(id, "asg:asg_1", 1, 0, 3));
  CHECK(status_of(f, id) == "cancelled");
  auto cancelled = f.published("task.cancelled");
  REQUIRE(cancelled.size() == 1);
  // Settlement must not release on it: matching's releases returned the escrow.
  CHECK(
      cancelled[0] ==
      json({{"task_id", id}, {"enterprise_id", kEnt.party_id}, {"units_released", 1}, {"released_by_matching", true}}));
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 409);
}

TEST_CASE("a repeated cancel after the answer is answered again and does not stick in cancelling") {
  Fixture f;
  const std::string id = post(f, body_of("piecework", 10, 100));
  f.deliver("escrow.held", held(id, 1000));
  f.deliver("assignment.created", assignment(id, "asg_1", 3));
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 202);
  f.deliver("task.units_released", released_as(id, "cancel", 7, 3, 10));
  CHECK(status_of(f, id) == "in_progress");
  Reply again = f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt);
  CHECK(again.status == 202);
  CHECK(again.body["status"] == "cancelling");
  CHECK(f.published("task.cancel_requested").size() == 2);
  // Matching answers every request with the same release id and the current count.
  f.deliver("task.units_released", released_as(id, "cancel", 7, 3, 10));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "in_progress");
  CHECK(r.body["units_total"] == 3);
  f.deliver("settlement.completed", settled(id, "asg_1", 3));
  CHECK(status_of(f, id) == "completed");
  CHECK(f.published("task.cancelled").empty());
}

TEST_CASE("list: own tasks for enterprises, open ones for workers, pages by cursor") {
  Fixture f;
  std::vector<std::string> mine;
  for (int i = 0; i < 5; ++i) mine.push_back(post(f, body_of("single", 1, 100 + i)));
  const std::string theirs = post(f, body_of("single", 1, 100), kOtherEnt);
  f.deliver("escrow.held", held(mine[1], 101));
  f.deliver("escrow.held", held(theirs, 100));

  Reply p1 = f.call("GET", "/v1/tasks", kEnt, {}, {}, {{"limit", "3"}});
  REQUIRE(p1.status == 200);
  REQUIRE(p1.body["items"].size() == 3);
  CHECK(p1.body["items"][0]["id"] == mine[4]);  // newest first
  REQUIRE(p1.body["next_cursor"].is_string());
  Reply p2 =
      f.call("GET", "/v1/tasks", kEnt, {}, {}, {{"limit", "3"}, {"cursor", p1.body["next_cursor"].get<std::string>()}});
  REQUIRE(p2.body["items"].size() == 2);
  CHECK(p2.body["items"][1]["id"] == mine[0]);
  CHECK(p2.body["next_cursor"].is_null());

  Reply open = f.call("GET", "/v1/tasks", kEnt, {}, {}, {{"status", "open"}});
  REQUIRE(open.body["items"].size() == 1);
  CHECK(open.body["items"][0]["id"] == mine[1]);

  Reply w = f.call("GET", "/v1/tasks", kWorker);
  REQUIRE(w.body["items"].size() == 2);
  CHECK_FALSE(w.body["items"][0].contains("enterprise_id"));
  CHECK(f.call("GET", "/v1/tasks", kWorker, {}, {}, {{"status", "pending_funding"}}).status == 422);
  CHECK(f.call("GET", "/v1/tasks", kOperator).body["items"].size() == 6);
  CHECK(f.call("GET", "/v1/tasks", kOperator, {}, {}, {{"category", "rd_design"}}).body["items"].empty());

  Reply bad = f.call("GET", "/v1/tasks", kEnt, {}, {}, {{"status", "draft"}, {"cursor", "!!"}, {"category", "x"}});
  CHECK(bad.status == 422);
  CHECK(bad.body["errors"].size() == 3);
  CHECK(f.call("GET", "/v1/tasks", kEnt, {}, {}, {{"limit", "101"}}).status == 422);
}

// ---- Units that come back: delivery.rejected and assignment.expired (issue 9, section 6) ----

TEST_CASE("rejection: the unit goes back to the pool, and a second worker completes the task 1/1") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  f.deliver("escrow.held", held(id, 5000));
  f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));  // the first worker accepts
  CHECK(status_of(f, id) == "in_progress");
  CHECK_FALSE(listed_for_workers(f, id));
  // (the worker submits: delivery's business) The enterprise rejects the submission with a reason.
  f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "open");
  CHECK(r.body["units_assigned"] == 0);
  CHECK(r.body["units_total"] == 1);
  CHECK(r.body["units_completed"] == 0);
  CHECK(listed_for_workers(f, id));
  CHECK(f.call("GET", "/v1/tasks/" + id, kWorker2).status == 200);
  // The same rejection again (a new event id) and the assignment's late re-emission change nothing.
  f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
  f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));
  CHECK(f.call("GET", "/v1/tasks/" + id, kEnt).body["units_assigned"] == 0);
  CHECK(status_of(f, id) == "open");

  // Matching offers the unit again: a second worker takes it and is paid.
  f.deliver("assignment.created", assignment_by(id, "asg_2", kWorker2));
  r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "in_progress");
  CHECK(r.body["units_assigned"] == 1);
  f.deliver("settlement.completed", settled_by(id, "asg_2", kWorker2));
  r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "completed");
  CHECK(r.body["units_assigned"] == 1);
  CHECK(r.body["units_completed"] == 1);
  CHECK(r.body["units_total"] == 1);
  CHECK(r.body["units_assigned"].get<std::int64_t>() <= r.body["units_total"].get<std::int64_t>());
  auto completed = f.published("task.completed");
  REQUIRE(completed.size() == 1);
  CHECK(completed[0]["units_completed"] == 1);
  // A rejection of the settled assignment (settlement refuses that anyway) changes nothing.
  f.deliver("delivery.rejected", rejected(id, "asg_2", kWorker2));
  CHECK(f.call("GET", "/v1/tasks/" + id, kEnt).body["units_assigned"] == 1);
  CHECK(status_of(f, id) == "completed");
}

TEST_CASE("piecework rejection: the units leave the count, open again only when nothing is assigned") {
  Fixture f;
  const std::string id = post(f, body_of("piecework", 3, 100));
  f.deliver("escrow.held", held(id, 300));
  f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));
  f.deliver("assignment.created", assignment_by(id, "asg_2", kWorker2));
  f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "in_progress");  // asg_2 still works on it, as if asg_1 had never been
  CHECK(r.body["units_assigned"] == 1);
  f.deliver("assignment.expired", expired(id, "asg_2", kWorker2, clock::now_ms()));
  r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "open");
  CHECK(r.body["units_assigned"] == 0);
}

TEST_CASE("expiry past the deadline: the unit is counted free, the task is not reopened, a cancel ends it") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  f.deliver("escrow.held", held(id, 5000));
  f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));
  const auto deadline_at =
      clock::parse_rfc3339(f.call("GET", "/v1/tasks/" + id, kEnt).body["deadline"].get<std::string>());
  REQUIRE(deadline_at);
  const std::int64_t deadline = *deadline_at;
  REQUIRE(deadline > clock::now_ms());
  // Delivery expires an assignment only after its deadline (the task's) plus a grace.
  const std::int64_t later = deadline + 3'600'000;
  f.deliver_at("assignment.expired", expired(id, "asg_1", kWorker, later), later);
  f.deliver_at("assignment.expired", expired(id, "asg_1", kWorker, later), later);  // re-emitted
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["units_assigned"] == 0);
  CHECK(r.body["units_total"] == 1);
  // Nobody can take the unit past the deadline (matching refuses), so workers are not shown it.
  CHECK(r.body["status"] == "in_progress");
  CHECK_FALSE(listed_for_workers(f, id));
  // The enterprise cancels; matching releases the unit never to be worked: cancelled, once.
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 202);
  f.deliver("task.units_released", released_as(id, "cancel", 1, 0, 1));
  CHECK(status_of(f, id) == "cancelled");
  REQUIRE(f.published("task.cancelled").size() == 1);
}

TEST_CASE("expiry before the deadline (as a rejection): open again, a second worker completes it 1/1") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  f.deliver("escrow.held", held(id, 5000));
  f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));
  f.deliver("assignment.expired", expired(id, "asg_1", kWorker, clock::now_ms()));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "open");
  CHECK(r.body["units_assigned"] == 0);
  // A rejection of the same assignment as well (both streams said it ended): counted once.
  f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
  CHECK(f.call("GET", "/v1/tasks/" + id, kEnt).body["units_assigned"] == 0);
  f.deliver("assignment.created", assignment_by(id, "asg_2", kWorker2));
  f.deliver("settlement.completed", settled_by(id, "asg_2", kWorker2));
  r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "completed");
  CHECK(r.body["units_assigned"] == 1);
  CHECK(r.body["units_total"] == 1);
}

TEST_CASE("order across streams: a rejection before its assignment.created is counted once, never below 0") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  f.deliver("escrow.held", held(id, 5000));
  // Delivery's stream overtook matching's.
  f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "open");
  CHECK(r.body["units_assigned"] == 0);
  f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));  // late: known as ended
  r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "open");
  CHECK(r.body["units_assigned"] == 0);
  // The second worker's settlement overtakes its assignment.created.
  f.deliver("settlement.completed", settled_by(id, "asg_2", kWorker2));
  f.deliver("assignment.created", assignment_by(id, "asg_2", kWorker2));
  r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "completed");
  CHECK(r.body["units_assigned"] == 1);
  CHECK(r.body["units_completed"] == 1);
  CHECK(r.body["units_total"] == 1);
}

TEST_CASE("order across streams: after a cancel, the rejection and matching's release \"asg:\" count once") {
  for (const bool release_first : {true, false}) {
    CAPTURE(release_first);
    Fixture f;
    const std::string id = post(f, body_of("piecework", 3, 100));
    f.deliver("escrow.held", held(id, 300));
    f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));
    CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 202);
    f.deliver("task.units_released", released_as(id, "cancel", 2, 1, 3));
    CHECK(status_of(f, id) == "in_progress");
    if (release_first) {
      f.deliver("task.units_released", released_as(id, "asg:asg_1", 1, 0, 3));
      f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
    } else {
      f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
      // The task is closed (its cancel was answered): the unit is not offered again, so not reopened.
      Reply mid = f.call("GET", "/v1/tasks/" + id, kEnt);
      CHECK(mid.body["status"] == "in_progress");
      CHECK(mid.body["units_assigned"] == 0);
      CHECK_FALSE(listed_for_workers(f, id));
      f.deliver("task.units_released", released_as(id, "asg:asg_1", 1, 0, 3));
    }
    Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
    CHECK(r.body["status"] == "cancelled");
    CHECK(r.body["units_assigned"] == 0);
    CHECK(r.body["units_total"] == 0);
    REQUIRE(f.published("task.cancelled").size() == 1);
    CHECK(f.published("task.cancelled")[0]["released_by_matching"] == true);
  }
}

TEST_CASE("a rejection while cancelling: the count drops, the task waits for matching's answer") {
  Fixture f;
  const std::string id = post(f, body_of("single", 1, 5000));
  f.deliver("escrow.held", held(id, 5000));
  f.deliver("assignment.created", assignment_by(id, "asg_1", kWorker));
  CHECK(f.call("POST", "/v1/tasks/" + id + "/cancel", kEnt).status == 202);
  f.deliver("delivery.rejected", rejected(id, "asg_1", kWorker));
  Reply r = f.call("GET", "/v1/tasks/" + id, kEnt);
  CHECK(r.body["status"] == "cancelling");
  CHECK(r.body["units_assigned"] == 0);
  // Matching rejected before it saw the cancel: its answer releases the unit with the rest.
  f.deliver("task.units_released", released_as(id, "cancel", 1, 0, 1));
  CHECK(status_of(f, id) == "cancelled");
}
