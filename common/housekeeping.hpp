// Housekeeping the kit runs for every service (Service::run registers it as the job "housekeeping", every
// housekeeping_period_ms): what the kit's tables and streams accumulate is pruned after its retention.
//
//   idempotency_keys  rows created before now - idempotency retention
//   outbox            rows sent before now - outbox retention (unsent rows are never touched)
//   inbox             rows processed before now - inbox retention, and never at or after the oldest entry
//                     still pending (or not yet delivered) for this service's group on a subscribed stream
//   events:SERVICE    XTRIM MINID below what every consumer group has acknowledged (its oldest pending
//                     entry, else past its last-delivered id) and older than the stream retention; a stream
//                     that no group reads yet is not trimmed (a consumer deployed later reads it from 0)
//   dead:SERVICE      entries older than the dead-letter retention, then capped at dead_letter_max entries
//                     (oldest dropped, logged at warn and counted on /metrics)
//
// Rows go in small batches (a bounded DELETE by primary key through the age index, each its own short
// transaction), so that a backlog never holds the one writer for long. A retention of 0 means never pruned
// (a service whose keys must stay for good sets Service::housekeeping().idempotency_retention_ms = 0).
// Entry ids are the XADD time in ms (Redis' clock); ages are measured with the kit clock (clock::now_ms).
//
// Why the inbox outlives the rest (checked at start, with_safe_inbox): the inbox is what makes a second
// delivery of an applied event harmless, so its row must outlive every copy of the event that could still be
// delivered: a stream entry lives at least the stream retention (a pending one for ever), a dead letter can be
// redriven for the dead-letter retention, and an applied entry whose XACK was lost comes back after the claim
// idle time. So inbox retention >= stream + dead-letter retention + claim idle (+ two periods of slack), and
// 0 (kept for ever) when either of those is kept for ever. A shorter setting is raised to that, with a warning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/config.hpp"
#include "common/fwd.hpp"

namespace crowd::housekeeping {

struct Settings {
  std::int64_t idempotency_retention_ms = 0;  // 0: never pruned
  std::int64_t outbox_retention_ms = 0;
  std::int64_t inbox_retention_ms = 0;
  std::int64_t stream_retention_ms = 0;
  std::int64_t dead_letter_retention_ms = 0;
  std::int64_t dead_letter_max = 0;  // 0: no cap
  int batch = 500;                   // rows per DELETE
  int max_batches = 100;             // per table and run: the rest waits for the next run
  std::int64_t period_ms = 60000;

  static Settings from(const config::ServiceConfig& cfg);
};

// The shortest inbox retention that keeps an inbox row while its event can still be delivered (see above);
// 0 when the inbox must be kept for ever.
std::int64_t inbox_floor_ms(const Settings& s, std::int64_t claim_idle_ms);
// `s` with the inbox retention raised to inbox_floor_ms when it is shorter (0 is never shorter); `raised`
// tells whether it was.
Settings with_safe_inbox(Settings s, std::int64_t claim_idle_ms, bool* raised = nullptr);

// Each returns how many rows it deleted; nothing when the retention is 0.
std::int64_t prune_idempotency(db::Database& db, std::int64_t now_ms, const Settings& s);
std::int64_t prune_outbox(db::Database& db, std::int64_t now_ms, const Settings& s);
// keep_from_ms: no row processed at or after it goes (the oldest entry still pending for this service).
std::int64_t prune_inbox(db::Database& db, std::int64_t now_ms, const Settings& s,
                         std::optional<std::int64_t> keep_from_ms);

// The time (ms) of the oldest entry of `streams` that `group` may still get delivered (pending, or not
// delivered yet); nullopt when there is none.
std::optional<std::int64_t> oldest_undone_ms(redis::Client& redis, const std::vector<std::string>& streams,
                                             const std::string& group);
// The MINID below which every group has acknowledged every entry of `stream` and that is older than
// `retention_ms`; nullopt when nothing may be trimmed (no stream, no group, retention 0).
std::optional<std::string> trim_floor(redis::Client& redis, const std::string& stream, std::int64_t now_ms,
                                      std::int64_t retention_ms);
// XTRIM stream MINID trim_floor(...): returns how many entries went.
std::int64_t trim_stream(redis::Client& redis, const std::string& stream, std::int64_t now_ms,
                         std::int64_t retention_ms);
// dead:GROUP: entries older than the dead-letter retention, then those over dead_letter_max (oldest first).
// Returns how many went.
std::int64_t cap_dead_letters(redis::Client& redis, const std::string& group, std::int64_t now_ms, const Settings& s);

struct Report {
  std::int64_t idempotency_keys = 0, outbox = 0, inbox = 0, stream_entries = 0, dead_letters = 0;
  int failures = 0;  // steps that threw (logged); the others still ran
};
// One run of everything for `service`: its own stream, its dead letters and its inbox guarded by what its
// group still has pending on `subscribed` (the streams it consumes; empty: a service that only produces).
Report run_once(db::Database& db, redis::Client& redis, const std::string& service,
                const std::vector<std::string>& subscribed, std::int64_t now_ms, const Settings& s);

}  // namespace crowd::housekeeping
