// crowd::db against real databases: SQLite files in a temp folder, and PostgreSQL when CROWD_TEST_PG_URL
// (a SOCI "postgresql://..." string) names a database the tests may fill and empty.
#include "common/db.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <soci/sqlite3/soci-sqlite3.h>

#include "common/ids.hpp"

namespace {

namespace fs = std::filesystem;
using crowd::db::Backend;
using crowd::db::Database;
using crowd::db::Migration;

class TempDir {
 public:
  TempDir() : path_(fs::temp_directory_path() / ("crowd_db_test_" + crowd::ids::make("tmp"))) {
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const char* const kTestTables[] = {"schema_migrations", "t_items", "t_counter", "t_child", "t_parent"};

// Drops what earlier runs left, so every PostgreSQL test starts from an empty database like SQLite's.
void reset_pg(const std::string& url) {
  Database db(url, 1);
  db.with([](soci::session& s) {
    for (const char* t : kTestTables) s << "DROP TABLE IF EXISTS " << t << " CASCADE";
  });
}

// The databases to run a test against: a fresh SQLite file, and PostgreSQL when configured.
std::vector<std::string> test_urls(const TempDir& dir) {
  std::vector<std::string> urls{"sqlite3://db=" + (dir.path() / "test.db").string()};
  if (const char* pg = std::getenv("CROWD_TEST_PG_URL"); pg != nullptr && *pg != '\0') {
    reset_pg(pg);
    urls.emplace_back(pg);
  } else {
    MESSAGE("CROWD_TEST_PG_URL is not set: PostgreSQL not tested");
  }
  return urls;
}

std::int64_t count_rows(Database& db, const std::string& table) {
  return db.with([&](soci::session& s) {
    soci::rowset<soci::row> rs = s.prepare << "SELECT COUNT(*) FROM " << table;
    return crowd::db::get_i64(*rs.begin(), 0);
  });
}

const std::vector<Migration> kBase = {
    {"002_seed",
     "-- one row, to see that a migration runs once\n"
     "INSERT INTO t_items (id, name, qty) VALUES ('a;b', 'semicolon; inside', 1);\n"},
    {"001_init",
     "-- the first migration\n"
     "CREATE TABLE t_items (id TEXT PRIMARY KEY, name TEXT NOT NULL,\n"
     "                      qty BIGINT);  \n"
     "\n"
     "-- a comment-only statement is skipped;\n"
     "CREATE INDEX t_items_name ON t_items (name);\r\n"
     "   \n"},
};

}  // namespace

TEST_CASE("migrate applies each migration once, in name order, and records it") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 2);
    db.migrate(kBase);
    db.migrate(kBase);  // a second start: nothing to do
    CHECK(count_rows(db, "t_items") == 1);
    CHECK(count_rows(db, "schema_migrations") == 2);
    std::vector<Migration> more = kBase;
    more.push_back({"003_more", "INSERT INTO t_items (id, name, qty) VALUES ('c', 'c', 3);"});
    db.migrate(more);
    CHECK(count_rows(db, "t_items") == 2);
    db.with([](soci::session& s) {
      std::vector<std::string> names;
      soci::rowset<soci::row> rs = s.prepare << "SELECT name, applied_at_ms FROM schema_migrations ORDER BY name";
      for (const soci::row& r : rs) {
        names.push_back(crowd::db::get_str(r, 0));
        CHECK(crowd::db::get_i64(r, 1) > 1'600'000'000'000);
      }
      CHECK(names == std::vector<std::string>{"001_init", "002_seed", "003_more"});
      std::string name;
      s << "SELECT name FROM t_items WHERE id = 'a;b'", soci::into(name);
      CHECK(name == "semicolon; inside");  // a ';' inside a line does not split the statement
    });
  }
}

TEST_CASE("a failing migration leaves nothing of itself and is not recorded") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 1);
    std::vector<Migration> bad = kBase;
    bad.push_back({"003_bad",
                   "CREATE TABLE t_counter (id TEXT PRIMARY KEY, n BIGINT NOT NULL);\n"
                   "INSERT INTO no_such_table VALUES (1);\n"});
    CHECK_THROWS(db.migrate(bad));
    CHECK(count_rows(db, "schema_migrations") == 2);
    db.migrate(kBase);  // the session is usable again (the failed transaction was rolled back)
    CHECK_THROWS(count_rows(db, "t_counter"));
  }
}

TEST_CASE("tx commits on return and rolls back on throw") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 2);
    db.migrate(kBase);
    CHECK_THROWS_AS(db.tx([](soci::session& s) {
      s << "INSERT INTO t_items (id, name, qty) VALUES ('x', 'x', 1)";
      throw std::runtime_error("boom");
    }),
                    std::runtime_error);
    CHECK(count_rows(db, "t_items") == 1);
    const int result = db.tx([](soci::session& s) {
      s << "INSERT INTO t_items (id, name, qty) VALUES ('y', 'y', 2)";
      return 7;
    });
    CHECK(result == 7);
    CHECK(count_rows(db, "t_items") == 2);
  }
}

TEST_CASE("get_i64 and get_str read COUNT(*), SUM, BIGINT, TEXT and NULL alike on every backend") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 1);
    db.migrate(kBase);
    db.tx([](soci::session& s) {
      s << "INSERT INTO t_items (id, name, qty) VALUES ('big', '42', 9007199254740993)";
      s << "INSERT INTO t_items (id, name, qty) VALUES ('null', 'n', NULL)";
    });
    db.with([](soci::session& s) {
      soci::rowset<soci::row> rs =
          s.prepare << "SELECT COUNT(*), CAST(SUM(qty) AS BIGINT), MAX(qty), MIN(name), 5, 'text' FROM t_items";
      const soci::row& r = *rs.begin();
      CHECK(crowd::db::get_i64(r, 0) == 3);
      CHECK(crowd::db::get_i64(r, 1) == 9007199254740994);
      CHECK(crowd::db::get_i64(r, 2) == 9007199254740993);  // above 2^53: never passed through a double
      CHECK(crowd::db::get_i64(r, 3) == 42);                // digits in a TEXT column
      CHECK(crowd::db::get_i64(r, 4) == 5);
      CHECK(crowd::db::get_str(r, 4) == "5");
      CHECK(crowd::db::get_str(r, 5) == "text");
      CHECK_THROWS(crowd::db::get_i64(r, 5));
    });
    db.with([](soci::session& s) {
      // Above 2^53 a SUM must stay exact or fail, never round (PostgreSQL: NUMERIC read as a double).
      soci::rowset<soci::row> rs = s.prepare
                                   << "SELECT CAST(SUM(qty) AS BIGINT), SUM(qty) FROM t_items WHERE id = 'big'";
      const soci::row& r = *rs.begin();
      CHECK(crowd::db::get_i64(r, 0) == 9007199254740993);
      std::optional<std::int64_t> plain;
      try {
        plain = crowd::db::get_i64(r, 1);
      } catch (const std::domain_error&) {
      }
      if (plain) CHECK(*plain == 9007199254740993);
    });
    db.with([](soci::session& s) {
      soci::rowset<soci::row> rs = s.prepare
                                   << "SELECT qty, name, SUM(qty) FROM t_items WHERE id = 'null' GROUP BY qty, name";
      const soci::row& r = *rs.begin();
      CHECK_FALSE(crowd::db::get_opt_i64(r, 0).has_value());
      CHECK_FALSE(crowd::db::get_opt_i64(r, 2).has_value());
      CHECK(crowd::db::get_opt_str(r, 1) == "n");
      CHECK_THROWS(crowd::db::get_i64(r, 0));
      CHECK_THROWS(crowd::db::get_str(r, 0));
    });
  }
}

TEST_CASE("is_unique_violation tells a duplicate key from other errors") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 1);
    db.migrate(kBase);
    bool duplicate = false;
    try {
      db.tx([](soci::session& s) { s << "INSERT INTO t_items (id, name, qty) VALUES ('a;b', 'again', 1)"; });
    } catch (const std::exception& e) {
      duplicate = crowd::db::is_unique_violation(e);
    }
    CHECK(duplicate);
    bool other = true;
    try {
      db.tx([](soci::session& s) { s << "INSERT INTO t_items (id, name, qty) VALUES ('z', NULL, 1)"; });
    } catch (const std::exception& e) {
      other = crowd::db::is_unique_violation(e);
    }
    CHECK_FALSE(other);
    CHECK(db.ping());
  }
}

TEST_CASE("concurrent writers queue on the lock instead of failing") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 4);
    db.migrate({{"001_counter",
                 "CREATE TABLE t_counter (id TEXT PRIMARY KEY, n BIGINT NOT NULL);\n"
                 "INSERT INTO t_counter (id, n) VALUES ('c', 0);"}});
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 50; ++i) {
          try {
            // Read then write: a deferred SQLite transaction would fail here on lock upgrade.
            db.tx([](soci::session& s) {
              long long n = 0;
              s << "SELECT n FROM t_counter WHERE id = 'c'", soci::into(n);
              const long long next = n + 1;  // a named value: soci::use binds by reference
              s << "UPDATE t_counter SET n = :n WHERE id = 'c'", soci::use(next);
            });
          } catch (const std::exception&) {
            ++failures;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    if (db.backend() == Backend::sqlite) {
      long long n = 0;
      db.with([&](soci::session& s) { s << "SELECT n FROM t_counter WHERE id = 'c'", soci::into(n); });
      CHECK(n == 200);  // BEGIN IMMEDIATE serialises the read-modify-write
    }
  }
}

TEST_CASE(
    "SQLite: every pooled session has WAL, foreign keys and a busy timeout; a new file takes the page size given") {
  TempDir dir;
  const fs::path file = dir.path() / "nested" / "deeper" / "svc.db";
  Database db("sqlite3://db=" + file.string() + " timeout=5", 2);
  CHECK(db.backend() == Backend::sqlite);
  CHECK(fs::exists(file));
  db.with([&](soci::session& a) {
    db.with([&](soci::session& b) {  // a nested lease takes the other session of the pool
      CHECK(&a != &b);
      for (soci::session* s : {&a, &b}) {
        std::string mode;
        int fk = 0, busy = 0, sync = 0, page = 0;
        *s << "PRAGMA page_size", soci::into(page);
        CHECK(page == 4096);  // SQLite's default for a new database unless DatabaseOptions say otherwise
        *s << "PRAGMA journal_mode", soci::into(mode);
        *s << "PRAGMA foreign_keys", soci::into(fk);
        *s << "PRAGMA busy_timeout", soci::into(busy);
        *s << "PRAGMA synchronous", soci::into(sync);
        CHECK(mode == "wal");
        CHECK(fk == 1);
        CHECK(busy == 10000);
        CHECK(sync == 1);  // NORMAL
      }
    });
  });
  // A new file takes the page size it is given; a file that exists keeps its own.
  Database big("sqlite3://db=" + (dir.path() / "big.db").string(), 1, {.sqlite_page_size = 16384});
  big.with([](soci::session& s) {
    int page = 0;
    s << "PRAGMA page_size", soci::into(page);
    CHECK(page == 16384);
  });
  Database same("sqlite3://db=" + file.string() + " timeout=5", 1, {.sqlite_page_size = 16384});
  same.with([](soci::session& s) {
    int page = 0;
    s << "PRAGMA page_size", soci::into(page);
    CHECK(page == 4096);
  });
  CHECK_THROWS_AS(Database("sqlite3://db=" + (dir.path() / "odd.db").string(), 1, {.sqlite_page_size = 5000}),
                  std::invalid_argument);
  db.migrate({{"001_fk",
               "CREATE TABLE t_parent (id TEXT PRIMARY KEY);\n"
               "CREATE TABLE t_child (id TEXT PRIMARY KEY, parent TEXT NOT NULL REFERENCES t_parent (id));"}});
  CHECK_THROWS(db.tx([](soci::session& s) { s << "INSERT INTO t_child (id, parent) VALUES ('c', 'missing')"; }));
}

TEST_CASE("prepared statements are kept per session and run again with new parameters") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 2);
    db.migrate({{"001_items", "CREATE TABLE t_items (id TEXT PRIMARY KEY, name TEXT, n BIGINT NOT NULL);"}});
    const char* insert = "INSERT INTO t_items (id, name, n) VALUES (:id, :name, :n) ON CONFLICT (id) DO NOTHING";
    const char* select = "SELECT name, n FROM t_items WHERE id = :id";
    db.tx([&](soci::session& s) {
      crowd::db::Prepared& first = crowd::db::prepared(s, insert);
      CHECK(first.run(std::string("a"), std::optional<std::string>("alpha"), 1).affected_rows() == 1);
      CHECK(&crowd::db::prepared(s, insert) == &first);               // the same statement, by address
      CHECK(&crowd::db::prepared(s, std::string(insert)) == &first);  // and by text
      CHECK(first.run(std::string("a"), std::optional<std::string>("again"), 2).affected_rows() == 0);
      CHECK(first.run(std::string("b"), std::optional<std::string>(), 3).affected_rows() == 1);
      const soci::row* r = crowd::db::prepared(s, select).run(std::string("a")).row();
      REQUIRE(r != nullptr);
      CHECK(crowd::db::get_str(*r, 0) == "alpha");
      CHECK(crowd::db::get_i64(*r, 1) == 1);
      r = crowd::db::prepared(s, select).run(std::string("b")).row();
      REQUIRE(r != nullptr);
      CHECK(r->get_indicator(0) == soci::i_null);
      CHECK(crowd::db::get_i64(*r, 1) == 3);
      CHECK(crowd::db::prepared(s, select).run(std::string("none")).row() == nullptr);
      // Other kinds of parameters than at the first run are a programming error.
      CHECK_THROWS_AS(crowd::db::prepared(s, select).run(7), std::logic_error);
      CHECK_THROWS_AS(crowd::db::prepared(s, select).run(std::string("a"), 7), std::logic_error);
    });
    // A statement that fails (unique violation) can run again; a rolled-back write is not seen.
    CHECK_THROWS(db.tx([&](soci::session& s) {
      crowd::db::prepared(s, "INSERT INTO t_items (id, name, n) VALUES (:id, :name, :n)")
          .run(std::string("c"), std::string("gamma"), 4);
      crowd::db::prepared(s, "INSERT INTO t_items (id, name, n) VALUES (:id, :name, :n)")
          .run(std::string("a"), std::string("dup"), 5);
    }));
    db.tx([&](soci::session& s) {
      CHECK(crowd::db::prepared(s, select).run(std::string("c")).row() == nullptr);
      crowd::db::prepared(s, "INSERT INTO t_items (id, name, n) VALUES (:id, :name, :n)")
          .run(std::string("c"), std::string("gamma"), 4);
      const soci::row* r = crowd::db::prepared(s, select).run(std::string("c")).row();
      REQUIRE(r != nullptr);
      CHECK(crowd::db::get_str(*r, 0) == "gamma");
    });
    // Another session's statements are its own, and see the committed rows.
    db.with([&](soci::session& a) {
      db.with([&](soci::session& b) {
        CHECK(&crowd::db::prepared(a, select) != &crowd::db::prepared(b, select));
        CHECK(crowd::db::prepared(b, select).run(std::string("c")).row() != nullptr);
      });
    });
  }
  soci::session outside(soci::sqlite3, ":memory:");
  CHECK_THROWS_AS(crowd::db::prepared(outside, "SELECT 1"), std::logic_error);
}

namespace {

// Counts gathered in a transaction and written once at its end: before_commit adds them to t_counter's row.
struct CountHook final : crowd::db::TxHook {
  long long pending = 0;
  int flushes = 0, commits = 0, rollbacks = 0;
  bool fail = false;
  void before_commit(soci::session& s) override {
    ++flushes;
    if (fail) throw std::runtime_error("flush failed");
    const long long n = pending;
    pending = 0;
    if (n != 0) s << "UPDATE t_counter SET n = n + :n WHERE id = 1", soci::use(n);
  }
  void after_commit() noexcept override { ++commits; }
  void after_rollback() noexcept override {
    ++rollbacks;
    pending = 0;
  }
};

}  // namespace

TEST_CASE("a tx hook lives with its session, runs once before COMMIT, and hears of every rollback") {
  TempDir dir;
  for (const std::string& url : test_urls(dir)) {
    CAPTURE(url);
    Database db(url, 1);
    db.migrate({{"001_counter",
                 "CREATE TABLE t_counter (id BIGINT PRIMARY KEY, n BIGINT NOT NULL);\n"
                 "INSERT INTO t_counter (id, n) VALUES (1, 0);"}});
    const auto total = [&] {
      return db.with([](soci::session& s) {
        long long n = 0;
        s << "SELECT n FROM t_counter WHERE id = 1", soci::into(n);
        return n;
      });
    };
    CountHook* c = nullptr;
    db.with([&](soci::session& s) {
      CHECK_FALSE(crowd::db::in_transaction(s));
      c = &crowd::db::tx_hook<CountHook>(s);  // outside a transaction: made, not registered
    });
    CHECK(c->flushes == 0);
    db.tx([&](soci::session& s) {
      CHECK(crowd::db::in_transaction(s));
      CountHook& h = crowd::db::tx_hook<CountHook>(s);
      CHECK(&h == c);  // one per session
      h.pending += 2;
      crowd::db::tx_hook<CountHook>(s).pending += 3;  // registered once per transaction
      CHECK(h.flushes == 0);
    });
    CHECK(c->flushes == 1);
    CHECK(c->commits == 1);
    CHECK(total() == 5);

    CHECK_THROWS(db.tx([&](soci::session& s) {
      crowd::db::tx_hook<CountHook>(s).pending += 100;
      throw std::runtime_error("rolled back");
    }));
    CHECK(c->rollbacks == 1);
    CHECK(c->flushes == 1);
    CHECK(total() == 5);

    // A hook that fails fails the commit: the transaction's other writes roll back with it.
    CHECK_THROWS(db.tx([&](soci::session& s) {
      s << "UPDATE t_counter SET n = 1000 WHERE id = 1";
      CountHook& h = crowd::db::tx_hook<CountHook>(s);
      h.pending += 1;
      h.fail = true;
    }));
    c->fail = false;
    CHECK(c->rollbacks == 2);
    CHECK(total() == 5);

    // A savepoint's writes: flushed inside it when released (kept), forgotten when rolled back to.
    db.tx([&](soci::session& s) {
      crowd::db::savepoint(s);
      crowd::db::tx_hook<CountHook>(s).pending += 7;
      crowd::db::release_savepoint(s);
      crowd::db::savepoint(s);
      crowd::db::tx_hook<CountHook>(s).pending += 40;
      crowd::db::rollback_to_savepoint(s);
    });
    CHECK(total() == 12);
    db.with([&](soci::session& s) { CHECK_THROWS_AS(crowd::db::savepoint(s), std::logic_error); });
  }
}

TEST_CASE("RowReader reads a row by position and checks the column count") {
  TempDir dir;
  Database db("sqlite3://db=" + (dir.path() / "rows.db").string(), 1);
  db.with([&](soci::session& s) {
    soci::row r;
    s << "SELECT 'a', NULL, 42, NULL, 7, 1", soci::into(r);
    crowd::db::RowReader in(r, 6);
    CHECK(in.str() == "a");
    CHECK_FALSE(in.opt_str().has_value());
    CHECK(in.i64() == 42);
    CHECK_FALSE(in.opt_i64().has_value());
    CHECK(in.i32() == 7);
    CHECK(in.flag());
    in.done();
    CHECK_THROWS_AS(crowd::db::RowReader(r, 5), std::logic_error);
    crowd::db::RowReader short_read(r, 6);
    short_read.str();
    CHECK_THROWS_AS(short_read.done(), std::logic_error);
  });
  CHECK(crowd::db::column_count("a, b, COALESCE(c, d), e") == 4);
}

TEST_CASE("a URL without a known backend is refused") {
  CHECK_THROWS_AS(Database("mysql://db=x", 1), std::invalid_argument);
  CHECK_THROWS_AS(Database("data/x.db", 1), std::invalid_argument);
}

TEST_CASE("PostgreSQL: a pooled session whose connection broke is reopened on the next lease") {
  const char* pg = std::getenv("CROWD_TEST_PG_URL");
  if (pg == nullptr || *pg == '\0') {
    MESSAGE("CROWD_TEST_PG_URL is not set: PostgreSQL not tested");
    return;
  }
  Database db(pg, 1);
  long long pid = 0;
  db.with([&](soci::session& s) {
    s << "SELECT pg_backend_pid()", soci::into(pid);
    CHECK(crowd::db::prepared(s, "SELECT 1").run().row() != nullptr);  // prepared on this connection
  });
  Database admin(pg, 1);
  admin.with([&](soci::session& s) {
    int killed = 0;
    s << "SELECT CASE WHEN pg_terminate_backend(:pid) THEN 1 ELSE 0 END", soci::use(pid), soci::into(killed);
    CHECK(killed == 1);
  });
  CHECK_FALSE(db.ping());  // the first call finds the connection dead
  CHECK(db.ping());        // the next lease reconnects
  long long again = 0;
  db.with([&](soci::session& s) { s << "SELECT pg_backend_pid()", soci::into(again); });
  CHECK(again != pid);
  // The statements prepared on the dead connection were dropped with it.
  db.with([&](soci::session& s) { CHECK(crowd::db::prepared(s, "SELECT 1").run().row() != nullptr); });
}
