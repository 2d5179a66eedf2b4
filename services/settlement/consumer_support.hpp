// What settlement's event handlers share (consumers.cpp: holds, releases, reservations and voids;
// consumers_pay.cpp: acceptances and rulings): reading an event's data (events::Fields: typed, ranged, one
// refusal naming every fault), refusing or waiting, and the assignment's reservation in two-phase escrow
// (rules.hpp, 003_escrow_reservations.sql).
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "common/events.hpp"
#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

// Thrown when an event overtook the event it needs (a release before the hold it releases, a cancel before
// the voids of reservations matching no longer counts): transient for the kit (retried with backoff for as
// long as it takes, never dead-lettered), unlike events::Refusal.
class WaitingForEvent : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace crowd::settlement

namespace crowd::settlement::detail {

// The bounds of the figures events carry (money in fen, units, instants in ms since the epoch).
inline constexpr std::int64_t kMaxEventFen = 1'000'000'000'000'000;
inline constexpr std::int64_t kMaxEventUnits = 1'000'000'000;
inline constexpr std::int64_t kMaxEventMs = 100'000'000'000'000;

// ---- The events as settlement reads them (each throws one events::Refusal naming every fault) ----
HoldRequest read_hold(const events::Event& e);       // task.created
Acceptance read_acceptance(const events::Event& e);  // delivery.accepted
Ruling read_ruling(const events::Event& e);          // dispute.resolved
OfferRecord read_offer(const events::Event& e);      // offer.created (received_at_ms left 0)
InvoiceSeen read_invoice(const events::Event& e);    // invoice.issued
// task.units_released (matching) and task.cancelled (tasks).
struct ReleaseEvent {
  std::string task_id;
  std::string enterprise_id;
  std::int64_t units = 0;
  std::string release_id;             // absent or null → kCancelReleaseId
  bool released_by_matching = false;  // task.cancelled only
};
ReleaseEvent read_release(const events::Event& e);
// assignment.created (with its currency, which must be CNY), delivery.rejected, assignment.expired: the
// figures of one assignment.
struct AssignmentEvent {
  AssignmentFigures figures;
  std::string currency;  // "" when the event carries none
};
AssignmentEvent read_assignment(const events::Event& e, bool with_currency);

// Logs and throws events::Refusal (retried, then dead-lettered).
[[noreturn]] void refuse(const events::Event& e, const std::string& why);
// Logs and throws WaitingForEvent (retried for as long as it takes, never dead-lettered).
[[noreturn]] void wait_for(const events::Event& e, const std::string& why);

// Refuses the event when its figures contradict the known reservation's.
void check_same_assignment(const events::Event& e, const Reservation& known, ReserveRequest r);
// Reserves the assignment's share now ("rsv:{asg}" and the row).
Reservation reserve(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r);
// Voids the assignment's reservation ("void:{asg}"), or writes its tombstone when nothing was reserved yet.
void void_reservation(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r,
                      const std::string& why);

}  // namespace crowd::settlement::detail
