#include "services/matching/rules.hpp"

#include <algorithm>
#include <cassert>

#include "common/enum_text.hpp"

namespace crowd::matching {

namespace {

constexpr EnumText<OfferStatus, 5> kOfferStatus{{"pending", "accepted", "declined", "expired", "withdrawn"},
                                                "offer status"};
constexpr EnumText<AssignmentStatus, 4> kAssignmentStatus{{"active", "completed", "rejected", "expired"},
                                                          "assignment status"};

}  // namespace

std::string_view to_string(OfferStatus s) {
  return kOfferStatus.name(s);
}

std::optional<OfferStatus> offer_status_from(std::string_view s) {
  return kOfferStatus.find(s);
}

bool offer_is_live(OfferStatus s, std::int64_t expires_at_ms, std::int64_t now_ms) {
  return s == OfferStatus::pending && now_ms < expires_at_ms;
}

AcceptStep accept_step(OfferStatus s, std::int64_t expires_at_ms, std::int64_t now_ms) {
  switch (s) {
    case OfferStatus::pending:
      return now_ms < expires_at_ms ? AcceptStep::take_unit : AcceptStep::expired;
    case OfferStatus::accepted:
      return AcceptStep::replay;
    case OfferStatus::declined:
      return AcceptStep::declined;
    case OfferStatus::expired:
      return AcceptStep::expired;
    case OfferStatus::withdrawn:
      return AcceptStep::withdrawn;
  }
  return AcceptStep::withdrawn;
}

DeclineStep decline_step(OfferStatus s, std::int64_t expires_at_ms, std::int64_t now_ms) {
  switch (s) {
    case OfferStatus::pending:
      return now_ms < expires_at_ms ? DeclineStep::decline : DeclineStep::expired;
    case OfferStatus::accepted:
      return DeclineStep::accepted;
    case OfferStatus::declined:
      return DeclineStep::replay;
    case OfferStatus::expired:
      return DeclineStep::expired;
    case OfferStatus::withdrawn:
      return DeclineStep::withdrawn;
  }
  return DeclineStep::withdrawn;
}

TaskGate task_gate(bool is_open, std::int64_t deadline_ms, std::int64_t units_assigned, std::int64_t units_total,
                   std::int64_t now_ms) {
  assert(units_assigned >= 0 && units_assigned <= units_total);
  if (!is_open) return TaskGate::closed;
  if (now_ms >= deadline_ms) return TaskGate::deadline_passed;
  if (units_assigned >= units_total) return TaskGate::full;
  return TaskGate::open;
}

std::string_view to_string(AssignmentStatus s) {
  return kAssignmentStatus.name(s);
}

std::optional<AssignmentStatus> assignment_status_from(std::string_view s) {
  return kAssignmentStatus.find(s);
}

std::optional<AssignmentStatus> assignment_after(AssignmentStatus current, DeliveryVerdict verdict) {
  if (current != AssignmentStatus::active) return std::nullopt;
  switch (verdict) {
    case DeliveryVerdict::accepted:
      return AssignmentStatus::completed;
    case DeliveryVerdict::rejected:
      return AssignmentStatus::rejected;
    case DeliveryVerdict::expired:
      return AssignmentStatus::expired;
  }
  return std::nullopt;
}

std::string assignment_release_id(const std::string& assignment_id) {
  return "asg:" + assignment_id;
}

UnitsReleased units_released(std::int64_t units_total, std::int64_t units_assigned) {
  assert(units_total >= 0 && units_assigned >= 0 && units_assigned <= units_total);
  return UnitsReleased{kCancelReleaseId, std::max<std::int64_t>(0, units_total - units_assigned), units_assigned,
                       units_total};
}

UnitsReleased cancel_release(std::int64_t units_total, std::int64_t units_assigned,
                             std::optional<std::int64_t> released_at_cancel) {
  UnitsReleased u = units_released(units_total, units_assigned);
  // A repeat names the same release, so it must carry the same units: settlement ignores it by id, and
  // units that came back since went out under their own "asg:" releases.
  if (released_at_cancel) u.units_released = *released_at_cancel;
  return u;
}

UnitsReleased assignment_release(const std::string& assignment_id, std::int64_t units, std::int64_t units_total,
                                 std::int64_t units_assigned) {
  assert(units > 0 && units_assigned >= 0 && units_assigned <= units_total);
  return UnitsReleased{assignment_release_id(assignment_id), units, units_assigned, units_total};
}

}  // namespace crowd::matching
