// The kit's housekeeping: pruning its tables and trimming its streams (housekeeping.hpp).
#include "common/housekeeping.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <stdexcept>
#include <utility>

#include "common/db.hpp"
#include "common/log.hpp"
#include "common/redis.hpp"

namespace crowd::housekeeping {
namespace {

// A stream entry id "ms-seq" as numbers.
struct EntryId {
  std::uint64_t ms = 0, seq = 0;
  auto operator<=>(const EntryId&) const = default;
  std::string str() const { return std::to_string(ms) + "-" + std::to_string(seq); }
};

std::optional<EntryId> parse_id(const std::string& id) {
  auto dash = id.find('-');
  try {
    std::size_t used = 0;
    EntryId e;
    e.ms = std::stoull(id.substr(0, dash), &used);
    if (used != id.substr(0, dash).size()) return std::nullopt;
    if (dash != std::string::npos) e.seq = std::stoull(id.substr(dash + 1));
    return e;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// Deletes what `sql` selects (its parameters: the cut-off time, then the batch size), batch by batch, each
// its own transaction, until a batch comes short or max_batches ran.
std::int64_t delete_in_batches(db::Database& db, const char* sql, std::int64_t before_ms, const Settings& s) {
  std::int64_t total = 0;
  for (int i = 0; i < s.max_batches; ++i) {
    const long long n =
        db.tx([&](soci::session& ses) { return db::prepared(ses, sql).run(before_ms, s.batch).affected_rows(); });
    total += n;
    if (n < s.batch) break;
  }
  return total;
}

// XINFO GROUPS of `stream` as name → fields; nullopt when the stream does not exist.
std::optional<std::vector<std::map<std::string, redis::Reply>>> groups_of(redis::Client& redis,
                                                                          const std::string& stream) {
  redis::Reply r = redis.command({"XINFO", "GROUPS", stream});
  if (r.is_error()) {
    if (r.str.find("no such key") != std::string::npos) return std::nullopt;
    throw std::runtime_error("redis: XINFO GROUPS: " + r.str);
  }
  std::vector<std::map<std::string, redis::Reply>> out;
  for (const redis::Reply& g : r.elements) {
    std::map<std::string, redis::Reply> f;
    for (std::size_t i = 0; i + 1 < g.elements.size(); i += 2) f[g.elements[i].str] = g.elements[i + 1];
    out.push_back(std::move(f));
  }
  return out;
}

// The oldest pending entry of `group` (XPENDING summary), if any.
std::optional<EntryId> oldest_pending(redis::Client& redis, const std::string& stream, const std::string& group) {
  redis::Reply r = redis.command({"XPENDING", stream, group});
  if (r.is_error()) throw std::runtime_error("redis: XPENDING: " + r.str);
  if (r.elements.size() < 2 || r.elements[0].integer == 0 || r.elements[1].kind != redis::Reply::Kind::string)
    return std::nullopt;
  auto id = parse_id(r.elements[1].str);
  if (!id) throw std::runtime_error("redis: XPENDING: unexpected id " + r.elements[1].str);
  return id;
}

// The first entry id `group` may still need: its oldest pending entry, else the one after its last
// delivered (entries up to that were delivered and, being no longer pending, acknowledged).
EntryId first_needed(redis::Client& redis, const std::string& stream, const std::map<std::string, redis::Reply>& g) {
  auto name = g.find("name");
  if (name == g.end()) throw std::runtime_error("redis: XINFO GROUPS: a group without a name");
  auto pending = g.find("pending");
  if (pending != g.end() && pending->second.integer > 0) {
    if (auto oldest = oldest_pending(redis, stream, name->second.str)) return *oldest;
  }
  auto last = g.find("last-delivered-id");
  std::optional<EntryId> id = last == g.end() ? std::nullopt : parse_id(last->second.str);
  if (!id) throw std::runtime_error("redis: XINFO GROUPS: no last-delivered-id");
  return EntryId{id->ms, id->seq + 1};
}

}  // namespace

Settings Settings::from(const config::ServiceConfig& cfg) {
  Settings s;
  s.idempotency_retention_ms = cfg.idempotency_retention_s * 1000;
  s.outbox_retention_ms = cfg.outbox_retention_s * 1000;
  s.inbox_retention_ms = cfg.inbox_retention_s * 1000;
  s.stream_retention_ms = cfg.stream_retention_s * 1000;
  s.dead_letter_retention_ms = cfg.dead_letter_retention_s * 1000;
  s.dead_letter_max = cfg.dead_letter_max;
  s.batch = cfg.housekeeping_batch;
  s.period_ms = cfg.housekeeping_period_ms;
  return s;
}

std::int64_t inbox_floor_ms(const Settings& s, std::int64_t claim_idle_ms) {
  if (s.stream_retention_ms == 0 || s.dead_letter_retention_ms == 0) return 0;
  return s.stream_retention_ms + s.dead_letter_retention_ms + std::max<std::int64_t>(claim_idle_ms, 0) +
         2 * s.period_ms;
}

Settings with_safe_inbox(Settings s, std::int64_t claim_idle_ms, bool* raised) {
  const std::int64_t floor = inbox_floor_ms(s, claim_idle_ms);
  const bool too_short = s.inbox_retention_ms != 0 && (floor == 0 || s.inbox_retention_ms < floor);
  if (too_short) {
    log::warn(
        "inbox retention raised: an inbox row must outlive every copy of its event that can still be "
        "delivered (stream + dead-letter retention + claim idle; for ever when either is kept for ever)",
        {{"configured_ms", s.inbox_retention_ms}, {"raised_to_ms", floor}});
    s.inbox_retention_ms = floor;
  }
  if (raised != nullptr) *raised = too_short;
  return s;
}

std::int64_t prune_idempotency(db::Database& db, std::int64_t now_ms, const Settings& s) {
  if (s.idempotency_retention_ms <= 0) return 0;
  return delete_in_batches(db,
                           "DELETE FROM idempotency_keys WHERE (scope, idem_key) IN (SELECT scope, idem_key FROM "
                           "idempotency_keys WHERE created_at_ms < :before ORDER BY created_at_ms LIMIT :n)",
                           now_ms - s.idempotency_retention_ms, s);
}

std::int64_t prune_outbox(db::Database& db, std::int64_t now_ms, const Settings& s) {
  if (s.outbox_retention_ms <= 0) return 0;
  // sent_at_ms < :before leaves the unsent rows (NULL) alone; the (sent_at_ms, id) index finds the rest.
  return delete_in_batches(db,
                           "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE sent_at_ms < :before "
                           "ORDER BY sent_at_ms LIMIT :n)",
                           now_ms - s.outbox_retention_ms, s);
}

std::int64_t prune_inbox(db::Database& db, std::int64_t now_ms, const Settings& s,
                         std::optional<std::int64_t> keep_from_ms) {
  if (s.inbox_retention_ms <= 0) return 0;
  std::int64_t before = now_ms - s.inbox_retention_ms;
  if (keep_from_ms) before = std::min(before, *keep_from_ms);
  return delete_in_batches(db,
                           "DELETE FROM inbox WHERE event_id IN (SELECT event_id FROM inbox WHERE processed_at_ms "
                           "< :before ORDER BY processed_at_ms LIMIT :n)",
                           before, s);
}

std::optional<std::int64_t> oldest_undone_ms(redis::Client& redis, const std::vector<std::string>& streams,
                                             const std::string& group) {
  std::optional<std::int64_t> oldest;
  for (const std::string& stream : streams) {
    auto groups = groups_of(redis, stream);
    if (!groups) continue;
    for (const auto& g : *groups) {
      auto name = g.find("name");
      if (name == g.end() || name->second.str != group) continue;
      std::optional<EntryId> undone = oldest_pending(redis, stream, group);
      if (!undone) {
        // Nothing pending: entries after the last delivered one (if any) are still to come. Their ids are
        // past it, so its time bounds them from below (lag is nil when Redis cannot tell: assume some).
        auto lag = g.find("lag");
        const bool maybe_more =
            lag == g.end() || lag->second.kind != redis::Reply::Kind::integer || lag->second.integer > 0;
        auto last = g.find("last-delivered-id");
        if (maybe_more && last != g.end()) undone = parse_id(last->second.str);
      }
      if (undone) {
        const auto ms = static_cast<std::int64_t>(undone->ms);
        oldest = oldest ? std::min(*oldest, ms) : ms;
      }
    }
  }
  return oldest;
}

std::optional<std::string> trim_floor(redis::Client& redis, const std::string& stream, std::int64_t now_ms,
                                      std::int64_t retention_ms) {
  if (retention_ms <= 0) return std::nullopt;
  auto groups = groups_of(redis, stream);
  if (!groups || groups->empty()) return std::nullopt;
  EntryId floor{static_cast<std::uint64_t>(std::max<std::int64_t>(now_ms - retention_ms, 0)), 0};
  for (const auto& g : *groups) floor = std::min(floor, first_needed(redis, stream, g));
  return floor.str();
}

std::int64_t trim_stream(redis::Client& redis, const std::string& stream, std::int64_t now_ms,
                         std::int64_t retention_ms) {
  std::optional<std::string> floor = trim_floor(redis, stream, now_ms, retention_ms);
  if (!floor) return 0;
  redis::Reply r = redis.command({"XTRIM", stream, "MINID", *floor});
  if (r.is_error()) throw std::runtime_error("redis: XTRIM: " + r.str);
  return r.integer;
}

std::int64_t cap_dead_letters(redis::Client& redis, const std::string& group, std::int64_t now_ms, const Settings& s) {
  const std::string stream = "dead:" + group;
  std::int64_t dropped = 0;
  if (s.dead_letter_retention_ms > 0) {
    const std::string floor = std::to_string(std::max<std::int64_t>(now_ms - s.dead_letter_retention_ms, 0)) + "-0";
    redis::Reply r = redis.command({"XTRIM", stream, "MINID", floor});
    if (r.is_error()) throw std::runtime_error("redis: XTRIM: " + r.str);
    dropped += r.integer;
  }
  if (s.dead_letter_max > 0) {
    redis::Reply r = redis.command({"XTRIM", stream, "MAXLEN", std::to_string(s.dead_letter_max)});
    if (r.is_error()) throw std::runtime_error("redis: XTRIM: " + r.str);
    dropped += r.integer;
  }
  if (dropped > 0) {
    log::warn("dead letters dropped (over their retention or the cap), oldest first",
              {{"stream", stream}, {"dropped", dropped}, {"max", s.dead_letter_max}});
  }
  return dropped;
}

Report run_once(db::Database& db, redis::Client& redis, const std::string& service,
                const std::vector<std::string>& subscribed, std::int64_t now_ms, const Settings& s) {
  Report r;
  auto step = [&](const char* what, auto&& fn) {
    try {
      fn();
    } catch (const std::exception& e) {
      ++r.failures;
      log::warn("housekeeping step failed", {{"step", what}, {"error", e.what()}});
    }
  };
  step("idempotency_keys", [&] { r.idempotency_keys = prune_idempotency(db, now_ms, s); });
  step("outbox", [&] { r.outbox = prune_outbox(db, now_ms, s); });
  if (!subscribed.empty()) {
    step("inbox", [&] { r.inbox = prune_inbox(db, now_ms, s, oldest_undone_ms(redis, subscribed, service)); });
    step("dead_letters", [&] { r.dead_letters = cap_dead_letters(redis, service, now_ms, s); });
  }
  step("stream", [&] { r.stream_entries = trim_stream(redis, "events:" + service, now_ms, s.stream_retention_ms); });
  if (r.idempotency_keys + r.outbox + r.inbox + r.stream_entries + r.dead_letters > 0) {
    log::info("housekeeping", {{"idempotency_keys", r.idempotency_keys},
                               {"outbox", r.outbox},
                               {"inbox", r.inbox},
                               {"stream_entries", r.stream_entries},
                               {"dead_letters", r.dead_letters}});
  }
  return r;
}

}  // namespace crowd::housekeeping
