// The outbox → Redis Streams → inbox path against a real redis-server and real databases (SQLite in a temp
// folder; PostgreSQL too when CROWD_TEST_PG_URL is set).
#include "common/events.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/invariant.hpp"
#include "common/redis.hpp"
#include "common/testing/event_world.hpp"
#include "common/testing/redis_server.hpp"
#include "common/testing/service_db.hpp"

namespace {

using crowd::events::ConsumerOptions;
using crowd::events::Event;
using crowd::events::Subscriptions;
using crowd::redis::Client;
using crowd::testing::RedisServer;

// The kit's tables come with the fixture; this one is where the test handlers write their effects.
const std::vector<crowd::db::Migration> kMigrations = {
    {"001_effects", "CREATE TABLE effects (event_id TEXT PRIMARY KEY, key TEXT NOT NULL);\n"}};

// One world per test: a redis-server, a migrated database (emptied first on PostgreSQL), a client.
struct World : crowd::testing::EventWorld {
  explicit World(const std::string& url_or_empty) : EventWorld(kMigrations, url_or_empty) {}

  std::string publish_one(const std::string& type, const std::string& key) {
    return db->tx([&](soci::session& s) { return crowd::events::publish(s, type, key, {{"key", key}}); });
  }
};

using crowd::testing::backends;

ConsumerOptions options() {
  ConsumerOptions opt;
  opt.group = "consumer";
  opt.consumer = "c1";
  opt.batch = 50;
  opt.block_ms = 0;
  opt.max_deliveries = 3;
  opt.claim_idle_ms = 0;
  return opt;
}

// A handler that records its effect keyed by event id (so a second application would fail loudly).
void record_effect(soci::session& s, const Event& e) {
  s << "INSERT INTO effects (event_id, key) VALUES (:id, :key)", soci::use(e.id), soci::use(e.key);
}

}  // namespace

TEST_CASE("the envelope round-trips and from_envelope refuses malformed ones") {
  Event e;
  e.id = "evt_01";
  e.type = "task.opened";
  e.occurred_at_ms = 1'795'000'000'123;
  e.producer = "tasks";
  e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  e.key = "tsk_1";
  e.data = {{"units", 3}, {"title", "设计"}};
  nlohmann::json j = e.envelope();
  CHECK(e.envelope_text() == j.dump());  // the outbox writes the text directly
  e.trace_id = "with \"quotes\" and \\ and \n";
  CHECK(e.envelope_text() == e.envelope().dump());
  e.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  CHECK(j["occurred_at"] == crowd::clock::rfc3339(e.occurred_at_ms));
  CHECK(j["version"] == 1);
  Event back = Event::from_envelope(nlohmann::json::parse(j.dump()));
  CHECK(back.id == e.id);
  CHECK(back.type == e.type);
  CHECK(back.version == 1);
  CHECK(back.occurred_at_ms == e.occurred_at_ms);
  CHECK(back.producer == e.producer);
  CHECK(back.trace_id == e.trace_id);
  CHECK(back.key == e.key);
  CHECK(back.data == e.data);

  for (const char* field : {"id", "type", "version", "occurred_at", "producer", "trace_id", "key", "data"}) {
    nlohmann::json bad = j;
    bad.erase(field);
    CHECK_THROWS_AS(Event::from_envelope(bad), std::invalid_argument);
  }
  auto with = [&](const char* field, nlohmann::json value) {
    nlohmann::json bad = j;
    bad[field] = std::move(value);
    return bad;
  };
  CHECK_THROWS_AS(Event::from_envelope(with("version", 0)), std::invalid_argument);
  CHECK_THROWS_AS(Event::from_envelope(with("version", "1")), std::invalid_argument);
  CHECK_THROWS_AS(Event::from_envelope(with("occurred_at", "yesterday")), std::invalid_argument);
  CHECK_THROWS_AS(Event::from_envelope(with("data", nlohmann::json::array())), std::invalid_argument);
  CHECK_THROWS_AS(Event::from_envelope(with("id", "")), std::invalid_argument);
  CHECK_THROWS_AS(Event::from_envelope(with("key", "")), std::invalid_argument);
  CHECK(Event::from_envelope(with("trace_id", "")).trace_id.empty());
  CHECK_THROWS_AS(Event::from_envelope(nlohmann::json::array()), std::invalid_argument);
  CHECK(Event::from_envelope(with("version", 2)).version == 2);  // parsed; the consumer decides
}

TEST_CASE("Subscriptions map types to handlers and list each producer's stream once") {
  Subscriptions subs;
  CHECK(subs.empty());
  subs.on("tasks", "task.opened", record_effect);
  subs.on("tasks", "task.cancelled", record_effect);
  subs.on("delivery", "delivery.rejected", record_effect);
  CHECK(subs.streams() == std::vector<std::string>{"events:tasks", "events:delivery"});
  CHECK(subs.find("task.opened") != nullptr);
  CHECK(subs.find("task.created") == nullptr);
  CHECK_THROWS_AS(subs.on("tasks", "task.opened", record_effect), std::logic_error);
}

TEST_CASE("publish inside a rolled-back transaction sends nothing") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    CHECK_THROWS(w.db->tx([](soci::session& s) {
      crowd::events::publish(s, "task.opened", "tsk_1", {{"n", 1}});
      throw std::runtime_error("the business write failed");
    }));
    CHECK(w.count("SELECT COUNT(*) FROM outbox") == 0);
    CHECK(crowd::events::relay_once(*w.db, *w.redis, 100) == 0);
    CHECK(w.xlen("events:tests") == 0);
  }
}

TEST_CASE("relay sends unsent rows in id order, in batches, and marks them sent") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    std::vector<std::string> ids;
    w.db->tx([&](soci::session& s) {
      for (int i = 0; i < 4; ++i)
        ids.push_back(crowd::events::publish(s, "task.opened", "tsk_" + std::to_string(i), {}));
    });
    ids.push_back(w.publish_one("task.cancelled", "tsk_0"));
    CHECK(w.count("SELECT COUNT(*) FROM outbox WHERE sent_at_ms IS NULL") == 5);
    CHECK(crowd::events::relay_once(*w.db, *w.redis, 3) == 3);
    CHECK(crowd::events::relay_once(*w.db, *w.redis, 3) == 2);
    CHECK(crowd::events::relay_once(*w.db, *w.redis, 3) == 0);
    CHECK(w.count("SELECT COUNT(*) FROM outbox WHERE sent_at_ms IS NULL") == 0);

    crowd::redis::Reply all = w.redis->command({"XRANGE", "events:tests", "-", "+"});
    REQUIRE(all.elements.size() == 5);
    for (std::size_t i = 0; i < 5; ++i) {
      const auto& fields = all.elements[i].elements[1].elements;
      REQUIRE(fields.size() == 2);
      CHECK(fields[0].str == "event");
      Event e = Event::from_envelope(nlohmann::json::parse(fields[1].str));
      CHECK(e.id == ids[i]);
      CHECK(e.producer == "tests");
    }
  }
}

TEST_CASE("consume applies an event once even when the same envelope arrives twice") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    Subscriptions subs;
    subs.on("tests", "task.opened", record_effect);
    ConsumerOptions opt = options();
    crowd::events::ensure_groups(*w.redis, subs, opt);
    const std::string id = w.publish_one("task.opened", "tsk_9");
    CHECK(crowd::events::relay_once(*w.db, *w.redis, 10) == 1);
    // The relay crashed after XADD and before the mark: the same envelope goes out again.
    const std::string envelope =
        w.redis->command({"XRANGE", "events:tests", "-", "+"}).elements[0].elements[1].elements[1].str;
    w.redis->command({"XADD", "events:tests", "*", "event", envelope});
    CHECK(crowd::events::lag(*w.redis, subs, opt) == 2);

    CHECK(crowd::events::consume_once(*w.db, *w.redis, subs, opt) == 2);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
    CHECK(w.count("SELECT COUNT(*) FROM inbox WHERE event_id = '" + id + "'") == 1);
    CHECK(w.pending("events:tests", "consumer") == 0);  // the duplicate is acknowledged too
    CHECK(crowd::events::lag(*w.redis, subs, opt) == 0);
    CHECK(crowd::events::consume_once(*w.db, *w.redis, subs, opt) == 0);
  }
}

TEST_CASE("inbox_claim is true once per event id") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    w.db->tx([](soci::session& s) {
      CHECK(crowd::events::inbox_claim(s, "evt_a", "task.opened"));
      CHECK_FALSE(crowd::events::inbox_claim(s, "evt_a", "task.opened"));
      CHECK(crowd::events::inbox_claim(s, "evt_b", "task.opened"));
    });
  }
}

TEST_CASE("a failing handler rolls back, leaves the entry pending, and reclaim_once applies it later") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    int attempts = 0;
    Subscriptions subs;
    subs.on("tests", "task.opened", [&](soci::session& s, const Event& e) {
      record_effect(s, e);
      crowd::events::publish(s, "task.followed", e.key, {});  // a follow-up in the same transaction
      if (++attempts == 1) throw std::runtime_error("transient");
    });
    ConsumerOptions opt = options();
    crowd::events::ensure_groups(*w.redis, subs, opt);
    w.publish_one("task.opened", "tsk_1");
    crowd::events::relay_once(*w.db, *w.redis, 10);

    // The batch finishes, then the transient failure is reported so that the loop backs off.
    CHECK_THROWS_AS(crowd::events::consume_once(*w.db, *w.redis, subs, opt), crowd::events::TransientFailure);
    CHECK(attempts == 1);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 0);
    CHECK(w.count("SELECT COUNT(*) FROM inbox") == 0);
    CHECK(w.count("SELECT COUNT(*) FROM outbox") == 1);  // the follow-up was rolled back with the effect
    CHECK(w.pending("events:tests", "consumer") == 1);
    CHECK(crowd::events::lag(*w.redis, subs, opt) == 1);

    CHECK(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt) == 1);
    CHECK(attempts == 2);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
    CHECK(w.count("SELECT COUNT(*) FROM outbox") == 2);
    CHECK(w.pending("events:tests", "consumer") == 0);
    CHECK(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt) == 0);
  }
}

TEST_CASE("a refused entry is dead-lettered and acknowledged on its max_deliveries-th delivery") {
  World w("");
  int attempts = 0;
  Subscriptions subs;
  subs.on("tests", "task.opened", [&](soci::session&, const Event&) {
    ++attempts;
    throw crowd::events::Refusal("permanent");
  });
  ConsumerOptions opt = options();  // max_deliveries = 3
  crowd::events::ensure_groups(*w.redis, subs, opt);
  const std::string id = w.publish_one("task.opened", "tsk_1");
  crowd::events::relay_once(*w.db, *w.redis, 10);

  crowd::events::consume_once(*w.db, *w.redis, subs, opt);  // delivery 1
  crowd::events::reclaim_once(*w.db, *w.redis, subs, opt);  // delivery 2
  CHECK(attempts == 2);
  CHECK(w.xlen("dead:consumer") == 0);
  CHECK(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt) == 1);  // delivery 3, refused again: dead
  CHECK(attempts == 3);
  CHECK(w.pending("events:tests", "consumer") == 0);
  REQUIRE(w.xlen("dead:consumer") == 1);
  crowd::redis::Reply dead = w.redis->command({"XRANGE", "dead:consumer", "-", "+"});
  crowd::redis::StreamEntry entry;
  const auto& kv = dead.elements[0].elements[1].elements;
  for (std::size_t i = 0; i + 1 < kv.size(); i += 2) entry.fields.emplace_back(kv[i].str, kv[i + 1].str);
  CHECK(Event::from_envelope(nlohmann::json::parse(entry.field("event"))).id == id);
  CHECK(entry.field("stream") == "events:tests");
  CHECK_FALSE(entry.field("id").empty());
  CHECK(entry.field("reason") == "refused: permanent");
  CHECK(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt) == 0);
  CHECK(attempts == 3);
}

TEST_CASE("a transient failure is retried past max_deliveries and never dead-lettered") {
  World w("");
  int attempts = 0;
  Subscriptions subs;
  subs.on("tests", "task.opened", [&](soci::session& s, const Event& e) {
    if (++attempts <= 5) throw std::runtime_error("database is locked");
    record_effect(s, e);
  });
  ConsumerOptions opt = options();  // max_deliveries = 3
  crowd::events::ensure_groups(*w.redis, subs, opt);
  w.publish_one("task.opened", "tsk_1");
  crowd::events::relay_once(*w.db, *w.redis, 10);

  CHECK_THROWS_AS(crowd::events::consume_once(*w.db, *w.redis, subs, opt), crowd::events::TransientFailure);
  for (int i = 0; i < 4; ++i)
    CHECK_THROWS_AS(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt), crowd::events::TransientFailure);
  CHECK(attempts == 5);
  CHECK(w.xlen("dead:consumer") == 0);
  CHECK(w.pending("events:tests", "consumer") == 1);
  CHECK(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt) == 1);  // the database is back
  CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
  CHECK(w.pending("events:tests", "consumer") == 0);
  CHECK(w.xlen("dead:consumer") == 0);
}

TEST_CASE("unparseable and too-new entries are dead-lettered at once, unknown types are acked unapplied") {
  World w("");
  int applied = 0;
  Subscriptions subs;
  subs.on("tests", "task.opened", [&](soci::session&, const Event&) { ++applied; });
  ConsumerOptions opt = options();
  crowd::events::ensure_groups(*w.redis, subs, opt);
  Event future;
  future.id = "evt_future";
  future.type = "task.opened";
  future.version = 2;
  future.occurred_at_ms = crowd::clock::now_ms();
  future.producer = "tests";
  future.key = "tsk_1";
  Event unknown = future;
  unknown.id = "evt_unknown";
  unknown.type = "task.renamed";
  unknown.version = 1;
  w.redis->command({"XADD", "events:tests", "*", "event", "{not json"});
  w.redis->command({"XADD", "events:tests", "*", "other", "field"});
  w.redis->command({"XADD", "events:tests", "*", "event", future.envelope().dump()});
  w.redis->command({"XADD", "events:tests", "*", "event", unknown.envelope().dump()});
  unknown.version = 2;  // a newer version of a type this service does not consume: still just acked
  w.redis->command({"XADD", "events:tests", "*", "event", unknown.envelope().dump()});

  CHECK(crowd::events::consume_once(*w.db, *w.redis, subs, opt) == 5);
  CHECK(applied == 0);
  CHECK(w.pending("events:tests", "consumer") == 0);
  CHECK(w.count("SELECT COUNT(*) FROM inbox") == 0);
  crowd::redis::Reply dead = w.redis->command({"XRANGE", "dead:consumer", "-", "+"});
  REQUIRE(dead.elements.size() == 3);
  std::vector<std::string> reasons;
  for (const auto& e : dead.elements) reasons.push_back(e.elements[1].elements.back().str);
  CHECK(reasons == std::vector<std::string>{"unparseable", "unparseable", "unsupported_version"});
}

TEST_CASE("relay and consumer resume after Redis restarts, nothing is marked sent that was not sent") {
  World w("");
  Subscriptions subs;
  subs.on("tests", "task.opened", record_effect);
  ConsumerOptions opt = options();
  w.publish_one("task.opened", "tsk_1");
  w.server.stop();
  CHECK_THROWS_AS(crowd::events::relay_once(*w.db, *w.redis, 10), std::runtime_error);
  CHECK_THROWS_AS(crowd::events::consume_once(*w.db, *w.redis, subs, opt), std::runtime_error);
  CHECK(w.count("SELECT COUNT(*) FROM outbox WHERE sent_at_ms IS NULL") == 1);
  w.server.start();  // an empty Redis: the group is created again, as Service does after an error
  crowd::events::ensure_groups(*w.redis, subs, opt);
  CHECK(crowd::events::relay_once(*w.db, *w.redis, 10) == 1);
  CHECK(crowd::events::consume_once(*w.db, *w.redis, subs, opt) == 1);
  CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
}

TEST_CASE("publish needs a producer name and an object as data") {
  World w("");
  crowd::events::set_producer("");
  CHECK_THROWS_AS(w.publish_one("task.opened", "tsk_1"), std::logic_error);
  crowd::events::set_producer("tests");
  CHECK_THROWS_AS(w.db->tx([](soci::session& s) { crowd::events::publish(s, "x", "k", nlohmann::json::array()); }),
                  std::invalid_argument);
  CHECK(crowd::events::stream_of("tasks") == "events:tasks");
  CHECK(crowd::events::producer() == "tests");
}

TEST_CASE("a dead letter is listed and, once the cause is fixed, redriven exactly once") {
  World w("");
  bool broken = true;
  Subscriptions subs;
  subs.on("tests", "task.opened", [&](soci::session& s, const Event& e) {
    if (broken) throw crowd::events::Refusal("escrow unknown");
    record_effect(s, e);
  });
  ConsumerOptions opt = options();
  opt.max_deliveries = 1;
  crowd::events::ensure_groups(*w.redis, subs, opt);
  const std::string id = w.publish_one("task.opened", "tsk_9");
  crowd::events::relay_once(*w.db, *w.redis, 10);
  crowd::events::consume_once(*w.db, *w.redis, subs, opt);
  auto dead = crowd::events::dead_letters(*w.redis, "consumer", "", 10);
  REQUIRE(dead.size() == 1);
  CHECK(dead[0].event["id"] == id);
  CHECK(dead[0].reason == "refused: escrow unknown");
  CHECK(crowd::events::dead_letters(*w.redis, "consumer", dead[0].entry_id, 10).empty());

  CHECK_THROWS_AS(crowd::events::redrive(*w.db, *w.redis, subs, "consumer", dead[0].entry_id), crowd::events::Refusal);
  CHECK(w.xlen("dead:consumer") == 1);  // still failing: kept
  broken = false;
  CHECK(crowd::events::redrive(*w.db, *w.redis, subs, "consumer", dead[0].entry_id));
  CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
  CHECK(w.xlen("dead:consumer") == 0);
  CHECK_FALSE(crowd::events::redrive(*w.db, *w.redis, subs, "consumer", dead[0].entry_id));
}

TEST_CASE("a batch commits once, a failing event is rolled back alone and stays pending") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    Subscriptions subs;
    subs.on("tests", "task.opened", [&](soci::session& s, const Event& e) {
      record_effect(s, e);
      if (e.key == "tsk_bad") throw std::runtime_error("deadlock detected");
    });
    ConsumerOptions opt = options();
    crowd::events::ensure_groups(*w.redis, subs, opt);
    w.publish_one("task.opened", "tsk_1");
    w.publish_one("task.opened", "tsk_bad");
    w.publish_one("task.opened", "tsk_3");
    crowd::events::relay_once(*w.db, *w.redis, 10);
    CHECK_THROWS_AS(crowd::events::consume_once(*w.db, *w.redis, subs, opt), crowd::events::TransientFailure);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 2);  // tsk_1 and tsk_3, not tsk_bad's partial write
    CHECK(w.count("SELECT COUNT(*) FROM inbox") == 2);
    CHECK(w.pending("events:tests", "consumer") == 1);
  }
}

namespace {

// Effects a handler gathers for the commit (a db::TxHook): written as rows of `effects` keyed "{event}:deferred".
struct DeferredEffects final : crowd::db::TxHook {
  std::vector<std::string> ids;
  void before_commit(soci::session& s) override {
    for (const std::string& id : ids) {
      const std::string key = id + ":deferred";
      s << "INSERT INTO effects (event_id, key) VALUES (:id, :key)", soci::use(key), soci::use(id);
    }
    ids.clear();
  }
  void after_rollback() noexcept override { ids.clear(); }
};

}  // namespace

TEST_CASE("writes gathered for the commit commit with their batch, a failing event's go with its savepoint") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    DeferredEffects* deferred = nullptr;
    Subscriptions subs;
    subs.on("tests", "task.opened", [&](soci::session& s, const Event& e) {
      record_effect(s, e);
      REQUIRE(crowd::db::in_transaction(s));
      deferred = &crowd::db::tx_hook<DeferredEffects>(s);
      deferred->ids.push_back(e.id);
      if (e.key == "tsk_bad") throw std::runtime_error("deadlock detected");
    });
    ConsumerOptions opt = options();
    crowd::events::ensure_groups(*w.redis, subs, opt);
    const std::string first = w.publish_one("task.opened", "tsk_1");
    const std::string bad = w.publish_one("task.opened", "tsk_bad");
    w.publish_one("task.opened", "tsk_3");
    crowd::events::relay_once(*w.db, *w.redis, 10);
    CHECK_THROWS_AS(crowd::events::consume_once(*w.db, *w.redis, subs, opt), crowd::events::TransientFailure);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 4);  // 2 effects + 2 deferred; nothing of tsk_bad
    CHECK(w.count("SELECT COUNT(*) FROM effects WHERE event_id = '" + first + ":deferred'") == 1);
    CHECK(w.count("SELECT COUNT(*) FROM effects WHERE event_id LIKE '" + bad + "%'") == 0);
    REQUIRE(deferred != nullptr);
    CHECK(deferred->ids.empty());
  }
}

TEST_CASE("ReadAhead reads and parses on its own thread, every batch is applied once and acknowledged") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    Subscriptions subs;
    subs.on("tests", "task.opened", record_effect);
    ConsumerOptions opt = options();
    opt.batch = 7;
    crowd::events::ensure_groups(*w.redis, subs, opt);
    w.db->tx([&](soci::session& s) {
      for (int i = 0; i < 40; ++i) crowd::events::publish(s, "task.opened", "tsk_" + std::to_string(i), {});
    });
    CHECK(crowd::events::relay_once(*w.db, *w.redis, 100) == 40);
    {
      crowd::events::ReadAhead ahead(w.server.endpoint(), subs, opt);
      int applied = 0;
      for (int round = 0; round < 2000 && applied < 40; ++round) applied += ahead.consume(*w.db, *w.redis);
      CHECK(applied == 40);
      CHECK(w.count("SELECT COUNT(*) FROM effects") == 40);
      CHECK(w.pending("events:tests", "consumer") == 0);
      // Published after the reader had caught up: read ahead, then applied by stop_and_drain at shutdown
      // (or by consume, whichever comes first); never left pending.
      w.publish_one("task.opened", "tsk_late");
      crowd::events::relay_once(*w.db, *w.redis, 10);
      int late = 0;
      for (int round = 0; round < 200 && late == 0; ++round) late += ahead.consume(*w.db, *w.redis);
      late += ahead.stop_and_drain(*w.db, *w.redis);
      CHECK(late == 1);
    }
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 41);
    CHECK(w.pending("events:tests", "consumer") == 0);
    CHECK(crowd::events::lag(*w.redis, subs, opt) == 0);
  }
}

TEST_CASE("a broken invariant halts the consumer: the batch rolls back and stays pending, never dead-lettered") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    Subscriptions subs;
    subs.on("tests", "task.opened", [](soci::session& s, const Event& e) {
      record_effect(s, e);
      crowd::invariant(e.key != "tsk_bad", "transfer id reused");
    });
    ConsumerOptions opt = options();
    crowd::events::ensure_groups(*w.redis, subs, opt);
    w.publish_one("task.opened", "tsk_1");
    const std::string bad = w.publish_one("task.opened", "tsk_bad");
    w.publish_one("task.opened", "tsk_2");
    CHECK(crowd::events::relay_once(*w.db, *w.redis, 10) == 3);

    try {
      crowd::events::consume_once(*w.db, *w.redis, subs, opt);
      FAIL("consume_once should halt");
    } catch (const crowd::events::ConsumerHalted& e) {
      CHECK(e.event_id == bad);
      CHECK(e.type == "task.opened");
      CHECK(e.stream == "events:tests");
      CHECK(std::string(e.what()).find("transfer id reused") != std::string::npos);
    }
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 0);  // the whole batch rolled back
    CHECK(w.count("SELECT COUNT(*) FROM inbox") == 0);
    CHECK(w.pending("events:tests", "consumer") == 3);  // nothing acknowledged
    // Not a refusal: however often it is delivered again, it is never dead-lettered.
    for (int i = 0; i < opt.max_deliveries + 2; ++i) {
      CHECK_THROWS_AS(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt), crowd::events::ConsumerHalted);
    }
    CHECK(w.xlen("dead:consumer") == 0);
    CHECK(w.pending("events:tests", "consumer") == 3);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 0);
  }
}

TEST_CASE("InvariantBroken is neither a refusal nor transient, logic errors stay refusals") {
  CHECK_FALSE(crowd::events::is_refusal(crowd::InvariantBroken("an account vanished")));
  CHECK(crowd::events::is_refusal(std::logic_error("bad")));
  CHECK(crowd::events::is_refusal(crowd::events::Refusal("bad")));
  CHECK_FALSE(crowd::events::is_refusal(std::runtime_error("database is locked")));
}

TEST_CASE("ReadAhead stops reading at a broken invariant, what it read ahead stays pending, unapplied") {
  World w("");
  Subscriptions subs;
  subs.on("tests", "task.opened", [](soci::session& s, const Event& e) {
    record_effect(s, e);
    crowd::invariant(e.key != "tsk_bad", "an account vanished");
  });
  ConsumerOptions opt = options();
  opt.batch = 1;
  crowd::events::ensure_groups(*w.redis, subs, opt);
  w.publish_one("task.opened", "tsk_bad");
  w.publish_one("task.opened", "tsk_next");
  crowd::events::relay_once(*w.db, *w.redis, 10);
  crowd::events::ReadAhead ahead(w.server.endpoint(), subs, opt);
  bool halted = false;
  for (int round = 0; round < 2000 && !halted; ++round) {
    try {
      ahead.consume(*w.db, *w.redis);
    } catch (const crowd::events::ConsumerHalted&) {
      halted = true;
    }
  }
  REQUIRE(halted);
  CHECK(ahead.stop_and_drain(*w.db, *w.redis) == 0);
  CHECK(w.count("SELECT COUNT(*) FROM effects") == 0);
  CHECK(w.pending("events:tests", "consumer") >= 1);
  CHECK(w.xlen("dead:consumer") == 0);
}
