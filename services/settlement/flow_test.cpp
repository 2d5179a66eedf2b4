// The money flow end to end inside one process: deposits, escrow hold and rejection, settlement with fee
// and IIT, release, balances, statements, settlement reads and the ledger check, against a temporary SQLite
// database with the real migrations. Consumers are called as the kit calls them (inside a transaction).
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <set>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/fees.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd;
using namespace crowd::settlement;
using nlohmann::json;

namespace {

const auth::Principal kOtherEnt = as("ent_2", auth::Role::enterprise);

http::Request request(const auth::Principal& who, const std::string& body = "", const std::string& key = "") {
  http::Request r;
  r.principal = who;
  r.body = body;
  if (!key.empty()) r.headers["idempotency-key"] = key;
  return r;
}

json body_of(const http::Response& r) {
  return json::parse(r.body);
}

// The status and problem type a handler call ends with.
template <class F>
std::pair<int, std::string> outcome(F&& call) {
  try {
    return {call().status, ""};
  } catch (const http::Problem& p) {
    return {p.status, p.type};
  }
}

http::Response deposit(SettlementDb& t, std::int64_t fen, const std::string& key, const auth::Principal& who = kEnt) {
  auto req = request(who, json{{"amount", {{"amount_fen", fen}, {"currency", "CNY"}}}}.dump(), key);
  return post_deposit(t.db(), req);
}

void deliver(SettlementDb& t, const std::string& type, const json& data,
             void (*handler)(soci::session&, const events::Event&)) {
  events::Event e;
  e.id = ids::make("evt");
  e.type = type;
  e.key = data.value("assignment_id", data.value("task_id", ""));
  e.data = data;
  t.db().tx([&](soci::session& s) { handler(s, e); });
}

json task_created(const std::string& task, std::int64_t units, std::int64_t pay) {
  return {{"task_id", task},           {"enterprise_id", "ent_1"}, {"category", "rd_design"},
          {"mode", "piecework"},       {"units", units},           {"pay_per_unit_fen", pay},
          {"budget_fen", units * pay}, {"currency", "CNY"},        {"title", "Label images"}};
}

json accepted(const std::string& asg, const std::string& task, std::int64_t units, std::int64_t amount) {
  return {{"submission_id", "sub_" + asg}, {"assignment_id", asg}, {"task_id", task},
          {"enterprise_id", "ent_1"},      {"worker_id", "wkr_1"}, {"units", units},
          {"amount_fen", amount},          {"currency", "CNY"},    {"category", "rd_design"},
          {"title", "Label images"},       {"automatic", false},   {"accepted_at_ms", clock::now_ms()}};
}

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> k;
  for (const auto& [name, _] : j.items()) k.insert(name);
  return k;
}

std::int64_t fen(const json& money) {
  return money.at("amount_fen").get<std::int64_t>();
}

json check(SettlementDb& t) {
  auto req = request(kOperator);
  return body_of(get_ledger_check(t.db(), req));
}

std::string this_month() {
  const auto ym = clock::cst_year_month(clock::now_ms());
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04d-%02d", ym.year, ym.month);
  return buf;
}

}  // namespace

TEST_CASE("deposits: header required, validated, idempotent per key") {
  SettlementDb t;
  CHECK(outcome([&] { return deposit(t, 100, ""); }) == std::pair<int, std::string>{400, "bad-request"});
  CHECK(outcome([&] { return deposit(t, 100, "k", kWorker); }).first == 403);
  CHECK(outcome([&] { return deposit(t, 0, "k"); }) == std::pair<int, std::string>{422, "validation"});
  CHECK(outcome([&] { return deposit(t, 1'000'000'000'001, "k"); }).first == 422);
  auto bad_currency = request(kEnt, R"({"amount": {"amount_fen": 5, "currency": "USD"}})", "k");
  CHECK(outcome([&] { return post_deposit(t.db(), bad_currency); }).first == 422);

  const auto first = deposit(t, 100'000, "k1");
  CHECK(first.status == 201);
  const json b = body_of(first);
  CHECK(b["provider"] == "instant");
  CHECK(b["transfer_id"] == "dep:ent_1:k1");
  CHECK(fen(b["amount"]) == 100'000);
  CHECK(fen(b["balance"]["available"]) == 100'000);
  CHECK(fen(b["balance"]["escrow"]) == 0);

  // Same key, same body (keys in another order): the first response again, no second credit.
  auto again = request(kEnt, R"({"amount": {"currency": "CNY", "amount_fen": 100000}})", "k1");
  const auto replay = post_deposit(t.db(), again);
  CHECK(replay.status == 201);
  CHECK(replay.body == first.body);
  CHECK(outcome([&] { return deposit(t, 100'001, "k1"); }) ==
        std::pair<int, std::string>{422, "idempotency-key-reuse"});
  // Keys are per enterprise.
  CHECK(deposit(t, 5, "k1", kOtherEnt).status == 201);
  auto me = request(kEnt);
  CHECK(fen(body_of(get_my_balance(t.db(), me))["available"]) == 100'000);
  CHECK(check(t)["ok"] == true);
}

TEST_CASE("escrow: hold, duplicate, rejection for insufficient funds, retry after a top-up") {
  SettlementDb t;
  deposit(t, 50'000, "k1");
  deliver(t, "task.created", task_created("tsk_a", 3, 10'000), on_task_created);
  deliver(t, "task.created", task_created("tsk_a", 3, 10'000), on_task_created);  // replay with a new event id
  const auto held = t.published("escrow.held");
  REQUIRE(held.size() == 1);
  CHECK(held[0] ==
        json{{"task_id", "tsk_a"}, {"enterprise_id", "ent_1"}, {"amount_fen", 30'000}, {"transfer_id", "hold:tsk_a"}});

  deliver(t, "task.created", task_created("tsk_b", 3, 10'000), on_task_created);  // 20,000 left: short
  const auto rejected = t.published("escrow.rejected");
  REQUIRE(rejected.size() == 1);
  CHECK(
      rejected[0] ==
      json{{"task_id", "tsk_b"}, {"enterprise_id", "ent_1"}, {"amount_fen", 30'000}, {"reason", "insufficient_funds"}});
  auto me = request(kEnt);
  json bal = body_of(get_my_balance(t.db(), me));
  CHECK(fen(bal["available"]) == 20'000);
  CHECK(fen(bal["escrow"]) == 30'000);

  deposit(t, 10'000, "k2");
  deliver(t, "task.created", task_created("tsk_b", 3, 10'000), on_task_created);  // funding retried
  CHECK(t.published("escrow.held").size() == 2);
  bal = body_of(get_my_balance(t.db(), me));
  CHECK(fen(bal["available"]) == 0);
  CHECK(fen(bal["escrow"]) == 60'000);

  auto bad = task_created("tsk_c", 3, 10'000);
  bad["budget_fen"] = 29'999;
  CHECK_THROWS(deliver(t, "task.created", bad, on_task_created));
  CHECK(check(t)["ok"] == true);
}

TEST_CASE("settlement: fee, IIT, net in linked transfers, once per assignment, mismatches refused") {
  SettlementDb t;
  deposit(t, 5'000'000, "k1");
  deliver(t, "task.created", task_created("tsk_a", 4, 1'000'000), on_task_created);
  // Nothing held for this price: refused, nothing written.
  CHECK_THROWS(deliver(t, "delivery.accepted", accepted("asg_x", "tsk_a", 1, 999'999), on_delivery_accepted));
  CHECK_THROWS(deliver(t, "delivery.accepted", accepted("asg_x", "tsk_a", 5, 5'000'000), on_delivery_accepted));
  CHECK_THROWS(deliver(t, "delivery.accepted", accepted("asg_x", "tsk_none", 1, 1'000'000), on_delivery_accepted));

  deliver(t, "delivery.accepted", accepted("asg_1", "tsk_a", 1, 1'000'000), on_delivery_accepted);
  deliver(t, "delivery.accepted", accepted("asg_1", "tsk_a", 1, 1'000'000), on_delivery_accepted);  // replay
  const auto done = t.published("settlement.completed");
  REQUIRE(done.size() == 1);
  const json& d = done[0];
  CHECK(d["kind"] == "acceptance");
  CHECK(d["dispute_id"].is_null());
  CHECK(keys_of(d) ==
        std::set<std::string>{"settlement_id", "kind",          "dispute_id", "assignment_id",    "submission_id",
                              "task_id",       "enterprise_id", "worker_id",  "category",         "title",
                              "units",         "amount_fen",    "fee_fen",    "worker_gross_fen", "iit_fen",
                              "net_fen",       "currency",      "tax_year",   "tax_month",        "settled_at_ms"});
  const std::int64_t fee = domain::platform_fee("rd_design", 1'000'000);
  CHECK(d["fee_fen"] == fee);
  CHECK(d["worker_gross_fen"] == 1'000'000 - fee);
  CHECK(d["iit_fen"].get<std::int64_t>() > 0);  // 10,000 yuan in a month is above the 6,250 threshold
  CHECK(d["net_fen"] == d["worker_gross_fen"].get<std::int64_t>() - d["iit_fen"].get<std::int64_t>());
  CHECK(d["assignment_id"] == "asg_1");

  auto me = request(kWorker);
  const json bal = body_of(get_my_balance(t.db(), me));
  CHECK(fen(bal["payable"]) == d["net_fen"]);
  CHECK(fen(bal["earned_gross_ytd"]) == d["worker_gross_fen"]);
  CHECK(fen(bal["iit_withheld_ytd"]) == d["iit_fen"]);
  t.db().with([&](soci::session& s) {
    CHECK(balance_of(s, kFeeRevenue) == fee);
    CHECK(balance_of(s, kIitPayable) == d["iit_fen"]);
    CHECK(balance_of(s, "task:tsk_a:escrow") == 3'000'000);
  });

  // A second payment the same month: the cumulation continues.
  deliver(t, "delivery.accepted", accepted("asg_2", "tsk_a", 1, 1'000'000), on_delivery_accepted);
  const auto second = t.published("settlement.completed").at(1);
  auto ent = request(kEnt);
  CHECK(fen(body_of(get_my_balance(t.db(), ent))["escrow"]) == 2'000'000);
  const json worker = body_of(get_my_balance(t.db(), me));
  CHECK(fen(worker["earned_gross_ytd"]) == 2 * (1'000'000 - fee));
  CHECK(fen(worker["iit_withheld_ytd"]) == d["iit_fen"].get<std::int64_t>() + second["iit_fen"].get<std::int64_t>());
  CHECK(check(t)["ok"] == true);
}

TEST_CASE("release: unassigned units go back once, the escrow closes when every unit is done") {
  SettlementDb t;
  deposit(t, 40'000, "k1");
  deliver(t, "task.created", task_created("tsk_a", 4, 10'000), on_task_created);
  deliver(t, "delivery.accepted", accepted("asg_1", "tsk_a", 1, 10'000), on_delivery_accepted);
  const json released{{"task_id", "tsk_a"},
                      {"enterprise_id", "ent_1"},
                      {"units_released", 2},
                      {"units_assigned", 2},
                      {"units_total", 4}};
  deliver(t, "task.units_released", released, on_units_released);
  deliver(t, "task.units_released", released, on_units_released);  // replay: one release per release id
  const auto ev = t.published("escrow.released");
  REQUIRE(ev.size() == 1);
  // No release_id in the event: the cancel answer ("cancel").
  CHECK(ev[0] == json{{"task_id", "tsk_a"},
                      {"enterprise_id", "ent_1"},
                      {"release_id", "cancel"},
                      {"units", 2},
                      {"amount_fen", 20'000},
                      {"transfer_id", "release:tsk_a:cancel"}});
  auto ent = request(kEnt);
  json bal = body_of(get_my_balance(t.db(), ent));
  CHECK(fen(bal["available"]) == 20'000);
  CHECK(fen(bal["escrow"]) == 10'000);
  // Units beyond what is open are refused.
  CHECK_THROWS(deliver(t, "delivery.accepted", accepted("asg_2", "tsk_a", 2, 20'000), on_delivery_accepted));
  deliver(t, "delivery.accepted", accepted("asg_2", "tsk_a", 1, 10'000), on_delivery_accepted);
  t.db().with([](soci::session& s) {
    CHECK(crowd::testing::ServiceDb::count(
              s, "SELECT COUNT(*) FROM escrows WHERE task_id = 'tsk_a' AND status = 'closed'") == 1);
    CHECK(balance_of(s, "task:tsk_a:escrow") == 0);
  });
  CHECK(check(t)["ok"] == true);
}

namespace {

json release(const std::string& task, const std::string& release_id, std::int64_t units, std::int64_t assigned,
             std::int64_t total) {
  return {{"task_id", task},         {"enterprise_id", "ent_1"},   {"release_id", release_id},
          {"units_released", units}, {"units_assigned", assigned}, {"units_total", total}};
}

}  // namespace

TEST_CASE("release: several releases of one task apply once each, too much is refused") {
  SettlementDb t;
  deposit(t, 30'000, "k1");
  deliver(t, "task.created", task_created("tsk_r", 3, 10'000), on_task_created);
  // Cancel answered with one unit assigned: 2 units back.
  deliver(t, "task.units_released", release("tsk_r", "cancel", 2, 1, 3), on_units_released);
  // The assigned unit's delivery is rejected after the cancel: it comes back under its own id.
  deliver(t, "task.units_released", release("tsk_r", "asg:asg_1", 1, 0, 3), on_units_released);
  auto ev = t.published("escrow.released");
  REQUIRE(ev.size() == 2);
  CHECK(ev[1] == json{{"task_id", "tsk_r"},
                      {"enterprise_id", "ent_1"},
                      {"release_id", "asg:asg_1"},
                      {"units", 1},
                      {"amount_fen", 10'000},
                      {"transfer_id", "release:tsk_r:asg:asg_1"}});
  // Repeats of either id (a repeated cancel answer carries other figures) are no-ops.
  deliver(t, "task.units_released", release("tsk_r", "cancel", 2, 0, 3), on_units_released);
  deliver(t, "task.units_released", release("tsk_r", "asg:asg_1", 1, 0, 3), on_units_released);
  // tasks' task.cancelled of this task (it opened): matching's releases returned the money.
  deliver(t, "task.cancelled",
          {{"task_id", "tsk_r"}, {"enterprise_id", "ent_1"}, {"units_released", 1}, {"released_by_matching", true}},
          on_task_cancelled);
  CHECK(t.published("escrow.released").size() == 2);
  auto ent = request(kEnt);
  json bal = body_of(get_my_balance(t.db(), ent));
  CHECK(fen(bal["available"]) == 30'000);
  CHECK(fen(bal["escrow"]) == 0);
  t.db().with([](soci::session& s) {
    CHECK(crowd::testing::ServiceDb::count(
              s,
              "SELECT COUNT(*) FROM escrows WHERE task_id = 'tsk_r' AND status = 'closed' AND "
              "units_released = 3 AND released_fen = 30000") == 1);
    CHECK(crowd::testing::ServiceDb::count(
              s, "SELECT COUNT(*) FROM transfers WHERE kind = 'escrow_release' AND ref = 'tsk_r'") == 2);
  });
  // A further release finds nothing left: refused, nothing moves.
  CHECK_THROWS(deliver(t, "task.units_released", release("tsk_r", "asg:asg_2", 1, 0, 3), on_units_released));
  CHECK(check(t)["ok"] == true);
}

TEST_CASE("release: larger than what is left unsettled is refused, settled assignments are not released") {
  SettlementDb t;
  deposit(t, 30'000, "k1");
  deliver(t, "task.created", task_created("tsk_s", 3, 10'000), on_task_created);
  deliver(t, "delivery.accepted", accepted("asg_1", "tsk_s", 1, 10'000), on_delivery_accepted);
  deliver(t, "task.units_released", release("tsk_s", "cancel", 1, 2, 3), on_units_released);
  // One unit is left in escrow: two are refused, and so is a release of the settled assignment.
  CHECK_THROWS(deliver(t, "task.units_released", release("tsk_s", "asg:asg_2", 2, 0, 3), on_units_released));
  CHECK_THROWS(deliver(t, "task.units_released", release("tsk_s", "asg:asg_1", 1, 1, 3), on_units_released));
  // Malformed release ids are refused before anything moves.
  CHECK_THROWS(deliver(t, "task.units_released", release("tsk_s", "refund", 1, 1, 3), on_units_released));
  CHECK_THROWS(deliver(t, "task.units_released", release("tsk_s", "asg:", 1, 1, 3), on_units_released));
  t.db().with([](soci::session& s) {
    CHECK(balance_of(s, "task:tsk_s:escrow") == 10'000);
    CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM transfers WHERE kind = 'escrow_release'") == 1);
  });
  deliver(t, "task.units_released", release("tsk_s", "asg:asg_2", 1, 1, 3), on_units_released);
  t.db().with([](soci::session& s) { CHECK(balance_of(s, "task:tsk_s:escrow") == 0); });
  CHECK(check(t)["ok"] == true);
}

TEST_CASE("release: task.cancelled of a task that never opened and matching's answer pay out once") {
  SettlementDb t;
  deposit(t, 20'000, "k1");
  deliver(t, "task.created", task_created("tsk_c", 2, 10'000), on_task_created);
  const json cancelled{{"task_id", "tsk_c"}, {"enterprise_id", "ent_1"}, {"units_released", 2}};
  deliver(t, "task.cancelled", cancelled, on_task_cancelled);
  deliver(t, "task.cancelled", cancelled, on_task_cancelled);  // re-published after the hold
  // Even a stray cancel answer for it finds the release "cancel" done.
  deliver(t, "task.units_released", release("tsk_c", "cancel", 2, 0, 2), on_units_released);
  const auto ev = t.published("escrow.released");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["transfer_id"] == "release:tsk_c:cancel");
  CHECK(ev[0]["release_id"] == "cancel");
  auto ent = request(kEnt);
  CHECK(fen(body_of(get_my_balance(t.db(), ent))["available"]) == 20'000);
  CHECK(check(t)["ok"] == true);
}

TEST_CASE("reads: settlements by id and task, statements, admin check, with access rules") {
  SettlementDb t;
  deposit(t, 3'000'000, "k1");
  deliver(t, "task.created", task_created("tsk_a", 2, 1'000'000), on_task_created);
  deliver(t, "delivery.accepted", accepted("asg_1", "tsk_a", 1, 1'000'000), on_delivery_accepted);
  const std::string id = t.published("settlement.completed").at(0)["settlement_id"];

  auto by_id = [&](const auth::Principal& who) {
    auto r = request(who);
    r.params["id"] = id;
    return get_settlement(t.db(), r);
  };
  const json mine = body_of(by_id(kWorker));
  CHECK(mine.contains("iit"));
  CHECK(mine["tax_computation"].is_object());
  CHECK(mine["transfer_ids"].size() == 3);
  const json theirs = body_of(by_id(kEnt));
  CHECK_FALSE(theirs.contains("iit"));
  CHECK_FALSE(theirs.contains("tax_computation"));
  CHECK(fen(theirs["amount"]) == 1'000'000);
  CHECK(outcome([&] { return by_id(kOtherEnt); }).first == 404);
  CHECK(outcome([&] { return by_id(as("wkr_2", auth::Role::worker)); }).first == 404);
  CHECK(body_of(by_id(kOperator)).contains("iit"));

  auto list = [&](const auth::Principal& who, const std::string& task) {
    auto r = request(who);
    r.query["task_id"] = task;
    return list_settlements(t.db(), r);
  };
  CHECK(body_of(list(kEnt, "tsk_a"))["items"].size() == 1);
  CHECK(body_of(list(as("wkr_2", auth::Role::worker), "tsk_a"))["items"].empty());
  CHECK(outcome([&] { return list(kOtherEnt, "tsk_a"); }).first == 404);
  CHECK(outcome([&] { return list(kEnt, ""); }).first == 422);

  auto statement = [&](const auth::Principal& who, const std::string& period) {
    auto r = request(who);
    r.query["period"] = period;
    return get_my_statement(t.db(), r);
  };
  const json es = body_of(statement(kEnt, this_month()));
  CHECK(fen(es["opening"]["available"]) == 0);
  CHECK(fen(es["closing"]["available"]) == 1'000'000);
  CHECK(fen(es["closing"]["escrow"]) == 1'000'000);
  CHECK(es["transfers"].size() == 4);  // deposit, hold, the assignment's reservation, one merged settlement line
  CHECK(es["transfers"][2]["kind"] == "escrow_reserve");
  CHECK(es["transfers"][3]["kind"] == "settlement");
  CHECK(es["transfers"][3]["credit_account"].is_null());
  const json ws = body_of(statement(kWorker, this_month()));
  CHECK(fen(ws["opening"]["payable"]) == 0);
  CHECK(fen(ws["closing"]["payable"]) == fen(mine["net"]));
  CHECK(ws["settlements"].size() == 1);
  CHECK(ws["settlements"][0]["tax_computation"].is_object());
  const json earlier = body_of(statement(kWorker, "2020-01"));
  CHECK(earlier["transfers"].empty());
  CHECK(outcome([&] { return statement(kWorker, "2026-13"); }).first == 422);
  CHECK(outcome([&] { return statement(kOperator, this_month()); }).first == 403);

  const json c = check(t);
  CHECK(c["ok"] == true);
  CHECK(c["checks"].size() == 8);
  auto not_op = request(kEnt);
  CHECK(outcome([&] { return get_ledger_check(t.db(), not_op); }).first == 403);

  // Tampering with a stored balance is caught by the check.
  t.db().tx([](soci::session& s) {
    s << "UPDATE accounts SET balance_fen = balance_fen + 1 WHERE id = 'platform:fee_revenue'";
  });
  CHECK(check(t)["ok"] == false);
}
