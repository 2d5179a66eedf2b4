// What a worker does with an offer, each inside the caller's one write transaction.
#pragma once

#include <cstdint>
#include <string>

#include "services/matching/engine.hpp"
#include "services/matching/outcome.hpp"

namespace soci {
class session;
}

namespace crowd::matching {

// Accepts offer_id for worker_id: takes one unit of the task with the conditional update, creates the
// assignment (1 unit, amount = pay per unit), marks the offer accepted, adds 1 to the worker's load,
// publishes assignment.created, and withdraws the task's other pending offers when it is now full.
//   201 the new assignment; 200 the same assignment when this offer was already accepted (idempotent);
//   404 not-found (no such offer, or another worker's);
//   410 offer-expired; 409 offer-declined | no-units-left | task-closed | task-deadline-passed | offer-withdrawn
//   (the offer is then marked expired or withdrawn, and that change commits).
Outcome accept_offer(soci::session& s, const std::string& offer_id, const std::string& worker_id, std::int64_t now_ms);

// Declines offer_id for worker_id, then lets the engine offer the unit to the next candidate.
//   200 the offer (status declined), also when it already was; 404 not-found;
//   410 offer-expired; 409 offer-accepted | offer-withdrawn.
Outcome decline_offer(soci::session& s, const std::string& offer_id, const std::string& worker_id, const Settings& cfg,
                      std::int64_t now_ms);

}  // namespace crowd::matching
