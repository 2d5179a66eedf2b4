// What settlement's event handlers share (consumers.cpp: holds, releases, reservations and voids;
// consumers_pay.cpp: acceptances and rulings): reading an event's data (events::Fields: typed, ranged, one
// refusal naming every fault), refusing or waiting, and carrying out the planner's decision.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include <type_traits>
#include <variant>

#include "common/events.hpp"
#include "common/log.hpp"
#include "services/settlement/planner.hpp"
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
// task.units_released (matching) and task.cancelled (tasks): release_id absent or null → kCancelReleaseId.
ReleaseRequest read_release(const events::Event& e);
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

// What assignment.created, the voids and the pay events read: the task's escrow, the assignment's reservation
// (or a settlement from before reservations) and, when neither is known, the escrow's unreserved money.
AssignmentLoad load_assignment(soci::session& s, const AssignmentFigures& f);

// What a handler does with the planner's decision (planner.hpp): a plan goes to its applier (apply.hpp), a
// no-op is logged (when it says why), a refusal refused, a wait waited for.
template <class Decision, class Apply>
void carry_out(soci::session& s, const events::Event& e, const Decision& d, Apply&& apply) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, NoOp>) {
          if (x.why.empty()) return;
          nlohmann::json fields = x.fields;
          fields["event_id"] = e.id;
          log::info(x.why, fields);
        } else if constexpr (std::is_same_v<T, Refuse>) {
          refuse(e, x.why);
        } else if constexpr (std::is_same_v<T, Wait>) {
          wait_for(e, x.why);
        } else {
          apply(s, e, x);
        }
      },
      d);
}

}  // namespace crowd::settlement::detail
