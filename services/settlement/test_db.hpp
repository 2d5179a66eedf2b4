// Test support: a fresh database with settlement's real migrations (the test binary links the same generated
// migrations file as the service), and small query helpers. SQLite in a temporary file by default; when
// SETTLEMENT_TEST_PG_URL holds a postgresql:// URL, that database instead (its public schema is dropped and
// re-created for every test: point it at a throwaway database only).
#pragma once

#include <soci/soci.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/db.hpp"
#include "common/events.hpp"

namespace crowd::settlement {

inline std::string make_temp_db_path() {
  std::string pattern = (std::filesystem::temp_directory_path() / "settlement_test_XXXXXX").string();
  const int fd = ::mkstemp(pattern.data());
  if (fd < 0) throw std::runtime_error("mkstemp failed");
  ::close(fd);
  return pattern;
}

inline std::string test_db_url(const std::string& sqlite_path) {
  const char* pg = std::getenv("SETTLEMENT_TEST_PG_URL");
  return pg != nullptr && *pg != '\0' ? std::string(pg) : "sqlite3://db=" + sqlite_path + " timeout=5";
}

struct TestDb {
  std::string path = make_temp_db_path();
  db::Database db{test_db_url(path), 6};  // enough sessions for the concurrency tests

  TestDb() {
    if (db.backend() == db::Backend::postgresql) {
      db.with([](soci::session& s) {
        s << "DROP SCHEMA public CASCADE";
        s << "CREATE SCHEMA public";
      });
    }
    db.migrate_service(db::embedded_migrations());
    events::set_producer("settlement");
  }
  ~TestDb() {
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  }

  static std::int64_t count(soci::session& s, const std::string& sql) {
    soci::rowset<soci::row> rows = s.prepare << sql;
    for (const auto& r : rows) return db::get_i64(r, 0);
    return 0;
  }
  static std::int64_t sum_of_balances(soci::session& s) {
    return count(s, "SELECT COALESCE(SUM(balance_fen), 0) FROM accounts");
  }
};

}  // namespace crowd::settlement
