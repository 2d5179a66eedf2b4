// The delivery handlers, consumer and jobs against the service's real migrations (crowd::testing::ServiceDb:
// SQLite, and PostgreSQL when CROWD_TEST_PG_URL is set): no Redis, no HTTP server. Events are read back from
// the outbox.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/ids.hpp"
#include "common/testing/service_db.hpp"
#include "services/delivery/api.hpp"
#include "services/delivery/consumers.hpp"
#include "services/delivery/jobs.hpp"

namespace {

using crowd::auth::Principal;
using crowd::auth::Role;
using crowd::http::Request;
using crowd::http::Response;
using nlohmann::json;
using namespace crowd::delivery;

const Principal kWorker{"wkr_1", Role::worker, 0, 0};
const Principal kOtherWorker{"wkr_2", Role::worker, 0, 0};
const Principal kEnterprise{"ent_1", Role::enterprise, 0, 0};
const Principal kOtherEnterprise{"ent_2", Role::enterprise, 0, 0};
const Principal kOperator{"op_1", Role::operator_, 0, 0};

struct Fixture {
  crowd::testing::ServiceDb db{crowd::db::embedded_migrations(), 2};
  Settings settings;
  std::unique_ptr<Api> api;

  explicit Fixture(int max_revisions = 3) {
    crowd::events::set_producer("delivery");
    settings.max_revisions = max_revisions;
    api = std::make_unique<Api>(*db, settings);
  }

  void assignment(const std::string& id, std::int64_t review_window_s = 3600, const std::string& event_id = "") {
    crowd::events::Event e;
    e.id = event_id.empty() ? crowd::ids::make("evt") : event_id;
    e.type = "assignment.created";
    e.producer = "matching";
    e.key = id;
    e.data = {{"assignment_id", id},
              {"offer_id", "ofr_1"},
              {"task_id", "tsk_1"},
              {"enterprise_id", "ent_1"},
              {"worker_id", "wkr_1"},
              {"units", 2},
              {"pay_per_unit_fen", 5000},
              {"amount_fen", 10000},
              {"currency", "CNY"},
              {"category", "design"},
              {"title", "Logo"},
              {"review_window_s", review_window_s},
              {"deadline_ms", crowd::clock::now_ms() + 86'400'000}};
    db->tx([&](soci::session& s) {
      if (crowd::events::inbox_claim(s, e.id, e.type)) on_assignment_created(s, e);
    });
  }

  // Calls a handler the way the server would, turning a thrown Problem into its status.
  template <class H>
  Response call(H handler, const Principal& who, std::string method, std::map<std::string, std::string> params,
                json body = nullptr, std::map<std::string, std::string> headers = {},
                std::map<std::string, std::string> query = {}) {
    Request req;
    req.method = std::move(method);
    req.path = "/v1/test/" + (params.count("id") ? params["id"] : "");
    req.params = std::move(params);
    req.query = std::move(query);
    req.headers = std::move(headers);
    if (!body.is_null()) {
      req.headers["content-type"] = "application/json";
      req.body = body.dump();
    }
    req.request_id = "req_test";
    req.principal = who;
    try {
      return (api.get()->*handler)(req);
    } catch (const crowd::http::Problem& p) {
      Response r = Response::json_of(p.status, p.to_json(req.path));
      return r;
    }
  }

  Response submit(const std::string& asg, const Principal& who = kWorker, json body = nullptr,
                  std::map<std::string, std::string> headers = {}) {
    if (body.is_null()) body = submission_body();
    return call(&Api::submit, who, "POST", {{"id", asg}}, body, std::move(headers));
  }
  Response review(const std::string& sub, json body, const Principal& who = kEnterprise,
                  std::map<std::string, std::string> headers = {}) {
    return call(&Api::review, who, "POST", {{"id", sub}}, std::move(body), std::move(headers));
  }
  Response evidence(const std::string& sub, const Principal& who = kWorker) {
    return call(&Api::get_evidence, who, "GET", {{"id", sub}});
  }

  static json submission_body(char fill = 'a') {
    return {{"content_sha256", std::string(64, fill)},
            {"size_bytes", 2048},
            {"media_type", "application/pdf"},
            {"storage_ref", "s3://deliveries/wkr_1/logo.pdf"},
            {"note", "first draft"}};
  }

  std::vector<json> events(const std::string& type) {
    std::vector<json> out;
    for (const crowd::events::Event& e : db.outbox(type)) out.push_back(e.envelope());
    return out;
  }
};

json body_of(const Response& r) {
  return json::parse(r.body);
}
std::string problem_type(const Response& r) {
  return body_of(r).value("type", "");
}
std::set<std::string> keys_of(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

}  // namespace

TEST_CASE("assignment.created is recorded once") {
  Fixture f;
  f.assignment("asg_1", 3600, "evt_same");
  f.assignment("asg_1", 3600, "evt_same");   // the inbox filters the duplicate delivery
  f.assignment("asg_1", 3600, "evt_other");  // a replay under a new id: the primary key keeps one row
  auto r = f.call(&Api::assignment_submissions, kWorker, "GET", {{"id", "asg_1"}});
  REQUIRE(r.status == 200);
  auto a = body_of(r)["assignment"];
  CHECK(a["status"] == "working");
  CHECK(a["revision_round"] == 0);
  CHECK(a["amount"] == json{{"amount_fen", 10000}, {"currency", "CNY"}});
  CHECK(body_of(r)["items"].empty());
}

TEST_CASE("submit: who may, what is checked") {
  Fixture f;
  f.assignment("asg_1");
  CHECK(f.submit("asg_1", kOtherWorker).status == 404);
  CHECK(f.submit("asg_missing").status == 404);
  CHECK(f.submit("asg_1", kEnterprise).status == 403);

  auto bad = f.submit("asg_1", kWorker,
                      {{"content_sha256", std::string(64, 'A')},
                       {"size_bytes", 0},
                       {"media_type", "pdf"},
                       {"storage_ref", ""},
                       {"note", std::string(2001, 'x')}});
  REQUIRE(bad.status == 422);
  std::set<std::string> fields;
  const auto problem = body_of(bad);
  for (const auto& e : problem["errors"]) fields.insert(e["field"].get<std::string>());
  CHECK(fields == std::set<std::string>{"content_sha256", "size_bytes", "media_type", "storage_ref", "note"});
  CHECK(f.events("submission.created").empty());
}

TEST_CASE("submit: a pending_review submission, its evidence and submission.created") {
  Fixture f;
  f.assignment("asg_1", 600);
  const auto before = crowd::clock::now_ms();
  auto r = f.submit("asg_1");
  REQUIRE(r.status == 201);
  auto sub = body_of(r);
  CHECK(sub["id"].get<std::string>().rfind("sub_", 0) == 0);
  CHECK(sub["round"] == 1);
  CHECK(sub["status"] == "pending_review");
  CHECK(sub["review"].is_null());
  CHECK(sub["review_deadline_ms"].get<std::int64_t>() - sub["submitted_at_ms"].get<std::int64_t>() == 600'000);
  CHECK(sub["submitted_at_ms"].get<std::int64_t>() >= before);

  auto evs = f.events("submission.created");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0]["key"] == sub["id"]);
  CHECK(keys_of(evs[0]["data"]) == std::set<std::string>{"submission_id", "assignment_id", "task_id", "enterprise_id",
                                                         "worker_id", "round", "content_sha256", "evidence_hash"});
  CHECK(evs[0]["data"]["evidence_hash"] == sub["evidence_hash"]);

  // One submission under review at a time.
  auto again = f.submit("asg_1");
  CHECK(again.status == 409);
  CHECK(problem_type(again) == "https://errors.crowd.example/assignment-not-open");

  auto ev = f.evidence(sub["id"]);
  REQUIRE(ev.status == 200);
  auto e = body_of(ev);
  CHECK(e["verified"] == true);
  CHECK(e["entry"]["hash"] == sub["evidence_hash"]);
  CHECK(e["entry"]["prev_hash"] == std::string(64, '0'));
  CHECK(e["entry"]["payload"]["size"] == 2048);
  CHECK(e["acceptance"].is_null());
  CHECK(f.evidence(sub["id"], kOtherWorker).status == 404);
  CHECK(f.evidence(sub["id"], kOperator).status == 200);
}

TEST_CASE("submit: Idempotency-Key replays the first response, refuses another body") {
  Fixture f;
  f.assignment("asg_1");
  auto first = f.submit("asg_1", kWorker, nullptr, {{"idempotency-key", "k-1"}});
  REQUIRE(first.status == 201);
  auto replay = f.submit("asg_1", kWorker, nullptr, {{"idempotency-key", "k-1"}});
  CHECK(replay.status == 201);
  CHECK(replay.body == first.body);
  auto other = f.submit("asg_1", kWorker, Fixture::submission_body('b'), {{"idempotency-key", "k-1"}});
  CHECK(other.status == 422);
  CHECK(problem_type(other) == "https://errors.crowd.example/idempotency-key-reuse");
  CHECK(f.events("submission.created").size() == 1);
  CHECK(f.submit("asg_1", kWorker, nullptr, {{"idempotency-key", "has space"}}).status == 400);
}

TEST_CASE("review: accept emits delivery.accepted and an acceptance entry") {
  Fixture f;
  f.assignment("asg_1");
  const std::string sub = body_of(f.submit("asg_1"))["id"];
  CHECK(f.review(sub, {{"decision", "accept"}}, kOtherEnterprise).status == 404);
  CHECK(f.review(sub, {{"decision", "accept"}}, kWorker).status == 403);
  CHECK(f.review(sub, {{"decision", "maybe"}}).status == 422);

  auto r = f.review(sub, {{"decision", "accept"}});
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["submission"]["status"] == "accepted");
  CHECK(body_of(r)["submission"]["review"]["automatic"] == false);
  CHECK(body_of(r)["assignment"]["status"] == "accepted");
  CHECK(f.review(sub, {{"decision", "accept"}}).status == 409);

  auto evs = f.events("delivery.accepted");
  REQUIRE(evs.size() == 1);
  CHECK(evs[0]["key"] == "asg_1");
  const auto& d = evs[0]["data"];
  CHECK(keys_of(d) == std::set<std::string>{"submission_id", "assignment_id", "task_id", "enterprise_id", "worker_id",
                                            "units", "amount_fen", "currency", "category", "title", "automatic",
                                            "accepted_at_ms"});
  CHECK(d["amount_fen"] == 10000);
  CHECK(d["units"] == 2);
  CHECK(d["automatic"] == false);

  auto e = body_of(f.evidence(sub, kEnterprise));
  CHECK(e["verified"] == true);
  REQUIRE(e["acceptance"].is_object());
  CHECK(e["acceptance"]["prev_hash"] == e["entry"]["hash"]);
  CHECK(e["acceptance"]["payload"]["accepted_at_ms"] == d["accepted_at_ms"]);
  CHECK(f.submit("asg_1").status == 409);  // closed
}

TEST_CASE("review: revise needs a reason, opens the next round, stops at the limit") {
  Fixture f(1);
  f.assignment("asg_1");
  const std::string s1 = body_of(f.submit("asg_1"))["id"];
  auto no_reason = f.review(s1, {{"decision", "revise"}});
  CHECK(no_reason.status == 422);
  CHECK(f.review(s1, {{"decision", "reject"}, {"reason", ""}}).status == 422);

  auto r = f.review(s1, {{"decision", "revise"}, {"reason", "bigger font"}});
  REQUIRE(r.status == 200);
  CHECK(body_of(r)["submission"]["status"] == "revision_requested");
  CHECK(body_of(r)["assignment"]["status"] == "revision_requested");
  CHECK(body_of(r)["assignment"]["revision_round"] == 1);
  auto evs = f.events("delivery.revision_requested");
  REQUIRE(evs.size() == 1);
  CHECK(keys_of(evs[0]["data"]) ==
        std::set<std::string>{"submission_id", "assignment_id", "task_id", "worker_id", "round", "reason"});
  CHECK(evs[0]["data"]["round"] == 1);
  CHECK(evs[0]["data"]["reason"] == "bigger font");

  auto second = f.submit("asg_1", kWorker, Fixture::submission_body('c'));
  REQUIRE(second.status == 201);
  CHECK(body_of(second)["round"] == 2);
  const std::string s2 = body_of(second)["id"];
  auto limit = f.review(s2, {{"decision", "revise"}, {"reason", "again"}});
  CHECK(limit.status == 409);
  CHECK(problem_type(limit) == "https://errors.crowd.example/revision-limit");

  auto rej = f.review(s2, {{"decision", "reject"}, {"reason", "not usable"}});
  REQUIRE(rej.status == 200);
  CHECK(body_of(rej)["assignment"]["status"] == "rejected");
  auto rejected = f.events("delivery.rejected");
  REQUIRE(rejected.size() == 1);
  CHECK(keys_of(rejected[0]["data"]) == std::set<std::string>{"submission_id", "assignment_id", "task_id",
                                                              "enterprise_id", "worker_id", "units", "reason"});
  auto list = body_of(f.call(&Api::assignment_submissions, kEnterprise, "GET", {{"id", "asg_1"}}));
  REQUIRE(list["items"].size() == 2);
  CHECK(list["items"][0]["status"] == "revision_requested");
  CHECK(list["items"][1]["status"] == "rejected");
}

TEST_CASE("auto-acceptance after the window, and no double acceptance") {
  Fixture f;
  f.assignment("asg_1", 60);
  f.assignment("asg_2", 60);
  const std::string s1 = body_of(f.submit("asg_1"))["id"];
  const std::string s2 = body_of(f.submit("asg_2"))["id"];
  const auto now = crowd::clock::now_ms();
  CHECK(auto_accept_due(*f.db, f.settings, now) == 0);  // windows still open

  // The enterprise decides s2 first: the job must leave it alone.
  REQUIRE(f.review(s2, {{"decision", "accept"}}).status == 200);
  CHECK(auto_accept_due(*f.db, f.settings, now + 61'000) == 1);
  CHECK(auto_accept_due(*f.db, f.settings, now + 61'000) == 0);

  auto accepted = f.events("delivery.accepted");
  REQUIRE(accepted.size() == 2);
  CHECK(accepted[1]["data"]["submission_id"] == s1);
  CHECK(accepted[1]["data"]["automatic"] == true);
  auto got = body_of(f.call(&Api::get_submission, kWorker, "GET", {{"id", s1}}));
  CHECK(got["status"] == "accepted");
  CHECK(got["review"]["reason"] == "review window ended");
  CHECK(f.review(s1, {{"decision", "reject"}, {"reason", "late"}}).status == 409);
  CHECK(body_of(f.evidence(s1))["verified"] == true);
}

TEST_CASE("after the window the enterprise may only accept") {
  Fixture f;
  f.assignment("asg_1", 0);  // the window ends at submission
  const std::string s1 = body_of(f.submit("asg_1"))["id"];
  auto late = f.review(s1, {{"decision", "reject"}, {"reason", "too late"}});
  CHECK(late.status == 409);
  CHECK(problem_type(late) == "https://errors.crowd.example/review-window-ended");
  CHECK(f.review(s1, {{"decision", "accept"}}).status == 200);
}

TEST_CASE("expiry: no submission by deadline + grace → expired with assignment.expired, once") {
  Fixture f;
  f.assignment("asg_idle");
  f.assignment("asg_revising");
  f.assignment("asg_in_review");
  const std::string s1 = body_of(f.submit("asg_revising"))["id"];
  REQUIRE(f.review(s1, {{"decision", "revise"}, {"reason", "sharper lines"}}).status == 200);
  REQUIRE(f.submit("asg_in_review").status == 201);
  const auto deadline = crowd::clock::now_ms() + 86'400'000;  // as the fixture's assignment.created
  const auto grace = Settings{}.assignment_grace_ms;
  CHECK(grace == 86'400'000);
  CHECK(expire_due(*f.db, f.settings, deadline) == 0);  // at the deadline the grace period still runs
  // Past deadline + grace.
  const auto later = deadline + grace + 60'000;
  CHECK(expire_due(*f.db, f.settings, later) == 2);
  CHECK(expire_due(*f.db, f.settings, later) == 0);

  auto expired = f.events("assignment.expired");
  REQUIRE(expired.size() == 2);
  std::set<std::string> ids;
  for (const auto& e : expired) {
    ids.insert(e["key"].get<std::string>());
    CHECK(keys_of(e["data"]) == std::set<std::string>{"assignment_id", "task_id", "enterprise_id", "worker_id", "units",
                                                      "reason", "expired_at_ms"});
    CHECK(e["data"]["reason"] == "deadline_passed");
    CHECK(e["data"]["units"] == 2);
    CHECK(e["data"]["expired_at_ms"] == later);
    CHECK(e["data"]["worker_id"] == "wkr_1");
    CHECK(e["data"]["enterprise_id"] == "ent_1");
  }
  CHECK(ids == std::set<std::string>{"asg_idle", "asg_revising"});
  auto a = body_of(f.call(&Api::assignment_submissions, kWorker, "GET", {{"id", "asg_idle"}}));
  CHECK(a["assignment"]["status"] == "expired");
  // The one in review is left to the review (and the auto-acceptance).
  a = body_of(f.call(&Api::assignment_submissions, kWorker, "GET", {{"id", "asg_in_review"}}));
  CHECK(a["assignment"]["status"] == "in_review");

  // A submission to an expired assignment: 409, nothing written.
  auto late = f.submit("asg_idle");
  CHECK(late.status == 409);
  CHECK(problem_type(late) == "https://errors.crowd.example/assignment-not-open");
  CHECK(f.submit("asg_revising").status == 409);
  CHECK(f.events("submission.created").size() == 2);
}

TEST_CASE("expiry racing submissions: for each assignment exactly one wins") {
  Fixture f;
  constexpr int kAssignments = 24;
  for (int i = 0; i < kAssignments; ++i) f.assignment("asg_" + std::to_string(i));
  const auto later = crowd::clock::now_ms() + 2 * 86'400'000LL + 60'000;
  Settings one_at_a_time;
  one_at_a_time.expire_batch = 1;
  f.settings = one_at_a_time;
  std::atomic<int> submitted{0}, refused{0}, other{0}, expired{0};
  std::atomic<bool> worker_done{false};
  std::thread worker([&] {
    for (int i = 0; i < kAssignments; ++i) {
      const int status = f.submit("asg_" + std::to_string(i)).status;
      (status == 201 ? submitted : status == 409 ? refused : other)++;
    }
    worker_done = true;
  });
  std::thread job([&] {
    // One assignment per run (batch 1): many small transactions interleave with the submissions.
    while (!worker_done) expired += expire_due(*f.db, f.settings, later);
  });
  worker.join();
  job.join();
  expired += expire_due(*f.db, f.settings, later);  // whatever the submissions left
  CHECK(other == 0);
  CHECK(submitted + expired == kAssignments);
  CHECK(refused == expired);
  CHECK(static_cast<int>(f.events("submission.created").size()) == submitted.load());
  CHECK(static_cast<int>(f.events("assignment.expired").size()) == expired.load());
  // No assignment has both a submission and an expiry.
  std::set<std::string> submitted_ids, expired_ids;
  for (const auto& e : f.events("submission.created"))
    submitted_ids.insert(e["data"]["assignment_id"].get<std::string>());
  for (const auto& e : f.events("assignment.expired")) expired_ids.insert(e["key"].get<std::string>());
  for (const auto& id : submitted_ids) CHECK(expired_ids.count(id) == 0);
  CHECK(submitted_ids.size() + expired_ids.size() == kAssignments);
}

TEST_CASE("evidence verification detects tampering") {
  Fixture f;
  f.assignment("asg_1");
  f.assignment("asg_2");
  const std::string s1 = body_of(f.submit("asg_1"))["id"];
  const std::string s2 = body_of(f.submit("asg_2"))["id"];
  CHECK(body_of(f.evidence(s2))["verified"] == true);
  f.db->with([&](soci::session& s) {
    s << "UPDATE evidence_log SET payload = REPLACE(payload, '2048', '4096') WHERE submission_id = :id", soci::use(s1);
  });
  auto e = body_of(f.evidence(s2));
  CHECK(e["verified"] == false);
  CHECK(e["verification"]["failure"].get<std::string>().rfind("seq 1:", 0) == 0);

  // Editing the submission row instead of the log is caught by the comparison with its entry.
  Fixture g;
  g.assignment("asg_1");
  const std::string t1 = body_of(g.submit("asg_1"))["id"];
  const std::string other_sha(64, 'f');
  g.db->with([&](soci::session& s) {
    s << "UPDATE submissions SET content_sha256 = :sha WHERE submission_id = :id", soci::use(other_sha), soci::use(t1);
  });
  CHECK(body_of(g.evidence(t1))["verified"] == false);
}

TEST_CASE("listing: enterprises see their own, operators all, pages by cursor") {
  Fixture f;
  for (int i = 1; i <= 3; ++i) f.assignment("asg_" + std::to_string(i));
  for (int i = 1; i <= 3; ++i) REQUIRE(f.submit("asg_" + std::to_string(i)).status == 201);
  auto list = [&](const Principal& who, std::map<std::string, std::string> q) {
    return f.call(&Api::list_submissions, who, "GET", {}, nullptr, {}, std::move(q));
  };
  auto page1 = body_of(list(kEnterprise, {{"limit", "2"}}));
  REQUIRE(page1["items"].size() == 2);
  REQUIRE(page1["next_cursor"].is_string());
  auto page2 = body_of(list(kEnterprise, {{"limit", "2"}, {"cursor", page1["next_cursor"]}}));
  CHECK(page2["items"].size() == 1);
  CHECK(page2["next_cursor"].is_null());
  CHECK(page1["items"][0]["id"] > page1["items"][1]["id"]);  // newest first

  CHECK(body_of(list(kOtherEnterprise, {}))["items"].empty());
  CHECK(body_of(list(kOperator, {{"status", "pending_review"}, {"task_id", "tsk_1"}}))["items"].size() == 3);
  CHECK(body_of(list(kOperator, {{"status", "accepted"}}))["items"].empty());
  CHECK(list(kOperator, {{"status", "done"}}).status == 422);
  CHECK(list(kWorker, {}).status == 403);
}
