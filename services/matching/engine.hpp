// The offer engine: turns the ranking into offer rows. Every function works inside the caller's
// transaction (an event's inbox transaction, a request's, or one per task in the periodic sweep).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "services/matching/settings.hpp"

namespace soci {
class session;
}

namespace crowd::matching {

// Tops the task's live offers up to its target (offer_target) with the best-ranked workers not yet
// asked. Does nothing for a closed, full or overdue task. Returns how many offers it made.
int offer_round(soci::session& s, const std::string& task_id, const Settings& cfg, std::int64_t now_ms);

// Offers a worker who is (or just came) online the open tasks they fit and were not yet asked about, best
// first: every open task the SQL pre-filter lets through (free units, deadline ahead, not yet offered to or
// taken by this worker, the required skills and the task's radius box) is ranked by evaluate() (skills,
// credit, distance, load: ranking.hpp), newest and oldest alike, and the best online_offers_max are offered
// in this one call (a candidate lost to a concurrent round is replaced by the next best). Equal scores: the
// older task first. Returns how many offers it made.
int offer_open_tasks_to_worker(soci::session& s, const std::string& worker_id, const Settings& cfg,
                               std::int64_t now_ms);

}  // namespace crowd::matching
