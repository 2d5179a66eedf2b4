// The net pay preview of an offer across the six service processes: offer.created reaches settlement, the
// worker sees what accepting will pay, the settlement pays exactly that, and a later offer's preview carries
// the first payment's cumulative tax. Also the fee quote an enterprise sees before posting.
#include <doctest/doctest.h>

#include "flows.hpp"

using namespace crowd::test;

namespace {

std::int64_t fen(const json& j) {
  return j.at("amount_fen").get<std::int64_t>();
}

// Waits for the worker's offer of the task; returns its id.
std::string offer_of(Platform& p, const Party& worker, const std::string& task_id) {
  std::string offer_id;
  HttpResponse r;
  const bool offered = eventually([&] {
    r = p.call("matching", "GET", "/v1/me/offers", nullptr, worker.token);
    if (r.status != 200) return false;
    const json body = r.json_body();
    for (const auto& o : body["items"])
      if (o.value("task_id", "") == task_id) offer_id = o["id"].get<std::string>();
    return !offer_id.empty();
  });
  REQUIRE_MESSAGE(offered, "no offer for " << task_id << ": " << r.body);
  return offer_id;
}

// The preview, once settlement has learnt of the offer (404 offer-not-known until then).
json preview_of(Platform& p, const Party& worker, const std::string& offer_id) {
  HttpResponse r;
  const bool known = eventually([&] {
    r = p.call("settlement", "GET", "/v1/offers/" + offer_id + "/net-pay-preview", nullptr, worker.token);
    if (r.status == 404) CHECK(r.json_body()["type"].get<std::string>().find("offer-not-known") != std::string::npos);
    return r.status == 200;
  });
  REQUIRE_MESSAGE(known, r.status << " " << r.body);
  return r.json_body();
}

// The worker's settlement of the task, once it exists.
json settlement_of(Platform& p, const Party& worker, const std::string& task_id) {
  json item;
  const bool settled = eventually([&] {
    auto r = p.call("settlement", "GET", "/v1/settlements?task_id=" + task_id, nullptr, worker.token);
    if (r.status != 200) return false;
    const json body = r.json_body();
    if (body["items"].empty()) return false;
    item = body["items"][0];
    return true;
  });
  REQUIRE_MESSAGE(settled, "no settlement of " << task_id);
  return item;
}

void deliver_and_accept(Platform& p, const Party& ent, const Party& worker, const std::string& offer_id) {
  auto a = p.call("matching", "POST", "/v1/offers/" + offer_id + "/accept", json::object(), worker.token);
  REQUIRE_MESSAGE(a.status == 201, a.body);
  const std::string asg = a.json_body()["id"].get<std::string>();
  const std::string sub = submit(p, worker, asg, "deliverable-" + asg);
  auto review = p.call("delivery", "POST", "/v1/submissions/" + sub + "/review", {{"decision", "accept"}}, ent.token);
  REQUIRE_MESSAGE(review.status == 200, review.body);
}

void check_same_figures(const json& preview, const json& settlement) {
  for (const char* part : {"amount", "fee", "worker_gross", "iit", "net"}) {
    CHECK_MESSAGE(fen(settlement[part]) == fen(preview[part]), part);
  }
  CHECK(settlement["tax_year"] == preview["tax_year"]);
  CHECK(settlement["tax_month"] == preview["tax_month"]);
  CHECK(settlement["tax_computation"] == preview["tax_computation"]);
}

}  // namespace

TEST_CASE("net pay preview: what the worker is shown is what settles, to the fen") {
  Platform p("preview");
  p.start_all();
  Party ent = example_enterprise(p);
  Party w1 = worker_zhang(p, {"cad", "design"});
  Party w2 = worker_li(p, {"welding"});
  deposit(p, ent, 10'000'000, "topup-1");
  go_online(p, w1);

  // Before posting: the fee the price will carry, and who bears it.
  auto q = p.call("settlement", "GET", "/v1/fees/quote?category=rd_design&amount_fen=1000000", nullptr, ent.token);
  REQUIRE_MESSAGE(q.status == 200, q.body);
  CHECK(fen(q.json_body()["fee"]) == 50'000);
  CHECK(q.json_body()["fee_borne_by"] == "worker");
  auto bad = p.call("settlement", "GET", "/v1/fees/quote?category=nope&amount_fen=0", nullptr, ent.token);
  CHECK(bad.status == 422);
  CHECK(p.call("settlement", "GET", "/v1/fees/rules", nullptr, w1.token).status == 200);

  // First offer: 10,000.00 yuan rd_design. fee 500.00, gross 9,500.00, IIT (9,500 × 80% − 5,000) × 3% = 78.00.
  const std::string task1 = post_open_task(p, ent, task_body("工业零件三维建模", "single", 1, 1'000'000));
  const std::string offer1 = offer_of(p, w1, task1);
  const json pre1 = preview_of(p, w1, offer1);
  CHECK(pre1["offer_id"] == offer1);
  CHECK(pre1["task_id"] == task1);
  CHECK(fen(pre1["amount"]) == 1'000'000);
  CHECK(fen(pre1["fee"]) == 50'000);
  CHECK(fen(pre1["worker_gross"]) == 950'000);
  CHECK(fen(pre1["iit"]) == 7'800);
  CHECK(fen(pre1["net"]) == 942'200);
  CHECK(pre1["basis"] == "current tax state; later payments this month change it");
  // Another worker, and an enterprise, learn nothing about the offer.
  auto other = p.call("settlement", "GET", "/v1/offers/" + offer1 + "/net-pay-preview", nullptr, w2.token);
  CHECK(other.status == 404);
  CHECK(p.call("settlement", "GET", "/v1/offers/" + offer1 + "/net-pay-preview", nullptr, ent.token).status == 403);

  deliver_and_accept(p, ent, w1, offer1);
  check_same_figures(pre1, settlement_of(p, w1, task1));

  // Second offer, same month: the preview carries the first payment's cumulative tax,
  // (19,000 × 80% − 5,000) × 3% − 78.00 = 228.00, and the settlement pays exactly it.
  const std::string task2 = post_open_task(p, ent, task_body("外观设计", "single", 1, 1'000'000));
  const std::string offer2 = offer_of(p, w1, task2);
  const json pre2 = preview_of(p, w1, offer2);
  CHECK(fen(pre2["iit"]) == 22'800);
  CHECK(pre2["tax_computation"]["previously_withheld_fen"] == 7'800);
  CHECK(pre2["tax_computation"]["cum_income_fen"] == 1'900'000);
  deliver_and_accept(p, ent, w1, offer2);
  check_same_figures(pre2, settlement_of(p, w1, task2));

  auto check = ledger_check(p);
  CHECK_MESSAGE(check["ok"] == true, check.dump());
}
