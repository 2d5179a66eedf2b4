// Payouts, withdrawals, refunds and deposits through the sandbox payment provider (services/paysandbox):
// signed notifications, failures and retries, ambiguous outcomes parked and resolved, returned funds,
// reconciliation against the provider's statement, races and kill -9 at every step of the payout path.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "common/clock.hpp"
#include "common/signature.hpp"
#include "flows.hpp"

using namespace crowd::test;

namespace {

const std::string kSecret = "integration-provider-secret-0123456789";

std::int64_t fen(const json& j) {
  return j.is_object() ? j.at("amount_fen").get<std::int64_t>() : j.get<std::int64_t>();
}

// A request to the sandbox provider, signed as the platform signs it.
HttpResponse sandbox(Platform& p, const std::string& method, const std::string& target, const json& body = nullptr) {
  const std::string text = body.is_null() ? std::string() : body.dump();
  auto headers =
      crowd::signature::headers(kSecret, crowd::clock::now_ms(), crowd::signature::payload(method, target, text));
  return http_request(p.port("paysandbox"), method, target, text, headers);
}

void queue(Platform& p, const std::string& kind, const std::vector<std::string>& outcomes) {
  auto r = sandbox(p, "POST", "/sandbox/v1/scenarios", {{"kind", kind}, {"outcomes", outcomes}});
  REQUIRE_MESSAGE(r.status == 201, r.body);
}

// A notification to settlement signed with `secret` at `ts`.
HttpResponse notify(Platform& p, const json& body, const std::string& secret = kSecret, std::int64_t ts = 0) {
  const std::string target = "/v1/provider/notifications", text = body.dump();
  if (ts == 0) ts = crowd::clock::now_ms();
  auto headers = crowd::signature::headers(secret, ts, crowd::signature::payload("POST", target, text));
  return http_request(p.port("settlement"), "POST", target, text, headers);
}

struct World {
  Party ent, w;
  std::string ops;
};

// An enterprise with 100,000.00 deposited and a worker paid for one task of 10,000.00 (rd_design: fee
// 500.00, gross 9,500.00, IIT (7,600.00 − 5,000.00) × 3% = 78.00): payable 9,422.00.
World paid_worker(Platform& p) {
  World x;
  x.ent = register_enterprise(p, "深圳示例设计有限公司", "91350100M000100Y43");
  x.w = register_worker(p, "李四", "44030619880315201X", "13700137000", {"cad"});
  x.ops = operator_token(p);
  deposit(p, x.ent, 10'000'000, "dep-1");
  go_online(p, x.w);
  const auto task = post_open_task(p, x.ent, task_body("结构设计", "single", 1, 1'000'000));
  const auto asg = accept_offer(p, x.w, task);
  const auto sub = submit(p, x.w, asg, "drawings");
  auto r = p.call("delivery", "POST", "/v1/submissions/" + sub + "/review", {{"decision", "accept"}}, x.ent.token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  REQUIRE(eventually([&] { return fen(balances(p, x.w)["payable"]) == 942'200; }));
  return x;
}

void set_account(Platform& p, const Party& w, const std::string& mode) {
  auto r =
      p.call("settlement", "PUT", "/v1/payout-account",
             {{"mode", mode}, {"payee", {{"account_no", "6222020200112233445"}, {"holder_name", "李四"}}}}, w.token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  CHECK(r.json_body()["payee"]["account_no"] == "***************3445");
  CHECK(r.body.find("6222020200112233445") == std::string::npos);
}

HttpResponse withdraw(Platform& p, const Party& w, std::int64_t amount, const std::string& key) {
  return p.call("settlement", "POST", "/v1/withdrawals", {{"amount", {{"amount_fen", amount}, {"currency", "CNY"}}}},
                w.token, {{"Idempotency-Key", key}});
}

json payout(Platform& p, const Party& who, const std::string& id) {
  auto r = p.call("settlement", "GET", "/v1/payouts/" + id, nullptr, who.token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json_body();
}

json wait_status(Platform& p, const Party& who, const std::string& id, const std::string& status,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  json last;
  eventually([&] { return (last = payout(p, who, id))["status"] == status; }, timeout);
  CHECK_MESSAGE(last["status"] == status, last.dump());
  return last;
}

int sandbox_orders_of(Platform& p, const std::string& payout_id) {
  int n = 0;
  for (int i = 1; i <= 6; ++i)
    n += sandbox(p, "GET", "/sandbox/v1/orders/" + payout_id + "-" + std::to_string(i)).status == 200;
  return n;
}

std::string today_cst() {
  return crowd::clock::rfc3339(crowd::clock::now_ms() + 8LL * 3600 * 1000).substr(0, 10);
}

void ledger_ok(Platform& p) {
  auto check = ledger_check(p);
  CHECK_MESSAGE(check["ok"] == true, check.dump());
}

}  // namespace

TEST_CASE("payouts: withdrawals through the provider, idempotent, never overdrawn under races") {
  Platform p("payouts-basic");
  p.start_all();
  World x = paid_worker(p);

  auto none = withdraw(p, x.w, 100'000, "w-0");
  CHECK(none.status == 409);  // no payout account yet
  CHECK(none.json_body()["type"].get<std::string>().find("no-payout-account") != std::string::npos);
  set_account(p, x.w, "on_request");

  auto no_key = p.call("settlement", "POST", "/v1/withdrawals",
                       {{"amount", {{"amount_fen", 100'000}, {"currency", "CNY"}}}}, x.w.token);
  CHECK(no_key.status == 400);
  auto small = withdraw(p, x.w, 500, "w-small");
  CHECK(small.status == 422);
  CHECK(small.body.find("amount.amount_fen") != std::string::npos);
  auto too_much = withdraw(p, x.w, 942'201, "w-much");
  CHECK(too_much.status == 409);
  CHECK(fen(too_much.json_body()["available"]) == 942'200);
  auto ent_try = withdraw(p, x.ent, 1000, "w-ent");
  CHECK(ent_try.status == 403);

  auto first = withdraw(p, x.w, 100'000, "w-1");
  REQUIRE_MESSAGE(first.status == 201, first.body);
  const std::string id = first.json_body()["payout_id"];
  auto again = withdraw(p, x.w, 100'000, "w-1");
  CHECK(again.status == 201);
  CHECK(again.json_body()["payout_id"] == id);
  CHECK(again.header("idempotent-replayed") == "true");
  CHECK(withdraw(p, x.w, 100'001, "w-1").status == 422);  // same key, other amount
  wait_status(p, x.w, id, "succeeded");
  CHECK(fen(balances(p, x.w)["payable"]) == 842'200);
  CHECK(sandbox_orders_of(p, id) == 1);

  // Another worker cannot see it.
  Party other = register_worker(p, "赵六", "11010519491231002X", "13800138000", {"cad"});
  CHECK(p.call("settlement", "GET", "/v1/payouts/" + id, nullptr, other.token).status == 404);

  // Two different withdrawals racing for more than the payable: exactly one wins.
  std::atomic<int> created{0}, refused{0};
  std::vector<std::string> ids(2);
  {
    std::vector<std::thread> ts;
    for (int i = 0; i < 2; ++i) {
      ts.emplace_back([&, i] {
        auto r = withdraw(p, x.w, 500'000, "race-" + std::to_string(i));
        if (r.status == 201) {
          ++created;
          ids[i] = r.json_body()["payout_id"];
        } else if (r.status == 409) {
          ++refused;
        }
      });
    }
    for (auto& t : ts) t.join();
  }
  CHECK(created == 1);
  CHECK(refused == 1);
  // The same key sent twice at once: one payout.
  std::vector<std::string> same(4);
  {
    std::vector<std::thread> ts;
    for (int i = 0; i < 4; ++i) {
      ts.emplace_back([&, i] {
        auto r = withdraw(p, x.w, 100'000, "same-key");
        if (r.status == 201) same[i] = r.json_body()["payout_id"];
      });
    }
    for (auto& t : ts) t.join();
  }
  for (const auto& s : same) CHECK(s == same[0]);
  for (const auto& pid : ids) {
    if (!pid.empty()) wait_status(p, x.w, pid, "succeeded");
  }
  wait_status(p, x.w, same[0], "succeeded");
  CHECK(fen(balances(p, x.w)["payable"]) == 942'200 - 100'000 - 500'000 - 100'000);
  auto list = p.call("settlement", "GET", "/v1/payouts", nullptr, x.w.token);
  CHECK(list.json_body()["items"].size() == 3);
  ledger_ok(p);
}

TEST_CASE("payouts: failures retried with backoff, exhausted attempts and returned funds go back to payable") {
  Platform p("payouts-failures");
  p.start_all();
  World x = paid_worker(p);
  set_account(p, x.w, "on_request");

  queue(p, "payout", {"fail", "reject", "succeed"});
  auto a = withdraw(p, x.w, 100'000, "f-1");
  REQUIRE(a.status == 201);
  auto done = wait_status(p, x.w, a.json_body()["payout_id"], "succeeded");
  CHECK(done["attempts"] == 3);

  queue(p, "payout", {"fail", "fail", "fail", "fail"});
  auto b = withdraw(p, x.w, 200'000, "f-2");
  REQUIRE(b.status == 201);
  auto failed = wait_status(p, x.w, b.json_body()["payout_id"], "failed");
  CHECK(failed["attempts"] == 4);
  CHECK(failed["last_error"].get<std::string>().find("account_frozen") != std::string::npos);
  CHECK(fen(balances(p, x.w)["payable"]) == 842'200);  // the 2,000.00 came back

  queue(p, "payout", {"return"});
  auto c = withdraw(p, x.w, 300'000, "f-3");
  REQUIRE(c.status == 201);
  wait_status(p, x.w, c.json_body()["payout_id"], "returned");
  CHECK(fen(balances(p, x.w)["payable"]) == 842'200);
  auto acct = p.call("settlement", "GET", "/v1/payout-account", nullptr, x.w.token);
  CHECK(acct.json_body().contains("blocked_reason"));
  ledger_ok(p);
}

TEST_CASE("payouts: an ambiguous outcome is parked, never retried, and resolved by reconciliation and an operator") {
  Platform p("payouts-parked");
  p.start_all();
  World x = paid_worker(p);
  set_account(p, x.w, "on_request");

  // The provider takes the order, answers after our timeout and never notifies.
  queue(p, "payout", {"stall_silent"});
  auto a = withdraw(p, x.w, 100'000, "a-1");
  REQUIRE(a.status == 201);
  const std::string parked = a.json_body()["payout_id"];
  wait_status(p, x.w, parked, "parked");
  std::this_thread::sleep_for(std::chrono::seconds(3));
  auto still = payout(p, x.w, parked);
  CHECK(still["status"] == "parked");
  CHECK(still["attempts"] == 1);
  CHECK(sandbox_orders_of(p, parked) == 1);  // not placed again

  // A 500 after the order was taken: parked, then the provider's signed notification settles it.
  queue(p, "payout", {"error_after_record"});
  auto b = withdraw(p, x.w, 100'000, "a-2");
  REQUIRE(b.status == 201);
  wait_status(p, x.w, b.json_body()["payout_id"], "succeeded");

  // The day's reconciliation lists the parked payout the provider paid.
  auto rec = p.call("settlement", "POST", "/v1/admin/reconciliations", {{"day", today_cst()}}, x.ops);
  REQUIRE_MESSAGE(rec.status == 200, rec.body);
  CHECK(rec.json_body()["ok"] == false);
  bool listed = false;
  const json mismatches = rec.json_body()["mismatches"];
  for (const auto& m : mismatches) {
    if (m.value("payout_id", "") == parked)
      listed = m["problem"].get<std::string>().find("parked") != std::string::npos;
  }
  CHECK_MESSAGE(listed, rec.body);
  CHECK(p.call("settlement", "GET", "/v1/admin/payouts?status=parked", nullptr, x.ops).json_body()["items"].size() ==
        1);

  // The operator cannot call it failed: the provider paid it.
  auto wrong = p.call("settlement", "POST", "/v1/admin/payouts/" + parked + "/resolve",
                      {{"outcome", "failed"}, {"note", "bank says no"}}, x.ops);
  CHECK(wrong.status == 409);
  CHECK(wrong.json_body()["provider_status"] == "succeeded");
  CHECK(p.call("settlement", "POST", "/v1/admin/payouts/" + parked + "/resolve",
               {{"outcome", "succeeded"}, {"note", "statement line"}}, x.w.token)
            .status == 403);
  auto right = p.call("settlement", "POST", "/v1/admin/payouts/" + parked + "/resolve",
                      {{"outcome", "succeeded"}, {"note", "on the provider's statement"}}, x.ops);
  REQUIRE_MESSAGE(right.status == 200, right.body);
  CHECK(right.json_body()["status"] == "succeeded");
  CHECK(right.json_body()["resolution"]["by"].is_string());
  CHECK(fen(balances(p, x.w)["payable"]) == 942'200 - 200'000);

  auto rec2 = p.call("settlement", "POST", "/v1/admin/reconciliations", {{"day", today_cst()}}, x.ops);
  REQUIRE(rec2.status == 200);
  CHECK_MESSAGE(rec2.json_body()["ok"] == true, rec2.body);
  CHECK(rec2.json_body()["matched"].get<int>() >= 3);  // the deposit and both payouts
  CHECK(p.call("settlement", "GET", "/v1/admin/reconciliations/" + today_cst(), nullptr, x.ops).status == 200);
  ledger_ok(p);
}

TEST_CASE("payouts: notifications are verified, forged, stale and replayed ones change nothing") {
  Platform p("payouts-notify");
  p.start_all();
  World x = paid_worker(p);
  set_account(p, x.w, "on_request");

  queue(p, "payout", {"duplicate"});
  auto a = withdraw(p, x.w, 100'000, "n-1");
  REQUIRE(a.status == 201);
  const std::string id = a.json_body()["payout_id"];
  wait_status(p, x.w, id, "succeeded");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));  // the second copy arrives
  CHECK(fen(balances(p, x.w)["payable"]) == 842'200);

  const json forged{{"event_id", "pev_forged"}, {"type", "payout.failed"}, {"merchant_ref", id + "-1"},
                    {"provider_ref", "x"},      {"amount_fen", 100'000},   {"reason", "forged"}};
  auto unsigned_r = http_request(p.port("settlement"), "POST", "/v1/provider/notifications", forged.dump());
  CHECK(unsigned_r.status == 401);
  CHECK(notify(p, forged, "not-the-provider-secret-000000").status == 401);
  CHECK(notify(p, forged, kSecret, crowd::clock::now_ms() - 10 * 60 * 1000).status == 401);
  CHECK(unsigned_r.header("content-type").find("application/problem+json") != std::string::npos);

  // Signed but contradicting the ledger (the payout succeeded): recorded, nothing moves; a replay of it is a
  // duplicate.
  auto c1 = notify(p, forged);
  CHECK(c1.status == 200);
  CHECK(c1.json_body()["result"] == "conflict");
  auto c2 = notify(p, forged);
  CHECK(c2.json_body()["result"] == "duplicate");
  json unknown = forged;
  unknown["event_id"] = "pev_unknown";
  unknown["merchant_ref"] = "po_nothing-1";
  CHECK(notify(p, unknown).json_body()["result"] == "conflict");
  CHECK(payout(p, x.w, id)["status"] == "succeeded");
  CHECK(fen(balances(p, x.w)["payable"]) == 842'200);
  ledger_ok(p);
}

TEST_CASE("payouts: automatic payout of the payable, and enterprise refunds of unused balance") {
  Platform p("payouts-auto");
  p.start_all();
  World x = paid_worker(p);
  set_account(p, x.w, "auto");
  CHECK(eventually([&] { return fen(balances(p, x.w)["payable"]) == 0; }));
  auto list = p.call("settlement", "GET", "/v1/payouts", nullptr, x.w.token).json_body()["items"];
  REQUIRE(list.size() == 1);
  CHECK(list[0]["origin"] == "auto");
  CHECK(fen(list[0]["amount"]) == 942'200);
  wait_status(p, x.w, list[0]["payout_id"], "succeeded");

  // Enterprise: 100,000.00 deposited, 10,000.00 spent on the task: 90,000.00 available.
  auto refund = [&](std::int64_t amount, const std::string& key) {
    return p.call("settlement", "POST", "/v1/refunds", {{"amount", {{"amount_fen", amount}, {"currency", "CNY"}}}},
                  x.ent.token, {{"Idempotency-Key", key}});
  };
  CHECK(refund(9'000'001, "r-0").status == 409);
  auto r = refund(4'000'000, "r-1");
  REQUIRE_MESSAGE(r.status == 201, r.body);
  CHECK(r.json_body()["kind"] == "refund");
  wait_status(p, x.ent, r.json_body()["payout_id"], "succeeded");
  CHECK(fen(balances(p, x.ent)["available"]) == 5'000'000);
  CHECK(p.call("settlement", "GET", "/v1/payouts/" + r.json_body()["payout_id"].get<std::string>(), nullptr, x.w.token)
            .status == 404);

  // The month's statements add it all up.
  const std::string period = today_cst().substr(0, 7);
  json es;
  CHECK(eventually([&] {
    es = p.call("settlement", "GET", "/v1/statements/me?period=" + period, nullptr, x.ent.token).json_body();
    return es["invoices"].size() == 1;
  }));
  CHECK(fen(es["summary"]["deposits"]) == 10'000'000);
  CHECK(fen(es["summary"]["escrow_held"]) == 1'000'000);
  CHECK(fen(es["summary"]["escrow_released"]) == 0);
  CHECK(fen(es["summary"]["work_paid"]) == 1'000'000);
  CHECK(fen(es["summary"]["platform_fees"]) == 50'000);
  CHECK(fen(es["summary"]["refunded"]) == 4'000'000);
  CHECK(fen(es["summary"]["invoiced"]) == 1'000'000);
  CHECK(es["invoices"][0]["number"].get<std::string>().size() == 20);
  auto ws = p.call("settlement", "GET", "/v1/statements/me?period=" + period, nullptr, x.w.token).json_body();
  CHECK(fen(ws["summary"]["earned_gross"]) == 950'000);
  CHECK(fen(ws["summary"]["iit_withheld"]) == 7'800);
  CHECK(fen(ws["summary"]["earned_net"]) == 942'200);
  CHECK(fen(ws["summary"]["paid_out"]) == 942'200);
  CHECK(ws["payouts"].size() == 1);
  CHECK(ws["settlements"][0]["tax_computation"].is_object());
  CHECK(fen(ws["closing"]["payable"]) == 0);
  ledger_ok(p);
}

TEST_CASE("payouts: kill -9 at every step of the payout path pays exactly once") {
  // (crash point, what brings the payout to its end after the restart)
  const std::vector<std::string> points = {"settlement.payout.before_place", "settlement.payout.after_place",
                                           "settlement.notification.before_commit",
                                           "settlement.notification.after_commit"};
  for (const auto& point : points) {
    CAPTURE(point);
    Platform p("payouts-crash");
    p.start_all();
    World x = paid_worker(p);
    set_account(p, x.w, "on_request");
    p.start("settlement", {{"CROWD_CRASH_AT", point}});
    auto a = withdraw(p, x.w, 100'000, "c-1");
    REQUIRE_MESSAGE(a.status == 201, a.body);
    const std::string id = a.json_body()["payout_id"];
    const bool died = p.wait_exit("settlement", std::chrono::seconds(15));
    CHECK_MESSAGE(died, point);
    p.start("settlement");
    wait_status(p, x.w, id, "succeeded", std::chrono::seconds(30));
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    CHECK(payout(p, x.w, id)["attempts"] == 1);
    CHECK(sandbox_orders_of(p, id) == 1);
    CHECK(fen(balances(p, x.w)["payable"]) == 842'200);
    ledger_ok(p);
  }
}
