// Events on Redis Streams with a transactional outbox and inbox (see events.hpp for the contract).
#include "common/events.hpp"

#include "common/crash.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/ids.hpp"
#include "common/json_text.hpp"
#include "common/log.hpp"
#include "common/redis.hpp"

namespace crowd::events {
namespace {

// The highest envelope version this build understands; a newer one is dead-lettered, not guessed at.
constexpr int kMaxVersion = 1;
// Error texts can carry a DETAIL line with row values (PostgreSQL); logs must not carry personal data.
constexpr std::size_t kLoggedErrorMax = 200;

std::string& producer_name() {
  static std::string name;
  return name;
}

const nlohmann::json& member(const nlohmann::json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end()) throw std::invalid_argument(std::string("envelope: missing ") + name);
  return *it;
}

std::string string_member(const nlohmann::json& j, const char* name, bool allow_empty) {
  const nlohmann::json& v = member(j, name);
  if (!v.is_string()) throw std::invalid_argument(std::string("envelope: ") + name + " must be a string");
  std::string s = v.get<std::string>();
  if (s.empty() && !allow_empty) throw std::invalid_argument(std::string("envelope: ") + name + " is empty");
  return s;
}

std::string first_line(const std::string& text) {
  std::string out = text.substr(0, text.find('\n'));
  if (out.size() > kLoggedErrorMax) out.resize(kLoggedErrorMax);
  return out;
}

// What one batch of stream entries resolved to: entries to dead-letter and entries to acknowledge.
struct Outcome {
  std::vector<std::pair<redis::StreamEntry, std::string>> dead;  // entry, reason
  std::vector<std::pair<std::string, std::string>> acks;         // stream, entry id
  int transient_failures = 0;
};

std::optional<Event> parse_event(const redis::StreamEntry& entry) {
  try {
    return Event::from_envelope(nlohmann::json::parse(entry.field("event")));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

// An entry read from a stream with how many times it has been delivered (this delivery included).
struct Delivered {
  const redis::StreamEntry* entry;
  std::int64_t deliveries;
};

// An entry ready to apply.
struct Pending {
  const redis::StreamEntry* entry;
  std::int64_t deliveries;
  Event event;
  const Handler* handler;
};

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

// Applies a batch in ONE transaction (batching at the data boundary: one commit for many events). The
// whole batch is tried first without savepoints; when any event fails, that transaction is rolled back and
// the batch applied again with each event inside its own savepoint, so that a failing event is rolled back
// alone. Each event's effect and its inbox row commit together, so a redelivery after a crash between
// commit and XACK is recognised and only acknowledged. When the transaction itself fails, nothing was
// applied and every event of the batch stays pending as a transient failure.
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
        s << "SAVEPOINT crowd_event";
        std::string error;
        bool refused = false;
        try {
          if (inbox_claim(s, ready[i].event.id, ready[i].event.type)) (*ready[i].handler)(s, ready[i].event);
          db::flush_deferred(s);  // this event's deferred writes go inside its savepoint
          s << "RELEASE SAVEPOINT crowd_event";
          applied.push_back(i);
          crash_point("consume.before_commit");
          continue;
        } catch (const std::exception& e) {
          error = first_line(e.what());
          refused = is_refusal(e);
        } catch (...) {
          error = "unknown exception";
        }
        db::drop_deferred(s);
        s << "ROLLBACK TO SAVEPOINT crowd_event";
        s << "RELEASE SAVEPOINT crowd_event";
        failures.push_back({i, error, refused});
      }
    });
  } catch (const std::exception& e) {
    tx_error = first_line(e.what());
  }
  if (!tx_error.empty()) {
    for (const Pending& p : ready) failed(p, "transaction failed: " + tx_error, false, opt, out);
    return;
  }
  crash_point("consume.after_commit");
  for (std::size_t i : applied) out.acks.emplace_back(ready[i].entry->stream, ready[i].entry->id);
  for (const Failure& f : failures) failed(ready[f.index], f.error, f.refused, opt, out);
}

// Copies dead entries to "dead:GROUP" (original fields plus stream, id, reason) and moves those copied
// to the acks. A dead-letter XADD that fails leaves its entry pending: nothing is acknowledged uncopied.
void dead_letter(redis::Client& redis, const std::string& group, Outcome& out) {
  if (out.dead.empty()) return;
  std::vector<std::vector<std::string>> cmds;
  for (const auto& [entry, reason] : out.dead) {
    std::vector<std::string> argv{"XADD", "dead:" + group, "*"};
    for (const auto& [k, v] : entry.fields) {
      argv.push_back(k);
      argv.push_back(v);
    }
    argv.insert(argv.end(), {"stream", entry.stream, "id", entry.id, "reason", reason});
    cmds.push_back(std::move(argv));
  }
  std::vector<redis::Reply> replies = redis.pipeline(cmds);
  for (std::size_t i = 0; i < replies.size(); ++i) {
    const auto& [entry, reason] = out.dead[i];
    if (replies[i].is_error()) {
      log::error("dead-letter XADD failed",
                 {{"stream", entry.stream}, {"entry_id", entry.id}, {"error", replies[i].str}});
      continue;
    }
    log::warn("event dead-lettered", {{"stream", entry.stream}, {"entry_id", entry.id}, {"reason", reason}});
    out.acks.emplace_back(entry.stream, entry.id);
  }
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

}  // namespace

nlohmann::json Event::envelope() const {
  return {{"id", id},
          {"type", type},
          {"version", version},
          {"occurred_at", clock::rfc3339(occurred_at_ms)},
          {"producer", producer},
          {"trace_id", trace_id},
          {"key", key},
          {"data", data}};
}

namespace {

// The envelope's text around the data's text; keys in the order of envelope()'s std::map (sorted), so
// that the text is envelope().dump() byte for byte.
std::string envelope_text_of(const std::string& id, const std::string& type, int version, std::int64_t occurred_at_ms,
                             const std::string& producer, const std::string& trace_id, const std::string& key,
                             const std::string& data_text) {
  std::string out;
  out.reserve(data_text.size() + 256);
  out += "{\"data\":";
  out += data_text;
  out += ",\"id\":";
  append_json_string(out, id);
  out += ",\"key\":";
  append_json_string(out, key);
  out += ",\"occurred_at\":";
  append_json_string(out, clock::rfc3339(occurred_at_ms));
  out += ",\"producer\":";
  append_json_string(out, producer);
  out += ",\"trace_id\":";
  append_json_string(out, trace_id);
  out += ",\"type\":";
  append_json_string(out, type);
  out += ",\"version\":" + std::to_string(version);
  out += '}';
  return out;
}

}  // namespace

std::string Event::envelope_text() const {
  return envelope_text_of(id, type, version, occurred_at_ms, producer, trace_id, key, data.dump());
}

Event Event::from_envelope(const nlohmann::json& j) {
  return from_envelope(nlohmann::json(j));
}

Event Event::from_envelope(nlohmann::json&& j) {
  if (!j.is_object()) throw std::invalid_argument("envelope: not an object");
  Event e;
  e.id = string_member(j, "id", false);
  e.type = string_member(j, "type", false);
  const nlohmann::json& version = member(j, "version");
  if (!version.is_number_integer() || version.get<std::int64_t>() < 1 || version.get<std::int64_t>() > 1'000'000) {
    throw std::invalid_argument("envelope: version must be a positive integer");
  }
  e.version = version.get<int>();
  const auto at = clock::parse_rfc3339(string_member(j, "occurred_at", false));
  if (!at) throw std::invalid_argument("envelope: occurred_at is not RFC 3339");
  e.occurred_at_ms = *at;
  e.producer = string_member(j, "producer", false);
  e.trace_id = string_member(j, "trace_id", true);  // empty when no traced request caused the event
  e.key = string_member(j, "key", false);
  const auto data = j.find("data");
  if (data == j.end()) throw std::invalid_argument("envelope: missing data");
  e.data = std::move(*data);
  if (!e.data.is_object()) throw std::invalid_argument("envelope: data must be an object");
  return e;
}

std::string stream_of(const std::string& producer) {
  return "events:" + producer;
}

void set_producer(const std::string& service_name) {
  producer_name() = service_name;
}

const std::string& producer() {
  return producer_name();
}

// Contract: call inside the caller's open transaction; the event exists exactly when that transaction
// commits. Nothing is sent here: relay_once does it after the commit.
std::string publish(soci::session& s, const std::string& type, const std::string& key, nlohmann::json data,
                    const std::string& trace_id) {
  if (data.is_null()) data = nlohmann::json::object();  // `publish(s, type, key, {})` means no fields
  if (!data.is_object()) throw std::invalid_argument("events: data must be a JSON object");
  return publish_text(s, type, key, data.dump(), trace_id);
}

std::string publish_text(soci::session& s, const std::string& type, const std::string& key,
                         const std::string& data_text, const std::string& trace_id) {
  if (producer().empty()) throw std::logic_error("events: set_producer was not called");
  if (type.empty() || key.empty()) throw std::invalid_argument("events: type and key must not be empty");
  if (data_text.empty() || data_text.front() != '{' || data_text.back() != '}') {
    throw std::invalid_argument("events: data must be a JSON object");
  }
  const std::string id = ids::make("evt");
  const std::int64_t at = clock::now_ms();
  const std::string stream = stream_of(producer());
  const std::string envelope = envelope_text_of(id, type, 1, at, producer(), trace_id, key, data_text);
  db::prepared(s,
               "INSERT INTO outbox (id, stream, envelope, created_at_ms, sent_at_ms) "
               "VALUES (:id, :stream, :envelope, :at, NULL)")
      .run(id, stream, envelope, at);
  return id;
}

void Subscriptions::on(const std::string& producer, const std::string& type, Handler h) {
  if (handlers_.count(type) != 0) throw std::logic_error("events: two handlers for " + type);
  if (std::find(producers_.begin(), producers_.end(), producer) == producers_.end()) producers_.push_back(producer);
  handlers_.emplace(type, std::move(h));
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

bool is_refusal(const std::exception& e) {
  return dynamic_cast<const Refusal*>(&e) != nullptr || dynamic_cast<const std::logic_error*>(&e) != nullptr ||
         dynamic_cast<const nlohmann::json::exception*>(&e) != nullptr;
}

bool inbox_claim(soci::session& s, const std::string& event_id, const std::string& type) {
  const std::int64_t now = clock::now_ms();
  return db::prepared(s,
                      "INSERT INTO inbox (event_id, type, processed_at_ms) VALUES (:id, :type, :at) "
                      "ON CONFLICT (event_id) DO NOTHING")
             .run(event_id, type, now)
             .affected_rows() > 0;
}

// Contract: safe to run anywhere, any number of times; a crash or a Redis error after the XADDs and
// before the mark re-sends those rows (consumers dedupe by event id). Two relays running at once on
// PostgreSQL may both read the same unsent rows and both send them: allowed for the same reason, and
// cheaper than locking rows across a network round trip.
int relay_once(db::Database& db, redis::Client& redis, int batch) {
  struct Row {
    std::string id, stream, envelope;
  };
  std::vector<Row> rows = db.with([&](soci::session& s) {
    std::vector<Row> out;
    soci::rowset<soci::row> rs =
        (s.prepare << "SELECT id, stream, envelope FROM outbox WHERE sent_at_ms IS NULL ORDER BY id LIMIT :n",
         soci::use(batch));
    for (const soci::row& r : rs) out.push_back({db::get_str(r, 0), db::get_str(r, 1), db::get_str(r, 2)});
    return out;
  });
  if (rows.empty()) return 0;
  std::vector<std::vector<std::string>> cmds;
  cmds.reserve(rows.size());
  for (const Row& r : rows) cmds.push_back({"XADD", r.stream, "*", "event", r.envelope});
  std::vector<redis::Reply> replies = redis.pipeline(cmds);
  std::vector<std::string> sent;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (replies[i].is_error()) {  // e.g. the key holds another type: stays unsent, retried next round
      log::error("outbox XADD failed",
                 {{"outbox_id", rows[i].id}, {"stream", rows[i].stream}, {"error", replies[i].str}});
      continue;
    }
    sent.push_back(rows[i].id);
  }
  if (sent.empty()) return 0;
  crash_point("relay.after_xadd");
  db.tx([&](soci::session& s) {
    const std::int64_t now = clock::now_ms();
    for (const std::string& id : sent)
      db::prepared(s, "UPDATE outbox SET sent_at_ms = :at WHERE id = :id").run(now, id);
  });
  return static_cast<int>(sent.size());
}

void ensure_groups(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  for (const std::string& stream : subs.streams()) redis.ensure_group(stream, opt.group, "0");
}

namespace {

// New entries read (XREADGROUP ... >) and parsed: what consume_once and ReadAhead apply.
struct ReadBatch {
  std::vector<redis::StreamEntry> entries;  // never resized once read: `ready` points into it
  std::vector<Pending> ready;
  Outcome out;
};

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
  if (b.out.transient_failures > 0) throw TransientFailure(b.out.transient_failures);
  return static_cast<int>(b.entries.size());
}

}  // namespace

// Contract: at least once, applied once (inbox). Entries whose handler throws stay pending and are
// retried by reclaim_once; unparseable or too-new entries go to dead:GROUP at once.
int consume_once(db::Database& db, redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  if (subs.empty()) return 0;
  std::unique_ptr<ReadBatch> b = read_batch(redis, subs, opt);
  return apply_read(db, redis, opt, *b);
}

struct ReadAhead::Impl {
  redis::Endpoint endpoint;
  const Subscriptions& subs;
  ConsumerOptions opt;
  std::mutex mu;
  std::condition_variable cv;
  std::unique_ptr<ReadBatch> ready;  // one batch read and parsed, not yet taken
  std::unique_ptr<ReadBatch> spent;  // the last batch applied: freed here, off the writer's path
  bool stopping = false;
  std::thread reader;

  Impl(redis::Endpoint e, const Subscriptions& s, ConsumerOptions o)
      : endpoint(std::move(e)), subs(s), opt(std::move(o)) {}

  void run() {
    std::unique_ptr<redis::Client> redis;
    bool groups_ready = false;
    while (true) {
      std::unique_ptr<ReadBatch> done;
      {
        // One batch ahead at most: wait until the last one was taken.
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || !ready; });
        if (stopping) return;
        done = std::move(spent);
      }
      done.reset();
      try {
        if (!redis) redis = std::make_unique<redis::Client>(endpoint, std::chrono::milliseconds(opt.block_ms + 3000));
        if (!groups_ready) {
          ensure_groups(*redis, subs, opt);
          groups_ready = true;
        }
        std::unique_ptr<ReadBatch> b = read_batch(*redis, subs, opt);
        if (b->entries.empty()) {
          // XREADGROUP waited block_ms; without blocking (block_ms <= 0) pause rather than spin.
          if (opt.block_ms <= 0) {
            std::unique_lock lock(mu);
            cv.wait_for(lock, std::chrono::milliseconds(5), [&] { return stopping; });
          }
          continue;
        }
        std::lock_guard lock(mu);
        ready = std::move(b);
        cv.notify_all();
      } catch (const std::exception& e) {
        log::warn("event read-ahead failed", {{"error", first_line(e.what())}});
        redis.reset();
        groups_ready = false;
        std::unique_lock lock(mu);
        cv.wait_for(lock, std::chrono::milliseconds(500), [&] { return stopping; });
      }
    }
  }

  std::unique_ptr<ReadBatch> take(std::chrono::milliseconds wait) {
    std::unique_lock lock(mu);
    cv.wait_for(lock, wait, [&] { return ready != nullptr; });
    std::unique_ptr<ReadBatch> b = std::move(ready);
    cv.notify_all();
    return b;
  }

  void stop() {
    {
      std::lock_guard lock(mu);
      stopping = true;
    }
    cv.notify_all();
    if (reader.joinable()) reader.join();
  }
};

ReadAhead::ReadAhead(const redis::Endpoint& endpoint, const Subscriptions& subs, const ConsumerOptions& opt)
    : impl_(std::make_unique<Impl>(endpoint, subs, opt)) {
  if (!subs.empty()) impl_->reader = std::thread([this] { impl_->run(); });
}

ReadAhead::~ReadAhead() {
  impl_->stop();
}

int ReadAhead::consume(db::Database& db, redis::Client& redis) {
  std::unique_ptr<ReadBatch> b = impl_->take(std::chrono::milliseconds(impl_->opt.block_ms));
  if (!b) return 0;
  struct GiveBack {  // also when apply_read throws
    Impl& im;
    std::unique_ptr<ReadBatch>& b;
    ~GiveBack() {
      std::lock_guard lock(im.mu);
      im.spent = std::move(b);
    }
  } give_back{*impl_, b};
  return apply_read(db, redis, impl_->opt, *b);
}

int ReadAhead::stop_and_drain(db::Database& db, redis::Client& redis) {
  impl_->stop();
  std::unique_ptr<ReadBatch> b = impl_->take(std::chrono::milliseconds(0));
  return b ? apply_read(db, redis, impl_->opt, *b) : 0;
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

std::vector<DeadLetter> dead_letters(redis::Client& redis, const std::string& group, const std::string& after,
                                     int limit) {
  // XRANGE is inclusive: start just after `after` by asking for one more and dropping it.
  std::vector<redis::StreamEntry> entries = redis.range("dead:" + group, after.empty() ? "-" : after, limit + 1);
  std::vector<DeadLetter> out;
  for (const redis::StreamEntry& e : entries) {
    if (e.id == after) continue;
    if (static_cast<int>(out.size()) == limit) break;
    nlohmann::json envelope = nlohmann::json::parse(e.field("event"), nullptr, false);
    out.push_back({e.id, e.field("stream"), e.field("reason"), envelope.is_discarded() ? nullptr : envelope});
  }
  return out;
}

bool redrive(db::Database& db, redis::Client& redis, const Subscriptions& subs, const std::string& group,
             const std::string& entry_id) {
  std::optional<redis::StreamEntry> entry = redis.entry("dead:" + group, entry_id);
  if (!entry) return false;
  Event ev = Event::from_envelope(nlohmann::json::parse(entry->field("event")));
  const Handler* handler = subs.find(ev.type);
  if (handler == nullptr) throw Refusal("no handler for " + ev.type + " in " + group);
  db.tx([&](soci::session& s) {
    if (inbox_claim(s, ev.id, ev.type)) (*handler)(s, ev);
  });
  redis.command({"XDEL", "dead:" + group, entry_id});
  log::info("dead letter redriven", {{"event_id", ev.id}, {"type", ev.type}, {"entry_id", entry_id}});
  return true;
}

std::int64_t lag(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt) {
  std::int64_t total = 0;
  for (const std::string& stream : subs.streams()) total += stream_lag(redis, stream, opt.group);
  return total;
}

}  // namespace crowd::events
