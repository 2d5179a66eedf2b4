// Producing events: the outbox and its relay (outbox.hpp).
#include "common/events/outbox.hpp"

#include <soci/soci.h>

#include <algorithm>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/crash.hpp"
#include "common/db.hpp"
#include "common/events/envelope.hpp"
#include "common/ids.hpp"
#include "common/log.hpp"
#include "common/redis.hpp"

namespace crowd::events {
namespace {

std::string& producer_name() {
  static std::string name;
  return name;
}

std::vector<std::string>& declared() {
  static std::vector<std::string> types;
  return types;
}

}  // namespace

void set_producer(const std::string& service_name) {
  producer_name() = service_name;
}

const std::string& producer() {
  return producer_name();
}

void declare_published(const std::vector<std::string>& types) {
  declared() = types;
  std::sort(declared().begin(), declared().end());
}

const std::vector<std::string>& declared_published() {
  return declared();
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
  if (!declared().empty() && !std::binary_search(declared().begin(), declared().end(), type)) {
    throw std::logic_error("events: " + producer() + " publishes " + type + ", which it did not declare");
  }
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

}  // namespace crowd::events
