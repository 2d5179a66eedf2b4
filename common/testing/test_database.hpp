// Test support (header-only, compiled into test binaries only): a migrated database for one kit test, on
// SQLite (a file in a fresh temp folder, deleted afterwards) or on the PostgreSQL database named by
// CROWD_TEST_PG_URL (the test's tables dropped first, so every test starts from empty tables).
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "common/db.hpp"
#include "common/ids.hpp"

namespace crowd::testing {

// The databases a kit test runs against: "" (a fresh SQLite file) always, and CROWD_TEST_PG_URL when set.
inline std::vector<std::string> backends() {
  std::vector<std::string> out{""};
  if (const char* pg = std::getenv("CROWD_TEST_PG_URL"); pg != nullptr && *pg != '\0') {
    out.emplace_back(pg);
  } else {
    MESSAGE("CROWD_TEST_PG_URL is not set: PostgreSQL not tested");
  }
  return out;
}

class TestDatabase {
 public:
  // url_or_empty: "" for SQLite, else a postgresql:// URL. tables: those the migrations create (dropped
  // first on PostgreSQL, with schema_migrations).
  TestDatabase(const std::string& url_or_empty, const std::vector<db::Migration>& migrations,
               std::initializer_list<const char*> tables, std::size_t pool_size) {
    std::string url = url_or_empty;
    if (url.empty()) {
      dir_ = std::filesystem::temp_directory_path() / ("crowd_test_" + ids::make("tmp"));
      url = "sqlite3://db=" + (dir_ / "test.db").string();
    } else {
      db::Database cleanup(url, 1);
      cleanup.with([&](soci::session& s) {
        s << "DROP TABLE IF EXISTS schema_migrations";
        for (const char* t : tables) s << "DROP TABLE IF EXISTS " << t;
      });
    }
    db_ = std::make_unique<db::Database>(url, pool_size);
    db_->migrate(migrations);
  }
  ~TestDatabase() {
    db_.reset();
    if (!dir_.empty()) {
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  db::Database& operator*() { return *db_; }
  db::Database* operator->() { return db_.get(); }

  // The first column of the first row of a query (COUNT(*) and the like).
  std::int64_t count(const std::string& sql) {
    return db_->with([&](soci::session& s) {
      soci::rowset<soci::row> rs = s.prepare << sql;
      return db::get_i64(*rs.begin(), 0);
    });
  }

 private:
  std::filesystem::path dir_;
  std::unique_ptr<db::Database> db_;
};

}  // namespace crowd::testing
