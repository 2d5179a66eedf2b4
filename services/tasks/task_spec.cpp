#include "services/tasks/task_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "common/clock.hpp"

namespace crowd::tasks {

namespace {

using json = nlohmann::json;
using http::Fields;

std::string trim(const std::string& s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// Strict bodies: a misspelt optional field ("radius" for "radius_m") would otherwise be dropped silently.
void reject_unknown(Fields& f, const json& obj, std::initializer_list<std::string_view> known) {
  if (!obj.is_object()) return;
  for (const auto& [key, value] : obj.items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) f.fail(key, "is not a known field");
  }
}

// Text that must carry something besides blanks; Fields counts the length in code points.
std::string read_text(Fields& f, const std::string& name, std::size_t max_len, bool trimmed) {
  const std::size_t before = f.errors().size();
  std::string v = f.str(name, 1, max_len);
  if (f.errors().size() != before) return {};
  std::string t = trim(v);
  if (t.empty()) f.fail(name, "must not be blank");
  return trimmed ? t : v;
}

void read_mode_and_units(Fields& f, const json& body, TaskSpec& spec) {
  const auto mode_it = body.find("mode");
  if (mode_it != body.end() && mode_it->is_string() && *mode_it == "contest") {
    f.fail("mode", "contest tasks are not supported yet: use single or piecework");
    return;
  }
  spec.mode = f.one_of("mode", {"single", "piecework"});
  const std::size_t before = f.errors().size();
  const auto units = f.opt_i64("units", 1, kUnitsMax);
  if (f.errors().size() != before) return;  // the range error is already told
  if (spec.mode == "single") {
    if (units && *units != 1) f.fail("units", "must be 1 (or absent) for a single task");
    spec.units = 1;
  } else if (spec.mode == "piecework") {
    if (!units) {
      f.fail("units", "is required for a piecework task (2 to 100000)");
    } else if (*units < 2) {
      f.fail("units", "must be between 2 and 100000 for a piecework task");
    }
    spec.units = units.value_or(0);
  }
}

// Trimmed, lower-cased (ASCII), deduplicated in the order given: matching compares them with workers'
// skills, which accounts normalises the same way.
void read_skills(Fields& f, TaskSpec& spec) {
  const std::size_t before = f.errors().size();
  std::vector<std::string> raw = f.str_list("required_skills", 0, 20, 40);
  if (f.errors().size() != before) return;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string s = trim(raw[i]);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    if (s.empty()) {
      f.fail("required_skills[" + std::to_string(i) + "]", "must not be blank");
    } else if (std::find(spec.required_skills.begin(), spec.required_skills.end(), s) == spec.required_skills.end()) {
      spec.required_skills.push_back(std::move(s));
    }
  }
}

void read_deadline(Fields& f, std::int64_t now_ms, TaskSpec& spec) {
  const std::size_t before = f.errors().size();
  const std::string text = f.str("deadline", 1, 64);
  if (f.errors().size() != before) return;
  const auto at = clock::parse_rfc3339(text);
  if (!at) {
    f.fail("deadline", "must be an RFC 3339 time such as 2026-12-01T18:00:00+08:00");
  } else if (*at <= now_ms) {
    f.fail("deadline", "must be in the future");
  } else if (*at - now_ms > kDeadlineAheadMaxMs) {
    f.fail("deadline", "must be at most 365 days ahead");
  } else {
    spec.deadline_ms = *at;
  }
}

void read_place(Fields& f, TaskSpec& spec) {
  if (auto place = f.opt_object("place")) {
    Fields pf(*place, "place");
    const double lat = pf.num("lat", -90, 90);
    const double lng = pf.num("lng", -180, 180);
    reject_unknown(pf, *place, {"lat", "lng"});
    if (pf.ok()) spec.place = Place{std::llround(lat * 1e6), std::llround(lng * 1e6)};
    f.merge(pf);
  }
  spec.radius_m = f.opt_i64("radius_m", 100, 200'000);
  if (f.has("radius_m") && !f.has("place")) f.fail("radius_m", "is allowed only together with place");
}

void read_ip_terms(Fields& f, TaskSpec& spec) {
  if (!f.has("ip_terms")) {
    f.fail("ip_terms", "is required");
    return;
  }
  if (auto ip = f.opt_object("ip_terms")) {
    Fields ipf(*ip, "ip_terms");
    spec.ip_transfer_on_acceptance = ipf.boolean("transfer_on_acceptance");
    spec.ip_license = ipf.opt_str("license", 2000);
    reject_unknown(ipf, *ip, {"transfer_on_acceptance", "license"});
    f.merge(ipf);
  }
}

void read_pay(Fields& f, const json& body, TaskSpec& spec) {
  spec.pay_per_unit_fen = f.money_fen("pay_per_unit", 1, kPayPerUnitMaxFen);
  const auto pay = body.find("pay_per_unit");
  if (pay != body.end() && pay->is_object()) {
    Fields pf(*pay, "pay_per_unit");
    reject_unknown(pf, *pay, {"amount_fen", "currency"});
    f.merge(pf);
  }
}

}  // namespace

SpecResult validate_task_spec(const json& body, std::int64_t now_ms) {
  TaskSpec spec;
  Fields f(body);
  reject_unknown(f, body,
                 {"title", "description", "category", "mode", "units", "required_skills", "pay_per_unit", "deadline",
                  "review_window_hours", "place", "radius_m", "ip_terms"});
  spec.title = read_text(f, "title", 200, true);
  spec.description = read_text(f, "description", 10'000, false);
  spec.category = f.one_of("category", {"rd_design", "manufacturing", "knowledge", "life_service"});
  read_mode_and_units(f, body, spec);
  read_skills(f, spec);
  read_pay(f, body, spec);
  read_deadline(f, now_ms, spec);
  spec.review_window_hours = f.opt_i64("review_window_hours", 1, 720).value_or(kReviewWindowDefaultHours);
  read_place(f, spec);
  read_ip_terms(f, spec);
  if (f.ok() && __builtin_mul_overflow(spec.units, spec.pay_per_unit_fen, &spec.budget_fen)) {
    f.fail("pay_per_unit.amount_fen", "units × amount_fen exceeds the largest budget");
  }
  if (!f.ok()) return {std::nullopt, f.errors()};
  return {std::move(spec), {}};
}

}  // namespace crowd::tasks
