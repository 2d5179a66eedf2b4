// Matching's tuning, read once at start from the environment (defaults in brackets; out-of-range values are
// clamped to the range given).
#pragma once

#include <cstddef>
#include <cstdint>

namespace crowd::matching {

struct Settings {
  int offers_per_unit = 2;       // CROWD_MATCH_OFFERS_PER_UNIT [2] (1..100): live offers per free unit
  int min_offers = 3;            // CROWD_MATCH_MIN_OFFERS [3] (1..1000): live offers at least, when a unit is free
  std::size_t offers_max = 500;  // CROWD_MATCH_OFFERS_MAX [500] (1..100000): live offers of one task at most
  std::int64_t offer_ttl_ms =
      900000;                     // CROWD_OFFER_TTL_S [900] (1..30 days): an offer's life (never past the deadline)
  std::int64_t retry_ms = 30000;  // CROWD_MATCH_RETRY_MS [30000] (0..3600000): sweep back-off of a task nobody fits
  // CROWD_MATCH_ONLINE_OFFERS_MAX [20] (0..1000): offers made at most by one availability call (PUT
  // /v1/me/availability going or staying online): the best-fitting open tasks of all those the worker
  // qualifies for, made in that one call. 0: none (the sweep and new tasks still reach the worker).
  int online_offers_max = 20;
  int sweep_batch = 100;                // CROWD_MATCH_SWEEP_BATCH [100] (1..10000): tasks re-offered per sweep at most
  std::int64_t sweep_period_ms = 1000;  // CROWD_MATCH_SWEEP_MS [1000] (50..600000)

  static Settings from_env();
};

}  // namespace crowd::matching
