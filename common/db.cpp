// Storage through SOCI: the pool, transactions, migrations and type-tolerant row reads (see db.hpp).
#include "common/db.hpp"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <string_view>

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

std::int64_t parse_i64(const std::string& text) {
  std::size_t used = 0;
  const long long v = std::stoll(text, &used);
  if (used != text.size()) throw std::invalid_argument("db: not an integer: " + text);
  return v;
}

}  // namespace

Database::Database(std::string url, std::size_t pool_size) : pool_size_(pool_size) {
  if (pool_size_ == 0) throw std::invalid_argument("db: pool_size must be positive");
  const soci::backend_factory* factory = nullptr;
  std::string params;
  if (url.rfind(kSqlitePrefix, 0) == 0) {
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
      s << "PRAGMA journal_mode=WAL";
      s << "PRAGMA synchronous=NORMAL";
      s << "PRAGMA busy_timeout=10000";
      s << "PRAGMA foreign_keys=ON";
    } else {
      prepare_pg_session(s);
    }
  }
}

Database::~Database() = default;

Database::Lease::Lease(Database& db) : db_(db), pos_(db.pool_->lease()) {
  if (db_.backend_ != Backend::postgresql) return;
  // A PostgreSQL connection that broke (server restart, network) stays broken: reopen it before handing
  // it out. PQstatus costs no round trip; it turns bad after the first failed call on a dead socket.
  soci::session& s = db_.pool_->at(pos_);
  auto* pg = static_cast<soci::postgresql_session_backend*>(s.get_backend());
  if (pg != nullptr && PQstatus(pg->conn_) == CONNECTION_OK) return;
  try {
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

void Database::commit(soci::session& s) {
  s << "COMMIT";
}

void Database::rollback(soci::session& s) noexcept {
  try {
    s << "ROLLBACK";
  } catch (...) {
    // Nothing to undo when the transaction already ended (e.g. the connection dropped).
  }
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

bool is_unique_violation(const std::exception& e) {
  const std::string_view what = e.what();
  return what.find("UNIQUE constraint failed") != std::string_view::npos ||  // SQLite
         what.find("duplicate key value") != std::string_view::npos;         // PostgreSQL (23505)
}

}  // namespace crowd::db
