// The net pay preview of an offer and the fee quote, against a temporary database with the real migrations
// (PostgreSQL when CROWD_TEST_PG_URL is set, see test_support.hpp). Events are applied as the kit applies
// them (inside a transaction); handlers are called directly.
#include <doctest/doctest.h>
#include <soci/soci.h>

#include <map>
#include <set>

#include "common/clock.hpp"
#include "common/ids.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/consumers.hpp"
#include "services/settlement/fees.hpp"
#include "services/settlement/test_support.hpp"

using namespace crowd;
using namespace crowd::settlement;
using nlohmann::json;

namespace {

const auth::Principal kOtherWorker = as("wkr_2", auth::Role::worker);

void deliver(SettlementDb& t, const std::string& type, const json& data,
             void (*handler)(soci::session&, const events::Event&)) {
  events::Event e;
  e.id = ids::make("evt");
  e.type = type;
  e.key = "k";
  e.data = data;
  t.db().tx([&](soci::session& s) { handler(s, e); });
}

void fund_task(SettlementDb& t, const std::string& task, std::int64_t units, std::int64_t pay,
               const std::string& category = "rd_design") {
  auto dep = http::Request();
  dep.principal = kEnt;
  dep.headers["idempotency-key"] = "dep-" + task;
  dep.body = json{{"amount", {{"amount_fen", units * pay}, {"currency", "CNY"}}}}.dump();
  REQUIRE(post_deposit(t.db(), dep).status == 201);
  deliver(t, "task.created",
          {{"task_id", task},
           {"enterprise_id", "ent_1"},
           {"category", category},
           {"mode", "piecework"},
           {"units", units},
           {"pay_per_unit_fen", pay},
           {"budget_fen", units * pay},
           {"currency", "CNY"},
           {"title", "Label images"}},
          on_task_created);
}

json offer_created(const std::string& offer, const std::string& task, std::int64_t pay,
                   const std::string& worker = "wkr_1") {
  return {{"offer_id", offer},
          {"task_id", task},
          {"enterprise_id", "ent_1"},
          {"worker_id", worker},
          {"units", 1},
          {"pay_per_unit_fen", pay},
          {"amount_fen", pay},
          {"currency", "CNY"},
          {"category", "rd_design"},
          {"expires_at_ms", clock::now_ms() + 900'000}};
}

json accepted(const std::string& asg, const std::string& task, std::int64_t amount) {
  return {{"submission_id", "sub_" + asg}, {"assignment_id", asg}, {"task_id", task},
          {"enterprise_id", "ent_1"},      {"worker_id", "wkr_1"}, {"units", 1},
          {"amount_fen", amount},          {"currency", "CNY"},    {"category", "rd_design"},
          {"title", "Label images"},       {"automatic", false},   {"accepted_at_ms", clock::now_ms()}};
}

http::Response preview(SettlementDb& t, const auth::Principal& who, const std::string& offer) {
  http::Request r;
  r.principal = who;
  r.params["id"] = offer;
  return get_net_pay_preview(t.db(), r);
}

http::Response quote(const auth::Principal& who, std::map<std::string, std::string> query) {
  http::Request r;
  r.principal = who;
  r.query = std::move(query);
  return get_fee_quote(r);
}

std::int64_t fen(const json& money) {
  return money.at("amount_fen").get<std::int64_t>();
}

template <class F>
http::Problem problem_of(F&& call) {
  try {
    call();
  } catch (const http::Problem& p) {
    return p;
  }
  return http::Problem(0, "none", "none");
}

// The settlement.completed data of the assignment.
json completed(SettlementDb& t, const std::string& assignment) {
  json out;
  for (json& d : t.published("settlement.completed")) {
    if (d["assignment_id"] == assignment) out = std::move(d);
  }
  return out;
}

}  // namespace

TEST_CASE("offer.created: kept once per offer, malformed terms refused") {
  SettlementDb t;
  deliver(t, "offer.created", offer_created("ofr_1", "tsk_a", 10'000), on_offer_created);
  deliver(t, "offer.created", offer_created("ofr_1", "tsk_a", 10'000), on_offer_created);  // a repeat
  t.db().with([](soci::session& s) { CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM offers") == 1); });
  auto bad = offer_created("ofr_2", "tsk_a", 10'000);
  bad["amount_fen"] = 9'999;
  CHECK_THROWS_AS(deliver(t, "offer.created", bad, on_offer_created), events::Refusal);
  bad = offer_created("ofr_3", "tsk_a", 10'000);
  bad.erase("worker_id");
  CHECK_THROWS(deliver(t, "offer.created", bad, on_offer_created));
  t.db().with([](soci::session& s) { CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM offers") == 1); });
}

TEST_CASE("net pay preview: the owner only, unknown offers say to try again, figures equal the settlement's") {
  SettlementDb t;
  fund_task(t, "tsk_a", 3, 1'000'000);
  deliver(t, "offer.created", offer_created("ofr_1", "tsk_a", 1'000'000), on_offer_created);

  // Not known yet and another worker's offer: the same 404, which says to try again.
  const auto unknown = problem_of([&] { preview(t, kWorker, "ofr_nope"); });
  CHECK(unknown.status == 404);
  CHECK(unknown.type == "offer-not-known");
  CHECK(unknown.detail.find("try again shortly") != std::string::npos);
  const auto other = problem_of([&] { preview(t, kOtherWorker, "ofr_1"); });
  CHECK(other.status == 404);
  CHECK(other.type == unknown.type);
  CHECK(problem_of([&] { preview(t, kEnt, "ofr_1"); }).status == 403);
  CHECK(problem_of([&] { preview(t, kOperator, "ofr_1"); }).status == 403);

  const auto r = preview(t, kWorker, "ofr_1");
  REQUIRE(r.status == 200);
  const json p = json::parse(r.body);
  const auto ym = clock::cst_year_month(clock::now_ms());
  CHECK(p["offer_id"] == "ofr_1");
  CHECK(p["task_id"] == "tsk_a");
  CHECK(fen(p["amount"]) == 1'000'000);
  CHECK(fen(p["fee"]) == domain::platform_fee("rd_design", 1'000'000));
  CHECK(fen(p["worker_gross"]) == 950'000);
  CHECK(fen(p["iit"]) == 7'800);  // (9,500 × 80% − 5,000) × 3%
  CHECK(fen(p["net"]) == 942'200);
  CHECK(p["tax_year"] == ym.year);
  CHECK(p["tax_month"] == ym.month);
  CHECK(p["tax_computation"]["method"] == "cumulative");
  CHECK(p["basis"] == "current tax state; later payments this month change it");
  // The preview writes nothing: the worker's tax state is still empty.
  t.db().with(
      [](soci::session& s) { CHECK(crowd::testing::ServiceDb::count(s, "SELECT COUNT(*) FROM iit_years") == 0); });
  CHECK(preview(t, kWorker, "ofr_1").body == r.body);

  // Settled: the same figures to the fen, and the same IIT computation.
  deliver(t, "delivery.accepted", accepted("asg_1", "tsk_a", 1'000'000), on_delivery_accepted);
  const json d = completed(t, "asg_1");
  CHECK(d["fee_fen"] == fen(p["fee"]));
  CHECK(d["worker_gross_fen"] == fen(p["worker_gross"]));
  CHECK(d["iit_fen"] == fen(p["iit"]));
  CHECK(d["net_fen"] == fen(p["net"]));
  CHECK(d["tax_month"] == p["tax_month"]);
  http::Request sr;
  sr.principal = kWorker;
  sr.params["id"] = d["settlement_id"].get<std::string>();
  CHECK(json::parse(get_settlement(t.db(), sr).body)["tax_computation"] == p["tax_computation"]);

  // The tax state moved: a second offer's preview continues the cumulation (114.00 on the next 9,500.00).
  deliver(t, "offer.created", offer_created("ofr_2", "tsk_a", 1'000'000), on_offer_created);
  const json p2 = json::parse(preview(t, kWorker, "ofr_2").body);
  CHECK(fen(p2["iit"]) == 22'800);  // (19,000 × 80% − 5,000) × 3% − 78.00 = 228.00
  CHECK(p2["tax_computation"]["previously_withheld_fen"] == 7'800);
  // And the first offer's preview now reads the new state too (its basis says so).
  CHECK(fen(json::parse(preview(t, kWorker, "ofr_1").body)["iit"]) == fen(p2["iit"]));
  deliver(t, "delivery.accepted", accepted("asg_2", "tsk_a", 1'000'000), on_delivery_accepted);
  CHECK(completed(t, "asg_2")["iit_fen"] == fen(p2["iit"]));
}

TEST_CASE("net pay preview: the escrow's category decides the fee") {
  SettlementDb t;
  fund_task(t, "tsk_l", 1, 10'000, "life_service");
  deliver(t, "offer.created", offer_created("ofr_l", "tsk_l", 10'000), on_offer_created);  // says rd_design
  const json p = json::parse(preview(t, kWorker, "ofr_l").body);
  CHECK(p["category"] == "life_service");
  CHECK(fen(p["fee"]) == domain::platform_fee("life_service", 10'000));
  CHECK(fen(p["iit"]) == 0);
}

TEST_CASE("fee quote: validated, per settled amount and per task, fee rules listed") {
  const auto ok = quote(kEnt, {{"category", "rd_design"}, {"amount_fen", "1000000"}});
  REQUIRE(ok.status == 200);
  const json q = json::parse(ok.body);
  CHECK(q["category"] == "rd_design");
  CHECK(fen(q["amount"]) == 1'000'000);
  CHECK(fen(q["fee"]) == 50'000);
  CHECK(fen(q["worker_gross"]) == 950'000);
  CHECK(q["rule"] == json{{"rate_bp", 500}, {"min_fen", 100}});
  CHECK(q["units"] == 1);
  CHECK(q["fee_borne_by"] == "worker");
  CHECK(q["explanation"].get<std::string>().find("price - fee") != std::string::npos);

  // Per unit: the 1.00 yuan floor applies to each unit's settlement.
  const json many =
      json::parse(quote(kOperator, {{"category", "life_service"}, {"amount_fen", "1000"}, {"units", "10"}}).body);
  CHECK(fen(many["fee"]) == 100);
  CHECK(fen(many["total"]["fee"]) == 1'000);
  CHECK(fen(many["total"]["amount"]) == 10'000);
  CHECK(fen(many["total"]["worker_gross"]) == 9'000);

  CHECK(problem_of([&] { quote(kWorker, {{"category", "rd_design"}, {"amount_fen", "1"}}); }).status == 403);
  const auto fields = [](const http::Problem& p) {
    std::set<std::string> out;
    for (const auto& e : p.errors) out.insert(e.field);
    return out;
  };
  auto bad = problem_of([&] { quote(kEnt, {{"category", "design"}, {"amount_fen", "0"}}); });
  CHECK(bad.status == 422);
  CHECK(fields(bad) == std::set<std::string>{"category", "amount_fen"});
  CHECK(fields(problem_of([&] { quote(kEnt, {}); })) == std::set<std::string>{"category", "amount_fen"});
  for (const char* amount : {"-5", "12.5", "1e3", "abc", "", "100000000001", "99999999999999999999"}) {
    const auto p = problem_of([&] { quote(kEnt, {{"category", "knowledge"}, {"amount_fen", amount}}); });
    CHECK_MESSAGE(fields(p) == std::set<std::string>{"amount_fen"}, amount);
  }
  CHECK(fields(problem_of([&] {
          quote(kEnt, {{"category", "knowledge"}, {"amount_fen", "100"}, {"units", "0"}});
        })) == std::set<std::string>{"units"});

  for (const auto& who : {kEnt, kWorker, kOperator}) {
    http::Request r;
    r.principal = who;
    const json rules = json::parse(get_fee_rules(r).body);
    CHECK(rules["items"].size() == domain::fee_rules().size());
    CHECK(rules["items"][0] == json{{"category", "rd_design"}, {"rate_bp", 500}, {"min_fen", 100}});
    CHECK(rules["fee_borne_by"] == "worker");
  }
  http::Request anonymous;
  CHECK(problem_of([&] { get_fee_rules(anonymous); }).status == 401);
}
