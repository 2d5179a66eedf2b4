// What settlement's event handlers share (consumers.cpp: holds, releases, reservations and voids;
// consumers_pay.cpp: acceptances and rulings): reading an event's data, refusing or waiting, and the
// assignment's reservation in two-phase escrow (rules.hpp, 003_escrow_reservations.sql).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/events.hpp"
#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement::detail {

// A required member of the event's data (std::invalid_argument when missing or mistyped: a refusal).
std::string str_of(const events::Event& e, const char* name);
std::int64_t int_of(const events::Event& e, const char* name);
// Logs and throws events::Refusal (retried, then dead-lettered).
[[noreturn]] void refuse(const events::Event& e, const std::string& why);
// Logs and throws WaitingForEvent (retried for as long as it takes, never dead-lettered).
[[noreturn]] void wait_for(const events::Event& e, const std::string& why);

// What an assignment holds, from any event that names it (consumer_support.cpp).
ReserveRequest reserve_request_of(const events::Event& e, const std::string& assignment_id, std::int64_t units,
                                  const std::string& worker_id, const std::optional<EscrowState>& escrow);
// Refuses the event when its figures contradict the known reservation's.
void check_same_assignment(const events::Event& e, const Reservation& known, ReserveRequest r);
// The row of an assignment's reservation, from the figures of the event that names it.
Reservation reservation_of(const ReserveRequest& r, const std::string& status);
// Reserves the assignment's share now ("rsv:{asg}" and the row).
Reservation reserve(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r);
// Voids the assignment's reservation ("void:{asg}"), or writes its tombstone when nothing was reserved yet.
void void_reservation(soci::session& s, const events::Event& e, const EscrowState& escrow, const ReserveRequest& r,
                      const std::string& why);

}  // namespace crowd::settlement::detail
