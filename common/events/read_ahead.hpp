// consume_once with the reading ahead: a thread of its own (with its own Redis connection) reads the next
// batch (XREADGROUP ... >) and parses it while the caller applies the previous one, so that neither the
// round trip nor the JSON parsing waits on the one writer. At most one batch waits read and unapplied. An
// entry read is pending in the group until acknowledged: one read but never applied (a crash) is reclaimed
// by reclaim_once like any other.
#pragma once

#include <memory>

#include "common/events/consumer.hpp"

namespace crowd::redis {
struct Endpoint;
}

namespace crowd::events {

class ReadAhead {
 public:
  ReadAhead(const redis::Endpoint& endpoint, const Subscriptions& subs, const ConsumerOptions& opt);
  ~ReadAhead();  // stops the reader; a batch read but not applied stays pending (see stop_and_drain)
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;
  // Applies the next batch read ahead (waiting up to block_ms for one) exactly as consume_once does, with
  // `redis` for the acknowledgements. Returns how many entries it had (0: none came). On ConsumerHalted
  // it stops reading for good (a batch read ahead stays pending) before rethrowing.
  int consume(db::Database& db, redis::Client& redis);
  // At shutdown: stops reading, then applies the batch already read, if any (none after a halt).
  int stop_and_drain(db::Database& db, redis::Client& redis);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace crowd::events
