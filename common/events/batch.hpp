// Internal to the event kit (consumer.cpp, read_ahead.cpp, dead_letters.cpp): how one batch of stream
// entries is sorted out, applied in one transaction and acknowledged.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/events/consumer.hpp"
#include "common/redis.hpp"

namespace crowd::events::detail {

// The first line of an error text, at most 200 characters: error texts can carry a DETAIL line with row
// values (PostgreSQL), and logs must not carry personal data.
std::string first_line(const std::string& text);

// What one batch of stream entries resolved to: entries to dead-letter and entries to acknowledge.
struct Outcome {
  std::vector<std::pair<redis::StreamEntry, std::string>> dead;  // entry, reason
  std::vector<std::pair<std::string, std::string>> acks;         // stream, entry id
  int transient_failures = 0;
  // Set when a handler broke an invariant: the batch was rolled back, nothing of it is acknowledged.
  std::optional<ConsumerHalted> halted;
};

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
std::vector<Pending> triage(const Subscriptions& subs, const std::vector<Delivered>& batch, Outcome& out);
// Applies the entries in one transaction (see consume_once); records what to acknowledge and what failed.
void apply_batch(db::Database& db, const std::vector<Pending>& ready, const ConsumerOptions& opt, Outcome& out);
// Copies dead entries to "dead:GROUP" and moves those copied to the acks (dead_letters.cpp).
void dead_letter(redis::Client& redis, const std::string& group, Outcome& out);
// Dead-letters, then acknowledges the batch: one XACK per stream, all in one round trip.
void finish(redis::Client& redis, const std::string& group, Outcome& out);

// New entries read (XREADGROUP ... >) and parsed: what consume_once and ReadAhead apply.
struct ReadBatch {
  std::vector<redis::StreamEntry> entries;  // never resized once read: `ready` points into it
  std::vector<Pending> ready;
  Outcome out;
};
std::unique_ptr<ReadBatch> read_batch(redis::Client& redis, const Subscriptions& subs, const ConsumerOptions& opt);
// Applies and acknowledges a batch read; throws TransientFailure when some entries failed transiently and
// ConsumerHalted when one broke an invariant.
int apply_read(db::Database& db, redis::Client& redis, const ConsumerOptions& opt, ReadBatch& b);

}  // namespace crowd::events::detail
