#include "services/matching/settings.hpp"

#include <algorithm>

#include "common/config.hpp"

namespace crowd::matching {

namespace {

std::int64_t clamp_env(const char* name, std::int64_t def, std::int64_t min, std::int64_t max) {
  return std::clamp(config::env_int(name, def), min, max);
}

}  // namespace

Settings Settings::from_env() {
  Settings c;
  c.offers_per_unit = static_cast<int>(clamp_env("CROWD_MATCH_OFFERS_PER_UNIT", c.offers_per_unit, 1, 100));
  c.min_offers = static_cast<int>(clamp_env("CROWD_MATCH_MIN_OFFERS", c.min_offers, 1, 1000));
  c.offers_max = static_cast<std::size_t>(clamp_env("CROWD_MATCH_OFFERS_MAX", 500, 1, 100000));
  c.offer_ttl_ms = clamp_env("CROWD_OFFER_TTL_S", 900, 1, 30LL * 86400) * 1000;
  c.retry_ms = clamp_env("CROWD_MATCH_RETRY_MS", c.retry_ms, 0, 3600000);
  c.online_offers_max = static_cast<int>(clamp_env("CROWD_MATCH_ONLINE_OFFERS_MAX", c.online_offers_max, 0, 1000));
  c.sweep_batch = static_cast<int>(clamp_env("CROWD_MATCH_SWEEP_BATCH", c.sweep_batch, 1, 10000));
  c.sweep_period_ms = clamp_env("CROWD_MATCH_SWEEP_MS", c.sweep_period_ms, 50, 600000);
  return c;
}

}  // namespace crowd::matching
