// Dead letters: the copy of a refused event, the operators' list and redrive (dead_letters.hpp).
#include "common/events/dead_letters.hpp"

#include <soci/soci.h>

#include <optional>

#include "common/db.hpp"
#include "common/events/batch.hpp"
#include "common/log.hpp"
#include "common/redis.hpp"

namespace crowd::events {
namespace detail {

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

}  // namespace detail

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

}  // namespace crowd::events
