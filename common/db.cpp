// Storage through SOCI: the pool, transactions, migrations and type-tolerant row reads (see db.hpp).
#include "common/db.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "common/clock.hpp"
#include "common/log.hpp"

namespace crowd::db {
namespace {

constexpr std::string_view kSqlitePrefix = "sqlite3://";
constexpr std::string_view kPostgresPrefix = "postgresql://";
// Any constant works: advisory locks are scoped to the current database, and each service has its own.
constexpr std::int64_t kMigrateLockKey = 0x63726f7764;  // "crowd"

// The value of `key=value` in a SOCI connection string ("db=data/x.db timeout=5"); empty when absent.
// Values may be quoted with single or double quotes (SOCI accepts both).
std::string conn_param(std::string_view params, std::string_view key) {
  std::size_t pos = 0;
  while (pos < params.size()) {
    while (pos < params.size() && std::isspace(static_cast<unsigned char>(params[pos]))) ++pos;
    const std::size_t eq = params.find('=', pos);
    if (eq == std::string_view::npos) break;
    const std::string_view name = params.substr(pos, eq - pos);
    std::size_t vstart = eq + 1;
    std::size_t vend;
    std::string value;
    if (vstart < params.size() && (params[vstart] == '"' || params[vstart] == '\'')) {
      const char quote = params[vstart++];
      vend = params.find(quote, vstart);
      if (vend == std::string_view::npos) vend = params.size();
      value = std::string(params.substr(vstart, vend - vstart));
      pos = vend + 1;
    } else {
      vend = vstart;
      while (vend < params.size() && !std::isspace(static_cast<unsigned char>(params[vend]))) ++vend;
      value = std::string(params.substr(vstart, vend - vstart));
      pos = vend;
    }
    if (name == key) return value;
  }
  return {};
}

// SQLite creates the database file but not its folder: a fresh data directory must just work.
void ensure_sqlite_folder(std::string_view params) {
  const std::string file = conn_param(params, "db");
  if (file.empty() || file == ":memory:" || file.rfind("file:", 0) == 0) return;
  const std::filesystem::path parent = std::filesystem::path(file).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent);
}

bool is_comment_or_blank(std::string_view stmt) {
  std::size_t pos = 0;
  while (pos < stmt.size()) {
    const std::size_t eol = std::min(stmt.find('\n', pos), stmt.size());
    std::string_view line = stmt.substr(pos, eol - pos);
    const auto first = line.find_first_not_of(" \t\r");
    if (first != std::string_view::npos && line.substr(first, 2) != "--") return false;
    pos = eol + 1;
  }
  return true;
}

// Splits a migration at ';' that ends a line (trailing blanks allowed), the convention of
// schemas/sql/README.md, so a ';' inside a string literal or a trigger body mid-line is left alone.
std::vector<std::string> split_statements(const std::string& sql) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    if (sql[i] != ';') continue;
    std::size_t j = i + 1;
    while (j < sql.size() && (sql[j] == ' ' || sql[j] == '\t' || sql[j] == '\r')) ++j;
    if (j < sql.size() && sql[j] != '\n') continue;
    out.push_back(sql.substr(start, i - start));
    start = j;
    i = j;
  }
  if (start < sql.size()) out.push_back(sql.substr(start));
  std::erase_if(out, [](const std::string& s) { return is_comment_or_blank(s); });
  return out;
}

// Routes PostgreSQL notices ("relation ... already exists, skipping") to the log instead of raw stderr.
void on_pg_notice(void*, const char* message) {
  std::string text = message;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (text.rfind("NOTICE:", 0) == 0 || text.rfind("DEBUG:", 0) == 0 || text.rfind("INFO:", 0) == 0) {
    crowd::log::debug("postgresql notice", {{"message", text}});
  } else {
    crowd::log::warn("postgresql notice", {{"message", text}});
  }
}

void prepare_pg_session(soci::session& s) {
  auto* pg = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  if (pg != nullptr && pg->conn_ != nullptr) PQsetNoticeProcessor(pg->conn_, on_pg_notice, nullptr);
}

// The statement cache of every pooled session of every live Database, for prepared(). Written only when a
// Database is built or destroyed; a session is used by one thread at a time, so its cache needs no lock.
std::shared_mutex& registry_mutex() {
  static std::shared_mutex m;
  return m;
}
std::unordered_map<const soci::session*, StatementCache*>& registry() {
  static std::unordered_map<const soci::session*, StatementCache*> r;
  return r;
}
// Bumped at every change of the registry, so that a thread's memo of its last lookup is never stale.
std::atomic<std::uint64_t> g_registry_version{1};

bool starts_with_select(const std::string& sql) {
  std::size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
  static constexpr std::string_view kSelect = "SELECT";
  if (sql.size() - i < kSelect.size()) return false;
  for (std::size_t k = 0; k < kSelect.size(); ++k) {
    if (std::toupper(static_cast<unsigned char>(sql[i + k])) != kSelect[k]) return false;
  }
  return true;
}

// Process-wide SQLite settings, effective only before the library's first use (later calls fail harmlessly
// with SQLITE_MISUSE and change nothing). No allocation statistics: they took a global mutex on every
// malloc. Multi-thread mode: a connection checks no mutex of its own, which is safe because a pooled
// session (and its cached statements) is used by one thread at a time, under its lease.
void configure_sqlite_library() {
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    sqlite_api::sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
  });
}

std::int64_t parse_i64(const std::string& text) {
  std::size_t used = 0;
  const long long v = std::stoll(text, &used);
  if (used != text.size()) throw std::invalid_argument("db: not an integer: " + text);
  return v;
}

}  // namespace

// Copies the WAL back into the database file in the background, on a connection of its own, every 100 ms.
// Otherwise the writer whose commit takes the WAL past wal_autocheckpoint does it, with two fsyncs, while
// every other writer waits for it: the event consumer lost a few percent of its time that way. A PASSIVE
// checkpoint never blocks writers or readers (it copies what it can and stops at the oldest reader);
// writers still checkpoint themselves past wal_autocheckpoint should this thread fall behind.
class Database::Checkpointer {
 public:
  Checkpointer(const soci::backend_factory& factory, std::string params) {
    thread_ = std::thread([this, &factory, params = std::move(params)] { run(factory, params); });
  }
  ~Checkpointer() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

 private:
  void run(const soci::backend_factory& factory, const std::string& params) {
    std::unique_ptr<soci::session> s;
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stop_; })) {
      lock.unlock();
      try {
        if (!s) s = std::make_unique<soci::session>(factory, params);
        *s << "PRAGMA wal_checkpoint(PASSIVE)";
      } catch (const std::exception& e) {
        crowd::log::debug("background WAL checkpoint failed", {{"error", e.what()}});
        s.reset();
      }
      lock.lock();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

Database::Database(std::string url, std::size_t pool_size, DatabaseOptions options) : pool_size_(pool_size) {
  if (pool_size_ == 0) throw std::invalid_argument("db: pool_size must be positive");
  const int page = options.sqlite_page_size;
  if (page < 512 || page > 65536 || (page & (page - 1)) != 0) {
    throw std::invalid_argument("db: sqlite_page_size must be a power of two from 512 to 65536");
  }
  const soci::backend_factory* factory = nullptr;
  std::string params;
  if (url.rfind(kSqlitePrefix, 0) == 0) {
    configure_sqlite_library();
    backend_ = Backend::sqlite;
    factory = soci::factory_sqlite3();
    params = url.substr(kSqlitePrefix.size());
    ensure_sqlite_folder(params);
  } else if (url.rfind(kPostgresPrefix, 0) == 0) {
    backend_ = Backend::postgresql;
    factory = soci::factory_postgresql();
    params = url.substr(kPostgresPrefix.size());
  } else {
    throw std::invalid_argument("db: the URL must start with sqlite3:// or postgresql://");
  }
  pool_ = std::make_unique<soci::connection_pool>(pool_size_);
  for (std::size_t i = 0; i < pool_size_; ++i) {
    soci::session& s = pool_->at(i);
    s.open(*factory, params);
    if (backend_ == Backend::sqlite) {
      // WAL lets readers run beside the one writer; NORMAL is durable across process crashes (only an OS
      // crash may lose the last commits); writers wait up to 10 s for the lock instead of failing.
      // Before WAL: a new database file takes this page size (DatabaseOptions).
      s << "PRAGMA page_size=" + std::to_string(page);
      s << "PRAGMA journal_mode=WAL";
      s << "PRAGMA synchronous=NORMAL";
      s << "PRAGMA busy_timeout=10000";
      // The committing writer copies the WAL back into the database (with two fsyncs) once the WAL holds
      // this many pages, and waits for it. The background checkpointer copies most frames before that, but
      // under a steady stream of commits it never finds the WAL wholly copied at a moment a writer starts,
      // so the WAL only starts over after a writer's own checkpoint. 10,000 pages (40 MB of 4 KiB pages,
      // 160 MB of 16 KiB ones) make those stops rare (measured on a write-heavy benchmark: about one per
      // 20,000 transactions, 8 % faster than 2,500 pages); journal_size_limit truncates the file to 64 MB.
      s << "PRAGMA wal_autocheckpoint=10000";
      s << "PRAGMA journal_size_limit=67108864";
      s << "PRAGMA foreign_keys=ON";
    } else {
      prepare_pg_session(s);
    }
  }
  {
    std::unique_lock lock(registry_mutex());
    for (std::size_t i = 0; i < pool_size_; ++i) {
      caches_.push_back(std::make_unique<StatementCache>());
      registry()[&pool_->at(i)] = caches_.back().get();
    }
    g_registry_version.fetch_add(1, std::memory_order_acq_rel);
  }
  if (backend_ == Backend::sqlite) {
    const std::string file = conn_param(params, "db");
    if (!file.empty() && file != ":memory:" && file.find("mode=memory") == std::string::npos) {
      checkpointer_ = std::make_unique<Checkpointer>(*factory, params);
    }
  }
}

Database::~Database() {
  checkpointer_.reset();
  {
    std::unique_lock lock(registry_mutex());
    for (std::size_t i = 0; i < pool_size_; ++i) registry().erase(&pool_->at(i));
    g_registry_version.fetch_add(1, std::memory_order_acq_rel);
  }
  caches_.clear();  // the statements go before their sessions
}

Database::WriterTurn::WriterTurn(Database& db) : db_(db) {
  if (db_.backend_ != Backend::sqlite) return;
  locked_ = db_.writer_.try_lock_for(std::chrono::seconds(10));
}

Database::WriterTurn::~WriterTurn() {
  if (locked_) db_.writer_.unlock();
}

Database::Lease::Lease(Database& db) : db_(db), pos_(db.pool_->lease()) {
  if (db_.backend_ != Backend::postgresql) return;
  // A PostgreSQL connection that broke (server restart, network) stays broken: reopen it before handing
  // it out. PQstatus costs no round trip; it turns bad after the first failed call on a dead socket.
  soci::session& s = db_.pool_->at(pos_);
  auto* pg = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  if (pg != nullptr && PQstatus(pg->conn_) == CONNECTION_OK) return;
  try {
    // Statements prepared on the broken connection do not exist on the new one.
    db_.caches_[pos_]->clear();
    s.reconnect();
    prepare_pg_session(s);
  } catch (...) {
    db_.pool_->give_back(pos_);
    throw;
  }
}

Database::Lease::~Lease() {
  db_.pool_->give_back(pos_);
}

soci::session& Database::Lease::session() {
  return db_.pool_->at(pos_);
}

void Database::begin(soci::session& s) {
  cache_of(s).set_in_tx(true);
  // IMMEDIATE takes the write lock up front: a deferred transaction that later writes can fail with
  // SQLITE_BUSY without waiting, while IMMEDIATE queues on the busy timeout.
  s << (backend_ == Backend::sqlite ? "BEGIN IMMEDIATE" : "BEGIN");
}

void Database::begin_read(soci::session& s) {
  if (backend_ == Backend::sqlite) {
    s << "BEGIN";
  } else {
    s << "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
  }
}

// A hook or a COMMIT that fails is followed by rollback(), which tells every hook.
void Database::commit(soci::session& s) {
  StatementCache& cache = cache_of(s);
  cache.before_commit(s);
  s << "COMMIT";
  cache.set_in_tx(false);
  cache.after_commit();
}

void Database::rollback(soci::session& s) noexcept {
  StatementCache* cache = nullptr;
  try {
    cache = &cache_of(s);
    cache->set_in_tx(false);
    s << "ROLLBACK";
  } catch (...) {
    // Nothing to undo when the transaction already ended (e.g. the connection dropped).
  }
  if (cache != nullptr) cache->after_rollback();
}

// Contract: safe to call at every start, by several instances at once (PostgreSQL: advisory lock;
// SQLite: BEGIN IMMEDIATE serialises writers and the applied set is re-read under the lock). Each
// migration commits with its record, so a failure leaves earlier migrations applied and this one not.
void Database::migrate(const std::vector<Migration>& migrations) {
  Lease lease(*this);
  soci::session& s = lease.session();
  if (backend_ == Backend::postgresql) s << "SELECT pg_advisory_lock(" << kMigrateLockKey << ")";
  try {
    s << "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at_ms BIGINT NOT NULL)";
    std::vector<Migration> sorted = migrations;
    std::sort(sorted.begin(), sorted.end(), [](const Migration& a, const Migration& b) { return a.name < b.name; });
    for (const Migration& m : sorted) {
      begin(s);
      try {
        int applied = 0;
        s << "SELECT COUNT(*) FROM schema_migrations WHERE name = :name", soci::use(m.name), soci::into(applied);
        if (applied == 0) {
          for (const std::string& stmt : split_statements(m.sql)) s << stmt;
          const std::int64_t now = crowd::clock::now_ms();
          s << "INSERT INTO schema_migrations (name, applied_at_ms) VALUES (:name, :at)", soci::use(m.name),
              soci::use(now);
        }
        commit(s);
      } catch (...) {
        rollback(s);
        throw;
      }
    }
  } catch (...) {
    if (backend_ == Backend::postgresql) {
      try {
        s << "SELECT pg_advisory_unlock(" << kMigrateLockKey << ")";
      } catch (...) {
        // The lock dies with the session anyway.
      }
    }
    throw;
  }
  if (backend_ == Backend::postgresql) s << "SELECT pg_advisory_unlock(" << kMigrateLockKey << ")";
}

void Database::migrate_service(const std::vector<Migration>& service_migrations) {
  migrate(kit_migrations());
  migrate(service_migrations);
}

bool Database::ping() {
  try {
    return with([](soci::session& s) {
      int one = 0;
      s << "SELECT 1", soci::into(one);
      return one == 1;
    });
  } catch (const std::exception&) {
    return false;
  }
}

Prepared::Prepared(soci::session& s, const std::string& sql)
    : session_(s), sql_(sql), query_(starts_with_select(sql)), sqlite_(s.get_backend_name() == "sqlite3"), st_(s) {}

Prepared::Slot& Prepared::slot(std::size_t i, bool text) {
  if (!bound_) {
    if (i != slots_.size()) throw std::logic_error("db: parameters of a prepared statement out of order");
    slots_.emplace_back().text = text;
    return slots_.back();
  }
  if (i >= slots_.size() || slots_[i].text != text) {
    throw std::logic_error("db: a prepared statement run with other parameters than at first: " + sql_);
  }
  slots_[i].ind = soci::i_ok;
  return slots_[i];
}

void Prepared::execute(std::size_t params) {
  if (!bound_) {
    try {
      for (Slot& sl : slots_) {
        if (sqlite_ && !query_) break;  // bound directly at every run (run_sqlite_direct)
        if (sl.text) {
          st_.exchange(soci::use(sl.str, sl.ind));
        } else {
          st_.exchange(soci::use(sl.num, sl.ind));
        }
      }
      row_ = std::make_unique<soci::row>();
      if (query_) st_.exchange(soci::into(*row_));
      st_.alloc();
      st_.prepare(sql_);
      st_.define_and_bind();
    } catch (...) {
      // A failed prepare (the database busy or gone) leaves nothing behind: the next run starts afresh.
      st_ = soci::statement(session_);
      slots_.clear();
      throw;
    }
    bound_ = true;
  }
  if (params != slots_.size()) {
    throw std::logic_error("db: a prepared statement run with other parameters than at first: " + sql_);
  }
  has_row_ = false;
  if (sqlite_ && !query_) {
    run_sqlite_direct();
    return;
  }
  try {
    has_row_ = st_.execute(true) && query_;
  } catch (...) {
    // SOCI keeps the converted parameters of a failed run until the statement's next successful run or its
    // end, and a next run would leak them: start afresh (prepare again) on the next run. Rare: a failure
    // is a constraint violation or a database in trouble.
    st_ = soci::statement(session_);
    slots_.clear();
    bound_ = false;
    throw;
  }
  if (query_ && sqlite_) {
    // The row is copied out; reset so that the statement holds no read cursor (which would keep a WAL
    // snapshot open after the transaction ends).
    auto* backend = static_cast<soci::sqlite3_statement_backend*>(st_.get_backend());
    if (backend != nullptr && backend->stmt_ != nullptr) sqlite_api::sqlite3_reset(backend->stmt_);
  }
}

// A write on SQLite: SOCI prepared the statement; binding and stepping it here directly skips SOCI's
// per-run conversions and allocations of every parameter (a tenth of the event consumer's time). The
// parameters bind by position, as SOCI binds them; the text stays in its slot while the statement runs.
void Prepared::run_sqlite_direct() {
  auto* backend = static_cast<soci::sqlite3_statement_backend*>(st_.get_backend());
  auto* conn = static_cast<soci::sqlite3_session_backend*>(session_.get_backend())->conn_;
  sqlite_api::sqlite3_stmt* stmt = backend->stmt_;
  sqlite_api::sqlite3_reset(stmt);
  if (static_cast<std::size_t>(sqlite_api::sqlite3_bind_parameter_count(stmt)) != slots_.size()) {
    throw std::logic_error("db: a statement's placeholders and parameters differ in number: " + sql_);
  }
  for (std::size_t i = 0; i < slots_.size(); ++i) {
    const Slot& sl = slots_[i];
    const int pos = static_cast<int>(i) + 1;
    if (sl.ind == soci::i_null) {
      sqlite_api::sqlite3_bind_null(stmt, pos);
    } else if (sl.text) {
      sqlite_api::sqlite3_bind_text(stmt, pos, sl.str.data(), static_cast<int>(sl.str.size()), SQLITE_STATIC);
    } else {
      sqlite_api::sqlite3_bind_int64(stmt, pos, sl.num);
    }
  }
  const int rc = sqlite_api::sqlite3_step(stmt);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    const std::string message = sqlite_api::sqlite3_errmsg(conn);
    sqlite_api::sqlite3_reset(stmt);
    throw soci::soci_error("sqlite3: " + message + " while executing \"" + sql_ + "\"");
  }
  changes_ = sqlite_api::sqlite3_changes(conn);
  sqlite_api::sqlite3_reset(stmt);
}

long long Prepared::affected_rows() {
  if (sqlite_ && !query_) return changes_;
  return st_.get_affected_rows();
}

Prepared& StatementCache::get(soci::session& s, const std::string& sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) it = statements_.emplace(sql, std::make_unique<Prepared>(s, sql)).first;
  return *it->second;
}

StatementCache& cache_of(soci::session& s) {
  // A worker thread uses the same session for a whole batch: remember the last lookup.
  thread_local const soci::session* last_session = nullptr;
  thread_local StatementCache* last_cache = nullptr;
  thread_local std::uint64_t last_version = 0;
  const std::uint64_t version = g_registry_version.load(std::memory_order_acquire);
  if (last_session == &s && last_version == version) return *last_cache;
  std::shared_lock lock(registry_mutex());
  auto it = registry().find(&s);
  if (it == registry().end()) throw std::logic_error("db: a session that no Database owns");
  last_session = &s;
  last_cache = it->second;
  last_version = g_registry_version.load(std::memory_order_acquire);
  return *it->second;
}

std::size_t StatementCache::next_hook_slot() {
  static std::atomic<std::size_t> next{0};
  return next.fetch_add(1);
}

TxHook& StatementCache::hook(std::size_t slot, std::unique_ptr<TxHook> (*make)()) {
  if (slot >= hooks_.size()) hooks_.resize(slot + 1);
  std::unique_ptr<TxHook>& h = hooks_[slot];
  if (!h) h = make();
  if (in_tx_ && std::find(active_.begin(), active_.end(), h.get()) == active_.end()) active_.push_back(h.get());
  return *h;
}

void StatementCache::before_commit(soci::session& s) {
  // A hook may ask for another hook while it writes: index, do not iterate.
  for (std::size_t i = 0; i < active_.size(); ++i) active_[i]->before_commit(s);
}

void StatementCache::after_commit() noexcept {
  std::vector<TxHook*> ended;
  ended.swap(active_);
  for (TxHook* h : ended) h->after_commit();
}

void StatementCache::after_rollback() noexcept {
  std::vector<TxHook*> ended;
  ended.swap(active_);
  for (TxHook* h : ended) h->after_rollback();
}

bool in_transaction(soci::session& s) {
  return cache_of(s).in_tx();
}

// One name suffices: savepoints here do not nest (the event kit opens one per event, one at a time).
void savepoint(soci::session& s) {
  if (!cache_of(s).in_tx()) throw std::logic_error("db: a savepoint outside a transaction");
  s << "SAVEPOINT crowd_sp";
}

void release_savepoint(soci::session& s) {
  cache_of(s).before_commit(s);
  s << "RELEASE SAVEPOINT crowd_sp";
}

void rollback_to_savepoint(soci::session& s) {
  StatementCache& cache = cache_of(s);
  cache.after_rollback();
  s << "ROLLBACK TO SAVEPOINT crowd_sp";
  s << "RELEASE SAVEPOINT crowd_sp";
}

Prepared& prepared(soci::session& s, const std::string& sql) {
  return cache_of(s).get(s, sql);
}

Prepared& prepared(soci::session& s, const char* sql) {
  return cache_of(s).get(s, sql);
}

Prepared& StatementCache::get(soci::session& s, const char* sql) {
  auto it = by_address_.find(sql);
  if (it != by_address_.end() && *it->second.first == sql) return *it->second.second;
  const std::string text(sql);
  Prepared& p = get(s, text);
  by_address_[sql] = {&statements_.find(text)->first, &p};
  return p;
}

std::optional<std::int64_t> get_opt_i64(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return std::nullopt;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_integer:
      return r.get<int>(i);
    case soci::dt_long_long:
      return r.get<long long>(i);
    case soci::dt_unsigned_long_long:
      return static_cast<std::int64_t>(r.get<unsigned long long>(i));
    case soci::dt_double: {
      // Only whole numbers that a double holds exactly are accepted, so money never silently loses a fen.
      // PostgreSQL's SUM(BIGINT) is NUMERIC, which SOCI reads as a double: exact only up to 2^53.
      const double d = r.get<double>(i);
      if (std::trunc(d) != d) throw std::domain_error("db: column is not a whole number");
      if (std::fabs(d) >= 9007199254740992.0)
        throw std::domain_error("db: number too large for a double; CAST it AS BIGINT");
      return static_cast<std::int64_t>(d);
    }
    case soci::dt_string:
      return parse_i64(r.get<std::string>(i));
    default:
      throw std::domain_error("db: column " + std::to_string(i) + " is not an integer");
  }
}

std::int64_t get_i64(const soci::row& r, std::size_t i) {
  auto v = get_opt_i64(r, i);
  if (!v) throw std::domain_error("db: column " + std::to_string(i) + " is NULL");
  return *v;
}

std::optional<std::string> get_opt_str(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return std::nullopt;
  switch (r.get_properties(i).get_data_type()) {
    case soci::dt_string:
    case soci::dt_xml:
      return r.get<std::string>(i);
    case soci::dt_integer:
      return std::to_string(r.get<int>(i));
    case soci::dt_long_long:
      return std::to_string(r.get<long long>(i));
    case soci::dt_unsigned_long_long:
      return std::to_string(r.get<unsigned long long>(i));
    case soci::dt_double: {
      const double d = r.get<double>(i);
      if (std::trunc(d) == d && std::fabs(d) < 9.0e15) return std::to_string(static_cast<std::int64_t>(d));
      return std::to_string(d);
    }
    default:
      throw std::domain_error("db: column " + std::to_string(i) + " is not text");
  }
}

std::string get_str(const soci::row& r, std::size_t i) {
  auto v = get_opt_str(r, i);
  if (!v) throw std::domain_error("db: column " + std::to_string(i) + " is NULL");
  return *v;
}

RowReader::RowReader(const soci::row& r, std::size_t columns) : row_(r) {
  if (r.size() != columns) {
    throw std::logic_error("db: a row of " + std::to_string(r.size()) + " columns read as " + std::to_string(columns));
  }
}

std::size_t RowReader::next() {
  if (pos_ >= row_.size())
    throw std::logic_error("db: read past the last of " + std::to_string(row_.size()) + " columns");
  return pos_++;
}

std::string RowReader::str() {
  const std::size_t i = next();
  auto v = get_opt_str(row_, i);
  if (!v) throw std::logic_error("db: column " + row_.get_properties(i).get_name() + " is NULL");
  return *v;
}

std::optional<std::string> RowReader::opt_str() {
  return get_opt_str(row_, next());
}

std::int64_t RowReader::i64() {
  const std::size_t i = next();
  auto v = get_opt_i64(row_, i);
  if (!v) throw std::logic_error("db: column " + row_.get_properties(i).get_name() + " is NULL");
  return *v;
}

std::optional<std::int64_t> RowReader::opt_i64() {
  return get_opt_i64(row_, next());
}

int RowReader::i32() {
  const std::int64_t v = i64();
  if (v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    throw std::logic_error("db: column " + row_.get_properties(pos_ - 1).get_name() + " does not fit an int");
  }
  return static_cast<int>(v);
}

bool RowReader::flag() {
  return i64() != 0;
}

void RowReader::done() const {
  if (pos_ != row_.size()) {
    throw std::logic_error("db: " + std::to_string(row_.size() - pos_) + " of " + std::to_string(row_.size()) +
                           " columns left unread");
  }
}

std::size_t column_count(std::string_view list) {
  auto upper_at = [&](std::size_t i, std::string_view word) {
    if (i + word.size() > list.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k) {
      if (std::toupper(static_cast<unsigned char>(list[i + k])) != word[k]) return false;
    }
    const bool start_ok = i == 0 || !std::isalnum(static_cast<unsigned char>(list[i - 1]));
    const bool end_ok =
        i + word.size() == list.size() || !std::isalnum(static_cast<unsigned char>(list[i + word.size()]));
    return start_ok && end_ok;
  };
  std::size_t begin = list.find_first_not_of(" \t\n");
  if (begin != std::string_view::npos && upper_at(begin, "SELECT")) begin += 6;
  std::size_t count = 1;
  int depth = 0;
  bool any = false;
  for (std::size_t i = begin == std::string_view::npos ? list.size() : begin; i < list.size(); ++i) {
    const char c = list[i];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && c == ',') ++count;
    if (depth == 0 && upper_at(i, "FROM")) break;
    if (!std::isspace(static_cast<unsigned char>(c))) any = true;
  }
  return any ? count : 0;
}

bool is_unique_violation(const std::exception& e) {
  const std::string_view what = e.what();
  return what.find("UNIQUE constraint failed") != std::string_view::npos ||  // SQLite
         what.find("duplicate key value") != std::string_view::npos;         // PostgreSQL (23505)
}

}  // namespace crowd::db
