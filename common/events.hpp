// Events between services on Redis Streams, one stream per producing service ("events:SERVICE") and one
// consumer group per consuming service.
//
// Producing: publish() writes the event into the service's outbox table inside the caller's
// transaction; the relay (Outbox::relay_once) XADDs unsent rows and marks them sent. A crash between
// XADD and the mark re-sends the row: consumers dedupe by event id.
// Consuming: each event's effect and its id in the inbox table commit in one transaction; XACK follows
// the commit. Entries left pending by a dead consumer are claimed with XAUTOCLAIM; an entry delivered
// more than max_deliveries times is copied to "dead:GROUP" and acknowledged.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace soci {
class session;
}
namespace crowd::db {
class Database;
}
namespace crowd::redis {
class Client;
struct Endpoint;
}  // namespace crowd::redis

namespace crowd::events {

struct Event {
  std::string id;    // evt_...
  std::string type;  // "task.opened"
  int version = 1;
  std::int64_t occurred_at_ms = 0;
  std::string producer;  // service name
  std::string trace_id;
  std::string key;  // the aggregate id the event is about (task id, ...)
  nlohmann::json data = nlohmann::json::object();

  nlohmann::json envelope() const;  // {id, type, version, occurred_at, producer, trace_id, key, data}
  // envelope().dump(), byte for byte, written directly (no copy of data into a second JSON tree).
  std::string envelope_text() const;
  static Event from_envelope(const nlohmann::json& j);  // throws std::invalid_argument
  static Event from_envelope(nlohmann::json&& j);       // the same, taking the data over without a copy
};

std::string stream_of(const std::string& producer);  // "events:" + producer

// Writes an event into the outbox within the caller's open transaction. Returns the event id.
// The producer is the running service's name (set once at start by Service).
std::string publish(soci::session& s, const std::string& type, const std::string& key, nlohmann::json data,
                    const std::string& trace_id = {});
// The same with the data already written as a JSON object's text (JsonObjectWriter, json_text.hpp), for
// hot paths; the text is written into the envelope as it is.
std::string publish_text(soci::session& s, const std::string& type, const std::string& key,
                         const std::string& data_text, const std::string& trace_id = {});
void set_producer(const std::string& service_name);
const std::string& producer();

// Thrown by a handler when the event breaks the contract (missing data, amounts that contradict the
// state): retrying cannot help, so after max_deliveries deliveries the entry is dead-lettered for an
// operator. std::logic_error (std::invalid_argument ...) and JSON type errors count as refusals too.
// Every other exception (database busy or down, Redis trouble) is transient: the entry is retried for as
// long as it takes and never dead-lettered, so an outage cannot park a payment.
class Refusal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
bool is_refusal(const std::exception& e);

// consume_once / reclaim_once throw this after finishing their batch when some entries failed for a
// transient reason, so that the loop backs off instead of spinning on a sick database.
class TransientFailure : public std::runtime_error {
 public:
  explicit TransientFailure(int count)
      : std::runtime_error(std::to_string(count) + " event(s) failed for a transient reason"), count(count) {}
  int count;
};

using Handler = std::function<void(soci::session&, const Event&)>;

// Handlers of one consuming service, by producer stream and event type.
class Subscriptions {
 public:
  void on(const std::string& producer, const std::string& type, Handler h);
  std::vector<std::string> streams() const;
  const Handler* find(const std::string& type) const;
  bool empty() const { return handlers_.empty(); }

 private:
  std::vector<std::string> producers_;
  std::map<std::string, Handler> handlers_;
};

// Inbox: records the event id; returns false when it was already recorded (a duplicate delivery).
bool inbox_claim(soci::session& s, const std::string& event_id, const std::string& type);

// ---- The loops' single steps (Service runs them on its worker pool; tests call them directly). ----

// Sends up to `batch` unsent outbox rows in id order with one pipelined round of XADDs, then marks them
// sent in one transaction. Returns how many were sent.
int relay_once(db::Database& db, redis::Client& redis, int batch);

struct ConsumerOptions {
  std::string group;     // consuming service name
  std::string consumer;  // this process's consumer name
  int batch = 100;
  int block_ms = 500;
  int max_deliveries = 5;
  std::int64_t claim_idle_ms = 15000;
};

// Creates the consumer group on every subscribed stream (MKSTREAM, from the beginning).
void ensure_groups(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);
// Reads up to one batch of new entries (XREADGROUP ... >), applies them in one transaction (each event with
// its inbox row; the batch is first tried whole, and when any event fails it is rolled back and applied
// again with a savepoint per event), XACKs the applied and the duplicates. A handler that throws leaves its
// entry pending (retried through reclaim_once). Returns how many entries were read.
int consume_once(db::Database& db, redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);
// consume_once with the reading ahead: a thread of its own (with its own Redis connection) reads the next
// batch (XREADGROUP ... >) and parses it while the caller applies the previous one, so that neither the
// round trip nor the JSON parsing waits on the one writer. At most one batch waits read and unapplied. An
// entry read is pending in the group until acknowledged: one read but never applied (a crash) is
// reclaimed by reclaim_once like any other.
class ReadAhead {
 public:
  ReadAhead(const redis::Endpoint& endpoint, const Subscriptions& subs, const ConsumerOptions& opt);
  ~ReadAhead();  // stops the reader; a batch read but not applied stays pending (see stop_and_drain)
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  // Applies the next batch read ahead (waiting up to block_ms for one) exactly as consume_once does, with
  // `redis` for the acknowledgements. Returns how many entries it had (0: none came).
  int consume(db::Database& db, redis::Client& redis);
  // At shutdown: stops reading, then applies the batch already read, if any.
  int stop_and_drain(db::Database& db, redis::Client& redis);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};
// Claims entries idle at least claim_idle_ms with XAUTOCLAIM and applies them as consume_once does; a
// refused entry delivered max_deliveries times or more is copied to "dead:GROUP" (original fields plus
// stream/id/reason) and acknowledged. Returns how many were handled.
int reclaim_once(db::Database& db, redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);
// ---- Dead letters, for operators. ----
struct DeadLetter {
  std::string entry_id;  // id in "dead:GROUP"
  std::string stream;    // where the event came from
  std::string reason;
  nlohmann::json event;  // the envelope (null when it did not parse)
};
std::vector<DeadLetter> dead_letters(redis::Client& redis, const std::string& group, const std::string& after,
                                     int limit);
// Applies a dead-lettered event again (effect + inbox in one transaction, as a consumer does) and removes
// it from the dead-letter stream. Returns false when the entry does not exist; throws what the handler
// throws when it still fails (the entry then stays). An event already applied is only removed.
bool redrive(db::Database& db, redis::Client& redis, const Subscriptions& subs, const std::string& group,
             const std::string& entry_id);

// Entries of the group not yet delivered plus pending ones, summed over the subscribed streams
// (XINFO GROUPS lag + pending), for /metrics.
std::int64_t lag(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);

}  // namespace crowd::events
