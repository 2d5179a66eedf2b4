// Configuration comes from environment variables only (table in README.md). No machine paths in code:
// the data folder defaults to "./data" relative to the working directory.
#pragma once

#include <cstdint>
#include <string>

namespace crowd::config {

std::string env_str(const char* name, const std::string& def);
std::int64_t env_int(const char* name, std::int64_t def);
bool env_bool(const char* name, bool def);

struct ServiceConfig {
  std::string service;             // "tasks"
  std::string host = "127.0.0.1";  // CROWD_HTTP_HOST
  int port = 0;                    // CROWD_HTTP_PORT (default per service)
  int workers = 4;                 // CROWD_WORKERS: blocking pool for handlers, SOCI and hiredis
  std::string data_dir = "data";   // CROWD_DATA_DIR
  std::string db_url;              // CROWD_DB_URL (default sqlite3://db=DATA_DIR/SERVICE.db timeout=5)
  std::string redis_url = "redis://127.0.0.1:6379";  // CROWD_REDIS_URL
  std::string token_secret;                          // CROWD_TOKEN_SECRET (required)
  std::int64_t token_ttl_s = 3600;                   // CROWD_TOKEN_TTL_S
  std::size_t body_limit_bytes = 1 << 20;            // CROWD_BODY_LIMIT_BYTES
  std::int64_t header_timeout_ms = 10000;            // CROWD_HEADER_TIMEOUT_MS: whole request must arrive in it
  std::int64_t idle_timeout_ms = 30000;              // CROWD_IDLE_TIMEOUT_MS: keep-alive connection idle limit
  std::size_t header_limit_bytes = 16 * 1024;        // CROWD_HEADER_LIMIT_BYTES: request line + headers (431 above)
  // CROWD_HANDLER_TIMEOUT_MS: a request whose handler has not returned within it is answered 504 (the
  // handler runs on to its end on its worker and counts in flight until then); 0: no budget.
  std::int64_t handler_timeout_ms = 15000;
  int max_connections = 1024;              // CROWD_MAX_CONNECTIONS
  int max_in_flight = 256;                 // CROWD_MAX_IN_FLIGHT: requests read and not yet answered (503 above)
  std::string consumer_name;               // CROWD_CONSUMER_NAME (default SERVICE-HOST-PID)
  int event_batch = 100;                   // CROWD_EVENT_BATCH: COUNT of XREADGROUP and outbox batch
  int event_block_ms = 500;                // CROWD_EVENT_BLOCK_MS (below the Redis read timeout)
  int max_deliveries = 5;                  // CROWD_MAX_DELIVERIES before dead-lettering
  std::int64_t claim_idle_ms = 15000;      // CROWD_CLAIM_IDLE_MS: pending this long → claimed
  std::int64_t shutdown_grace_ms = 10000;  // CROWD_SHUTDOWN_GRACE_MS
  std::string log_level = "info";          // CROWD_LOG_LEVEL
  // Housekeeping (common/housekeeping.hpp; 0 = never pruned). Service::housekeeping() may override them.
  std::int64_t idempotency_retention_s = 24 * 3600;  // CROWD_IDEMPOTENCY_RETENTION_S: Idempotency-Key records
  std::int64_t outbox_retention_s = 24 * 3600;       // CROWD_OUTBOX_RETENTION_S: outbox rows after sent
  std::int64_t stream_retention_s = 3 * 24 * 3600;   // CROWD_STREAM_RETENTION_S: acknowledged entries of events:SERVICE
  std::int64_t dead_letter_retention_s = 7 * 24 * 3600;  // CROWD_DEAD_LETTER_RETENTION_S: entries of dead:SERVICE
  std::int64_t dead_letter_max = 10000;                  // CROWD_DEAD_LETTER_MAX: dead:SERVICE capped (oldest dropped)
  // CROWD_INBOX_RETENTION_S: inbox rows; at least stream + dead-letter retention + claim idle (raised at start)
  std::int64_t inbox_retention_s = 14 * 24 * 3600;
  std::int64_t housekeeping_period_ms = 60000;  // CROWD_HOUSEKEEPING_PERIOD_MS
  int housekeeping_batch = 500;                 // CROWD_HOUSEKEEPING_BATCH: rows per DELETE (one short transaction)

  static ServiceConfig from_env(const std::string& service, int default_port);
};

}  // namespace crowd::config
