#include "services/accounts/registration.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>

#include "common/clock.hpp"
#include "common/http.hpp"

using namespace crowd::accounts;
using crowd::http::Problem;

namespace {

const Date kToday{2026, 11, 22};

// The field names of the 422 problem fn throws; empty when it does not throw.
std::vector<std::string> error_fields(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Problem& p) {
    CHECK(p.status == 422);
    std::vector<std::string> out;
    for (const auto& e : p.errors) out.push_back(e.field);
    return out;
  }
  return {};
}

std::string error_message(const std::function<void()>& fn, const std::string& field) {
  try {
    fn();
  } catch (const Problem& p) {
    for (const auto& e : p.errors)
      if (e.field == field) return e.message;
  }
  return {};
}

json enterprise_body() {
  return {{"name", "福州某某科技有限公司"}, {"credit_code", "91350100M000100Y43"}, {"password", "correct horse 1"}};
}

json worker_body() {
  return {{"real_name", "张三"},
          {"id_number", "11010519491231002X"},
          {"phone", "13800138000"},
          {"password", "correct horse 1"},
          {"skills", {"Design", "cad"}}};
}

}  // namespace

TEST_CASE("enterprise registration: a valid request becomes a draft") {
  json b = enterprise_body();
  b["credit_code"] = " 91350100m000100y43 ";
  b["contact_email"] = "finance@example.cn";
  const EnterpriseDraft d = parse_enterprise_registration(b);
  CHECK(d.name == "福州某某科技有限公司");
  CHECK(d.credit_code == "91350100M000100Y43");
  CHECK(d.contact_email == std::optional<std::string>("finance@example.cn"));
}

TEST_CASE("enterprise registration: a credit code failing GB 32100 is a field error naming credit_code") {
  json b = enterprise_body();
  b["credit_code"] = "91350100M000100Y44";  // wrong check character
  CHECK(error_fields([&] { parse_enterprise_registration(b); }) == std::vector<std::string>{"credit_code"});
  CHECK(error_message([&] { parse_enterprise_registration(b); }, "credit_code").find("统一社会信用代码") !=
        std::string::npos);
  b["credit_code"] = "91350100M00010";  // too short
  CHECK(error_fields([&] { parse_enterprise_registration(b); }) == std::vector<std::string>{"credit_code"});
  b["credit_code"] = "91350100O000100Y43";  // O is not in the character set
  CHECK(error_fields([&] { parse_enterprise_registration(b); }) == std::vector<std::string>{"credit_code"});
}

TEST_CASE("enterprise registration: every bad field is reported at once") {
  json b = {{"name", " 甲 "}, {"password", "short"}, {"contact_email", "not-an-address"}};
  auto fields = error_fields([&] { parse_enterprise_registration(b); });
  std::sort(fields.begin(), fields.end());
  CHECK(fields == std::vector<std::string>{"contact_email", "credit_code", "name", "password"});
  b = enterprise_body();
  b["name"] = std::string(101 * 3, 'a');
  CHECK(error_fields([&] { parse_enterprise_registration(b); }) == std::vector<std::string>{"name"});
  b = enterprise_body();
  b["password"] = std::string(129, 'p');
  CHECK(error_fields([&] { parse_enterprise_registration(b); }) == std::vector<std::string>{"password"});
  b["password"] = 1234567890123;
  CHECK(error_fields([&] { parse_enterprise_registration(b); }) == std::vector<std::string>{"password"});
}

TEST_CASE("worker registration: a valid request becomes a normalised draft") {
  json b = worker_body();
  b["id_number"] = "１１０１０５１９４９１２３１００２ｘ";  // full-width digits and x
  b["phone"] = "+86 138-0013-8000";
  b["skills"] = {" Design ", "CAD", "design", "平面设计"};
  b["home"] = {{"lat", 26.074508}, {"lng", 119.296494}};
  const WorkerDraft d = parse_worker_registration(b, kToday);
  CHECK(d.real_name == "张三");
  CHECK(d.id_number == "11010519491231002X");
  CHECK(d.phone == "13800138000");
  CHECK(d.skills == std::vector<std::string>{"design", "cad", "平面设计"});
  REQUIRE(d.home);
  CHECK(d.home->lat_e6 == 26074508);
  CHECK(d.home->lng_e6 == 119296494);
  b["home"] = nullptr;
  CHECK_FALSE(parse_worker_registration(b, kToday).home);
}

TEST_CASE("worker registration: ID numbers are checked against GB 11643, the calendar and the age limit") {
  json b = worker_body();
  auto fields_for = [&](const std::string& id) {
    b["id_number"] = id;
    return error_fields([&] { parse_worker_registration(b, kToday); });
  };
  const std::vector<std::string> id_error{"id_number"};
  CHECK(fields_for("11010519491231002X").empty());
  CHECK(fields_for("110105194912310021") == id_error);  // wrong check character
  CHECK(fields_for("11010519491231002") == id_error);   // 17 characters
  CHECK(fields_for("110105194902310026") == id_error);  // check character right, 31 February
  CHECK(fields_for("110105202611230015") == id_error);  // check character right, born tomorrow
  CHECK(fields_for("") == id_error);
  // 16 years old on the day: accepted; one day short of 16: refused with the age message.
  CHECK(fields_for("110105201011220011").empty());
  CHECK(fields_for("110105201011230017") == id_error);
  CHECK(error_message([&] { parse_worker_registration(b, kToday); }, "id_number").find("16") != std::string::npos);
}

TEST_CASE("worker registration: a birth year before 1900 passes GB 11643 but is not plausible for a worker") {
  json b = worker_body();
  b["id_number"] = "110105189912311237";  // 1899-12-31, check character right
  const auto fields = error_fields([&] { parse_worker_registration(b, kToday); });
  CHECK(fields == std::vector<std::string>{"id_number"});
  const std::string message = error_message([&] { parse_worker_registration(b, kToday); }, "id_number");
  CHECK(message == "birth year before 1900 is not plausible for a worker");
  CHECK(message.find("GB 11643") == std::string::npos);
  b["id_number"] = "110105190001011231";  // 1900-01-01: plausible (and old enough)
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }).empty());
}

TEST_CASE("worker registration: phone, skills, home and name errors") {
  json b = worker_body();
  b["phone"] = "12800138000";
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }) == std::vector<std::string>{"phone"});
  b = worker_body();
  b["skills"] = json::array();
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }) == std::vector<std::string>{"skills"});
  b["skills"] = json::array();
  for (int i = 0; i < 31; ++i) b["skills"].push_back("s" + std::to_string(i));
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }) == std::vector<std::string>{"skills"});
  b["skills"] = {"ok", std::string(41, 'x'), "   "};
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }) ==
        std::vector<std::string>{"skills[1]", "skills[2]"});
  b = worker_body();
  b["home"] = {{"lat", 91}, {"lng", -181}};
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }) ==
        std::vector<std::string>{"home.lat", "home.lng"});
  b["home"] = "here";
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }) == std::vector<std::string>{"home"});
  b = worker_body();
  b["real_name"] = "   ";
  CHECK(error_fields([&] { parse_worker_registration(b, kToday); }) == std::vector<std::string>{"real_name"});
}

TEST_CASE("views show masked personal data only and events carry none") {
  WorkerView w;
  w.id = "wkr_01J00000000000000000000000";
  w.real_name_masked = "张*";
  w.id_number_masked = "110***********002X";
  w.phone_masked = "138****8000";
  w.skills = {"design"};
  w.verification = {"verified", "id_checksum"};
  w.created_at_ms = 0;
  const json j = worker_json(w);
  CHECK(j.at("id_number_masked") == "110***********002X");
  CHECK(j.at("home").is_null());
  CHECK(j.at("credit_score") == 80);
  CHECK(j.at("verification") == json{{"status", "verified"}, {"method", "id_checksum"}});
  CHECK(j.at("created_at") == "1970-01-01T00:00:00.000Z");
  CHECK_FALSE(j.contains("id_number"));
  const json e = worker_registered_data(w);
  CHECK(e ==
        json{{"worker_id", w.id}, {"skills", {"design"}}, {"home", nullptr}, {"verified", true}, {"credit_score", 80}});
  w.home = GeoPoint{26074508, -119296494};
  CHECK(worker_json(w).at("home") == json{{"lat", 26.074508}, {"lng", -119.296494}});
}

TEST_CASE("ages, China dates and text helpers") {
  CHECK(age_on({2010, 11, 22}, {2026, 11, 22}) == 16);
  CHECK(age_on({2010, 11, 23}, {2026, 11, 22}) == 15);
  CHECK(age_on({2008, 2, 29}, {2024, 2, 28}) == 15);
  CHECK(age_on({2008, 2, 29}, {2024, 2, 29}) == 16);
  CHECK(age_on({2008, 2, 29}, {2025, 3, 1}) == 17);
  const auto ms = crowd::clock::parse_rfc3339("2026-11-21T16:00:00Z");
  REQUIRE(ms);
  const Date d = cst_today(*ms);  // midnight in Beijing
  CHECK(d.year == 2026);
  CHECK(d.month == 11);
  CHECK(d.day == 22);
  CHECK(utf8_length("张三ab") == 4);
  CHECK(trim("\xE3\x80\x80 张三 \t") == "张三");
  CHECK(trim("   ").empty());
  CHECK(normalize_phone("+86 138 0013 8000") == "13800138000");
  CHECK(normalize_phone("8613800138000") == "13800138000");
  CHECK(normalize_phone("138-0013-8000") == "13800138000");
}
