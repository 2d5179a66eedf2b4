#include "services/tasks/task_json.hpp"

#include <doctest/doctest.h>

#include <set>

using namespace crowd::tasks;
using json = nlohmann::json;

namespace {

Task sample() {
  Task t;
  t.id = "tsk_01JDA0000000000000000000AA";
  t.enterprise_id = "ent_01JDA0000000000000000000BB";
  t.spec.title = "Label 40 photos";
  t.spec.description = "Bounding boxes";
  t.spec.category = "knowledge";
  t.spec.mode = "piecework";
  t.spec.units = 40;
  t.spec.required_skills = {"labeling"};
  t.spec.pay_per_unit_fen = 250;
  t.spec.budget_fen = 10000;
  t.spec.deadline_ms = 1'796'000'000'000;
  t.spec.review_window_hours = 24;
  t.spec.place = Place{31230416, 121473701};
  t.spec.radius_m = 5000;
  t.progress = Progress{Status::open, 40, 0, 0};
  t.escrow_transfer_id = "trf_x";
  t.created_at_ms = 1'795'000'000'000;
  t.updated_at_ms = 1'795'000'000'000;
  return t;
}

std::set<std::string> keys(const json& j) {
  std::set<std::string> out;
  for (const auto& [k, v] : j.items()) out.insert(k);
  return out;
}

}  // namespace

TEST_CASE("event data carries exactly the catalogue's fields") {
  const Task t = sample();
  CHECK(keys(event_data(Emit::created, t)) == std::set<std::string>{"task_id", "enterprise_id", "category", "mode",
                                                                    "units", "pay_per_unit_fen", "budget_fen",
                                                                    "currency", "title"});
  CHECK(keys(event_data(Emit::opened, t)) ==
        std::set<std::string>{"task_id", "enterprise_id", "category", "mode", "units", "pay_per_unit_fen", "currency",
                              "title", "required_skills", "place", "radius_m", "deadline_ms", "review_window_s"});
  CHECK(keys(event_data(Emit::funding_failed, t)) == std::set<std::string>{"task_id", "enterprise_id", "reason"});
  CHECK(keys(event_data(Emit::cancel_requested, t)) == std::set<std::string>{"task_id", "enterprise_id"});
  CHECK(keys(event_data(Emit::cancelled, t, 7)) == std::set<std::string>{"task_id", "enterprise_id", "units_released"});
  CHECK(keys(event_data(Emit::cancelled, t, 7, true)) ==
        std::set<std::string>{"task_id", "enterprise_id", "units_released", "released_by_matching"});
  CHECK(event_data(Emit::cancelled, t, 7, true)["released_by_matching"] == true);
  CHECK(keys(event_data(Emit::completed, t)) == std::set<std::string>{"task_id", "enterprise_id", "units_completed"});
}

TEST_CASE("task.opened values") {
  const json d = event_data(Emit::opened, sample());
  CHECK(d["review_window_s"] == 24 * 3600);
  CHECK(d["place"]["lat"].get<double>() == doctest::Approx(31.230416));
  CHECK(d["place"].dump() == R"({"lat":31.230416,"lng":121.473701})");
  CHECK(d["radius_m"] == 5000);
  CHECK(d["deadline_ms"] == 1'796'000'000'000);
  Task no_place = sample();
  no_place.spec.place.reset();
  no_place.spec.radius_m.reset();
  const json e = event_data(Emit::opened, no_place);
  CHECK(e["place"].is_null());
  CHECK(e["radius_m"].is_null());
}

TEST_CASE("workers do not see the enterprise's private fields") {
  const Task t = sample();
  const json w = worker_view(t);
  for (const char* k : {"enterprise_id", "budget", "units", "escrow_transfer_id", "funding_failure_reason"}) {
    CHECK_FALSE(w.contains(k));
  }
  const json o = owner_view(t);
  CHECK(o["enterprise_id"] == t.enterprise_id);
  CHECK(o["budget"] == json({{"amount_fen", 10000}, {"currency", "CNY"}}));
  CHECK(o["units_total"] == 40);
  CHECK(o["status"] == "open");
  CHECK(o["pay_per_unit"] == json({{"amount_fen", 250}, {"currency", "CNY"}}));
  CHECK(o["ip_terms"] == json({{"transfer_on_acceptance", false}, {"license", nullptr}}));
}
