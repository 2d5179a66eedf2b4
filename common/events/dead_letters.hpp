// Dead letters, for operators: events refused max_deliveries times (or unparseable, or of a newer version)
// are copied to "dead:GROUP" with the reason and acknowledged; an operator lists them and, after a fix,
// redrives one.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/events/consumer.hpp"

namespace crowd::events {

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

}  // namespace crowd::events
