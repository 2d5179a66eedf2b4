// Consuming events: one consumer group per consuming service on each producer's stream. Each event's effect
// and its id in the inbox table commit in one transaction; XACK follows the commit. Entries left pending by a
// dead consumer are claimed with XAUTOCLAIM; an entry refused max_deliveries times is copied to
// "dead:GROUP" and acknowledged (dead_letters.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "common/events/envelope.hpp"
#include "common/fwd.hpp"

namespace crowd::events {

// consume_once / reclaim_once throw this after finishing their batch when some entries failed for a
// transient reason, so that the loop backs off instead of spinning on a sick database.
class TransientFailure : public std::runtime_error {
 public:
  explicit TransientFailure(int count)
      : std::runtime_error(std::to_string(count) + " event(s) failed for a transient reason"), count(count) {}
  int count;
};

// consume_once / reclaim_once / ReadAhead::consume throw this when a handler met a broken invariant of our
// own (crowd::InvariantBroken, common/invariant.hpp): the whole batch was rolled back and nothing of it
// acknowledged or dead-lettered (the entries stay pending). The caller stops consuming (Service halts its
// consumer loop, logs, raises crowd_invariant_broken_total and crowd_consumer_halted, and /readyz reports
// not ready) until an operator fixes the cause and restarts it. Not a refusal, not transient.
class ConsumerHalted : public std::runtime_error {
 public:
  ConsumerHalted(const std::string& what, std::string event_id, std::string type, std::string stream,
                 std::string entry_id)
      : std::runtime_error(what),
        event_id(std::move(event_id)),
        type(std::move(type)),
        stream(std::move(stream)),
        entry_id(std::move(entry_id)) {}
  std::string event_id, type, stream, entry_id;  // empty when the transaction as a whole broke it
};

using Handler = std::function<void(soci::session&, const Event&)>;

// Handlers of one consuming service, by producer stream and event type.
class Subscriptions {
 public:
  void on(const std::string& producer, const std::string& type, Handler h);
  std::vector<std::string> streams() const;
  const Handler* find(const std::string& type) const;
  bool empty() const { return handlers_.empty(); }
  // (producer, type) of every subscription, in type order (the service's --describe-events).
  std::vector<std::pair<std::string, std::string>> list() const;

 private:
  std::vector<std::string> producers_;
  std::map<std::string, Handler> handlers_;
  std::map<std::string, std::string> producer_of_;  // type → producer
};

// Inbox: records the event id; returns false when it was already recorded (a duplicate delivery).
bool inbox_claim(soci::session& s, const std::string& event_id, const std::string& type);

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
// entry pending (retried through reclaim_once); one that throws crowd::InvariantBroken rolls the whole batch
// back and throws ConsumerHalted. Returns how many entries were read.
int consume_once(db::Database& db, redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);
// Claims entries idle at least claim_idle_ms with XAUTOCLAIM and applies them as consume_once does; a
// refused entry delivered max_deliveries times or more is copied to "dead:GROUP" (original fields plus
// stream/id/reason) and acknowledged. Returns how many were handled.
int reclaim_once(db::Database& db, redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);

// Entries of the group not yet delivered plus pending ones, summed over the subscribed streams
// (XINFO GROUPS lag + pending), for /metrics.
std::int64_t lag(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);

}  // namespace crowd::events
