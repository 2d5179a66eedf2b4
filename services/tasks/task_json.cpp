#include "services/tasks/task_json.hpp"

#include "common/clock.hpp"
#include "common/money.hpp"

namespace crowd::tasks {

namespace {

using json = nlohmann::json;

json place_json(const Task& t) {
  if (!t.spec.place) return nullptr;
  return {{"lat", static_cast<double>(t.spec.place->lat_e6) / 1e6},
          {"lng", static_cast<double>(t.spec.place->lng_e6) / 1e6}};
}

json opt(const std::optional<std::string>& v) {
  return v ? json(*v) : json(nullptr);
}
json opt(const std::optional<std::int64_t>& v) {
  return v ? json(*v) : json(nullptr);
}

}  // namespace

json worker_view(const Task& t) {
  const TaskSpec& s = t.spec;
  return {
      {"id", t.id},
      {"status", status_name(t.progress.status)},
      {"title", s.title},
      {"description", s.description},
      {"category", s.category},
      {"mode", s.mode},
      {"units_total", t.progress.units_total},
      {"units_assigned", t.progress.units_assigned},
      {"units_completed", t.progress.units_completed},
      {"required_skills", s.required_skills},
      {"pay_per_unit", money::to_json(s.pay_per_unit_fen, s.currency)},
      {"deadline", clock::rfc3339(s.deadline_ms)},
      {"review_window_hours", s.review_window_hours},
      {"place", place_json(t)},
      {"radius_m", opt(s.radius_m)},
      {"ip_terms", {{"transfer_on_acceptance", s.ip_transfer_on_acceptance}, {"license", opt(s.ip_license)}}},
      {"created_at", clock::rfc3339(t.created_at_ms)},
      {"updated_at", clock::rfc3339(t.updated_at_ms)},
  };
}

json owner_view(const Task& t) {
  json j = worker_view(t);
  j["enterprise_id"] = t.enterprise_id;
  j["units"] = t.spec.units;
  j["budget"] = money::to_json(t.spec.budget_fen, t.spec.currency);
  j["escrow_transfer_id"] = opt(t.escrow_transfer_id);
  j["funding_failure_reason"] = opt(t.funding_failure_reason);
  return j;
}

json event_data(Emit e, const Task& t, std::int64_t units_released, bool released_by_matching) {
  const TaskSpec& s = t.spec;
  json d = {{"task_id", t.id}, {"enterprise_id", t.enterprise_id}};
  switch (e) {
    case Emit::created:
      d.update({{"category", s.category},
                {"mode", s.mode},
                {"units", s.units},
                {"pay_per_unit_fen", s.pay_per_unit_fen},
                {"budget_fen", s.budget_fen},
                {"currency", s.currency},
                {"title", s.title}});
      break;
    case Emit::opened:
      d.update({{"category", s.category},
                {"mode", s.mode},
                {"units", t.progress.units_total},
                {"pay_per_unit_fen", s.pay_per_unit_fen},
                {"currency", s.currency},
                {"title", s.title},
                {"required_skills", s.required_skills},
                {"place", place_json(t)},
                {"radius_m", opt(s.radius_m)},
                {"deadline_ms", s.deadline_ms},
                {"review_window_s", s.review_window_hours * 3600}});
      break;
    case Emit::funding_failed:
      d["reason"] = t.funding_failure_reason.value_or("unknown");
      break;
    case Emit::cancel_requested:
      break;
    case Emit::cancelled:
      d["units_released"] = units_released;
      if (released_by_matching) d["released_by_matching"] = true;
      break;
    case Emit::completed:
      d["units_completed"] = t.progress.units_completed;
      break;
  }
  return d;
}

}  // namespace crowd::tasks
