// The kit's event tests' world: a redis-server of their own, a database migrated with the kit's tables and
// the test's (SQLite, or the PostgreSQL of url_or_empty), a client, and the counts they check.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/db.hpp"
#include "common/events.hpp"
#include "common/redis.hpp"
#include "common/testing/redis_server.hpp"
#include "common/testing/service_db.hpp"

namespace crowd::testing {

struct EventWorld {
  EventWorld(const std::vector<db::Migration>& migrations, const std::string& url_or_empty)
      : db(migrations, 2, url_or_empty) {
    redis = std::make_unique<redis::Client>(server.endpoint());
    events::set_producer("tests");
  }

  std::int64_t count(const std::string& sql) { return db.count(sql); }
  std::int64_t xlen(const std::string& stream) { return redis->command({"XLEN", stream}).integer; }
  std::int64_t pending(const std::string& stream, const std::string& group) {
    return redis->command({"XPENDING", stream, group}).elements.at(0).integer;
  }

  RedisServer server;
  ServiceDb db;
  std::unique_ptr<redis::Client> redis;
};

}  // namespace crowd::testing
