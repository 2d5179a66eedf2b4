// kill -9 of settlement while accepted deliveries wait in the stream: every delivery is settled exactly once.
#include <doctest/doctest.h>

#include <thread>

#include "flows.hpp"

using namespace crowd::test;

namespace {
std::int64_t fen(const json& j) {
  return j.is_object() ? j.at("amount_fen").get<std::int64_t>() : j.get<std::int64_t>();
}

// Drives `count` single tasks of 10,000.00 yuan up to an accepted delivery while settlement is down.
void accept_deliveries_while_settlement_down(Platform& p, const Party& ent, const Party& w, int count) {
  std::vector<std::string> tasks;
  for (int i = 0; i < count; ++i)
    tasks.push_back(post_open_task(p, ent, task_body("标注任务 " + std::to_string(i), "single", 1, 1'000'000)));
  p.kill9("settlement");
  for (const auto& t : tasks) {
    std::string asg = accept_offer(p, w, t);
    std::string sub = submit(p, w, asg, "labels-" + t);
    auto r = p.call("delivery", "POST", "/v1/submissions/" + sub + "/review", {{"decision", "accept"}}, ent.token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
}

void check_settled_once(Platform& p, const Party& ent, const Party& w, int count) {
  // Each 10,000.00: fee 500.00, gross 9,500.00. IIT by the cumulative method within one month, whatever the
  // order: (9,500 × count × 80% − 5,000) × 3%; for 5 payments (47,500): 990.00. A payment applied twice
  // or lost changes both figures.
  REQUIRE(count == 5);
  const std::int64_t payable = 950'000 * count - 99'000;
  bool settled = eventually([&] { return fen(balances(p, w)["payable"]) == payable; }, std::chrono::seconds(40));
  CHECK_MESSAGE(settled, balances(p, w).dump());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // room for a wrong second payment to show
  CHECK(fen(balances(p, w)["payable"]) == payable);
  CHECK(fen(balances(p, w)["iit_withheld_ytd"]) == 99'000);
  auto eb = balances(p, ent);
  CHECK(fen(eb["available"]) == 10'000'000 - 1'000'000 * count);
  CHECK(fen(eb["escrow"]) == 0);
  auto check = ledger_check(p);
  CHECK_MESSAGE(check["ok"] == true, check.dump());
  // settlement.completed re-sent after a crash must not make a second invoice.
  CHECK(eventually([&] { return invoice_count(p, ent) == count; }));
  CHECK(invoice_count(p, ent) == count);
}
}  // namespace

TEST_CASE("crash: settlement killed with -9 mid-stream settles every delivery exactly once") {
  const int count = 5;
  // (crash point, passes survived before dying). The kit's points: before_commit fires per event inside
  // the batch's transaction (dies on the 3rd: the whole batch rolls back); after_commit once per committed
  // batch (dies after the first commit, before XACK); the relay on its first send of settlement.completed.
  // Settlement's points follow every write of the settlement path (each ledger leg, the tax state, the
  // settlement record, before the event), dying on the 3rd delivery.
  const std::vector<std::pair<std::string, std::string>> points = {{"consume.before_commit", "2"},
                                                                   {"consume.after_commit", "0"},
                                                                   {"relay.after_xadd", "0"},
                                                                   {"settlement.settle.after_settlement_fee", "2"},
                                                                   {"settlement.settle.after_settlement_iit", "2"},
                                                                   {"settlement.settle.after_settlement_net", "2"},
                                                                   {"settlement.settle.after_tax_state", "2"},
                                                                   {"settlement.settle.after_record", "2"},
                                                                   {"settlement.settle.before_publish", "2"}};
  for (const auto& [point, after] : points) {
    CAPTURE(point);
    Platform p("crash");
    p.start_all();
    Party ent = register_enterprise(p, "广州示例制造有限公司", "91350100M000100Y43");
    Party w = register_worker(p, "王五", "44030619880315201X", "13700137000", {"cad"});
    deposit(p, ent, 10'000'000, "crash-topup");
    go_online(p, w);
    accept_deliveries_while_settlement_down(p, ent, w, count);
    // Restart settlement so that it dies with SIGKILL at the crash point on its 3rd pass, then again normally.
    try {
      p.start("settlement", {{"CROWD_CRASH_AT", point}, {"CROWD_CRASH_AFTER", after}});
    } catch (const std::exception&) {
      // it may die before it reports ready
    }
    REQUIRE_MESSAGE(p.wait_exit("settlement", std::chrono::seconds(30)), p.log_tail("settlement"));
    CHECK(p.log_tail("settlement").find("crash point") != std::string::npos);
    p.start("settlement");
    check_settled_once(p, ent, w, count);
  }
}
