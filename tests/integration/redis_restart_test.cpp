// Redis restarted mid-stream (append-only file, fsync always): nothing lost, nothing applied twice.
#include <doctest/doctest.h>

#include <thread>

#include "flows.hpp"

using namespace crowd::test;

namespace {
std::int64_t fen(const json& j) {
  return j.is_object() ? j.at("amount_fen").get<std::int64_t>() : j.get<std::int64_t>();
}
}  // namespace

TEST_CASE("redis restart: deliveries accepted before and after it are each settled and invoiced once") {
  const int count = 4;
  Platform p("redisrestart");
  p.start_all();
  Party ent = example_enterprise(p);
  Party w = register_worker(p, "赵六", "11010519491231002X", "13600136000", {"cad"});
  deposit(p, ent, 10'000'000, "restart-topup");
  go_online(p, w);
  std::vector<std::string> subs;
  for (int i = 0; i < count; ++i) {
    std::string task = post_open_task(p, ent, task_body("测绘 " + std::to_string(i), "single", 1, 100'000));
    subs.push_back(submit(p, w, accept_offer(p, w, task), "survey-" + std::to_string(i)));
  }
  auto review = [&](const std::string& sub) {
    auto r = p.call("delivery", "POST", "/v1/submissions/" + sub + "/review", {{"decision", "accept"}}, ent.token);
    REQUIRE_MESSAGE(r.status == 200, r.body);
  };
  review(subs[0]);
  review(subs[1]);
  p.restart_redis();  // events of the first two may be anywhere between outbox, stream and consumer
  review(subs[2]);
  review(subs[3]);

  bool settled = eventually([&] { return fen(balances(p, w)["payable"]) == 95'000 * count; }, std::chrono::seconds(40));
  CHECK_MESSAGE(settled, balances(p, w).dump());
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  CHECK(fen(balances(p, w)["payable"]) == 95'000 * count);
  CHECK(fen(balances(p, ent)["available"]) == 10'000'000 - 100'000 * count);
  auto check = ledger_check(p);
  CHECK_MESSAGE(check["ok"] == true, check.dump());
  CHECK(eventually([&] { return invoice_count(p, ent) == count; }));
  CHECK(invoice_count(p, ent) == count);
}
