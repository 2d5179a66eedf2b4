#include "services/tasks/task_spec.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "common/clock.hpp"

using namespace crowd::tasks;
using json = nlohmann::json;

namespace {

const std::int64_t kNow = *crowd::clock::parse_rfc3339("2026-11-22T08:00:00Z");

json valid_body() {
  return json{
      {"title", "  Design a gearbox housing  "},
      {"description", "CAD model and drawings"},
      {"category", "rd_design"},
      {"mode", "single"},
      {"required_skills", {"CAD", " solidworks ", "cad"}},
      {"pay_per_unit", {{"amount_fen", 500000}, {"currency", "CNY"}}},
      {"deadline", "2026-12-01T18:00:00+08:00"},
      {"ip_terms", {{"transfer_on_acceptance", true}}},
  };
}

std::set<std::string> fields_of(const SpecResult& r) {
  std::set<std::string> out;
  for (const auto& e : r.errors) out.insert(e.field);
  return out;
}

}  // namespace

TEST_CASE("a valid single task, normalised") {
  SpecResult r = validate_task_spec(valid_body(), kNow);
  REQUIRE(r.errors.empty());
  REQUIRE(r.spec);
  const TaskSpec& s = *r.spec;
  CHECK(s.title == "Design a gearbox housing");
  CHECK(s.mode == "single");
  CHECK(s.units == 1);
  CHECK(s.required_skills == std::vector<std::string>{"cad", "solidworks"});
  CHECK(s.pay_per_unit_fen == 500000);
  CHECK(s.budget_fen == 500000);
  CHECK(s.currency == "CNY");
  CHECK(s.deadline_ms == *crowd::clock::parse_rfc3339("2026-12-01T10:00:00Z"));
  CHECK(s.review_window_hours == 72);
  CHECK_FALSE(s.place);
  CHECK_FALSE(s.radius_m);
  CHECK(s.ip_transfer_on_acceptance);
  CHECK_FALSE(s.ip_license);
}

TEST_CASE("a valid piecework task with a place") {
  json b = valid_body();
  b["mode"] = "piecework";
  b["category"] = "life_service";
  b["units"] = 40;
  b["review_window_hours"] = 24;
  b["place"] = {{"lat", 31.230416}, {"lng", 121.473701}};
  b["radius_m"] = 5000;
  b["ip_terms"]["license"] = "CC-BY 4.0";
  SpecResult r = validate_task_spec(b, kNow);
  REQUIRE(r.errors.empty());
  CHECK(r.spec->units == 40);
  CHECK(r.spec->budget_fen == 40 * 500000);
  CHECK(r.spec->review_window_hours == 24);
  REQUIRE(r.spec->place);
  CHECK(r.spec->place->lat_e6 == 31230416);
  CHECK(r.spec->place->lng_e6 == 121473701);
  CHECK(r.spec->radius_m == 5000);
  CHECK(r.spec->ip_license == "CC-BY 4.0");
}

TEST_CASE("every field error is collected, named by its JSON path") {
  json b = {
      {"title", ""},
      {"description", 5},
      {"category", "cooking"},
      {"mode", "piecework"},
      {"units", 1},
      {"required_skills", {"ok", 3}},
      {"pay_per_unit", {{"amount_fen", 0}, {"currency", "CNY"}}},
      {"deadline", "tomorrow"},
      {"review_window_hours", 721},
      {"place", {{"lat", 91}, {"lng", "east"}}},
      {"radius_m", 50},
      {"ip_terms", {{"license", 7}}},
      {"budget", 1},
  };
  SpecResult r = validate_task_spec(b, kNow);
  CHECK_FALSE(r.spec);
  const std::set<std::string> expected = {"budget",
                                          "title",
                                          "description",
                                          "category",
                                          "units",
                                          "required_skills[1]",
                                          "pay_per_unit.amount_fen",
                                          "deadline",
                                          "review_window_hours",
                                          "place.lat",
                                          "place.lng",
                                          "radius_m",
                                          "ip_terms.transfer_on_acceptance",
                                          "ip_terms.license"};
  CHECK(fields_of(r) == expected);
}

TEST_CASE("required fields") {
  SpecResult r = validate_task_spec(json::object(), kNow);
  const std::set<std::string> expected = {"title",        "description", "category", "mode",
                                          "pay_per_unit", "deadline",    "ip_terms"};
  CHECK(fields_of(r) == expected);
}

TEST_CASE("contest is refused with a clear message") {
  json b = valid_body();
  b["mode"] = "contest";
  SpecResult r = validate_task_spec(b, kNow);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].field == "mode");
  CHECK(r.errors[0].message.find("contest") != std::string::npos);
}

TEST_CASE("units by mode") {
  json b = valid_body();
  b["units"] = 1;
  CHECK(validate_task_spec(b, kNow).errors.empty());
  b["units"] = 2;
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"units"});
  b["mode"] = "piecework";
  CHECK(validate_task_spec(b, kNow).errors.empty());
  b["units"] = 100000;
  CHECK(validate_task_spec(b, kNow).errors.empty());
  b["units"] = 100001;
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"units"});
  b.erase("units");
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"units"});
  b["units"] = "3";
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"units"});
}

TEST_CASE("deadline must be in the future and within a year") {
  json b = valid_body();
  b["deadline"] = crowd::clock::rfc3339(kNow);
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"deadline"});
  b["deadline"] = crowd::clock::rfc3339(kNow + kDeadlineAheadMaxMs);
  CHECK(validate_task_spec(b, kNow).errors.empty());
  b["deadline"] = crowd::clock::rfc3339(kNow + kDeadlineAheadMaxMs + 1000);
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"deadline"});
}

TEST_CASE("text limits count characters, not bytes, blanks are refused") {
  json b = valid_body();
  std::string title;
  for (int i = 0; i < 200; ++i) title += "设";
  b["title"] = title;
  CHECK(validate_task_spec(b, kNow).errors.empty());
  b["title"] = title + "计";
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"title"});
  b["title"] = "   ";
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"title"});
  b["title"] = "ok";
  b["description"] = std::string(10001, 'x');
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"description"});
}

TEST_CASE("skills: at most 20, none blank") {
  json b = valid_body();
  b["required_skills"] = json::array();
  for (int i = 0; i < 21; ++i) b["required_skills"].push_back("s" + std::to_string(i));
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"required_skills"});
  b["required_skills"] = {"a", "  "};
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"required_skills[1]"});
  b.erase("required_skills");
  SpecResult r = validate_task_spec(b, kNow);
  REQUIRE(r.spec);
  CHECK(r.spec->required_skills.empty());
}

TEST_CASE("pay bounds and the largest budget") {
  json b = valid_body();
  b["mode"] = "piecework";
  b["units"] = kUnitsMax;
  b["pay_per_unit"] = {{"amount_fen", kPayPerUnitMaxFen}};  // currency defaults to CNY
  SpecResult r = validate_task_spec(b, kNow);
  REQUIRE(r.spec);
  CHECK(r.spec->budget_fen == kUnitsMax * kPayPerUnitMaxFen);
  b["pay_per_unit"] = {{"amount_fen", kPayPerUnitMaxFen + 1}};
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"pay_per_unit.amount_fen"});
  b["pay_per_unit"] = {{"amount_fen", 100}, {"currency", "USD"}};
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"pay_per_unit.currency"});
  b["pay_per_unit"] = {{"amount_fen", 100}, {"cur", "CNY"}};
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"pay_per_unit.cur"});
}

TEST_CASE("radius only with a place, unknown nested fields are refused") {
  json b = valid_body();
  b["radius_m"] = 1000;
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"radius_m"});
  b["place"] = {{"lat", 30}, {"lng", 120}, {"alt", 5}};
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"place.alt"});
  b["place"] = {{"lat", 30}, {"lng", 120}};
  b["radius_m"] = 200001;
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"radius_m"});
  b["radius_m"] = nullptr;  // null is absent
  CHECK(validate_task_spec(b, kNow).errors.empty());
  b["ip_terms"] = {{"transfer_on_acceptance", false}, {"licence", "x"}};
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"ip_terms.licence"});
  b["ip_terms"] = "all rights";
  CHECK(fields_of(validate_task_spec(b, kNow)) == std::set<std::string>{"ip_terms"});
}
