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
#include <string_view>
#include <type_traits>
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
// The kit's own tables (schemas/sql/kit/: outbox, inbox, idempotency keys), named "kit/NNN_name".
std::vector<Migration> kit_migrations();

class StatementCache;

struct DatabaseOptions {
  // SQLite: the page size of a database file created now (an existing file keeps its own; VACUUM outside
  // WAL mode changes it). SQLite's default suits small transactions; a service whose transactions write rows
  // into many B-trees may take larger pages (fewer page splits and cache misses).
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
  // The kit's tables, then the service's own migrations: what every service and its tests run at start.
  void migrate_service(const std::vector<Migration>& service_migrations);
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

// A hook on the transactions of one session: what a layer above the kit keeps per session and settles at
// the transaction's end (a memo of rows known to exist, writes gathered to be made once just before COMMIT).
//   before_commit   just before COMMIT, and before a savepoint is released (so that what was gathered inside
//                   a savepoint is written inside it); may write; a throw rolls the transaction back.
//   after_commit    the transaction committed.
//   after_rollback  the transaction, or a savepoint, rolled back: what was written since is gone.
class TxHook {
 public:
  virtual ~TxHook() = default;
  virtual void before_commit(soci::session&) {}
  virtual void after_commit() noexcept {}
  virtual void after_rollback() noexcept {}
};

// The statements of one session by SQL text, and its transaction hooks (tx_hook).
class StatementCache {
 public:
  Prepared& get(soci::session& s, const std::string& sql);
  Prepared& get(soci::session& s, const char* sql);
  // The hook in slot `slot` (made by `make` on first use), registered for the open transaction if any.
  TxHook& hook(std::size_t slot, std::unique_ptr<TxHook> (*make)());
  void set_in_tx(bool in_tx) { in_tx_ = in_tx; }
  bool in_tx() const { return in_tx_; }
  void before_commit(soci::session& s);  // every registered hook, in order
  void after_commit() noexcept;          // every registered hook, then none is registered
  void after_rollback() noexcept;        // every registered hook, then none is registered
  void clear() {
    active_.clear();
    hooks_.clear();
    by_address_.clear();
    statements_.clear();
  }
  static std::size_t next_hook_slot();

 private:
  std::unordered_map<std::string, std::unique_ptr<Prepared>> statements_;
  std::unordered_map<const char*, std::pair<const std::string*, Prepared*>> by_address_;
  std::vector<std::unique_ptr<TxHook>> hooks_;  // by slot
  std::vector<TxHook*> active_;                 // registered in this transaction, in order
  bool in_tx_ = false;                          // between the Database's BEGIN and COMMIT/ROLLBACK
};

// The cache of a session that a Database owns (std::logic_error for any other session).
StatementCache& cache_of(soci::session& s);

// The session's hook of type T (a TxHook, default-constructible): created on first use, it lives as long as
// the session's statements (a PostgreSQL reconnect drops it). Asked for inside a transaction (tx()), it is
// registered for that transaction's end; hooks run in the order they were first asked for in it.
template <class T>
T& tx_hook(soci::session& s) {
  static_assert(std::is_base_of_v<TxHook, T>, "tx_hook<T>: T must derive from db::TxHook");
  static const std::size_t slot = StatementCache::next_hook_slot();
  return static_cast<T&>(cache_of(s).hook(slot, []() -> std::unique_ptr<TxHook> { return std::make_unique<T>(); }));
}
// Whether a write transaction of the Database (tx()) is open on this session.
bool in_transaction(soci::session& s);

// Savepoints inside a tx(), with the hooks: release runs before_commit first; rollback to the savepoint runs
// after_rollback (the hooks are asked for again by whoever writes next). The event kit applies each event of
// a batch inside one when the batch failed as a whole.
void savepoint(soci::session& s);
void release_savepoint(soci::session& s);
void rollback_to_savepoint(soci::session& s);

// Typed reads of a soci::row that do not depend on how the backend declared the column
// (SQLite reports COUNT(*) and expressions differently from PostgreSQL). On PostgreSQL SUM(BIGINT) is NUMERIC
// and arrives as a double: get_i64 throws above 2^53 instead of rounding; CAST(SUM(x) AS BIGINT) stays exact.
std::int64_t get_i64(const soci::row& r, std::size_t i);
std::optional<std::int64_t> get_opt_i64(const soci::row& r, std::size_t i);
std::string get_str(const soci::row& r, std::size_t i);
std::optional<std::string> get_opt_str(const soci::row& r, std::size_t i);

// Reads the columns of one row in order (no hand-numbered indexes), checking that the row has exactly the
// columns the reader expects: give it column_count() of the SELECT list the row came from.
//
//   constexpr const char* kCols = "id, units, note";
//   db::RowReader r(row, db::column_count(kCols));
//   x.id = r.str(); x.units = r.i64(); x.note = r.opt_str().value_or("");
//   r.done();
//
// Every mismatch (another number of columns, a read past the last one, a column left unread at done(), a
// NULL where a value is required) is a programmer error: std::logic_error naming the column.
class RowReader {
 public:
  RowReader(const soci::row& r, std::size_t columns);
  std::string str();
  std::optional<std::string> opt_str();
  std::int64_t i64();
  std::optional<std::int64_t> opt_i64();
  int i32();
  bool flag();  // an INTEGER 0/1
  void done() const;
  // The next columns into out..., in order, each read by its type (std::string, int, std::int64_t, bool as
  // a flag, or their optional for a nullable column); into() then checks that the row was all read (done).
  template <class... T>
  RowReader& fields(T&... out) {
    (read(out), ...);
    return *this;
  }
  template <class... T>
  void into(T&... out) {
    fields(out...);
    done();
  }

 private:
  void read(std::string& v) { v = str(); }
  void read(std::optional<std::string>& v) { v = opt_str(); }
  void read(std::int64_t& v) { v = i64(); }
  void read(std::optional<std::int64_t>& v) { v = opt_i64(); }
  void read(int& v) { v = i32(); }
  void read(bool& v) { v = flag(); }
  std::size_t next();
  const soci::row& row_;
  std::size_t pos_ = 0;
};
// The number of columns in a SELECT list ("a, b, COALESCE(c, 0)" → 3): commas outside parentheses + 1. A
// leading SELECT and anything from a FROM outside parentheses on are left out.
std::size_t column_count(std::string_view select_list);

// True when the exception is a unique-constraint violation (duplicate key) on either backend.
bool is_unique_violation(const std::exception& e);

}  // namespace crowd::db
