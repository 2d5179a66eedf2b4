// One task of each mode through its whole life across the six service processes, with the end state of
// tasks, ledger and invoices checked to the fen.
#include <doctest/doctest.h>

#include <regex>
#include <set>

#include "common/clock.hpp"
#include "flows.hpp"

using namespace crowd::test;

namespace {
std::int64_t fen(const json& j) {
  return j.is_object() ? j.at("amount_fen").get<std::int64_t>() : j.get<std::int64_t>();
}

json invoices_of(Platform& p, const Party& ent) {
  auto r = p.call("invoicing", "GET", "/v1/invoices", nullptr, ent.token);
  REQUIRE_MESSAGE(r.status == 200, r.body);
  return r.json_body()["items"];
}
}  // namespace

TEST_CASE("lifecycle: single and piecework tasks from posting to invoice") {
  Platform p("lifecycle");
  p.start_all();

  Party ent = example_enterprise(p);
  Party w1 = worker_zhang(p, {"cad", "design"});
  Party w2 = worker_li(p, {"cad"});
  deposit(p, ent, 10'000'000, "topup-1");
  deposit(p, ent, 10'000'000, "topup-1");  // a retry with the same key is not a second deposit
  CHECK(fen(balances(p, ent)["available"]) == 10'000'000);
  go_online(p, w1);

  // Single task: 10,000.00 yuan, accepted by the enterprise.
  std::string single = post_open_task(p, ent, task_body("工业零件三维建模", "single", 1, 1'000'000));
  CHECK(fen(balances(p, ent)["escrow"]) == 1'000'000);
  std::string asg1 = accept_offer(p, w1, single);
  CHECK(task_status_is(p, ent, single, "in_progress"));
  std::string sub1 = submit(p, w1, asg1, "model-v1");
  auto review = p.call("delivery", "POST", "/v1/submissions/" + sub1 + "/review", {{"decision", "accept"}}, ent.token);
  REQUIRE_MESSAGE(review.status == 200, review.body);
  CHECK(task_status_is(p, ent, single, "completed"));

  // Piecework: 2 units of 5,000.00 yuan; one accepted by the enterprise, one by the review window.
  go_online(p, w2);
  std::string piece = post_open_task(p, ent, task_body("技术文档翻译", "piecework", 2, 500'000, "knowledge"));
  std::string asg_a = accept_offer(p, w1, piece);
  std::string asg_b = accept_offer(p, w2, piece);
  std::string sub_a = submit(p, w1, asg_a, "translation-part-1");
  std::string sub_b = submit(p, w2, asg_b, "translation-part-2");
  review = p.call("delivery", "POST", "/v1/submissions/" + sub_a + "/review", {{"decision", "accept"}}, ent.token);
  REQUIRE_MESSAGE(review.status == 200, review.body);
  // Nobody reviews sub_b: 72 hours later it is accepted automatically.
  CHECK(get_task(p, ent, piece)["status"] == "in_progress");
  p.advance_clock(std::chrono::hours(73));
  CHECK(task_status_is(p, ent, piece, "completed"));
  auto sub_b_view = p.call("delivery", "GET", "/v1/submissions/" + sub_b, nullptr, ent.token);
  REQUIRE(sub_b_view.status == 200);
  CHECK(sub_b_view.json_body()["status"] == "accepted");

  // The ledger, to the fen. rd_design and knowledge fees are 5%; IIT by the cumulative method:
  // w1 month 1: (9,500 × 80% − 5,000) × 3% = 78.00; then (14,250 × 80% − 5,000) × 3% − 78 = 114.00.
  // w2: 4,750 × 80% < 5,000 → 0.
  REQUIRE(eventually([&] { return fen(balances(p, w2)["payable"]) == 475'000; }));
  auto eb = balances(p, ent);
  CHECK(fen(eb["available"]) == 8'000'000);
  CHECK(fen(eb["escrow"]) == 0);
  CHECK(fen(balances(p, w1)["payable"]) == (950'000 - 7'800) + (475'000 - 11'400));
  auto check = ledger_check(p);
  CHECK_MESSAGE(check["ok"] == true, check.dump());

  // One invoice per settlement, numbered without gaps, with amounts and capitals.
  json invoices;
  REQUIRE(eventually([&] {
    invoices = invoices_of(p, ent);
    return invoices.size() == 3;
  }));
  std::string year2 = std::to_string(crowd::clock::cst_year_month(crowd::clock::now_ms()).year % 100);
  std::set<std::string> numbers;
  bool found_single = false;
  for (const auto& inv : invoices) {
    std::string number = inv["number"].get<std::string>();
    CHECK(std::regex_match(number, std::regex("[0-9]{20}")));
    CHECK(number.substr(0, 5) == year2 + "441");
    numbers.insert(number);
    if (fen(inv["total"]) == 1'000'000) {
      found_single = true;
      CHECK(fen(inv["amount"]) == 943'396);
      CHECK(fen(inv["tax"]) == 56'604);
      CHECK(inv["total_in_capitals"] == "壹万圆整");
      CHECK(inv["buyer"]["tax_id"] == "91350100M000100Y43");
    } else {
      CHECK(fen(inv["total"]) == 500'000);
      CHECK(inv["total_in_capitals"] == "伍仟圆整");
    }
  }
  CHECK(found_single);
  CHECK(numbers.size() == 3);

  // Personal data never reaches a log: neither ID number nor phone, in any service's output.
  for (const auto& svc : Platform::service_names()) {
    std::string log = p.log_tail(svc, 50'000'000);
    CHECK_MESSAGE(log.find("11010519491231002X") == std::string::npos, svc);
    CHECK_MESSAGE(log.find("110105199001011232") == std::string::npos, svc);
    CHECK_MESSAGE(log.find("13800138000") == std::string::npos, svc);
  }
  // Every service stops cleanly on SIGTERM.
  for (const auto& svc : Platform::service_names()) CHECK_MESSAGE(p.stop(svc) == 0, svc);
}
