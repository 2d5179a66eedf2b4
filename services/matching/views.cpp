#include "services/matching/views.hpp"

#include "common/clock.hpp"
#include "common/money.hpp"

namespace crowd::matching {

using nlohmann::json;

namespace {

json opt_json(const std::optional<std::int64_t>& v) {
  return v ? json(*v) : json(nullptr);
}
json opt_time(const std::optional<std::int64_t>& ms) {
  return ms ? json(clock::rfc3339(*ms)) : json(nullptr);
}

}  // namespace

json place_json(const std::optional<GeoPoint>& p) {
  if (!p) return nullptr;
  return {{"lat", p->lat}, {"lng", p->lng}};
}

json offer_view_json(const store::OfferView& v) {
  const auto& t = v.task;
  json task = {
      {"id", t.profile.id},
      {"title", t.title},
      {"category", t.category},
      {"mode", t.mode},
      {"pay_per_unit", money::to_json(t.pay_per_unit_fen, t.currency)},
      {"units_free", t.units_free()},
      {"units_total", t.units_total},
      {"deadline", clock::rfc3339(t.deadline_ms)},
      {"place", place_json(t.profile.place)},
      {"radius_m", opt_json(t.profile.radius_m)},
      {"required_skills", t.profile.required_skills},
  };
  json out = offer_json(v.offer);
  out["task"] = std::move(task);
  return out;
}

json offer_json(const store::OfferRow& o) {
  return {
      {"id", o.id},
      {"task_id", o.task_id},
      {"worker_id", o.worker_id},
      {"status", std::string(to_string(o.status))},
      {"distance_m", opt_json(o.distance_m)},
      {"created_at", clock::rfc3339(o.created_at_ms)},
      {"expires_at", clock::rfc3339(o.expires_at_ms)},
      {"decided_at", opt_time(o.decided_at_ms)},
      {"assignment_id", o.assignment_id ? json(*o.assignment_id) : json(nullptr)},
  };
}

json assignment_json(const store::AssignmentRow& a) {
  return {
      {"id", a.id},
      {"offer_id", a.offer_id},
      {"task_id", a.task_id},
      {"enterprise_id", a.enterprise_id},
      {"worker_id", a.worker_id},
      {"status", std::string(to_string(a.status))},
      {"units", a.units},
      {"pay_per_unit", money::to_json(a.pay_per_unit_fen, a.currency)},
      {"amount", money::to_json(a.amount_fen, a.currency)},
      {"title", a.title},
      {"category", a.category},
      {"deadline", clock::rfc3339(a.deadline_ms)},
      {"review_window_s", a.review_window_s},
      {"created_at", clock::rfc3339(a.created_at_ms)},
      {"updated_at", clock::rfc3339(a.updated_at_ms)},
  };
}

json assignment_created_data(const store::AssignmentRow& a) {
  return {
      {"assignment_id", a.id},
      {"offer_id", a.offer_id},
      {"task_id", a.task_id},
      {"enterprise_id", a.enterprise_id},
      {"worker_id", a.worker_id},
      {"units", a.units},
      {"pay_per_unit_fen", a.pay_per_unit_fen},
      {"amount_fen", a.amount_fen},
      {"currency", a.currency},
      {"category", a.category},
      {"title", a.title},
      {"review_window_s", a.review_window_s},
      {"deadline_ms", a.deadline_ms},
  };
}

json offer_created_data(const store::OfferRow& o, const store::TaskRow& task) {
  return {
      {"offer_id", o.id},
      {"task_id", o.task_id},
      {"enterprise_id", task.enterprise_id},
      {"worker_id", o.worker_id},
      {"units", kUnitsPerOffer},
      {"pay_per_unit_fen", task.pay_per_unit_fen},
      {"amount_fen", kUnitsPerOffer * task.pay_per_unit_fen},
      {"currency", task.currency},
      {"category", task.category},
      {"expires_at_ms", o.expires_at_ms},
  };
}

json units_released_data(const std::string& task_id, const std::string& enterprise_id, const UnitsReleased& u) {
  return {
      {"task_id", task_id},
      {"enterprise_id", enterprise_id},
      {"release_id", u.release_id},
      {"units_released", u.units_released},
      {"units_assigned", u.units_assigned},
      {"units_total", u.units_total},
  };
}

}  // namespace crowd::matching
