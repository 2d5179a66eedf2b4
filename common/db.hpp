// Storage through SOCI. The connection string alone picks the backend:
//   sqlite3://db=data/tasks.db timeout=5          (default; WAL mode, synchronous=NORMAL, busy timeout)
//   postgresql://host=127.0.0.1 port=5432 dbname=crowd_tasks user=crowd
// Every call here blocks: call it only from the service's worker pool, never from an IO thread.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace crowd::db {

enum class Backend { sqlite, postgresql };

struct Migration {
  std::string name;  // "001_init"
  std::string sql;   // statements separated by ';' at line ends
};
// Defined by the file that crowd_embed_sql() generates for each service binary.
std::vector<Migration> embedded_migrations();

class Database {
 public:
  Database(std::string url, std::size_t pool_size);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  Backend backend() const { return backend_; }

  // Borrows a session from the pool for the duration of fn.
  template <class F>
  auto with(F&& fn) {
    Lease lease(*this);
    return fn(lease.session());
  }

  // Runs fn in a write transaction (BEGIN IMMEDIATE on SQLite, so writers queue on the busy timeout
  // instead of failing on upgrade). Commits when fn returns, rolls back when it throws.
  template <class F>
  auto tx(F&& fn) {
    Lease lease(*this);
    soci::session& s = lease.session();
    begin(s);
    try {
      if constexpr (std::is_void_v<decltype(fn(s))>) {
        fn(s);
        commit(s);
      } else {
        auto result = fn(s);
        commit(s);
        return result;
      }
    } catch (...) {
      rollback(s);
      throw;
    }
  }

  // Runs fn in a read-only snapshot: a deferred BEGIN on SQLite (WAL readers never wait for writers and
  // take no write lock), REPEATABLE READ on PostgreSQL. Rolled back at the end: fn must not write.
  template <class F>
  auto read(F&& fn) {
    Lease lease(*this);
    soci::session& s = lease.session();
    begin_read(s);
    try {
      if constexpr (std::is_void_v<decltype(fn(s))>) {
        fn(s);
        rollback(s);
      } else {
        auto result = fn(s);
        rollback(s);
        return result;
      }
    } catch (...) {
      rollback(s);
      throw;
    }
  }

  // Applies migrations not yet recorded in schema_migrations, each in its own transaction.
  void migrate(const std::vector<Migration>& migrations);
  bool ping();  // for /readyz

 private:
  class Lease {
   public:
    explicit Lease(Database& db);
    ~Lease();
    soci::session& session();

   private:
    Database& db_;
    std::size_t pos_;
  };
  void begin(soci::session& s);
  void begin_read(soci::session& s);
  void commit(soci::session& s);
  void rollback(soci::session& s) noexcept;

  Backend backend_;
  std::unique_ptr<soci::connection_pool> pool_;
  std::size_t pool_size_;
};

// Typed reads of a soci::row that do not depend on how the backend declared the column
// (SQLite reports COUNT(*) and expressions differently from PostgreSQL). On PostgreSQL SUM(BIGINT) is NUMERIC
// and arrives as a double: get_i64 throws above 2^53 instead of rounding; CAST(SUM(x) AS BIGINT) stays exact.
std::int64_t get_i64(const soci::row& r, std::size_t i);
std::optional<std::int64_t> get_opt_i64(const soci::row& r, std::size_t i);
std::string get_str(const soci::row& r, std::size_t i);
std::optional<std::string> get_opt_str(const soci::row& r, std::size_t i);

// True when the exception is a unique-constraint violation (duplicate key) on either backend.
bool is_unique_violation(const std::exception& e);

}  // namespace crowd::db
