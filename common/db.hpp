// Storage through SOCI. The connection string alone picks the backend:
//   sqlite3://db=data/tasks.db timeout=5          (default; WAL mode, synchronous=NORMAL, busy timeout)
//   postgresql://host=127.0.0.1 port=5432 dbname=crowd_tasks user=crowd
// Every call here blocks: call it only from the service's worker pool, never from an IO thread.
#pragma once

#include <soci/soci.h>

#include <concepts>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <typeindex>
#include <unordered_map>
#include <vector>

namespace crowd::db {

enum class Backend { sqlite, postgresql };

struct Migration {
  std::string name;  // "001_init"
  std::string sql;   // statements separated by ';' at line ends
};
// Defined by the file that crowd_embed_sql() generates for each service binary.
std::vector<Migration> embedded_migrations();

class StatementCache;

struct DatabaseOptions {
  // SQLite: the page size of a database file created now (an existing file keeps its own; VACUUM outside
  // WAL mode changes it). SQLite's default suits the services' small transactions; the settlement service,
  // whose event consumer writes rows into a dozen B-trees per event, takes 16 KiB (db.cpp).
  int sqlite_page_size = 4096;
};

class Database {
 public:
  Database(std::string url, std::size_t pool_size, DatabaseOptions options = {});
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
    WriterTurn turn(*this);
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
  // SQLite has one writer at a time, and a writer that finds the lock taken sleeps in the busy handler
  // (1, 2, 5, 10 ... 100 ms) however soon the lock is freed: two threads of one process writing in turn
  // (the consumer and the outbox relay) lost milliseconds per transaction that way. Writers of this
  // Database queue on a mutex instead, and are woken as soon as the previous one commits. Taken before
  // the lease, so waiting writers hold no session; recursive and timed (after the busy timeout the writer
  // goes ahead and SQLite's own locking decides, as before), so a nested transaction cannot hang forever.
  class WriterTurn {
   public:
    explicit WriterTurn(Database& db);
    ~WriterTurn();
    WriterTurn(const WriterTurn&) = delete;
    WriterTurn& operator=(const WriterTurn&) = delete;

   private:
    Database& db_;
    bool locked_ = false;
  };
  void begin(soci::session& s);
  void begin_read(soci::session& s);
  void commit(soci::session& s);
  void rollback(soci::session& s) noexcept;

  Backend backend_;
  std::unique_ptr<soci::connection_pool> pool_;
  std::size_t pool_size_;
  std::vector<std::unique_ptr<StatementCache>> caches_;  // one per pooled session, same index
  std::recursive_timed_mutex writer_;                    // SQLite: see WriterTurn
  class Checkpointer;
  std::unique_ptr<Checkpointer> checkpointer_;  // SQLite in a file
};

// A statement prepared once per pooled session and run again and again with new parameters. Preparing
// (sqlite3_prepare_v2; a PREPARE round trip plus a DEALLOCATE on PostgreSQL) costs more than running one of
// our single-row statements, so the hot statements of the event and ledger paths go through here.
//
//   auto& st = db::prepared(s, "UPDATE accounts SET balance_fen = balance_fen + :a WHERE id = :id");
//   if (st.run(amount, account).affected_rows() != 1) ...
//   if (const soci::row* r = db::prepared(s, "SELECT ... WHERE id = :id").run(id).row()) ...
//
// Parameters bind by position (the placeholders' names do not matter); every run of one SQL text must pass
// the same number and kinds of parameters: text (std::string, const char*, std::optional<std::string> for a
// nullable one) or integer (any integral type, std::optional<std::int64_t>). A SELECT (the text starts with
// SELECT) keeps its first row, readable through row() until the next run of the same SQL text; then the
// statement is reset so that it holds no read cursor. Statements that PostgreSQL cannot PREPARE
// (SAVEPOINT, BEGIN ...) must not come here. The SQL text is the cache key and statements are never evicted:
// it must be a fixed text (values go in parameters, never into the text).
class Prepared {
 public:
  Prepared(soci::session& s, const std::string& sql);
  Prepared(const Prepared&) = delete;
  Prepared& operator=(const Prepared&) = delete;

  template <class... A>
  Prepared& run(const A&... args) {
    [[maybe_unused]] std::size_t i = 0;
    (set(i++, args), ...);
    execute(sizeof...(A));
    return *this;
  }
  long long affected_rows();
  const soci::row* row() const { return has_row_ ? row_.get() : nullptr; }

 private:
  struct Slot {
    bool text = false;
    std::string str;
    long long num = 0;
    soci::indicator ind = soci::i_ok;
  };
  Slot& slot(std::size_t i, bool text);
  void set(std::size_t i, const std::string& v) { slot(i, true).str = v; }
  void set(std::size_t i, const char* v) { slot(i, true).str = v; }
  void set(std::size_t i, const std::optional<std::string>& v) {
    Slot& sl = slot(i, true);
    sl.str = v.value_or(std::string());
    sl.ind = v ? soci::i_ok : soci::i_null;
  }
  template <std::integral T>
  void set(std::size_t i, T v) {
    slot(i, false).num = static_cast<long long>(v);
  }
  void set(std::size_t i, const std::optional<std::int64_t>& v) {
    Slot& sl = slot(i, false);
    sl.num = v.value_or(0);
    sl.ind = v ? soci::i_ok : soci::i_null;
  }
  void execute(std::size_t params);
  void run_sqlite_direct();

  soci::session& session_;
  std::string sql_;
  bool query_;
  bool sqlite_;
  bool bound_ = false;
  bool has_row_ = false;
  long long changes_ = 0;           // SQLite writes: rows changed by the last run
  std::deque<Slot> slots_;          // bound by reference: a deque keeps their addresses
  std::unique_ptr<soci::row> row_;  // a fresh one per preparation
  soci::statement st_;
};

// The cached statement of `sql` on this session (prepared on first use). The session must come from a
// Database (std::logic_error otherwise). A PostgreSQL session that is reconnected drops its statements.
Prepared& prepared(soci::session& s, const std::string& sql);
// The same for a string literal (the usual case): found by its address, with no std::string built and
// no hashing of the text on every call (the text is still compared, so any const char* is safe).
Prepared& prepared(soci::session& s, const char* sql);

// Writes that a transaction defers to its end: the totals of many updates of one hot row (the platform's
// fee account, credited by every settlement) become one update per transaction. See defer().
class DeferredWrites {
 public:
  virtual ~DeferredWrites() = default;
  virtual void flush(soci::session& s) = 0;  // writes what was deferred, then holds nothing
  virtual void drop() noexcept = 0;          // forgets it: the writes it stood for were rolled back
};

// The statements of one session by SQL text, and what other layers keep per session (session_state).
class StatementCache {
 public:
  Prepared& get(soci::session& s, const std::string& sql);
  Prepared& get(soci::session& s, const char* sql);
  std::shared_ptr<void>& state(std::type_index type) { return state_[type]; }
  std::uint64_t tx_serial() const { return tx_serial_; }
  void next_tx_serial() { ++tx_serial_; }
  void set_in_tx(bool in_tx) { in_tx_ = in_tx; }
  bool in_tx() const { return in_tx_; }
  std::vector<DeferredWrites*>& deferred() { return deferred_; }
  void clear() {
    deferred_.clear();
    by_address_.clear();
    statements_.clear();
    state_.clear();
  }

 private:
  std::unordered_map<std::string, std::unique_ptr<Prepared>> statements_;
  std::unordered_map<const char*, std::pair<const std::string*, Prepared*>> by_address_;
  std::unordered_map<std::type_index, std::shared_ptr<void>> state_;
  std::uint64_t tx_serial_ = 0;
  bool in_tx_ = false;                     // between the Database's BEGIN and COMMIT/ROLLBACK
  std::vector<DeferredWrites*> deferred_;  // registered in this transaction (defer), in order
};

// The cache of a session that a Database owns (std::logic_error for any other session).
StatementCache& cache_of(soci::session& s);

// One T per pooled session, created on first use and dropped with the session's statements (a PostgreSQL
// reconnect). For memos about the database that must not outlive what they describe; see tx_serial.
template <class T>
T& session_state(soci::session& s) {
  std::shared_ptr<void>& slot = cache_of(s).state(std::type_index(typeid(T)));
  if (!slot) slot = std::make_shared<T>();
  return *static_cast<T*>(slot.get());
}

// Changes at every BEGIN, COMMIT and ROLLBACK that the Database issues on this session: a memo of what
// the current transaction wrote is valid only while it stays the same.
inline std::uint64_t tx_serial(soci::session& s) {
  return cache_of(s).tx_serial();
}

// Registers `w` (kept by the caller, usually session_state) to be flushed just before the COMMIT of the
// transaction open on this session, or dropped if it rolls back; registering it again in the same
// transaction does nothing. Returns false when no Database transaction is open (tx()): the caller must
// write now. A caller that rolls back to a savepoint must drop_deferred first, and flush_deferred before
// releasing one, so that the deferred writes of one savepoint never outlive it (the event kit does).
bool defer(soci::session& s, DeferredWrites& w);
void flush_deferred(soci::session& s);
void drop_deferred(soci::session& s) noexcept;

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
