// Two-phase escrow across the six service processes: an enterprise cancels a piecework task while one of its
// deliveries is being accepted (the two HTTP calls in flight at once, several runs, both orders of launch).
// Settlement sees matching's assignment.created and task.units_released and delivery's delivery.accepted and
// delivery.rejected on different streams in whatever order they land; every run must end with the ledger
// check ok (reservations included) and every fen of the budget either settled or back with the enterprise.
#include <doctest/doctest.h>

#include <future>

#include "flows.hpp"

using namespace crowd::test;

namespace {

std::int64_t fen(const json& j) {
  return j.at("amount_fen").get<std::int64_t>();
}

HttpResponse review(Platform& p, const Party& ent, const std::string& submission_id, const std::string& decision) {
  json body{{"decision", decision}};
  if (decision == "reject") body["reason"] = "标注不完整";
  return p.call("delivery", "POST", "/v1/submissions/" + submission_id + "/review", body, ent.token);
}

HttpResponse cancel(Platform& p, const Party& ent, const std::string& task_id) {
  return p.call("tasks", "POST", "/v1/tasks/" + task_id + "/cancel", json::object(), ent.token);
}

// The settled amounts of a task as settlement lists them (the enterprise's view).
std::int64_t settled_fen_of(Platform& p, const Party& ent, const std::string& task_id, std::size_t* count) {
  auto r = p.call("settlement", "GET", "/v1/settlements?task_id=" + task_id, nullptr, ent.token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  std::int64_t sum = 0;
  const json items = r.json_body()["items"];
  for (const auto& s : items) sum += fen(s["amount"]);
  *count = items.size();
  return sum;
}

}  // namespace

TEST_CASE("escrow: a piecework task cancelled while a delivery is accepted ends with every fen accounted for") {
  Platform p("escrow_cancel_race");
  p.start_all();
  Party ent = example_enterprise(p);
  Party w1 = worker_zhang(p, {"cad"});
  Party w2 = worker_li(p, {"cad"});
  constexpr int kRuns = 6;
  constexpr std::int64_t kUnits = 4, kPay = 100'000, kBudget = kUnits * kPay;
  const std::int64_t deposited = kRuns * kBudget;
  deposit(p, ent, deposited, "topup-1");
  go_online(p, w1);
  go_online(p, w2);

  std::int64_t settled_total = 0;
  for (int run = 0; run < kRuns; ++run) {
    CAPTURE(run);
    // 4 units of 1,000.00 yuan: two taken and delivered, two nobody holds.
    const std::string task =
        post_open_task(p, ent, task_body("批量图纸校核 " + std::to_string(run), "piecework", kUnits, kPay));
    const std::string a1 = accept_offer(p, w1, task);
    const std::string a2 = accept_offer(p, w2, task);
    const std::string sub1 = submit(p, w1, a1, "sheet-" + std::to_string(run) + "-1");
    const std::string sub2 = submit(p, w2, a2, "sheet-" + std::to_string(run) + "-2");

    // The enterprise accepts the first delivery and cancels the task at the same moment.
    std::future<HttpResponse> accepted, cancelled;
    if (run % 2 == 0) {
      accepted = std::async(std::launch::async, [&] { return review(p, ent, sub1, "accept"); });
      cancelled = std::async(std::launch::async, [&] { return cancel(p, ent, task); });
    } else {
      cancelled = std::async(std::launch::async, [&] { return cancel(p, ent, task); });
      accepted = std::async(std::launch::async, [&] { return review(p, ent, sub1, "accept"); });
    }
    const HttpResponse acc = accepted.get();
    const HttpResponse can = cancelled.get();
    REQUIRE_MESSAGE(acc.status == 200, acc.body);
    REQUIRE_MESSAGE(can.status == 202, can.body);
    // The second delivery is rejected after the cancel: its unit comes back ("asg:" release, void first).
    const HttpResponse rej = review(p, ent, sub2, "reject");
    REQUIRE_MESSAGE(rej.status == 200, rej.body);

    // One unit settled, three released: the enterprise has all but the settled unit back, nothing in escrow.
    settled_total += kPay;
    const bool settled_money = eventually([&] {
      const json b = balances(p, ent);
      return fen(b["available"]) == deposited - settled_total && fen(b["escrow"]) == 0;
    });
    CHECK_MESSAGE(settled_money, balances(p, ent).dump());
    std::size_t settlements = 0;
    const std::int64_t settled = settled_fen_of(p, ent, task, &settlements);
    CHECK(settlements == 1);
    CHECK(settled == kPay);
    const json check = ledger_check(p);
    REQUIRE_MESSAGE(check["ok"] == true, check.dump());
    // Every assignment so far went through its reservation (settlement's two-phase escrow), whichever of
    // assignment.created, the acceptance, the rejection and the release reached settlement first.
    std::string reservations;
    for (const auto& c : check["checks"]) {
      if (c["name"] == "reservations_hold_their_amount") reservations = c["detail"].get<std::string>();
    }
    CHECK_MESSAGE(reservations.find("(" + std::to_string(2 * (run + 1)) + " reservations)") != std::string::npos,
                  reservations);
  }
  // Over all runs: every fen deposited is either settled (the worker's net, the fee and the IIT) or available.
  const json b = balances(p, ent);
  CHECK(fen(b["available"]) + settled_total == deposited);
  CHECK(fen(b["escrow"]) == 0);
  CHECK(fen(balances(p, w2)["payable"]) == 0);
  CHECK(fen(balances(p, w1)["payable"]) > 0);
  CHECK(p.log_tail("settlement", 50'000'000).find("settlement refuses event") == std::string::npos);
}
