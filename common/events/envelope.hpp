// The envelope every event travels in (schemas/events/envelope.schema.json), the stream of a producer, and
// the refusal of an event that breaks its contract.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

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

// The highest envelope version this build understands; a newer one is dead-lettered, not guessed at.
inline constexpr int kMaxVersion = 1;

std::string stream_of(const std::string& producer);  // "events:" + producer

// The text of an envelope around data already written as a JSON object's text: envelope().dump() byte for
// byte (keys in ascending order).
std::string envelope_text_of(const std::string& id, const std::string& type, int version, std::int64_t occurred_at_ms,
                             const std::string& producer, const std::string& trace_id, const std::string& key,
                             const std::string& data_text);

// Thrown by a handler when the event breaks the contract (missing data, amounts that contradict the
// state): retrying cannot help, so after max_deliveries deliveries the entry is dead-lettered for an
// operator. events::Fields::done() throws it; std::invalid_argument and JSON type errors count as refusals
// too. A broken invariant of our own is not a refusal (common/invariant.hpp). Every other exception
// (database busy or down, Redis trouble) is transient: the entry is retried for as long as it takes and
// never dead-lettered, so an outage cannot park a payment.
class Refusal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};
bool is_refusal(const std::exception& e);

}  // namespace crowd::events
