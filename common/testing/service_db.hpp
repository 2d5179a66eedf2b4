// Test support (header-only, compiled into test binaries only): the one fixture for a service's database in
// every kit and flow test. The kit's tables, then the given migrations, on SQLite (a file in a fresh temp
// folder, deleted afterwards) or on PostgreSQL (the URL given, or CROWD_TEST_PG_URL: its public schema is
// dropped and re-created first, so point it at a throwaway database only).
//
// With capture_events set and CROWD_EVENT_CAPTURE_DIR set, the envelopes left in the outbox are written there
// when the fixture ends (one JSON line each, one file per fixture), for scripts/check_events.py to validate
// against schemas/events/. Off by default: the flow tests still feed their services placeholder ids ("tsk_1",
// "ent_1") and a category of no catalogue ("design"), which the schemas rightly refuse; the whole-system tests'
// events (real ids throughout) are captured by the integration harness instead.
#pragma once

#include <doctest/doctest.h>
#include <soci/soci.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "common/db.hpp"
#include "common/events/envelope.hpp"
#include "common/ids.hpp"

namespace crowd::testing {

// CROWD_TEST_PG_URL, or "" when unset.
inline std::string configured_pg_url() {
  const char* pg = std::getenv("CROWD_TEST_PG_URL");
  return pg != nullptr ? std::string(pg) : std::string();
}

// The databases a kit test runs against: "" (a fresh SQLite file) always, and CROWD_TEST_PG_URL when set.
inline std::vector<std::string> backends() {
  std::vector<std::string> out{""};
  if (std::string pg = configured_pg_url(); !pg.empty()) {
    out.push_back(pg);
  } else {
    MESSAGE("CROWD_TEST_PG_URL is not set: PostgreSQL not tested");
  }
  return out;
}

// Writes the outbox's envelopes of `db` to a new file in CROWD_EVENT_CAPTURE_DIR, if that is set.
inline void capture_outbox(db::Database& db) {
  const char* dir = std::getenv("CROWD_EVENT_CAPTURE_DIR");
  if (dir == nullptr || *dir == '\0') return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  std::ofstream out(std::filesystem::path(dir) / (ids::make("evc") + ".jsonl"));
  db.with([&](soci::session& s) {
    soci::rowset<soci::row> rows = s.prepare << "SELECT envelope FROM outbox ORDER BY created_at_ms, id";
    for (const soci::row& r : rows) out << db::get_str(r, 0) << '\n';
  });
}

class ServiceDb {
 public:
  // migrations: the service's own (db::embedded_migrations() in a service's tests), applied after the kit's.
  // url: "" for a fresh SQLite file, else a postgresql:// URL.
  explicit ServiceDb(const std::vector<db::Migration>& migrations, std::size_t pool_size = 6,
                     const std::string& url = configured_pg_url()) {
    std::string u = url;
    if (u.empty()) {
      dir_ = std::filesystem::temp_directory_path() / ("crowd_test_" + ids::make("tmp"));
      std::filesystem::create_directories(dir_);
      path_ = (dir_ / "test.db").string();
      u = "sqlite3://db=" + path_ + " timeout=5";
    } else {
      db::Database cleanup(u, 1);
      cleanup.with([](soci::session& s) {
        s << "DROP SCHEMA public CASCADE";
        s << "CREATE SCHEMA public";
      });
    }
    url_ = u;
    db_ = std::make_unique<db::Database>(u, pool_size);
    db_->migrate_service(migrations);
  }
  ~ServiceDb() {
    try {
      if (db_ && capture_events) capture_outbox(*db_);
    } catch (...) {
      // a test that broke its database has already failed; nothing to capture
    }
    db_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  ServiceDb(const ServiceDb&) = delete;
  ServiceDb& operator=(const ServiceDb&) = delete;

  // See the top of this file: a flow test whose events carry real ids may turn it on.
  bool capture_events = false;

  db::Database& operator*() { return *db_; }
  db::Database* operator->() { return db_.get(); }
  db::Database& db() { return *db_; }
  const std::string& url() const { return url_; }
  bool postgres() const { return dir_.empty(); }
  // The SQLite file ("" on PostgreSQL).
  const std::string& path() const { return path_; }

  // The first column of the first row of a query (COUNT(*) and the like); 0 when there is no row.
  std::int64_t count(const std::string& sql) {
    return db_->with([&](soci::session& s) { return count(s, sql); });
  }
  static std::int64_t count(soci::session& s, const std::string& sql) {
    soci::rowset<soci::row> rs = s.prepare << sql;
    for (const soci::row& r : rs) return db::get_i64(r, 0);
    return 0;
  }

  // The events in the outbox, oldest first; only those of `type` when given.
  std::vector<events::Event> outbox(const std::string& type = "") {
    std::vector<events::Event> out;
    db_->with([&](soci::session& s) {
      soci::rowset<soci::row> rows = s.prepare << "SELECT envelope FROM outbox ORDER BY created_at_ms, id";
      for (const soci::row& r : rows) {
        events::Event e = events::Event::from_envelope(nlohmann::json::parse(db::get_str(r, 0)));
        if (type.empty() || e.type == type) out.push_back(std::move(e));
      }
    });
    return out;
  }
  // The data of the outbox's events of `type`, oldest first.
  std::vector<nlohmann::json> published(const std::string& type) {
    std::vector<nlohmann::json> out;
    for (events::Event& e : outbox(type)) out.push_back(std::move(e.data));
    return out;
  }

 private:
  std::filesystem::path dir_;
  std::string path_;
  std::string url_;
  std::unique_ptr<db::Database> db_;
};

}  // namespace crowd::testing
