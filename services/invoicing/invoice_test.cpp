#include "services/invoicing/invoice.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

#include "common/events.hpp"
#include "services/invoicing/consumers.hpp"

using crowd::invoicing::Buyer;
using crowd::invoicing::IssueStamp;
using crowd::invoicing::Seller;
using crowd::invoicing::SettlementFacts;
using nlohmann::json;
namespace inv = crowd::invoicing;

namespace {

crowd::events::Event event_of(const std::string& type, json data) {
  crowd::events::Event e;
  e.id = "evt_01";
  e.type = type;
  e.data = std::move(data);
  return e;
}

// settlement.completed with `data`, as the consumer receives it.
crowd::events::Event settled(json data) {
  return event_of("settlement.completed", std::move(data));
}

json settlement_data() {
  return {{"settlement_id", "stl_01"},
          {"assignment_id", "asg_01"},
          {"submission_id", "sub_01"},
          {"task_id", "tsk_01"},
          {"enterprise_id", "ent_01"},
          {"worker_id", "wkr_01"},
          {"category", "rd_design"},
          {"title", "工业零件三维建模"},
          {"units", 1},
          {"amount_fen", 1'000'000},
          {"fee_fen", 50'000},
          {"worker_gross_fen", 950'000},
          {"iit_fen", 7'800},
          {"net_fen", 942'200},
          {"currency", "CNY"},
          {"tax_year", 2026},
          {"tax_month", 11},
          {"settled_at_ms", 1'795'000'000'000}};
}

const Seller kSeller{"众包平台沙箱测试有限公司", "91350100M000100Y43", "44", '1'};
const Buyer kBuyer{"ent_01", "深圳市示例科技有限公司", "91350100M000100Y43"};
const IssueStamp kStamp{"inv_01", "26441000000000000007", 1'795'000'000'000, "2026-11-18"};

}  // namespace

TEST_CASE("an invoice for a 10,000.00 settlement") {
  const auto f = inv::settlement_from_event(settled(settlement_data()));
  const auto i = inv::build_invoice(f, kBuyer, kSeller, kStamp);
  CHECK(i.number == "26441000000000000007");
  CHECK(i.amount_fen == 943'396);
  CHECK(i.tax_fen == 56'604);
  CHECK(i.total_fen == 1'000'000);
  CHECK(i.total_in_capitals == "壹万圆整");
  CHECK(i.line.item_name == "*信息技术服务*软件开发服务");
  CHECK(i.line.tax_code == "3040201010000000000");
  CHECK(i.line.quantity == 1);
  CHECK(i.line.unit_price == "9433.96");
  CHECK(i.line.vat_rate_bp == 600);
  CHECK_FALSE(i.buyer_needs_review);
  CHECK(i.buyer_tax_id == "91350100M000100Y43");
  CHECK(i.issuer == "system");
  CHECK(i.remarks == "任务 tsk_01《工业零件三维建模》；结算 stl_01");

  const json j = inv::invoice_json(i);
  CHECK(j["amount"] == json({{"amount_fen", 943'396}, {"currency", "CNY"}}));
  CHECK(j["tax"]["amount_fen"] == 56'604);
  CHECK(j["total"]["amount_fen"] == 1'000'000);
  CHECK(j["total_in_capitals"] == "壹万圆整");
  CHECK(j["buyer"]["tax_id"] == "91350100M000100Y43");
  CHECK(j["buyer"]["needs_review"] == false);
  CHECK(j["seller"]["tax_id"] == "91350100M000100Y43");
  CHECK(j["lines"].size() == 1);
  CHECK(j["lines"][0]["vat_rate"] == "6%");
  CHECK(j["lines"][0]["unit"] == "项");
  CHECK(j["issue_date"] == "2026-11-18");
  CHECK(j["issued_at"] == "2026-11-18T11:06:40.000Z");
  CHECK(j["kind"] == "blue");

  const json e = inv::invoice_issued_data(i);
  CHECK(e == json({{"invoice_id", "inv_01"},
                   {"number", "26441000000000000007"},
                   {"enterprise_id", "ent_01"},
                   {"settlement_id", "stl_01"},
                   {"total_fen", 1'000'000}}));
}

TEST_CASE("piecework: quantity is the units, unit price excludes VAT") {
  json d = settlement_data();
  d["units"] = 3;
  d["amount_fen"] = 100'000;  // 1,000.00 for 3 units
  d["category"] = "knowledge";
  const auto i = inv::build_invoice(inv::settlement_from_event(settled(d)), kBuyer, kSeller, kStamp);
  CHECK(i.amount_fen == 94'340);  // 1,000 / 1.06 = 943.396… → 943.40
  CHECK(i.tax_fen == 5'660);
  CHECK(i.line.quantity == 3);
  CHECK(i.line.unit_price == "314.46666667");
  CHECK(i.total_in_capitals == "壹仟圆整");
  CHECK(i.line.tax_code == "3040204000000000000");
}

TEST_CASE("a buyer credit code failing the check is flagged, not refused") {
  const Buyer odd{"ent_01", "某某有限公司", "91350100m000100y44"};
  const auto i = inv::build_invoice(inv::settlement_from_event(settled(settlement_data())), odd, kSeller, kStamp);
  CHECK(i.buyer_needs_review);
  CHECK(i.buyer_tax_id == "91350100m000100y44");
  const auto ok = inv::build_invoice(inv::settlement_from_event(settled(settlement_data())),
                                     Buyer{"ent_01", "某某有限公司", "91350100m000100y43"}, kSeller, kStamp);
  CHECK_FALSE(ok.buyer_needs_review);
  CHECK(ok.buyer_tax_id == "91350100M000100Y43");
}

TEST_CASE("settlement data is validated") {
  for (const char* field : {"settlement_id", "task_id", "enterprise_id", "category", "title", "units", "amount_fen",
                            "currency", "assignment_id"}) {
    json d = settlement_data();
    d.erase(field);
    CAPTURE(field);
    const std::string named = std::string("data.") + field;
    CHECK_THROWS_WITH_AS(inv::settlement_from_event(settled(d)), doctest::Contains(named.c_str()),
                         crowd::events::Refusal);
  }
  json d = settlement_data();
  d["units"] = 0;
  CHECK_THROWS_AS(inv::settlement_from_event(settled(d)), crowd::events::Refusal);
  d = settlement_data();
  d["amount_fen"] = "1000";
  CHECK_THROWS_AS(inv::settlement_from_event(settled(d)), crowd::events::Refusal);
  d = settlement_data();
  d["currency"] = "USD";
  CHECK_THROWS_AS(inv::settlement_from_event(settled(d)), crowd::events::Refusal);
  d = settlement_data();
  d["category"] = "casino";
  CHECK_THROWS_AS(inv::settlement_from_event(settled(d)), crowd::events::Refusal);
}

TEST_CASE("buyers from enterprise.registered") {
  const auto b = inv::buyer_from_event(
      event_of("enterprise.registered", {{"enterprise_id", "ent_01"}, {"name", "某公司"}, {"credit_code", "X"}}));
  CHECK(b.name == "某公司");
  CHECK_THROWS_WITH_AS(inv::buyer_from_event(event_of(
                           "enterprise.registered", {{"enterprise_id", "ent_01"}, {"name", ""}, {"credit_code", "X"}})),
                       doctest::Contains("data.name"), crowd::events::Refusal);
}

TEST_CASE("unit prices and remarks") {
  CHECK(inv::unit_price_yuan(100, 1) == "1.00");
  CHECK(inv::unit_price_yuan(100, 3) == "0.33333333");
  CHECK(inv::unit_price_yuan(200, 3) == "0.66666667");
  CHECK(inv::unit_price_yuan(150, 4) == "0.375");
  CHECK(inv::unit_price_yuan(0, 4) == "0.00");
  CHECK_THROWS_AS(inv::unit_price_yuan(100, 0), std::invalid_argument);

  SettlementFacts f = inv::settlement_from_event(settled(settlement_data()));
  f.title = std::string("第一行\n第二行\t") + std::string(100, 'a');
  const std::string r = inv::invoice_remarks(f);
  CHECK(r.find('\n') == std::string::npos);
  CHECK(r.find('\t') == std::string::npos);
  CHECK(r.find("第一行第二行" + std::string(54, 'a') + "》") != std::string::npos);
}

TEST_CASE("seller configuration") {
  CHECK_FALSE(inv::seller_problem(kSeller).has_value());
  Seller s = kSeller;
  s.tax_id = "91350100M000100Y44";
  CHECK(inv::seller_problem(s).has_value());
  s = kSeller;
  s.province = "4";
  CHECK(inv::seller_problem(s).has_value());
  s = kSeller;
  s.channel = 'x';
  CHECK(inv::seller_problem(s).has_value());
  s = kSeller;
  s.name.clear();
  CHECK(inv::seller_problem(s).has_value());
}

TEST_CASE("a malformed number is a programming error") {
  IssueStamp bad = kStamp;
  bad.number = "123";
  CHECK_THROWS_AS(inv::build_invoice(inv::settlement_from_event(settled(settlement_data())), kBuyer, kSeller, bad),
                  std::logic_error);
}
