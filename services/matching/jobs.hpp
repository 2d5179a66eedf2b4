// Matching's periodic work: the sweep, every CROWD_MATCH_SWEEP_MS.
#pragma once

#include <cstddef>
#include <cstdint>

#include "services/matching/settings.hpp"

namespace crowd {
class Service;
}
namespace crowd::db {
class Database;
}

namespace crowd::matching {

struct SweepResult {
  std::int64_t offers_expired = 0;
  std::size_t tasks_rematched = 0;
  int offers_created = 0;
};
// Expires offers past their time, then runs offer_round (one transaction each) for open tasks with free
// units and no pending offer. (Idempotency-Key records are the kit's housekeeping: CROWD_IDEMPOTENCY_RETENTION_S.) Safe
// to run on several instances at once.
SweepResult sweep(db::Database& db, const Settings& cfg, std::int64_t now_ms);

// "matching-sweep": sweep() every sweep_period_ms. `cfg` must outlive the service.
void add_jobs(Service& svc, const Settings& cfg);

}  // namespace crowd::matching
