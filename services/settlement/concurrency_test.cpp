// Money under concurrency: the same Idempotency-Key from several threads at once credits once; settlements
// of one task racing each other (retried as the kit retries a failed event) pay each unit once and keep
// every invariant. Runs on SQLite by default and on PostgreSQL with CROWD_TEST_PG_URL.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <atomic>
#include <set>
#include <thread>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd;
using namespace crowd::settlement;
using nlohmann::json;

namespace {

constexpr int kThreads = 6;
constexpr int kAttemptsMax = 50;  // like CROWD_MAX_DELIVERIES, but generous: contention is the point here

http::Response deposit(SettlementDb& t, std::int64_t fen, const std::string& key) {
  http::Request r;
  r.principal = auth::Principal{"ent_1", auth::Role::enterprise, 0, 0};
  r.headers["idempotency-key"] = key;
  r.body = json{{"amount", {{"amount_fen", fen}, {"currency", "CNY"}}}}.dump();
  return post_deposit(t.db(), r);
}

// Applies an event as the kit does, retrying a failed attempt in a new transaction.
bool apply_with_retries(SettlementDb& t, void (*handler)(soci::session&, const events::Event&), const json& data) {
  events::Event e;
  e.id = ids::make("evt");
  e.data = data;
  for (int attempt = 0; attempt < kAttemptsMax; ++attempt) {
    try {
      t.db().tx([&](soci::session& s) { handler(s, e); });
      return true;
    } catch (const std::exception&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2 + attempt));
    }
  }
  return false;
}

json check(SettlementDb& t) {
  http::Request r;
  r.principal = auth::Principal{"op_1", auth::Role::operator_, 0, 0};
  return json::parse(get_ledger_check(t.db(), r).body);
}

}  // namespace

TEST_CASE("one Idempotency-Key used by many threads at once credits once") {
  SettlementDb t;
  std::vector<std::string> bodies(kThreads);
  std::atomic<int> reuse_refusals{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      try {
        // Threads 0..3 send the same body; 4 and 5 the same key with another amount.
        bodies[i] = deposit(t, i < 4 ? 10'000 : 777, "same-key").body;
      } catch (const http::Problem& p) {
        if (p.type == "idempotency-key-reuse") ++reuse_refusals;
      }
    });
  }
  for (auto& th : threads) th.join();
  const std::int64_t credited = t.db().with([](soci::session& s) { return balance_of(s, "ent:ent_1:available"); });
  CHECK((credited == 10'000 || credited == 777));
  std::set<std::string> distinct;
  for (const auto& b : bodies) {
    if (!b.empty()) distinct.insert(b);
  }
  CHECK(distinct.size() == 1);  // every success is the first response
  CHECK(reuse_refusals +
            static_cast<int>(std::count_if(bodies.begin(), bodies.end(), [](auto& b) { return !b.empty(); })) ==
        kThreads);
  CHECK(check(t)["ok"] == true);
}

TEST_CASE("settlements of one task racing each other pay each unit once") {
  SettlementDb t;
  deposit(t, 10 * 500'000, "k");
  const json task{
      {"task_id", "tsk_1"},  {"enterprise_id", "ent_1"},    {"category", "knowledge"},    {"mode", "piecework"},
      {"units", 10},         {"pay_per_unit_fen", 500'000}, {"budget_fen", 10 * 500'000}, {"currency", "CNY"},
      {"title", "Translate"}};
  REQUIRE(apply_with_retries(t, on_task_created, task));
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      // Thread i settles assignment i (one unit, worker i % 2) and also replays assignment 0.
      for (const int asg : {i, 0}) {
        const json accepted{{"submission_id", "sub_" + std::to_string(asg)},
                            {"assignment_id", "asg_" + std::to_string(asg)},
                            {"task_id", "tsk_1"},
                            {"enterprise_id", "ent_1"},
                            {"worker_id", "wkr_" + std::to_string(asg % 2)},
                            {"units", 1},
                            {"amount_fen", 500'000},
                            {"currency", "CNY"},
                            {"category", "knowledge"},
                            {"title", "Translate"},
                            {"automatic", true},
                            {"accepted_at_ms", clock::now_ms()}};
        if (!apply_with_retries(t, on_delivery_accepted, accepted)) ++failed;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failed == 0);
  t.db().with([](soci::session& s) {
    CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM settlements") == kThreads);
    CHECK(balance_of(s, "task:tsk_1:escrow") == (10 - kThreads) * 500'000);
    // Each worker's cumulation equals the sum of its settlements.
    for (const char* w : {"wkr_0", "wkr_1"}) {
      const std::string worker(w);
      CHECK(crowd::testing::ServiceDb::count(
                s, "SELECT COALESCE(SUM(worker_gross_fen), 0) FROM settlements WHERE worker_id = '" + worker + "'") ==
            crowd::testing::ServiceDb::count(
                s, "SELECT COALESCE(SUM(cum_income_fen), 0) FROM iit_years WHERE worker_id = '" + worker + "'"));
      CHECK(crowd::testing::ServiceDb::count(
                s, "SELECT COALESCE(SUM(iit_fen), 0) FROM settlements WHERE worker_id = '" + worker + "'") ==
            crowd::testing::ServiceDb::count(
                s, "SELECT COALESCE(SUM(cum_withheld_fen), 0) FROM iit_years WHERE worker_id = '" + worker + "'"));
    }
  });
  CHECK(check(t)["ok"] == true);
}
