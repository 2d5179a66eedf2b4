// Matching's pure state rules for offers, tasks and assignments. No I/O: the store reads the current
// state, these functions say what an operation does with it, the caller writes the result.
//
//   offer:      pending → accepted | declined | expired | withdrawn   (all but pending are final)
//   task:       open → closed (cancel requested; no more accepts)
//   assignment: active → completed (delivery accepted) | rejected (delivery rejected) | expired (the worker let
//               the deadline pass without a submission); rejected and expired give the unit back
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::matching {

// Units an offer hands out when it is accepted (the assignment's units and amount; offer.created's units).
inline constexpr std::int64_t kUnitsPerOffer = 1;

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

enum class AssignmentStatus { active, completed, rejected, expired };
std::string_view to_string(AssignmentStatus s);
std::optional<AssignmentStatus> assignment_status_from(std::string_view s);

// How delivery ended an assignment: delivery.accepted, delivery.rejected, or assignment.expired.
enum class DeliveryVerdict { accepted, rejected, expired };
// The assignment's next status, or nullopt when the verdict does not move it (already final: a
// duplicate or late event, acknowledged without effect).
std::optional<AssignmentStatus> assignment_after(AssignmentStatus current, DeliveryVerdict verdict);

// One task.units_released: which release it is, the units whose escrow goes back, and matching's count
// after it. release_id names the release for good (settlement pays each release_id of a task once):
//   "cancel"       the answer to a cancel request: the units never assigned when the task closed. Every
//                  cancel request is answered; a repeat carries the same units_released (the figure recorded
//                  at the first answer) with the current units_assigned.
//   "asg:{id}"     the units of assignment {id}, back from a rejection or an expiry after the task closed.
inline constexpr const char* kCancelReleaseId = "cancel";
std::string assignment_release_id(const std::string& assignment_id);  // "asg:" + assignment_id

struct UnitsReleased {
  std::string release_id = kCancelReleaseId;
  std::int64_t units_released = 0;
  std::int64_t units_assigned = 0;
  std::int64_t units_total = 0;
};
// The first answer to a cancel request: the units never assigned go back.
UnitsReleased units_released(std::int64_t units_total, std::int64_t units_assigned);
// The answer to a cancel request: the first one when released_at_cancel is empty, otherwise a repeat of
// the recorded figure with the current count.
UnitsReleased cancel_release(std::int64_t units_total, std::int64_t units_assigned,
                             std::optional<std::int64_t> released_at_cancel);
// An assignment's units back to a closed task; units_assigned is the count after they left it.
UnitsReleased assignment_release(const std::string& assignment_id, std::int64_t units, std::int64_t units_total,
                                 std::int64_t units_assigned);

}  // namespace crowd::matching
