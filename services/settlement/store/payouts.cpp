#include "services/settlement/store/payouts.hpp"

#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/db.hpp"

namespace crowd::settlement {

namespace {

constexpr const char* kPayoutColumns =
    "id, party_kind, party_id, origin, amount_fen, currency, status, attempts, max_attempts, next_attempt_at_ms, "
    "current_ref, provider_ref, last_error, resolution, created_at_ms, updated_at_ms";

PayoutRow payout_of(const soci::row& row) {
  db::RowReader r(row, db::column_count(kPayoutColumns));
  PayoutRow p;
  p.id = r.str();
  p.party_kind = r.str();
  p.party_id = r.str();
  p.origin = r.str();
  p.amount_fen = r.i64();
  p.currency = r.str();
  p.status = r.str();
  p.attempts = r.i32();
  p.max_attempts = r.i32();
  p.next_attempt_at_ms = r.opt_i64();
  p.current_ref = r.opt_str().value_or("");
  p.provider_ref = r.opt_str().value_or("");
  p.last_error = r.str();
  p.resolution = r.str();
  p.created_at_ms = r.i64();
  p.updated_at_ms = r.i64();
  r.done();
  return p;
}

// Runs an UPDATE/INSERT statement; true when it touched exactly one row.
bool one_row(soci::statement& st) {
  st.execute(true);
  return st.get_affected_rows() == 1;
}

}  // namespace

std::optional<PayoutRow> find_payout(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kPayoutColumns << " FROM payouts WHERE id = :id", soci::use(id));
  for (const auto& r : rows) return payout_of(r);
  return std::nullopt;
}

std::vector<PayoutRow> list_payouts(soci::session& s, const PayoutQuery& q) {
  std::vector<PayoutRow> out;
  const long long from = q.from_ms, to = q.to_ms;
  // Distinct placeholder names: SQLite binds a repeated name once.
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kPayoutColumns
                 << " FROM payouts WHERE (:p1 = '' OR party_id = :p2) AND (:s1 = '' OR status = :s2) AND "
                    "created_at_ms >= :f AND created_at_ms < :t ORDER BY "
                 << (q.newest_first ? "created_at_ms DESC, id DESC" : "created_at_ms, id") << " LIMIT " << q.limit,
       soci::use(q.party_id), soci::use(q.party_id), soci::use(q.status), soci::use(q.status), soci::use(from),
       soci::use(to));
  for (const auto& r : rows) out.push_back(payout_of(r));
  return out;
}

std::vector<PayoutRow> due_payouts(soci::session& s, const std::string& status, DueBy by, std::int64_t before_ms,
                                   int limit) {
  const char* column = by == DueBy::next_attempt ? "next_attempt_at_ms" : "updated_at_ms";
  const long long before = before_ms;
  std::vector<PayoutRow> out;
  soci::rowset<soci::row> rows = (s.prepare << "SELECT " << kPayoutColumns << " FROM payouts WHERE status = :s AND "
                                            << column << " <= :b ORDER BY created_at_ms, id LIMIT " << limit,
                                  soci::use(status), soci::use(before));
  for (const auto& r : rows) out.push_back(payout_of(r));
  return out;
}

void insert_payout(soci::session& s, const PayoutRow& p, const std::optional<std::string>& key) {
  soci::indicator ki = key ? soci::i_ok : soci::i_null;
  const std::string kv = key.value_or("");
  const long long amount = p.amount_fen, next = p.next_attempt_at_ms.value_or(p.created_at_ms),
                  created = p.created_at_ms, updated = p.updated_at_ms;
  s << "INSERT INTO payouts (id, party_kind, party_id, origin, amount_fen, currency, status, attempts, max_attempts, "
       "next_attempt_at_ms, idempotency_key, created_at_ms, updated_at_ms) VALUES (:id, :pk, :pid, :o, :a, 'CNY', "
       "'pending', 0, :m, :nx, :k, :c, :u)",
      soci::use(p.id), soci::use(p.party_kind), soci::use(p.party_id), soci::use(p.origin), soci::use(amount),
      soci::use(p.max_attempts), soci::use(next), soci::use(kv, ki), soci::use(created), soci::use(updated);
}

bool advance_payout(soci::session& s, const PayoutRow& p, const std::string& from, const std::string& to,
                    const std::string& error, std::optional<std::int64_t> next_at) {
  const long long now = clock::now_ms();
  const int attempts = p.attempts;
  soci::indicator ni = next_at ? soci::i_ok : soci::i_null;
  long long nv = next_at.value_or(0);
  soci::statement st = (s.prepare << "UPDATE payouts SET status = :to, last_error = :err, next_attempt_at_ms = :nx, "
                                     "updated_at_ms = :now WHERE id = :id AND status = :from AND attempts = :n",
                        soci::use(to), soci::use(error), soci::use(nv, ni), soci::use(now), soci::use(p.id),
                        soci::use(from), soci::use(attempts));
  return one_row(st);
}

bool claim_attempt(soci::session& s, const PayoutRow& p, int n, const std::string& ref, std::int64_t now_ms) {
  const long long now = now_ms;
  const int old_attempts = p.attempts;
  soci::statement claim = (s.prepare << "UPDATE payouts SET status = 'submitting', attempts = :n, current_ref = :r, "
                                        "next_attempt_at_ms = NULL, updated_at_ms = :now WHERE id = :id AND "
                                        "status = 'pending' AND attempts = :old",
                           soci::use(n), soci::use(ref), soci::use(now), soci::use(p.id), soci::use(old_attempts));
  if (!one_row(claim)) return false;
  s << "INSERT INTO payout_attempts (merchant_ref, payout_id, n, status, created_at_ms, updated_at_ms) "
       "VALUES (:r, :p, :n, 'submitting', :c, :u)",
      soci::use(ref), soci::use(p.id), soci::use(n), soci::use(now), soci::use(now);
  return true;
}

void set_payout_provider_ref(soci::session& s, const std::string& payout_id, const std::string& provider_ref) {
  s << "UPDATE payouts SET provider_ref = :p WHERE id = :id", soci::use(provider_ref), soci::use(payout_id);
}

void set_payout_next_attempt(soci::session& s, const std::string& payout_id, std::int64_t next_at_ms) {
  const long long next = next_at_ms;
  s << "UPDATE payouts SET next_attempt_at_ms = :n WHERE id = :id", soci::use(next), soci::use(payout_id);
}

void set_payout_resolution(soci::session& s, const std::string& payout_id, const std::string& resolution) {
  s << "UPDATE payouts SET resolution = :r WHERE id = :id", soci::use(resolution), soci::use(payout_id);
}

void exhaust_payout_attempts(soci::session& s, const std::string& payout_id) {
  s << "UPDATE payouts SET max_attempts = attempts WHERE id = :id", soci::use(payout_id);
}

void set_attempt(soci::session& s, const std::string& merchant_ref, const std::string& status,
                 const std::string& provider_ref, const std::string& error) {
  const long long now = clock::now_ms();
  s << "UPDATE payout_attempts SET status = :s, provider_ref = COALESCE(NULLIF(:p, ''), provider_ref), "
       "error = :e, updated_at_ms = :now WHERE merchant_ref = :m",
      soci::use(status), soci::use(provider_ref), soci::use(error), soci::use(now), soci::use(merchant_ref);
}

std::optional<std::string> payout_of_attempt(soci::session& s, const std::string& merchant_ref) {
  std::optional<std::string> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT payout_id FROM payout_attempts WHERE merchant_ref = :m", soci::use(merchant_ref));
  for (const auto& row : rows) {
    db::RowReader r(row, 1);
    out = r.str();
    r.done();
  }
  return out;
}

void upsert_payout_account(soci::session& s, const PayoutAccountRow& a) {
  const long long now = a.updated_at_ms;
  s << "INSERT INTO payout_accounts (worker_id, mode, payee_sealed, payee_masked, holder_masked, blocked_reason, "
       "updated_at_ms) VALUES (:w, :m, :p, :pm, :hm, '', :now) ON CONFLICT (worker_id) DO UPDATE SET "
       "mode = excluded.mode, payee_sealed = excluded.payee_sealed, payee_masked = excluded.payee_masked, "
       "holder_masked = excluded.holder_masked, blocked_reason = '', updated_at_ms = excluded.updated_at_ms",
      soci::use(a.worker_id), soci::use(a.mode), soci::use(a.payee_sealed), soci::use(a.payee_masked),
      soci::use(a.holder_masked), soci::use(now);
}

std::optional<PayoutAccountRow> find_payout_account(soci::session& s, const std::string& worker_id) {
  constexpr const char* kCols = "mode, payee_masked, holder_masked, blocked_reason, updated_at_ms";
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kCols << " FROM payout_accounts WHERE worker_id = :w", soci::use(worker_id));
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kCols));
    PayoutAccountRow a;
    a.worker_id = worker_id;
    a.mode = r.str();
    a.payee_masked = r.str();
    a.holder_masked = r.str();
    a.blocked_reason = r.str();
    a.updated_at_ms = r.i64();
    r.done();
    return a;
  }
  return std::nullopt;
}

bool payout_account_exists(soci::session& s, const std::string& worker_id) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT 1 FROM payout_accounts WHERE worker_id = :w", soci::use(worker_id));
  return rows.begin() != rows.end();
}

std::optional<std::string> sealed_payee(soci::session& s, const std::string& worker_id) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT payee_sealed FROM payout_accounts WHERE worker_id = :w", soci::use(worker_id));
  for (const auto& row : rows) {
    db::RowReader r(row, 1);
    std::string sealed = r.str();
    r.done();
    return sealed;
  }
  return std::nullopt;
}

void block_payout_account(soci::session& s, const std::string& worker_id, const std::string& reason) {
  s << "UPDATE payout_accounts SET blocked_reason = :r WHERE worker_id = :w", soci::use(reason), soci::use(worker_id);
}

std::vector<std::string> auto_payout_candidates(soci::session& s, std::int64_t min_fen, int limit) {
  const long long min = min_fen;
  std::vector<std::string> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT pa.worker_id FROM payout_accounts pa JOIN accounts a ON a.id = 'wkr:' || pa.worker_id "
                    "|| ':payable' WHERE pa.mode = 'auto' AND pa.blocked_reason = '' AND a.balance_fen >= :m AND "
                    "NOT EXISTS (SELECT 1 FROM payouts p WHERE p.party_id = pa.worker_id AND p.status IN "
                    "('pending', 'submitting', 'submitted', 'parked')) ORDER BY pa.worker_id LIMIT "
                 << limit,
       soci::use(min));
  for (const auto& row : rows) {
    db::RowReader r(row, 1);
    out.push_back(r.str());
    r.done();
  }
  return out;
}

bool record_provider_event(soci::session& s, const std::string& event_id, const std::string& type,
                           const std::string& merchant_ref, std::int64_t now_ms) {
  const long long now = now_ms;
  soci::statement seen = (s.prepare << "INSERT INTO provider_events (event_id, type, merchant_ref, outcome, "
                                       "received_at_ms) VALUES (:e, :t, :m, 'received', :now) "
                                       "ON CONFLICT (event_id) DO NOTHING",
                          soci::use(event_id), soci::use(type), soci::use(merchant_ref), soci::use(now));
  seen.execute(true);
  return seen.get_affected_rows() != 0;
}

void set_provider_event_outcome(soci::session& s, const std::string& event_id, const std::string& outcome) {
  s << "UPDATE provider_events SET outcome = :o WHERE event_id = :e", soci::use(outcome), soci::use(event_id);
}

std::optional<ProviderDeposit> find_provider_deposit(soci::session& s, const std::string& id) {
  constexpr const char* kCols =
      "id, enterprise_id, amount_fen, provider, status, transfer_id, created_at_ms, provider_ref, pay_url";
  soci::rowset<soci::row> rows = (s.prepare << "SELECT " << kCols << " FROM deposits WHERE id = :id", soci::use(id));
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kCols));
    ProviderDeposit d;
    d.id = r.str();
    d.enterprise_id = r.str();
    d.amount_fen = r.i64();
    d.provider = r.str();
    d.status = r.str();
    d.transfer_id = r.str();
    d.created_at_ms = r.i64();
    d.provider_ref = r.opt_str();
    d.pay_url = r.opt_str();
    r.done();
    return d;
  }
  return std::nullopt;
}

std::vector<std::string> unplaced_deposits(soci::session& s, std::int64_t before_ms, int limit) {
  const long long before = before_ms;
  std::vector<std::string> out;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT id FROM deposits WHERE status = 'pending' AND provider_ref IS NULL AND created_at_ms < :t "
                    "ORDER BY created_at_ms LIMIT "
                 << limit,
       soci::use(before));
  for (const auto& row : rows) {
    db::RowReader r(row, 1);
    out.push_back(r.str());
    r.done();
  }
  return out;
}

void set_deposit_placed(soci::session& s, const std::string& id, const std::string& provider_ref,
                        const std::string& pay_url) {
  s << "UPDATE deposits SET provider_ref = :p, pay_url = :u WHERE id = :id", soci::use(provider_ref),
      soci::use(pay_url), soci::use(id);
}

void end_pending_deposit(soci::session& s, const std::string& id, const std::string& status,
                         const std::string& provider_ref, std::int64_t now_ms) {
  const long long now = now_ms;
  s << "UPDATE deposits SET status = :s, provider_ref = :p, updated_at_ms = :now WHERE id = :id AND "
       "status = 'pending'",
      soci::use(status), soci::use(provider_ref), soci::use(now), soci::use(id);
}

void fail_pending_deposit(soci::session& s, const std::string& id, std::int64_t now_ms) {
  const long long now = now_ms;
  s << "UPDATE deposits SET status = 'failed', updated_at_ms = :n WHERE id = :id AND status = 'pending'",
      soci::use(now), soci::use(id);
}

std::optional<ReconciliationRow> find_reconciliation(soci::session& s, const std::string& day) {
  constexpr const char* kCols = "ran_at_ms, statement_sha256, lines, matched, mismatches";
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT " << kCols << " FROM reconciliations WHERE day = :d", soci::use(day));
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kCols));
    ReconciliationRow x;
    x.day = day;
    x.ran_at_ms = r.i64();
    x.statement_sha256 = r.str();
    x.lines = r.i32();
    x.matched = r.i32();
    x.mismatches = r.str();
    r.done();
    return x;
  }
  return std::nullopt;
}

}  // namespace crowd::settlement
