#include "common/config.hpp"

#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace crowd::config {

std::string env_str(const char* name, const std::string& def) {
  const char* v = std::getenv(name);
  return (v != nullptr && *v != '\0') ? std::string(v) : def;
}

std::int64_t env_int(const char* name, std::int64_t def) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return def;
  char* end = nullptr;
  long long n = std::strtoll(v, &end, 10);
  if (end == v || *end != '\0') throw std::invalid_argument(std::string(name) + " must be an integer");
  return n;
}

bool env_bool(const char* name, bool def) {
  std::string v = env_str(name, "");
  if (v.empty()) return def;
  return v == "1" || v == "true" || v == "yes" || v == "on";
}

ServiceConfig ServiceConfig::from_env(const std::string& service, int default_port) {
  ServiceConfig c;
  c.service = service;
  c.host = env_str("CROWD_HTTP_HOST", c.host);
  c.port = static_cast<int>(env_int("CROWD_HTTP_PORT", default_port));
  c.workers = static_cast<int>(env_int("CROWD_WORKERS", c.workers));
  c.data_dir = env_str("CROWD_DATA_DIR", c.data_dir);
  c.db_url = env_str("CROWD_DB_URL", "sqlite3://db=" + c.data_dir + "/" + service + ".db timeout=5");
  c.redis_url = env_str("CROWD_REDIS_URL", c.redis_url);
  c.token_secret = env_str("CROWD_TOKEN_SECRET", "");
  c.token_ttl_s = env_int("CROWD_TOKEN_TTL_S", c.token_ttl_s);
  c.body_limit_bytes = static_cast<std::size_t>(env_int("CROWD_BODY_LIMIT_BYTES", c.body_limit_bytes));
  c.header_timeout_ms = env_int("CROWD_HEADER_TIMEOUT_MS", c.header_timeout_ms);
  c.idle_timeout_ms = env_int("CROWD_IDLE_TIMEOUT_MS", c.idle_timeout_ms);
  c.handler_timeout_ms = env_int("CROWD_HANDLER_TIMEOUT_MS", c.handler_timeout_ms);
  c.header_limit_bytes = static_cast<std::size_t>(env_int("CROWD_HEADER_LIMIT_BYTES", c.header_limit_bytes));
  c.max_connections = static_cast<int>(env_int("CROWD_MAX_CONNECTIONS", c.max_connections));
  c.max_in_flight = static_cast<int>(env_int("CROWD_MAX_IN_FLIGHT", c.max_in_flight));
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  c.consumer_name =
      env_str("CROWD_CONSUMER_NAME", service + "-" + std::string(host) + "-" + std::to_string(::getpid()));
  c.event_batch = static_cast<int>(env_int("CROWD_EVENT_BATCH", c.event_batch));
  c.event_block_ms = static_cast<int>(env_int("CROWD_EVENT_BLOCK_MS", c.event_block_ms));
  c.max_deliveries = static_cast<int>(env_int("CROWD_MAX_DELIVERIES", c.max_deliveries));
  c.claim_idle_ms = env_int("CROWD_CLAIM_IDLE_MS", c.claim_idle_ms);
  c.shutdown_grace_ms = env_int("CROWD_SHUTDOWN_GRACE_MS", c.shutdown_grace_ms);
  c.log_level = env_str("CROWD_LOG_LEVEL", c.log_level);
  c.idempotency_retention_s = env_int("CROWD_IDEMPOTENCY_RETENTION_S", c.idempotency_retention_s);
  c.outbox_retention_s = env_int("CROWD_OUTBOX_RETENTION_S", c.outbox_retention_s);
  c.inbox_retention_s = env_int("CROWD_INBOX_RETENTION_S", c.inbox_retention_s);
  c.stream_retention_s = env_int("CROWD_STREAM_RETENTION_S", c.stream_retention_s);
  c.dead_letter_retention_s = env_int("CROWD_DEAD_LETTER_RETENTION_S", c.dead_letter_retention_s);
  c.dead_letter_max = env_int("CROWD_DEAD_LETTER_MAX", c.dead_letter_max);
  c.housekeeping_period_ms = env_int("CROWD_HOUSEKEEPING_PERIOD_MS", c.housekeeping_period_ms);
  c.housekeeping_batch = static_cast<int>(env_int("CROWD_HOUSEKEEPING_BATCH", c.housekeeping_batch));
  if (c.workers < 1 || c.workers > 256) throw std::invalid_argument("CROWD_WORKERS must be 1..256");
  if (c.port < 0 || c.port > 65535) throw std::invalid_argument("CROWD_HTTP_PORT must be 0..65535");
  if (c.event_block_ms < 0 || c.event_block_ms > 4000)
    throw std::invalid_argument("CROWD_EVENT_BLOCK_MS must be 0..4000 (below the Redis read timeout)");
  if (c.header_limit_bytes < 1024) throw std::invalid_argument("CROWD_HEADER_LIMIT_BYTES must be at least 1024");
  if (c.max_in_flight < 1) throw std::invalid_argument("CROWD_MAX_IN_FLIGHT must be at least 1");
  if (c.handler_timeout_ms < 0) throw std::invalid_argument("CROWD_HANDLER_TIMEOUT_MS must be 0 (none) or more");
  for (auto [name, v] : {std::pair{"CROWD_IDEMPOTENCY_RETENTION_S", c.idempotency_retention_s},
                         {"CROWD_OUTBOX_RETENTION_S", c.outbox_retention_s},
                         {"CROWD_INBOX_RETENTION_S", c.inbox_retention_s},
                         {"CROWD_STREAM_RETENTION_S", c.stream_retention_s},
                         {"CROWD_DEAD_LETTER_RETENTION_S", c.dead_letter_retention_s},
                         {"CROWD_DEAD_LETTER_MAX", c.dead_letter_max}}) {
    if (v < 0) throw std::invalid_argument(std::string(name) + " must be 0 (never pruned) or more");
  }
  if (c.housekeeping_period_ms < 100) throw std::invalid_argument("CROWD_HOUSEKEEPING_PERIOD_MS must be at least 100");
  if (c.housekeeping_batch < 1) throw std::invalid_argument("CROWD_HOUSEKEEPING_BATCH must be at least 1");
  return c;
}

}  // namespace crowd::config
