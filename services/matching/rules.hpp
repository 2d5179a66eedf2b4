// Matching's pure state rules for offers, tasks and assignments. No I/O: the store reads the current
// state, these functions say what an operation does with it, the caller writes the result.
//
//   offer:      pending → accepted | declined | expired | withdrawn   (all but pending are final)
//   task:       open → closed (cancel requested; no more accepts)
//   assignment: active → completed (delivery accepted) | rejected (delivery rejected: the unit goes back)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::matching {

enum class OfferStatus { pending, accepted, declined, expired, withdrawn };
std::string_view to_string(OfferStatus s);
std::optional<OfferStatus> offer_status_from(std::string_view s);

// An offer can still be accepted or declined: pending and now before its expiry.
bool offer_is_live(OfferStatus s, std::int64_t expires_at_ms, std::int64_t now_ms);

// What accepting an offer in this state does.
enum class AcceptStep {
  take_unit,  // pending and live: go on to the task checks
  replay,     // already accepted (by its owner): answer with the same assignment
  expired,    // 410 offer-expired (a pending one past its expiry is marked expired)
  declined,   // 409 offer-declined
  withdrawn,  // 409: the task filled up or closed meanwhile
};
AcceptStep accept_step(OfferStatus s, std::int64_t expires_at_ms, std::int64_t now_ms);

// What declining an offer in this state does.
enum class DeclineStep {
  decline,    // pending and live
  replay,     // already declined: same answer
  expired,    // 410 offer-expired
  accepted,   // 409 offer-accepted (decline cannot undo an assignment)
  withdrawn,  // 409 offer-withdrawn
};
DeclineStep decline_step(OfferStatus s, std::int64_t expires_at_ms, std::int64_t now_ms);

// Whether a task can give out one more unit now.
enum class TaskGate { open, closed, deadline_passed, full };
TaskGate task_gate(bool is_open, std::int64_t deadline_ms, std::int64_t units_assigned, std::int64_t units_total,
                   std::int64_t now_ms);

enum class AssignmentStatus { active, completed, rejected };
std::string_view to_string(AssignmentStatus s);
std::optional<AssignmentStatus> assignment_status_from(std::string_view s);

enum class DeliveryVerdict { accepted, rejected };
// The assignment's next status, or nullopt when the verdict does not move it (already final: a
// duplicate or late event, acknowledged without effect).
std::optional<AssignmentStatus> assignment_after(AssignmentStatus current, DeliveryVerdict verdict);

// What task.units_released reports when a task closes: the units never assigned go back.
struct UnitsReleased {
  std::int64_t units_released = 0;
  std::int64_t units_assigned = 0;
  std::int64_t units_total = 0;
};
UnitsReleased units_released(std::int64_t units_total, std::int64_t units_assigned);

}  // namespace crowd::matching
