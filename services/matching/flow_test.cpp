// Matching end to end inside one process: the real migrations on a fresh database (crowd::testing::ServiceDb:
// a temporary SQLite file, and PostgreSQL when CROWD_TEST_PG_URL names a database the test may empty), events
// applied as the kit's consumer applies them (inbox + handler in one transaction), HTTP handlers called
// directly.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/ids.hpp"
#include "common/testing/service_db.hpp"
#include "services/matching/api.hpp"
#include "services/matching/consumers.hpp"
#include "services/matching/jobs.hpp"
#include "services/matching/offers.hpp"
#include "services/matching/store.hpp"

using namespace crowd;
using namespace crowd::matching;
using nlohmann::json;

namespace {

struct Fixture {
  testing::ServiceDb db;
  Settings cfg;
  events::Subscriptions subs;
  std::unique_ptr<Api> api;

  // postgres: CROWD_TEST_PG_URL (set), else a fresh SQLite file.
  explicit Fixture(bool postgres = false)
      : db(db::embedded_migrations(), 8, postgres ? testing::configured_pg_url() : std::string()) {
    events::set_producer("matching");
    add_consumers(subs, cfg);
    api = std::make_unique<Api>([this]() -> db::Database& { return *db; }, cfg);
  }

  // As the kit's consumer does: inbox record and effect in one transaction.
  void deliver(const std::string& type, json data, std::string event_id = {}) {
    events::Event e;
    e.id = event_id.empty() ? ids::make("evt") : event_id;
    e.type = type;
    e.key = "k";
    e.data = std::move(data);
    const auto* h = subs.find(type);
    REQUIRE(h != nullptr);
    db->tx([&](soci::session& s) {
      if (events::inbox_claim(s, e.id, e.type)) (*h)(s, e);
    });
  }

  void register_worker(const std::string& id, std::vector<std::string> skills, int credit = 60, json home = nullptr,
                       bool verified = true) {
    deliver("worker.registered",
            {{"worker_id", id}, {"skills", skills}, {"home", home}, {"verified", verified}, {"credit_score", credit}});
  }

  json open_task(const std::string& id, int units, json extra = json::object()) {
    json d = {{"task_id", id},
              {"enterprise_id", "ent_1"},
              {"category", "design"},
              {"mode", units > 1 ? "piecework" : "single"},
              {"units", units},
              {"pay_per_unit_fen", 12345},
              {"currency", "CNY"},
              {"title", "Logo"},
              {"required_skills", {"design"}},
              {"place", nullptr},
              {"radius_m", nullptr},
              {"deadline_ms", clock::now_ms() + 86400000},
              {"review_window_s", 259200}};
    d.update(extra);
    deliver("task.opened", d);
    return d;
  }

  static http::Request request(const std::string& worker_id, std::string method, std::string path,
                               std::string body = {}) {
    http::Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.target = r.path;
    r.body = std::move(body);
    r.principal = auth::Principal{worker_id, auth::Role::worker, 0, 0};
    return r;
  }

  http::Response availability(const std::string& worker_id, json body, const std::string& key = {}) {
    auto r = request(worker_id, "PUT", "/v1/me/availability", body.dump());
    if (!key.empty()) r.headers["idempotency-key"] = key;
    return api->put_availability(r);
  }
  json offers(const std::string& worker_id) {
    auto r = request(worker_id, "GET", "/v1/me/offers");
    return json::parse(api->get_offers(r).body)["items"];
  }
  json assignments(const std::string& worker_id) {
    auto r = request(worker_id, "GET", "/v1/me/assignments");
    return json::parse(api->get_assignments(r).body)["items"];
  }
  http::Response accept(const std::string& worker_id, const std::string& offer_id) {
    auto r = request(worker_id, "POST", "/v1/offers/" + offer_id + "/accept");
    r.params["id"] = offer_id;
    return api->accept(r);
  }
  http::Response decline(const std::string& worker_id, const std::string& offer_id) {
    auto r = request(worker_id, "POST", "/v1/offers/" + offer_id + "/decline");
    r.params["id"] = offer_id;
    return api->decline(r);
  }

  std::string only_offer(const std::string& worker_id) {
    auto items = offers(worker_id);
    REQUIRE(items.size() == 1);
    return items[0]["id"].get<std::string>();
  }
  std::vector<json> outbox(const std::string& type) {
    std::vector<json> out;
    for (const events::Event& e : db.outbox(type)) out.push_back(e.envelope());
    return out;
  }
  store::TaskRow task(const std::string& id) {
    return *db->with([&](soci::session& s) { return store::find_task(s, id); });
  }
  int load(const std::string& worker_id) {
    return db->with([&](soci::session& s) { return store::find_worker(s, worker_id)->profile.open_assignments; });
  }
};

// Calls fn and returns the problem it threw (status 0 when it threw none).
template <class F>
http::Problem problem_of(F&& fn) {
  try {
    fn();
  } catch (const http::Problem& p) {
    return p;
  }
  return http::Problem(0, "none", "no problem");
}

void go_online(Fixture& f, const std::vector<std::string>& ids) {
  for (const auto& id : ids) f.availability(id, {{"online", true}});
}

// The scenarios, run against each configured backend.
void run_all(bool postgres);

}  // namespace

TEST_CASE("matching flows on SQLite") {
  run_all(false);
}

TEST_CASE("matching flows on PostgreSQL") {
  const char* pg = std::getenv("CROWD_TEST_PG_URL");
  if (pg == nullptr || *pg == '\0') {
    MESSAGE("CROWD_TEST_PG_URL is not set: PostgreSQL not tested");
    return;
  }
  run_all(true);
}

namespace {

void availability_and_first_offers(bool pg) {
  Fixture f(pg);
  // Unknown to matching yet: retry later.
  auto p = problem_of([&] { f.availability("wkr_early", {{"online", true}}); });
  CHECK(p.status == 409);
  CHECK(p.type == "worker-not-ready");

  f.register_worker("wkr_a", {"Design"}, 90);
  f.register_worker("wkr_b", {"design"}, 50);
  f.register_worker("wkr_c", {"design"}, 70);
  f.register_worker("wkr_d", {"welding"}, 100);                 // no skill fit
  f.register_worker("wkr_e", {"design"}, 100, nullptr, false);  // unverified
  f.register_worker("wkr_f", {"design"}, 100);                  // stays offline
  auto r = f.availability("wkr_a", {{"online", true}, {"place", {{"lat", 31.2304}, {"lng", 121.4737}}}});
  CHECK(r.status == 200);
  auto body = json::parse(r.body);
  CHECK(body["online"] == true);
  CHECK(body["place"]["lat"].get<double>() == doctest::Approx(31.2304));
  CHECK(body["updated_at"].is_string());
  go_online(f, {"wkr_b", "wkr_c", "wkr_d", "wkr_e"});

  // Bad input: every error at once, nothing changed.
  p = problem_of([&] { f.availability("wkr_a", {{"place", {{"lat", 95}, {"lng", "x"}}}}); });
  CHECK(p.status == 422);
  CHECK(p.errors.size() == 3);

  f.open_task("tsk_single", 1);
  // K = min(3 candidates, max(3, 2 x 1)) = 3: a, b, c; not d (skills), e (unverified), f (offline).
  for (const char* w : {"wkr_a", "wkr_b", "wkr_c"}) CHECK(f.offers(w).size() == 1);
  for (const char* w : {"wkr_d", "wkr_e", "wkr_f"}) CHECK(f.offers(w).empty());
  auto o = f.offers("wkr_a")[0];
  CHECK(o["task_id"] == "tsk_single");
  CHECK(o["status"] == "pending");
  CHECK(o["task"]["title"] == "Logo");
  CHECK(o["task"]["pay_per_unit"] == json({{"amount_fen", 12345}, {"currency", "CNY"}}));
  CHECK(o["task"]["units_free"] == 1);
  CHECK(o["distance_m"].is_null());
  CHECK(o["expires_at"].is_string());

  // A worker coming online after the task opened still gets it.
  f.register_worker("wkr_g", {"design"}, 10);
  body = json::parse(f.availability("wkr_g", {{"online", true}}).body);
  CHECK(body["offers_created"] == 1);
  CHECK(f.offers("wkr_g").size() == 1);
  // And again: no second offer of the same task.
  CHECK(json::parse(f.availability("wkr_g", {{"online", true}}).body)["offers_created"] == 0);
}

void accept_single_task(bool pg) {
  Fixture f(pg);
  for (const char* w : {"wkr_a", "wkr_b", "wkr_c"}) f.register_worker(w, {"design"});
  go_online(f, {"wkr_a", "wkr_b", "wkr_c"});
  f.open_task("tsk_1", 1);
  const auto offer_a = f.only_offer("wkr_a");
  const auto offer_b = f.only_offer("wkr_b");

  // Someone else's offer: not found.
  CHECK(problem_of([&] { f.accept("wkr_b", offer_a); }).status == 404);

  auto r = f.accept("wkr_a", offer_a);
  CHECK(r.status == 201);
  auto asg = json::parse(r.body);
  CHECK(asg["id"].get<std::string>().rfind("asg_", 0) == 0);
  CHECK(asg["amount"] == json({{"amount_fen", 12345}, {"currency", "CNY"}}));
  CHECK(asg["status"] == "active");
  // Same worker again: the same assignment.
  auto again = f.accept("wkr_a", offer_a);
  CHECK(again.status == 200);
  CHECK(json::parse(again.body)["id"] == asg["id"]);

  // The task is full: the other offers are withdrawn.
  CHECK(f.offers("wkr_b").empty());
  auto p = problem_of([&] { f.accept("wkr_b", offer_b); });
  CHECK(p.status == 409);
  CHECK(p.type == "no-units-left");
  CHECK(f.task("tsk_1").units_assigned == 1);
  CHECK(f.load("wkr_a") == 1);

  auto events = f.outbox("assignment.created");
  REQUIRE(events.size() == 1);
  CHECK(events[0]["key"] == asg["id"]);
  CHECK(events[0]["data"] == json({{"assignment_id", asg["id"]},
                                   {"offer_id", offer_a},
                                   {"task_id", "tsk_1"},
                                   {"enterprise_id", "ent_1"},
                                   {"worker_id", "wkr_a"},
                                   {"units", 1},
                                   {"pay_per_unit_fen", 12345},
                                   {"amount_fen", 12345},
                                   {"currency", "CNY"},
                                   {"category", "design"},
                                   {"title", "Logo"},
                                   {"review_window_s", 259200},
                                   {"deadline_ms", f.task("tsk_1").deadline_ms}}));
  auto mine = f.assignments("wkr_a");
  REQUIRE(mine.size() == 1);
  CHECK(mine[0]["task_id"] == "tsk_1");
  CHECK(f.assignments("wkr_b").empty());
}

void piecework_race(bool pg) {
  Fixture f(pg);
  std::vector<std::string> workers;
  for (int i = 0; i < 8; ++i) {
    workers.push_back("wkr_" + std::to_string(i));
    f.register_worker(workers.back(), {"design"});
  }
  go_online(f, workers);
  f.open_task("tsk_p", 3);                                // K = min(8, max(3, 6)) = 6
  std::vector<std::pair<std::string, std::string>> held;  // worker, offer
  for (const auto& w : workers) {
    auto items = f.offers(w);
    if (!items.empty()) held.emplace_back(w, items[0]["id"].get<std::string>());
  }
  REQUIRE(held.size() == 6);

  std::atomic<int> created{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (const auto& [w, o] : held) {
    threads.emplace_back([&, w = w, o = o] {
      try {
        (f.accept(w, o).status == 201 ? created : other)++;
      } catch (const http::Problem& p) {
        (p.status == 409 && p.type == "no-units-left" ? refused : other)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(created == 3);
  CHECK(refused == 3);
  CHECK(other == 0);
  CHECK(f.task("tsk_p").units_assigned == 3);
  CHECK(f.outbox("assignment.created").size() == 3);
}

void expiry_decline_and_sweep(bool pg) {
  Fixture f(pg);
  for (const char* w : {"wkr_a", "wkr_b", "wkr_c", "wkr_d"}) f.register_worker(w, {"design"});
  f.register_worker("wkr_top", {"design"}, 100);
  go_online(f, {"wkr_a", "wkr_b", "wkr_c", "wkr_d", "wkr_top"});
  f.open_task("tsk_1", 1);
  // Top 3 of 5 by score (credit 100 first), ties by worker id: top, a, b.
  CHECK(f.offers("wkr_top").size() == 1);
  CHECK(f.offers("wkr_a").size() == 1);
  CHECK(f.offers("wkr_b").size() == 1);
  CHECK(f.offers("wkr_c").empty());

  // Decline: the unit goes to the next candidate (c).
  auto r = f.decline("wkr_a", f.only_offer("wkr_a"));
  CHECK(r.status == 200);
  CHECK(json::parse(r.body)["status"] == "declined");
  CHECK(f.offers("wkr_c").size() == 1);
  CHECK(f.offers("wkr_d").empty());

  // Expiry: accepting after expires_at → 410, offer marked expired (and that sticks).
  const auto offer_b = f.only_offer("wkr_b");
  const std::int64_t later = clock::now_ms() + f.cfg.offer_ttl_ms + 1;
  // As run_idempotent does: the outcome's change commits, then its problem is the answer.
  auto out = f.db->tx([&](soci::session& s) { return accept_offer(s, offer_b, "wkr_b", later); });
  REQUIRE(out.problem);
  CHECK(out.problem->status == 410);
  CHECK(out.problem->type == "offer-expired");
  CHECK(f.db->with([&](soci::session& s) { return store::find_offer(s, offer_b)->status; }) == OfferStatus::expired);

  // The sweep expires the rest and re-offers to whoever was never asked (d).
  auto swept = sweep(*f.db, f.cfg, later);
  CHECK(swept.offers_expired == 2);  // top's and c's; b's already is
  CHECK(swept.offers_created == 1);
  auto d_offers = f.db->with([&](soci::session& s) { return store::live_offers_of_worker(s, "wkr_d", later, "", 10); });
  CHECK(d_offers.size() == 1);
}

void cancel_and_units_released(bool pg) {
  Fixture f(pg);
  for (const char* w : {"wkr_a", "wkr_b", "wkr_c"}) f.register_worker(w, {"design"});
  go_online(f, {"wkr_a", "wkr_b", "wkr_c"});
  f.open_task("tsk_c", 5);
  f.accept("wkr_a", f.only_offer("wkr_a"));
  const auto offer_b = f.only_offer("wkr_b");

  f.deliver("task.cancel_requested", {{"task_id", "tsk_c"}, {"enterprise_id", "ent_1"}});
  f.deliver("task.cancel_requested", {{"task_id", "tsk_c"}, {"enterprise_id", "ent_1"}});  // another event id
  CHECK_FALSE(f.task("tsk_c").is_open);
  CHECK(f.offers("wkr_b").empty());
  auto p = problem_of([&] { f.accept("wkr_b", offer_b); });
  CHECK(p.status == 409);
  CHECK(p.type == "task-closed");
  // Every cancel request is answered, always with the release "cancel" and the same figure.
  auto released = f.outbox("task.units_released");
  REQUIRE(released.size() == 2);
  CHECK(released[0]["key"] == "tsk_c");
  CHECK(released[0]["data"] == json({{"task_id", "tsk_c"},
                                     {"enterprise_id", "ent_1"},
                                     {"release_id", "cancel"},
                                     {"units_released", 4},
                                     {"units_assigned", 1},
                                     {"units_total", 5}}));
  CHECK(released[1]["data"] == released[0]["data"]);
  CHECK(f.task("tsk_c").cancel_units_released == 4);

  // A cancel request that overtakes task.opened: released once task.opened arrives, no offers made.
  f.deliver("task.cancel_requested", {{"task_id", "tsk_early"}, {"enterprise_id", "ent_1"}});
  CHECK(f.outbox("task.units_released").size() == 2);
  f.open_task("tsk_early", 2);
  released = f.outbox("task.units_released");
  REQUIRE(released.size() == 3);
  CHECK(released[2]["data"]["units_released"] == 2);
  CHECK(released[2]["data"]["release_id"] == "cancel");
  CHECK(f.offers("wkr_c").size() == 0);
  // Asked again once it is known: answered with the same figure.
  f.deliver("task.cancel_requested", {{"task_id", "tsk_early"}, {"enterprise_id", "ent_1"}});
  released = f.outbox("task.units_released");
  REQUIRE(released.size() == 4);
  CHECK(released[3]["data"] == released[2]["data"]);
}

// A cancel answered while one unit is assigned, then that unit comes back (rejection, expiry): each is
// released under its own id, the cancel's figure never changes, and the count reaches 0.
void units_back_after_cancel(bool pg) {
  Fixture f(pg);
  for (const char* w : {"wkr_a", "wkr_b", "wkr_c"}) f.register_worker(w, {"design"});
  go_online(f, {"wkr_a", "wkr_b", "wkr_c"});
  f.open_task("tsk_r", 3);
  const auto a1 = json::parse(f.accept("wkr_a", f.only_offer("wkr_a")).body)["id"].get<std::string>();
  const auto a2 = json::parse(f.accept("wkr_b", f.only_offer("wkr_b")).body)["id"].get<std::string>();
  f.deliver("task.cancel_requested", {{"task_id", "tsk_r"}, {"enterprise_id", "ent_1"}});
  auto released = f.outbox("task.units_released");
  REQUIRE(released.size() == 1);
  CHECK(released[0]["data"]["units_released"] == 1);
  CHECK(released[0]["data"]["units_assigned"] == 2);

  // Rejected after the cancel: the unit is released, not offered again.
  const json rejected = {{"assignment_id", a1}, {"task_id", "tsk_r"}, {"worker_id", "wkr_a"}, {"units", 1}};
  f.deliver("delivery.rejected", rejected);
  f.deliver("delivery.rejected", rejected);  // another event id: no second release
  released = f.outbox("task.units_released");
  REQUIRE(released.size() == 2);
  CHECK(released[1]["key"] == "tsk_r");
  CHECK(released[1]["data"] == json({{"task_id", "tsk_r"},
                                     {"enterprise_id", "ent_1"},
                                     {"release_id", "asg:" + a1},
                                     {"units_released", 1},
                                     {"units_assigned", 1},
                                     {"units_total", 3}}));
  CHECK(f.task("tsk_r").units_assigned == 1);
  CHECK(f.load("wkr_a") == 0);
  CHECK(f.offers("wkr_c").empty());

  // A repeat cancel now: the same "cancel" figure, the current count.
  f.deliver("task.cancel_requested", {{"task_id", "tsk_r"}, {"enterprise_id", "ent_1"}});
  released = f.outbox("task.units_released");
  REQUIRE(released.size() == 3);
  CHECK(released[2]["data"]["release_id"] == "cancel");
  CHECK(released[2]["data"]["units_released"] == 1);
  CHECK(released[2]["data"]["units_assigned"] == 1);

  // The other worker never submits: delivery expires the assignment, the unit is released too.
  const json expired = {{"assignment_id", a2},  {"task_id", "tsk_r"}, {"enterprise_id", "ent_1"},
                        {"worker_id", "wkr_b"}, {"units", 1},         {"reason", "deadline_passed"},
                        {"expired_at_ms", 1000}};
  f.deliver("assignment.expired", expired);
  f.deliver("assignment.expired", expired);
  released = f.outbox("task.units_released");
  REQUIRE(released.size() == 4);
  CHECK(released[3]["data"]["release_id"] == "asg:" + a2);
  CHECK(released[3]["data"]["units_assigned"] == 0);
  CHECK(f.task("tsk_r").units_assigned == 0);
  CHECK(f.load("wkr_b") == 0);
  CHECK(f.assignments("wkr_b")[0]["status"] == "expired");
  // A late verdict on the expired assignment changes nothing.
  f.deliver("delivery.rejected", {{"assignment_id", a2}, {"task_id", "tsk_r"}, {"worker_id", "wkr_b"}, {"units", 1}});
  CHECK(f.outbox("task.units_released").size() == 4);
}

// An expiry on an open task puts the unit back in the pool and offers it again, like a rejection.
void expiry_on_open_task(bool pg) {
  Fixture f(pg);
  for (const char* w : {"wkr_a", "wkr_b", "wkr_c", "wkr_d"}) f.register_worker(w, {"design"});
  go_online(f, {"wkr_a", "wkr_b", "wkr_c"});
  f.open_task("tsk_e", 1);
  const auto a1 = json::parse(f.accept("wkr_a", f.only_offer("wkr_a")).body)["id"].get<std::string>();
  CHECK(f.task("tsk_e").units_assigned == 1);
  go_online(f, {"wkr_d"});
  CHECK(f.offers("wkr_d").empty());  // full
  f.deliver("assignment.expired", {{"assignment_id", a1},
                                   {"task_id", "tsk_e"},
                                   {"enterprise_id", "ent_1"},
                                   {"worker_id", "wkr_a"},
                                   {"units", 1},
                                   {"reason", "deadline_passed"},
                                   {"expired_at_ms", 1000}});
  CHECK(f.task("tsk_e").units_assigned == 0);
  CHECK(f.load("wkr_a") == 0);
  CHECK(f.assignments("wkr_a")[0]["status"] == "expired");
  CHECK(f.outbox("task.units_released").empty());
  // Offered again to those whose offers were only withdrawn (b, c) and to d; never to a again.
  CHECK(f.offers("wkr_b").size() == 1);
  CHECK(f.offers("wkr_a").empty());
}

void delivery_verdicts(bool pg) {
  Fixture f(pg);
  for (const char* w : {"wkr_a", "wkr_b", "wkr_c"}) f.register_worker(w, {"design"});
  go_online(f, {"wkr_a", "wkr_b", "wkr_c"});
  f.open_task("tsk_d", 2);  // K = 4 > 3 candidates: everyone
  const auto a1 = json::parse(f.accept("wkr_a", f.only_offer("wkr_a")).body)["id"].get<std::string>();
  const auto a2 = json::parse(f.accept("wkr_b", f.only_offer("wkr_b")).body)["id"].get<std::string>();
  CHECK(f.offers("wkr_c").empty());  // withdrawn: the task is full

  f.deliver("delivery.rejected", {{"assignment_id", a1}, {"task_id", "tsk_d"}, {"worker_id", "wkr_a"}, {"units", 1}});
  CHECK(f.task("tsk_d").units_assigned == 1);
  CHECK(f.load("wkr_a") == 0);
  CHECK(f.assignments("wkr_a")[0]["status"] == "rejected");
  // The unit is offered again: c's offer was only withdrawn, so c is asked again; a and b hold
  // accepted offers of this task and are not asked twice.
  CHECK(f.offers("wkr_c").size() == 1);
  CHECK(f.offers("wkr_a").empty());
  // A duplicate (other event id) changes nothing.
  f.deliver("delivery.rejected", {{"assignment_id", a1}, {"task_id", "tsk_d"}, {"worker_id", "wkr_a"}, {"units", 1}});
  CHECK(f.task("tsk_d").units_assigned == 1);

  f.deliver("delivery.accepted", {{"assignment_id", a2}, {"task_id", "tsk_d"}, {"worker_id", "wkr_b"}, {"units", 1}});
  CHECK(f.assignments("wkr_b")[0]["status"] == "completed");
  CHECK(f.load("wkr_b") == 0);
  // Unknown assignment: acknowledged, no effect.
  f.deliver("delivery.accepted", {{"assignment_id", "asg_unknown"}});
}

void radius_filter(bool pg) {
  Fixture f(pg);
  f.register_worker("wkr_home_near", {"repair"}, 50, {{"lat", 31.2354}, {"lng", 121.4737}});  // ~0.6 km
  f.register_worker("wkr_home_far", {"repair"}, 100, {{"lat", 31.4304}, {"lng", 121.4737}});  // ~22 km
  f.register_worker("wkr_moved", {"repair"}, 100, {{"lat", 39.9}, {"lng", 116.4}});           // Beijing home
  f.register_worker("wkr_nowhere", {"repair"}, 100);
  go_online(f, {"wkr_home_near", "wkr_home_far", "wkr_nowhere"});
  f.availability("wkr_moved", {{"online", true}, {"place", {{"lat", 31.2404}, {"lng", 121.4737}}}});  // ~1.1 km
  f.open_task("tsk_r", 1,
              {{"required_skills", {"repair"}}, {"place", {{"lat", 31.2304}, {"lng", 121.4737}}}, {"radius_m", 5000}});
  CHECK(f.offers("wkr_home_near").size() == 1);
  CHECK(f.offers("wkr_moved").size() == 1);
  CHECK(f.offers("wkr_home_far").empty());
  CHECK(f.offers("wkr_nowhere").empty());
  auto near = f.offers("wkr_home_near")[0];
  CHECK(near["distance_m"].get<int>() == doctest::Approx(556).epsilon(0.02));
  CHECK(near["task"]["radius_m"] == 5000);
}

void idempotency_keys(bool pg) {
  Fixture f(pg);
  f.register_worker("wkr_a", {"design"});
  auto first = f.availability("wkr_a", {{"online", true}}, "key-1");
  auto again = f.availability("wkr_a", {{"online", true}}, "key-1");
  CHECK(again.status == 200);
  CHECK(again.body == first.body);
  auto p = problem_of([&] { f.availability("wkr_a", {{"online", false}}, "key-1"); });
  CHECK(p.status == 422);
  CHECK(p.type == "idempotency-key-reuse");
}

// offer.created: one per offer, in the offer's transaction, with the terms settlement previews.
void offer_created_events(bool pg) {
  Fixture f(pg);
  f.register_worker("wkr_a", {"design"});
  f.register_worker("wkr_b", {"design"});
  go_online(f, {"wkr_a", "wkr_b"});
  f.open_task("tsk_1", 2);
  auto events = f.outbox("offer.created");
  REQUIRE(events.size() == 2);
  std::set<std::string> offered;
  for (const auto& e : events) {
    const std::string offer_id = e["data"]["offer_id"].get<std::string>();
    const auto row = f.db->with([&](soci::session& s) { return store::find_offer(s, offer_id); });
    REQUIRE(row);
    CHECK(e["key"] == offer_id);
    CHECK(e["data"] == json({{"offer_id", offer_id},
                             {"task_id", "tsk_1"},
                             {"enterprise_id", "ent_1"},
                             {"worker_id", row->worker_id},
                             {"units", 1},
                             {"pay_per_unit_fen", 12345},
                             {"amount_fen", 12345},
                             {"currency", "CNY"},
                             {"category", "design"},
                             {"expires_at_ms", row->expires_at_ms}}));
    offered.insert(row->worker_id);
  }
  CHECK(offered == std::set<std::string>{"wkr_a", "wkr_b"});

  // A repeated task.opened, a decline with nobody new to ask, a worker coming online again: no new offer,
  // no new event.
  f.open_task("tsk_1", 2);
  CHECK(f.decline("wkr_a", f.only_offer("wkr_a")).status == 200);
  go_online(f, {"wkr_b"});
  CHECK(f.outbox("offer.created").size() == 2);

  // A new worker online: offered the open task, one event for that offer.
  f.register_worker("wkr_c", {"design"});
  go_online(f, {"wkr_c"});
  events = f.outbox("offer.created");
  REQUIRE(events.size() == 3);
  CHECK(events[2]["data"]["worker_id"] == "wkr_c");
  CHECK(events[2]["data"]["offer_id"] == f.only_offer("wkr_c"));
  const auto offers_made = f.db->with([](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare << "SELECT COUNT(*) FROM m_offers";
    for (const auto& r : rs) return db::get_i64(r, 0);
    return std::int64_t{0};
  });
  CHECK(offers_made == 3);
}

// A worker coming online is offered the best-fitting open tasks, not the oldest: 600 older tasks that
// fit half (one of two required skills) and one newer task that fits fully; the newer one is among the
// first call's offers, and that call makes all the offers the cap allows.
void online_offers_best_fit_first(bool pg) {
  Fixture f(pg);
  f.register_worker("wkr_new", {"design"}, 80);
  const std::int64_t deadline = clock::now_ms() + 86400000;
  f.db->tx([&](soci::session& s) {
    for (int i = 0; i < 600; ++i) {
      store::TaskRow t;
      t.profile.id = "tsk_old_" + std::to_string(100000 + i);
      t.profile.required_skills = {"cad", "design"};
      t.enterprise_id = "ent_1";
      t.category = "design";
      t.mode = "single";
      t.title = "Old";
      t.units_total = 1;
      t.pay_per_unit_fen = 100;
      t.deadline_ms = deadline;
      t.review_window_s = 259200;
      REQUIRE(store::insert_task(s, t, clock::now_ms()));
    }
  });
  // Far away and with a radius: never offered (the SQL box and evaluate() agree).
  f.open_task("tsk_far", 1,
              {{"required_skills", {"design"}}, {"place", {{"lat", 39.9}, {"lng", 116.4}}}, {"radius_m", 5000}});
  f.open_task("tsk_zz_newest", 1, {{"required_skills", {"design"}}});  // ids sort after every old one
  auto r =
      json::parse(f.availability("wkr_new", {{"online", true}, {"place", {{"lat", 31.23}, {"lng", 121.47}}}}).body);
  CHECK(r["offers_created"] == f.cfg.online_offers_max);
  std::set<std::string> offered;
  for (const auto& o : f.offers("wkr_new")) offered.insert(o["task_id"].get<std::string>());
  CHECK(offered.size() == static_cast<std::size_t>(f.cfg.online_offers_max));
  CHECK(offered.count("tsk_zz_newest") == 1);
  CHECK(offered.count("tsk_far") == 0);
  // Equal fits: the older tasks first.
  CHECK(offered.count("tsk_old_100000") == 1);
}

// One availability call makes every offer it should, up to the cap; a second call has nothing left to offer.
void online_offers_in_one_call(bool pg) {
  Fixture f(pg);
  f.cfg.online_offers_max = 5;
  f.api = std::make_unique<Api>([&f]() -> db::Database& { return *f.db; }, f.cfg);
  for (int i = 0; i < 4; ++i) f.open_task("tsk_" + std::to_string(i), 1);
  f.open_task("tsk_skills", 1, {{"required_skills", {"welding"}}});  // not a fit
  f.open_task("tsk_any", 1, {{"required_skills", json::array()}});   // anyone fits
  f.register_worker("wkr_a", {"Design"}, 50);
  CHECK(json::parse(f.availability("wkr_a", {{"online", true}}).body)["offers_created"] == 5);
  CHECK(f.offers("wkr_a").size() == 5);
  CHECK(json::parse(f.availability("wkr_a", {{"online", true}}).body)["offers_created"] == 0);
  // A worker without a place is never offered a task with a radius.
  f.open_task("tsk_radius", 1, {{"place", {{"lat", 31.2}, {"lng", 121.4}}}, {"radius_m", 5000}});
  f.register_worker("wkr_b", {"design"}, 50);
  CHECK(json::parse(f.availability("wkr_b", {{"online", true}}).body)["offers_created"] == 5);
  for (const auto& o : f.offers("wkr_b")) CHECK(o["task_id"] != "tsk_radius");
}

void run_all(bool pg) {
  SUBCASE("online: the best-fitting open tasks, not the oldest") {
    online_offers_best_fit_first(pg);
  }
  SUBCASE("online: every offer in one call, up to the cap") {
    online_offers_in_one_call(pg);
  }
  SUBCASE("offer.created once per offer") {
    offer_created_events(pg);
  }
  SUBCASE("availability and first offers") {
    availability_and_first_offers(pg);
  }
  SUBCASE("accept of a single task") {
    accept_single_task(pg);
  }
  SUBCASE("piecework: concurrent accepts never exceed the units") {
    piecework_race(pg);
  }
  SUBCASE("expiry, decline and the sweep") {
    expiry_decline_and_sweep(pg);
  }
  SUBCASE("cancel releases units exactly once") {
    cancel_and_units_released(pg);
  }
  SUBCASE("units back after a cancel are released one by one") {
    units_back_after_cancel(pg);
  }
  SUBCASE("an expiry on an open task offers the unit again") {
    expiry_on_open_task(pg);
  }
  SUBCASE("delivery verdicts") {
    delivery_verdicts(pg);
  }
  SUBCASE("radius filter") {
    radius_filter(pg);
  }
  SUBCASE("idempotency keys") {
    idempotency_keys(pg);
  }
}

}  // namespace
