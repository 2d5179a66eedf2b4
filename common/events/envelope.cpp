// The event envelope (envelope.hpp).
#include "common/events/envelope.hpp"

#include <stdexcept>

#include "common/clock.hpp"
#include "common/json_text.hpp"

namespace crowd::events {
namespace {

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

bool is_refusal(const std::exception& e) {
  return dynamic_cast<const Refusal*>(&e) != nullptr || dynamic_cast<const std::logic_error*>(&e) != nullptr ||
         dynamic_cast<const nlohmann::json::exception*>(&e) != nullptr;
}

}  // namespace crowd::events
