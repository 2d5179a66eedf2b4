// Consuming events: subscriptions, the inbox, and one batch applied in one transaction (consumer.hpp).
#include "common/events/consumer.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <optional>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/crash.hpp"
#include "common/db.hpp"
#include "common/events/batch.hpp"
#include "common/invariant.hpp"
#include "common/log.hpp"
#include "common/redis.hpp"

namespace crowd::events {
namespace detail {

namespace {

// Error texts can carry a DETAIL line with row values (PostgreSQL); logs must not carry personal data.
constexpr std::size_t kLoggedErrorMax = 200;

std::optional<Event> parse_event(const redis::StreamEntry& entry) {
  try {
    return Event::from_envelope(nlohmann::json::parse(entry.field("event")));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// A failed application: only a refusal (the event breaks the contract: retrying cannot help) counts
// towards dead-lettering, once the entry has been delivered max_deliveries times; any other failure
// (database or network trouble) is retried for as long as it lasts, so an outage never parks a payment.
void failed(const Pending& p, const std::string& error, bool refused, const ConsumerOptions& opt, Outcome& out) {
  if (refused && p.deliveries >= opt.max_deliveries) {
    out.dead.emplace_back(*p.entry, "refused: " + error);
    return;
  }
  if (!refused) ++out.transient_failures;
  log::warn(refused ? "event refused; the entry stays pending until it is retried or dead-lettered"
                    : "event handler failed; the entry stays pending and is retried",
            {{"event_id", p.event.id},
             {"type", p.event.type},
             {"stream", p.entry->stream},
             {"entry_id", p.entry->id},
             {"deliveries", p.deliveries},
             {"error", error}});
}

}  // namespace

std::string first_line(const std::string& text) {
  std::string out = text.substr(0, text.find('\n'));
  if (out.size() > kLoggedErrorMax) out.resize(kLoggedErrorMax);
  return out;
}

// Sorts out entries that cannot be applied (unparseable or too new: dead; a type this service does not
// consume: acknowledged unapplied) and returns the rest.
std::vector<Pending> triage(const Subscriptions& subs, const std::vector<Delivered>& batch, Outcome& out) {
  std::vector<Pending> ready;
  for (const Delivered& d : batch) {
    std::optional<Event> ev = parse_event(*d.entry);
    if (!ev) {
      out.dead.emplace_back(*d.entry, "unparseable");
      continue;
    }
    const Handler* handler = subs.find(ev->type);
    if (handler == nullptr) {
      out.acks.emplace_back(d.entry->stream, d.entry->id);
      continue;
    }
    if (ev->version > kMaxVersion) {
      out.dead.emplace_back(*d.entry, "unsupported_version");
      continue;
    }
    ready.push_back({d.entry, d.deliveries, std::move(*ev), handler});
  }
  return ready;
}

// Applies a batch in ONE transaction (batching at the data boundary: one commit for many events). The
// whole batch is tried first without savepoints; when any event fails, that transaction is rolled back and
// the batch applied again with each event inside its own savepoint, so that a failing event is rolled back
// alone. Each event's effect and its inbox row commit together, so a redelivery after a crash between
// commit and XACK is recognised and only acknowledged. When the transaction itself fails, nothing was
// applied and every event of the batch stays pending as a transient failure. A broken invariant
// (crowd::InvariantBroken) rolls the whole batch back and sets out.halted: nothing of it is acknowledged,
// dead-lettered or counted as a delivery failure.
void apply_batch(db::Database& db, const std::vector<Pending>& ready, const ConsumerOptions& opt, Outcome& out) {
  if (ready.empty()) return;
  struct Failure {
    std::size_t index;
    std::string error;
    bool refused;
  };
  std::vector<std::size_t> applied;
  std::vector<Failure> failures;
  std::string tx_error;
  auto halt = [&](const Pending* p, const std::string& error) {
    out.halted.emplace(first_line(error), p ? p->event.id : "", p ? p->event.type : "", p ? p->entry->stream : "",
                       p ? p->entry->id : "");
  };
  // Fast path: the whole batch without savepoints (two statements per event fewer, and on PostgreSQL two
  // round trips). Nearly every batch applies cleanly; when any event fails, all of it rolls back together
  // and the batch is applied again below, a savepoint per event, so that the failure is isolated.
  if (ready.size() > 1) {
    try {
      db.tx([&](soci::session& s) {
        for (const Pending& p : ready) {
          if (inbox_claim(s, p.event.id, p.event.type)) (*p.handler)(s, p.event);
          crash_point("consume.before_commit");
        }
      });
      crash_point("consume.after_commit");
      for (const Pending& p : ready) out.acks.emplace_back(p.entry->stream, p.entry->id);
      return;
    } catch (const std::exception& e) {
      log::debug("batch failed as a whole; applying it event by event",
                 {{"events", ready.size()}, {"error", first_line(e.what())}});
    } catch (...) {
      log::debug("batch failed as a whole; applying it event by event", {{"events", ready.size()}});
    }
  }
  try {
    db.tx([&](soci::session& s) {
      applied.clear();
      failures.clear();
      for (std::size_t i = 0; i < ready.size(); ++i) {
        db::savepoint(s);
        std::string error;
        bool refused = false;
        try {
          if (inbox_claim(s, ready[i].event.id, ready[i].event.type)) (*ready[i].handler)(s, ready[i].event);
          db::release_savepoint(s);  // runs the before-commit hooks inside the savepoint
          applied.push_back(i);
          crash_point("consume.before_commit");
          continue;
        } catch (const InvariantBroken& e) {
          halt(&ready[i], e.what());
          throw;  // the whole transaction rolls back
        } catch (const std::exception& e) {
          error = first_line(e.what());
          refused = is_refusal(e);
        } catch (...) {
          error = "unknown exception";
        }
        db::rollback_to_savepoint(s);
        failures.push_back({i, error, refused});
      }
    });
  } catch (const InvariantBroken& e) {
    if (!out.halted) halt(nullptr, e.what());  // from the commit's hooks: no one event to name
  } catch (const std::exception& e) {
    tx_error = first_line(e.what());
  }
  if (out.halted) return;
  if (!tx_error.empty()) {
    for (const Pending& p : ready) failed(p, "transaction failed: " + tx_error, false, opt, out);
    return;
  }
  crash_point("consume.after_commit");
  for (std::size_t i : applied) out.acks.emplace_back(ready[i].entry->stream, ready[i].entry->id);
  for (const Failure& f : failures) failed(ready[f.index], f.error, f.refused, opt, out);
}

// Dead-letters, then acknowledges the batch: one XACK per stream, all in one round trip.
void finish(redis::Client& redis, const std::string& group, Outcome& out) {
  dead_letter(redis, group, out);
  if (out.acks.empty()) return;
  std::map<std::string, std::vector<std::string>> by_stream;
  for (const auto& [stream, id] : out.acks) by_stream[stream].push_back(id);
  std::vector<std::vector<std::string>> cmds;
  for (auto& [stream, ids] : by_stream) {
    std::vector<std::string> argv{"XACK", stream, group};
    argv.insert(argv.end(), ids.begin(), ids.end());
    cmds.push_back(std::move(argv));
  }
  for (const redis::Reply& r : redis.pipeline(cmds)) {
    if (r.is_error()) throw std::runtime_error("redis: XACK: " + r.str);
  }
}

std::unique_ptr<ReadBatch> read_batch(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  auto b = std::make_unique<ReadBatch>();
  b->entries = redis.read_group(opt.group, opt.consumer, subs.streams(), opt.batch, opt.block_ms);
  std::vector<Delivered> delivered;
  delivered.reserve(b->entries.size());
  for (const redis::StreamEntry& e : b->entries) delivered.push_back({&e, 1});
  b->ready = triage(subs, delivered, b->out);
  return b;
}

int apply_read(db::Database& db, redis::Client& redis, const ConsumerOptions& opt, ReadBatch& b) {
  apply_batch(db, b.ready, opt, b.out);
  finish(redis, opt.group, b.out);
  if (b.out.halted) throw *b.out.halted;
  if (b.out.transient_failures > 0) throw TransientFailure(b.out.transient_failures);
  return static_cast<int>(b.entries.size());
}

}  // namespace detail

using namespace detail;

void Subscriptions::on(const std::string& producer, const std::string& type, Handler h) {
  if (handlers_.count(type) != 0) throw std::logic_error("events: two handlers for " + type);
  if (std::find(producers_.begin(), producers_.end(), producer) == producers_.end()) producers_.push_back(producer);
  handlers_.emplace(type, std::move(h));
  producer_of_.emplace(type, producer);
}

std::vector<std::pair<std::string, std::string>> Subscriptions::list() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [type, producer] : producer_of_) out.emplace_back(producer, type);
  return out;
}

std::vector<std::string> Subscriptions::streams() const {
  std::vector<std::string> out;
  for (const auto& p : producers_) out.push_back(stream_of(p));
  return out;
}

const Handler* Subscriptions::find(const std::string& type) const {
  auto it = handlers_.find(type);
  return it == handlers_.end() ? nullptr : &it->second;
}

bool inbox_claim(soci::session& s, const std::string& event_id, const std::string& type) {
  const std::int64_t now = clock::now_ms();
  return db::prepared(s,
                      "INSERT INTO inbox (event_id, type, processed_at_ms) VALUES (:id, :type, :at) "
                      "ON CONFLICT (event_id) DO NOTHING")
             .run(event_id, type, now)
             .affected_rows() > 0;
}

void ensure_groups(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  for (const std::string& stream : subs.streams()) redis.ensure_group(stream, opt.group, "0");
}

// Contract: at least once, applied once (inbox). Entries whose handler throws stay pending and are
// retried by reclaim_once; unparseable or too-new entries go to dead:GROUP at once.
int consume_once(db::Database& db, redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  if (subs.empty()) return 0;
  std::unique_ptr<ReadBatch> b = read_batch(redis, subs, opt);
  return apply_read(db, redis, opt, *b);
}

// Contract: run by every instance now and then; XAUTOCLAIM hands each idle entry to one claimer, and the
// inbox makes a second application harmless anyway. The delivery counts come from XPENDING just before
// the claim (which adds one).
int reclaim_once(db::Database& db, redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  int handled = 0;
  int transient = 0;
  for (const std::string& stream : subs.streams()) {
    std::map<std::string, std::int64_t> deliveries;
    for (const auto& [id, n] : redis.pending_idle(stream, opt.group, opt.claim_idle_ms, opt.batch)) deliveries[id] = n;
    if (deliveries.empty()) continue;
    std::vector<redis::StreamEntry> entries =
        redis.autoclaim(stream, opt.group, opt.consumer, opt.claim_idle_ms, opt.batch);
    Outcome out;
    std::vector<Delivered> batch;
    for (const redis::StreamEntry& e : entries) {
      auto it = deliveries.find(e.id);
      batch.push_back({&e, it == deliveries.end() ? 1 : it->second + 1});
    }
    apply_batch(db, triage(subs, batch, out), opt, out);
    finish(redis, opt.group, out);
    if (out.halted) throw *out.halted;
    handled += static_cast<int>(entries.size());
    transient += out.transient_failures;
  }
  if (transient > 0) throw TransientFailure(transient);
  return handled;
}

namespace {

// Lag plus pending of `group` on one stream from XINFO GROUPS (Redis 7).
std::int64_t stream_lag(redis::Client& redis, const std::string& stream, const std::string& group) {
  redis::Reply r = redis.command({"XINFO", "GROUPS", stream});
  if (r.is_error()) {
    if (r.str.find("no such key") != std::string::npos) return 0;  // nothing published yet
    throw std::runtime_error("redis: XINFO GROUPS: " + r.str);
  }
  for (const redis::Reply& g : r.elements) {
    std::map<std::string, const redis::Reply*> f;
    for (std::size_t i = 0; i + 1 < g.elements.size(); i += 2) f[g.elements[i].str] = &g.elements[i + 1];
    if (!f.count("name") || f["name"]->str != group) continue;
    const std::int64_t pending = f.count("pending") ? f["pending"]->integer : 0;
    if (f.count("lag") && f["lag"]->kind == redis::Reply::Kind::integer) return f["lag"]->integer + pending;
    // Redis cannot tell the lag after entries were deleted mid-stream: the stream length bounds it.
    return redis.command({"XLEN", stream}).integer + pending;
  }
  return redis.command({"XLEN", stream}).integer;  // no group yet: everything is undelivered
}

}  // namespace

std::int64_t lag(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  std::int64_t total = 0;
  for (const std::string& stream : subs.streams()) total += stream_lag(redis, stream, opt.group);
  return total;
}

}  // namespace crowd::events
