// The kit's housekeeping against a real redis-server and real databases (SQLite; PostgreSQL too when
// CROWD_TEST_PG_URL is set). Time moves by passing the kit clock plus an offset (the way CROWD_CLOCK_FILE
// moves it for a whole process): rows and entries are written now and pruned "days later".
#include "common/housekeeping.hpp"

#include <doctest/doctest.h>

#include <string>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/events.hpp"
#include "common/idempotency.hpp"
#include "common/redis.hpp"
#include "common/testing/event_world.hpp"
#include "common/testing/redis_server.hpp"
#include "common/testing/service_db.hpp"

namespace {

namespace hk = crowd::housekeeping;
using crowd::events::ConsumerOptions;
using crowd::events::Event;
using crowd::events::Subscriptions;
using crowd::redis::Client;
using crowd::testing::backends;
using crowd::testing::RedisServer;

constexpr std::int64_t kHour = 3600 * 1000;
constexpr std::int64_t kDay = 24 * kHour;

const std::vector<crowd::db::Migration> kMigrations = {
    {"001_effects", "CREATE TABLE effects (event_id TEXT PRIMARY KEY, key TEXT NOT NULL);\n"}};

struct World : crowd::testing::EventWorld {
  explicit World(const std::string& url_or_empty) : EventWorld(kMigrations, url_or_empty) { db.capture_events = false; }
  // XADDs an envelope of a made-up event straight to `stream`; returns the entry id.
  std::string add(const std::string& stream, const std::string& key, std::string* event_id = nullptr) {
    Event e;
    e.id = "evt_" + key;
    e.type = "task.opened";
    e.version = 1;
    e.occurred_at_ms = crowd::clock::now_ms();
    e.producer = "tests";
    e.key = key;
    e.data = nlohmann::json::object();
    if (event_id != nullptr) *event_id = e.id;
    return redis->command({"XADD", stream, "*", "event", e.envelope_text()}).str;
  }
  std::vector<std::string> read(const std::string& stream, const std::string& group, int n) {
    std::vector<std::string> ids;
    for (const auto& e : redis->read_group(group, "c1", {stream}, n, 0)) ids.push_back(e.id);
    return ids;
  }
  void ack(const std::string& stream, const std::string& group, const std::string& id) {
    redis->command({"XACK", stream, group, id});
  }
};

hk::Settings settings() {
  hk::Settings s;
  s.idempotency_retention_ms = kDay;
  s.outbox_retention_ms = kDay;
  s.inbox_retention_ms = 14 * kDay;
  s.stream_retention_ms = 3 * kDay;
  s.dead_letter_retention_ms = 7 * kDay;
  s.dead_letter_max = 3;
  s.batch = 3;  // smaller than the rows, so that pruning takes several batches
  s.period_ms = 60000;
  return s;
}

void add_key(soci::session& s, const std::string& key, std::int64_t at_ms) {
  s << "INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, response, created_at_ms) "
       "VALUES ('pty_1', :k, 'h', 200, '{}', :at)",
      soci::use(key), soci::use(at_ms);
}

void add_outbox(soci::session& s, const std::string& id, std::int64_t at_ms, bool sent) {
  std::optional<std::int64_t> sent_at;
  if (sent) sent_at = at_ms;
  soci::indicator ind = sent ? soci::i_ok : soci::i_null;
  std::int64_t sent_v = at_ms;
  s << "INSERT INTO outbox (id, stream, envelope, created_at_ms, sent_at_ms) VALUES (:id, 'events:tests', '{}', "
       ":at, :sent)",
      soci::use(id), soci::use(at_ms), soci::use(sent_v, ind);
}

ConsumerOptions options() {
  ConsumerOptions opt;
  opt.group = "tests";  // the group is the consuming service's name (run_once's `service`)
  opt.consumer = "c1";
  opt.batch = 50;
  opt.block_ms = 0;
  opt.max_deliveries = 3;
  opt.claim_idle_ms = 0;
  return opt;
}

}  // namespace

TEST_CASE("idempotency keys, sent outbox rows and inbox rows go after their retention, batch by batch") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    const std::int64_t now = crowd::clock::now_ms();
    w.db->tx([&](soci::session& s) {
      for (int i = 0; i < 7; ++i) {
        add_key(s, "old" + std::to_string(i), now - 2 * kDay - i);
        add_outbox(s, "obx_old" + std::to_string(i), now - 2 * kDay - i, true);
        crowd::events::inbox_claim(s, "evt_old" + std::to_string(i), "task.opened");
      }
      add_key(s, "young", now - kHour);
      add_outbox(s, "obx_young", now - kHour, true);
      add_outbox(s, "obx_unsent", now - 30 * kDay, false);  // never sent: never pruned, however old
    });
    hk::Settings s = settings();

    CHECK(hk::prune_idempotency(*w.db, now, s) == 7);
    CHECK(w.count("SELECT COUNT(*) FROM idempotency_keys") == 1);
    CHECK(hk::prune_outbox(*w.db, now, s) == 7);
    CHECK(w.count("SELECT COUNT(*) FROM outbox WHERE id = 'obx_young'") == 1);
    CHECK(w.count("SELECT COUNT(*) FROM outbox WHERE id = 'obx_unsent'") == 1);
    // The inbox rows were processed "now": 14 days later they go, not a day before.
    CHECK(hk::prune_inbox(*w.db, now + 13 * kDay, s, std::nullopt) == 0);
    CHECK(hk::prune_inbox(*w.db, now + 14 * kDay + 1000, s, std::nullopt) == 7);
    CHECK(w.count("SELECT COUNT(*) FROM inbox") == 0);

    // A retention of 0 keeps for ever (a service whose keys name transfers for good).
    s.idempotency_retention_ms = 0;
    s.outbox_retention_ms = 0;
    CHECK(hk::prune_idempotency(*w.db, now + 365 * kDay, s) == 0);
    CHECK(hk::prune_outbox(*w.db, now + 365 * kDay, s) == 0);
    CHECK(w.count("SELECT COUNT(*) FROM idempotency_keys") == 1);

    // max_batches bounds one run; the next run goes on.
    w.db->tx([&](soci::session& ses) {
      for (int i = 0; i < 10; ++i) add_key(ses, "more" + std::to_string(i), now - 2 * kDay);
    });
    s.idempotency_retention_ms = kDay;
    s.max_batches = 2;
    CHECK(hk::prune_idempotency(*w.db, now, s) == 6);
    CHECK(hk::prune_idempotency(*w.db, now, s) == 4);
  }
}

TEST_CASE("idempotency::purge's keys and the kit's prune agree on what a key is") {
  World w("");
  const std::int64_t now = crowd::clock::now_ms();
  w.db->tx([&](soci::session& s) { add_key(s, "k", now); });
  CHECK(hk::prune_idempotency(*w.db, now + crowd::idempotency::kKeepMs + 1, settings()) == 1);
}

TEST_CASE("a stream is trimmed only below what every group acknowledged and older than the retention") {
  World w("");
  const std::string stream = "events:tests";
  std::vector<std::string> ids;
  for (int i = 0; i < 6; ++i) ids.push_back(w.add(stream, "k" + std::to_string(i)));
  const std::int64_t later = crowd::clock::now_ms() + 3 * kDay + 1000;

  // No group reads it yet: nothing is trimmed (a consumer deployed later reads it from the start).
  CHECK_FALSE(hk::trim_floor(*w.redis, stream, later, 3 * kDay));
  CHECK(hk::trim_stream(*w.redis, stream, later, 3 * kDay) == 0);

  w.redis->ensure_group(stream, "a", "0");
  w.redis->ensure_group(stream, "b", "0");
  // a: everything delivered, the first two acknowledged; entries 2.. pending.
  REQUIRE(w.read(stream, "a", 10).size() == 6);
  w.ack(stream, "a", ids[0]);
  w.ack(stream, "a", ids[1]);
  w.ack(stream, "a", ids[3]);  // acknowledged out of order: entry 2 still pending holds the floor
  // b: four delivered and acknowledged; entries 4 and 5 never delivered.
  for (const auto& id : w.read(stream, "b", 4)) w.ack(stream, "b", id);

  // Not yet old enough: nothing goes.
  CHECK(hk::trim_stream(*w.redis, stream, crowd::clock::now_ms(), 3 * kDay) == 0);
  CHECK(w.xlen(stream) == 6);
  // Old enough: only below a's oldest pending entry (b has acknowledged more).
  CHECK(hk::trim_floor(*w.redis, stream, later, 3 * kDay) == ids[2]);
  CHECK(hk::trim_stream(*w.redis, stream, later, 3 * kDay) == 2);
  CHECK(w.xlen(stream) == 4);
  CHECK(w.pending(stream, "a") == 3);  // every unacknowledged entry is still there

  // a acknowledges everything; b has still not seen 4 and 5: they stay.
  for (std::size_t i = 2; i < ids.size(); ++i) w.ack(stream, "a", ids[i]);
  CHECK(hk::trim_stream(*w.redis, stream, later, 3 * kDay) == 2);
  CHECK(w.xlen(stream) == 2);
  CHECK(w.read(stream, "b", 10) == std::vector<std::string>{ids[4], ids[5]});

  // A new group from the start, never delivered anything: nothing more goes; retention 0 never trims.
  w.redis->ensure_group(stream, "c", "0");
  for (const auto& id : {ids[4], ids[5]}) w.ack(stream, "b", id);
  CHECK(hk::trim_stream(*w.redis, stream, later, 3 * kDay) == 0);
  CHECK(hk::trim_stream(*w.redis, stream, later, 0) == 0);
  CHECK(w.xlen(stream) == 2);
  // A stream that does not exist is nothing to trim.
  CHECK(hk::trim_stream(*w.redis, "events:nobody", later, 3 * kDay) == 0);
}

TEST_CASE("dead letters are capped by count (oldest dropped) and by age") {
  World w("");
  for (int i = 0; i < 5; ++i) w.add("dead:svc", "d" + std::to_string(i));
  hk::Settings s = settings();  // at most 3
  const std::int64_t now = crowd::clock::now_ms();
  CHECK(hk::cap_dead_letters(*w.redis, "svc", now, s) == 2);
  CHECK(w.xlen("dead:svc") == 3);
  const auto left = w.redis->range("dead:svc", "-", 10);
  CHECK(nlohmann::json::parse(left.at(0).field("event"))["key"] == "d2");  // the two oldest went
  s.dead_letter_max = 0;                                                   // no cap; the age still applies
  CHECK(hk::cap_dead_letters(*w.redis, "svc", now, s) == 0);
  CHECK(hk::cap_dead_letters(*w.redis, "svc", now + 7 * kDay + 1000, s) == 3);
  CHECK(hk::cap_dead_letters(*w.redis, "svc-without-dead-letters", now, s) == 0);
}

TEST_CASE("the inbox retention is raised to outlive the stream, the dead letters and the claim idle time") {
  hk::Settings s = settings();
  const std::int64_t claim_idle = 15000;
  CHECK(hk::inbox_floor_ms(s, claim_idle) == 3 * kDay + 7 * kDay + claim_idle + 2 * s.period_ms);
  bool raised = true;
  CHECK(hk::with_safe_inbox(s, claim_idle, &raised).inbox_retention_ms == 14 * kDay);
  CHECK_FALSE(raised);

  s.inbox_retention_ms = kDay;
  CHECK(hk::with_safe_inbox(s, claim_idle, &raised).inbox_retention_ms == hk::inbox_floor_ms(s, claim_idle));
  CHECK(raised);
  // Streams (or dead letters) kept for ever: so is the inbox.
  s.stream_retention_ms = 0;
  CHECK(hk::inbox_floor_ms(s, claim_idle) == 0);
  CHECK(hk::with_safe_inbox(s, claim_idle, &raised).inbox_retention_ms == 0);
  CHECK(raised);
  // An inbox kept for ever is never too short.
  s.inbox_retention_ms = 0;
  CHECK(hk::with_safe_inbox(s, claim_idle, &raised).inbox_retention_ms == 0);
  CHECK_FALSE(raised);

  // And from the environment's defaults: consistent as shipped.
  crowd::config::ServiceConfig cfg;
  hk::Settings d = hk::Settings::from(cfg);
  CHECK(d.inbox_retention_ms >= hk::inbox_floor_ms(d, cfg.claim_idle_ms));
}

TEST_CASE("a pruned inbox never lets an event apply twice while it can still be redelivered") {
  for (const std::string& url : backends()) {
    CAPTURE(url);
    World w(url);
    int applied = 0;
    Subscriptions subs;
    subs.on("tests", "task.opened", [&](soci::session& s, const Event& e) {
      ++applied;
      s << "INSERT INTO effects (event_id, key) VALUES (:id, :key)", soci::use(e.id), soci::use(e.key);
    });
    ConsumerOptions opt = options();
    crowd::events::ensure_groups(*w.redis, subs, opt);
    std::string event_id;
    w.add("events:tests", "tsk_1", &event_id);

    // Applied, then the process died before its XACK: the entry stays pending, its inbox row committed.
    auto entries = w.redis->read_group("tests", "c1", {"events:tests"}, 10, 0);
    REQUIRE(entries.size() == 1);
    w.db->tx([&](soci::session& s) {
      REQUIRE(crowd::events::inbox_claim(s, event_id, "task.opened"));
      (*subs.find("task.opened"))(s, Event::from_envelope(nlohmann::json::parse(entries[0].field("event"))));
    });
    CHECK(w.pending("events:tests", "tests") == 1);

    // Long after every retention: the inbox row stays while its entry is pending, and nothing of the
    // stream goes either.
    hk::Settings s = settings();
    const std::int64_t much_later = crowd::clock::now_ms() + 60 * kDay;
    hk::Report r = hk::run_once(*w.db, *w.redis, "tests", subs.streams(), much_later, s);
    CHECK(r.failures == 0);
    CHECK(r.inbox == 0);
    CHECK(r.stream_entries == 0);
    CHECK(w.count("SELECT COUNT(*) FROM inbox") == 1);

    // The redelivery is recognised: acknowledged, not applied again.
    CHECK(crowd::events::reclaim_once(*w.db, *w.redis, subs, opt) == 1);
    CHECK(applied == 1);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
    CHECK(w.pending("events:tests", "tests") == 0);

    // Acknowledged by every group: now the stream entry and, after it, the inbox row may go.
    r = hk::run_once(*w.db, *w.redis, "tests", subs.streams(), much_later, s);
    CHECK(r.failures == 0);
    CHECK(r.stream_entries == 1);
    CHECK(r.inbox == 1);
    CHECK(w.xlen("events:tests") == 0);
    CHECK(w.count("SELECT COUNT(*) FROM inbox") == 0);
  }
}

TEST_CASE("an entry never delivered holds the inbox back as a pending one does") {
  World w("");
  Subscriptions subs;
  subs.on("tests", "task.opened", [](soci::session&, const Event&) {});
  ConsumerOptions opt = options();
  crowd::events::ensure_groups(*w.redis, subs, opt);
  w.add("events:tests", "a");
  CHECK(crowd::events::consume_once(*w.db, *w.redis, subs, opt) == 1);  // its inbox row: at or after its entry
  w.add("events:tests", "b");  // not delivered yet (say, a consumer that is down)
  const auto oldest = hk::oldest_undone_ms(*w.redis, subs.streams(), "tests");
  REQUIRE(oldest);
  CHECK(*oldest <= crowd::clock::now_ms());
  CHECK(hk::prune_inbox(*w.db, crowd::clock::now_ms() + 60 * kDay, settings(), oldest) == 0);
  CHECK(w.count("SELECT COUNT(*) FROM inbox WHERE event_id = 'evt_a'") == 1);
  CHECK(crowd::events::consume_once(*w.db, *w.redis, subs, opt) == 1);
  CHECK_FALSE(hk::oldest_undone_ms(*w.redis, subs.streams(), "tests"));
}
