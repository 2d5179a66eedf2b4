// Escrow that comes back after a cancel, across the six service processes: a delivery rejected after the
// cancel, a repeated cancel, and assignments whose workers never submit (expired past deadline + grace).
// Every scenario ends with the enterprise's money back to the fen and the ledger check ok.
#include <doctest/doctest.h>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "flows.hpp"

using namespace crowd::test;

namespace {

std::int64_t fen(const json& j) {
  return j.at("amount_fen").get<std::int64_t>();
}

bool money_is(Platform& p, const Party& ent, std::int64_t available_fen, std::int64_t escrow_fen) {
  return eventually([&] {
    const json b = balances(p, ent);
    return fen(b["available"]) == available_fen && fen(b["escrow"]) == escrow_fen;
  });
}

bool task_is(Platform& p, const Party& ent, const std::string& task_id, const std::string& status,
             std::int64_t units_total) {
  return eventually([&] {
    const json t = get_task(p, ent, task_id);
    return t["status"] == status && t["units_total"] == units_total;
  });
}

HttpResponse cancel(Platform& p, const Party& ent, const std::string& task_id) {
  return p.call("tasks", "POST", "/v1/tasks/" + task_id + "/cancel", json::object(), ent.token);
}

json assignment_view(Platform& p, const Party& who, const std::string& assignment_id) {
  auto r = p.call("delivery", "GET", "/v1/assignments/" + assignment_id + "/submissions", nullptr, who.token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json_body()["assignment"];
}

}  // namespace

TEST_CASE("release: cancel with a unit assigned, a repeated cancel, then the delivery rejected") {
  Platform p("release_reject");
  p.start_all();
  Party ent = example_enterprise(p);
  Party w1 = worker_zhang(p, {"cad"});
  deposit(p, ent, 1'000'000, "topup-1");
  go_online(p, w1);

  // Piecework: 3 units of 1,000.00 yuan; one taken and delivered.
  const std::string task = post_open_task(p, ent, task_body("零件图纸标注", "piecework", 3, 100'000));
  REQUIRE(money_is(p, ent, 700'000, 300'000));
  const std::string asg = accept_offer(p, w1, task);
  const std::string sub = submit(p, w1, asg, "drawing-1");
  CHECK(task_status_is(p, ent, task, "in_progress"));

  // The enterprise cancels: the 2 units nobody holds come back; the task goes on with the assigned one.
  auto c = cancel(p, ent, task);
  REQUIRE_MESSAGE(c.status == 202, c.body);
  CHECK(c.json_body()["status"] == "cancelling");
  REQUIRE_MESSAGE(task_is(p, ent, task, "in_progress", 1), get_task(p, ent, task).dump());
  CHECK(money_is(p, ent, 900'000, 100'000));

  // Cancelling again after the answer: answered again (same release, nothing paid twice), not stuck.
  c = cancel(p, ent, task);
  REQUIRE_MESSAGE(c.status == 202, c.body);
  REQUIRE_MESSAGE(task_is(p, ent, task, "in_progress", 1), get_task(p, ent, task).dump());
  CHECK(money_is(p, ent, 900'000, 100'000));

  // The delivery is rejected: the third unit comes back and the task ends cancelled.
  auto review = p.call("delivery", "POST", "/v1/submissions/" + sub + "/review",
                       {{"decision", "reject"}, {"reason", "尺寸标注不完整"}}, ent.token);
  REQUIRE_MESSAGE(review.status == 200, review.body);
  REQUIRE_MESSAGE(task_is(p, ent, task, "cancelled", 0), get_task(p, ent, task).dump());
  CHECK(money_is(p, ent, 1'000'000, 0));
  CHECK(fen(balances(p, w1)["payable"]) == 0);
  // A cancelled task takes no further cancel.
  CHECK(cancel(p, ent, task).status == 409);

  const json check = ledger_check(p);
  CHECK_MESSAGE(check["ok"] == true, check.dump());
  // The repeated cancel answer was a no-op for settlement, not a refused (dead-lettered) event.
  CHECK(p.log_tail("settlement", 50'000'000).find("settlement refuses event") == std::string::npos);
}

TEST_CASE("release: assignments left without a submission past deadline + grace") {
  Platform p("release_expiry", {{"CROWD_ASSIGNMENT_GRACE_S", "60"}});
  p.start_all();
  Party ent = example_enterprise(p);
  Party w1 = worker_zhang(p, {"cad"});
  Party w2 = worker_li(p, {"cad"});
  deposit(p, ent, 1'000'000, "topup-1");
  go_online(p, w1);
  go_online(p, w2);

  // Two single tasks due in two days, each taken by a worker who never delivers.
  const std::int64_t deadline_ms = crowd::clock::now_ms() + 2LL * 86'400'000;
  json body = task_body("现场设备巡检", "single", 1, 200'000);
  body["deadline"] = crowd::clock::rfc3339(deadline_ms);
  const std::string cancelled_first = post_open_task(p, ent, body);
  body["title"] = "设备故障复核";
  const std::string left_open = post_open_task(p, ent, body);
  REQUIRE(money_is(p, ent, 600'000, 400'000));
  const std::string asg1 = accept_offer(p, w1, cancelled_first);
  const std::string asg2 = accept_offer(p, w2, left_open);

  // The first task is cancelled while its unit is held: nothing comes back yet.
  auto c = cancel(p, ent, cancelled_first);
  REQUIRE_MESSAGE(c.status == 202, c.body);
  REQUIRE_MESSAGE(task_is(p, ent, cancelled_first, "in_progress", 1), get_task(p, ent, cancelled_first).dump());
  CHECK(money_is(p, ent, 600'000, 400'000));

  // Past the deadline plus the 60 s grace: delivery expires both assignments.
  p.advance_clock(std::chrono::hours(48) + std::chrono::minutes(5));
  REQUIRE(eventually([&] { return assignment_view(p, w1, asg1)["status"] == "expired"; }));
  REQUIRE(eventually([&] { return assignment_view(p, w2, asg2)["status"] == "expired"; }));
  // A submission now is refused.
  auto late = p.call("delivery", "POST", "/v1/assignments/" + asg1 + "/submissions",
                     {{"content_sha256", crowd::crypto::sha256_hex("late")},
                      {"size_bytes", 4},
                      {"media_type", "application/pdf"},
                      {"storage_ref", "s3://deliveries/late.pdf"}},
                     w1.token);
  CHECK_MESSAGE(late.status == 409, late.body);

  // The cancelled task's unit is released on its expiry: cancelled, its escrow back.
  REQUIRE_MESSAGE(task_is(p, ent, cancelled_first, "cancelled", 0), get_task(p, ent, cancelled_first).dump());
  CHECK(money_is(p, ent, 800'000, 200'000));

  // The open task's unit went back to its pool (past the deadline nobody is offered it); the
  // enterprise's cancel releases it with the units never assigned.
  CHECK(get_task(p, ent, left_open)["status"] == "in_progress");
  c = cancel(p, ent, left_open);
  REQUIRE_MESSAGE(c.status == 202, c.body);
  REQUIRE_MESSAGE(task_is(p, ent, left_open, "cancelled", 0), get_task(p, ent, left_open).dump());
  CHECK(money_is(p, ent, 1'000'000, 0));
  CHECK(fen(balances(p, w1)["payable"]) == 0);
  CHECK(fen(balances(p, w2)["payable"]) == 0);

  const json check = ledger_check(p);
  CHECK_MESSAGE(check["ok"] == true, check.dump());
  CHECK(p.log_tail("settlement", 50'000'000).find("settlement refuses event") == std::string::npos);
}
