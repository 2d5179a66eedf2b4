// The offer engine: turns the ranking into offer rows. Every function works inside the caller's
// transaction (an event's inbox transaction, a request's, or one per task in the periodic sweep).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace soci {
class session;
}
namespace crowd::db {
class Database;
}

namespace crowd::matching {

// Tuning, from the environment (defaults in brackets).
struct Settings {
  int offers_per_unit = 2;              // CROWD_MATCH_OFFERS_PER_UNIT [2]: live offers per free unit
  int min_offers = 3;                   // CROWD_MATCH_MIN_OFFERS [3]: live offers at least, when a unit is free
  std::size_t offers_max = 500;         // CROWD_MATCH_OFFERS_MAX [500]: live offers of one task at most
  std::int64_t offer_ttl_ms = 900000;   // CROWD_OFFER_TTL_S [900]: an offer's life (never past the deadline)
  std::int64_t retry_ms = 30000;        // CROWD_MATCH_RETRY_MS [30000]: sweep back-off of a task nobody fits
  int online_offers_max = 20;           // CROWD_MATCH_ONLINE_OFFERS_MAX [20]: offers made when a worker comes online
  int online_scan_max = 500;            // CROWD_MATCH_ONLINE_SCAN_MAX [500]: open tasks looked at for that worker
  int sweep_batch = 100;                // CROWD_MATCH_SWEEP_BATCH [100]: tasks re-offered per sweep at most
  std::int64_t sweep_period_ms = 1000;  // CROWD_MATCH_SWEEP_MS [1000]
  std::int64_t idempotency_ttl_ms = 86400000;  // CROWD_IDEMPOTENCY_TTL_S [86400]: Idempotency-Key memory

  static Settings from_env();
};

// Tops the task's live offers up to its target (offer_target) with the best-ranked workers not yet
// asked. Does nothing for a closed, full or overdue task. Returns how many offers it made.
int offer_round(soci::session& s, const std::string& task_id, const Settings& cfg, std::int64_t now_ms);

// Offers a worker who is (or just came) online the open tasks they fit and were not yet asked about,
// best first, at most online_offers_max. Returns how many offers it made.
int offer_open_tasks_to_worker(soci::session& s, const std::string& worker_id, const Settings& cfg,
                               std::int64_t now_ms);

struct SweepResult {
  std::int64_t offers_expired = 0;
  std::size_t tasks_rematched = 0;
  int offers_created = 0;
};
// The periodic job: expires offers past their time, then runs offer_round (one transaction each) for
// open tasks with free units and no pending offer. Safe to run on several instances at once.
SweepResult sweep(db::Database& db, const Settings& cfg, std::int64_t now_ms);

}  // namespace crowd::matching
