#include "services/settlement/store/money.hpp"

#include <soci/soci.h>

#include "common/db.hpp"

namespace crowd::settlement {

namespace {

// The owned accounts as SQL over two parameters (:aN the main account, :pN the party's id). COLUMN is
// debit_account or credit_account; `n` keeps placeholder names unique within a statement (SQLite binds a
// repeated name once).
std::string owned(const std::string& column, const std::string& n) {
  return "(" + column + " = :a" + n + " OR " + column +
         " IN (SELECT x.account_id FROM escrows e JOIN (SELECT task_id, account_id FROM escrows UNION ALL SELECT "
         "task_id, account_id FROM reservations) x ON x.task_id = e.task_id WHERE e.enterprise_id = :p" +
         n + "))";
}

// Σ credits − Σ debits per account over the transfers each condition keeps ("" keeps them all).
constexpr const char* kAccountSumColumns = "account, SUM(delta)";
std::string account_sums_sql(const std::string& credit_where, const std::string& debit_where) {
  auto where = [](const std::string& w) { return w.empty() ? std::string() : " WHERE " + w; };
  return std::string("SELECT ") + kAccountSumColumns +
         " FROM (SELECT credit_account AS account, amount_fen AS delta FROM transfers" + where(credit_where) +
         " UNION ALL SELECT debit_account AS account, -amount_fen AS delta FROM transfers" + where(debit_where) +
         ") legs GROUP BY account";
}

std::map<std::string, std::int64_t> account_sums(soci::rowset<soci::row>& rows) {
  std::map<std::string, std::int64_t> out;
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kAccountSumColumns));
    const std::string account = r.str();
    out[account] = r.i64();
    r.done();
  }
  return out;
}

constexpr const char* kTransferColumns =
    "id, debit_account, credit_account, amount_fen, currency, kind, ref, created_at_ms";

TransferSpec transfer_of(const soci::row& row) {
  db::RowReader r(row, db::column_count(kTransferColumns));
  TransferSpec t;
  t.id = r.str();
  t.debit_account = r.str();
  t.credit_account = r.str();
  t.amount_fen = r.i64();
  t.currency = r.str();
  t.kind = r.str();
  t.ref = r.str();
  t.created_at_ms = r.i64();
  r.done();
  return t;
}

}  // namespace

std::map<std::string, std::int64_t> owned_balances_at(soci::session& s, const std::string& account,
                                                      const std::string& party, std::int64_t before_ms) {
  const long long before = before_ms;
  const std::string sql = account_sums_sql("created_at_ms < :t1 AND " + owned("credit_account", "1"),
                                           "created_at_ms < :t2 AND " + owned("debit_account", "2"));
  soci::rowset<soci::row> rows = (s.prepare << sql, soci::use(before), soci::use(account), soci::use(party),
                                  soci::use(before), soci::use(account), soci::use(party));
  return account_sums(rows);
}

std::vector<TransferSpec> owned_transfers_in(soci::session& s, const std::string& account, const std::string& party,
                                             const Period& p, int limit) {
  const long long from = p.start_ms, to = p.end_ms;
  const std::string sql = std::string("SELECT ") + kTransferColumns +
                          " FROM transfers WHERE created_at_ms >= :f AND created_at_ms < :t AND (" +
                          owned("debit_account", "1") + " OR " + owned("credit_account", "2") +
                          ") ORDER BY created_at_ms, id LIMIT :lim";
  std::vector<TransferSpec> out;
  soci::rowset<soci::row> rows = (s.prepare << sql, soci::use(from), soci::use(to), soci::use(account),
                                  soci::use(party), soci::use(account), soci::use(party), soci::use(limit));
  for (const auto& row : rows) out.push_back(transfer_of(row));
  return out;
}

// --- The ledger check's snapshot ---

namespace {

constexpr const char* kAccountColumns = "id, allow_negative, balance_fen";
constexpr const char* kEscrowColumns = "task_id, account_id, held_fen, settled_fen, released_fen";
constexpr const char* kSettlementColumns =
    "s.id, s.amount_fen, s.fee_fen, s.worker_gross_fen, s.iit_fen, s.net_fen, "
    "COALESCE((SELECT SUM(t.amount_fen) FROM transfers t WHERE t.ref = s.id), 0)";
constexpr const char* kReservationColumns = "assignment_id, task_id, account_id, status, amount_fen";
constexpr const char* kOpenPayoutColumns = "party_kind, party_id, CAST(SUM(amount_fen) AS BIGINT)";

// Runs `sql` (SELECT `columns` ...) and hands each row to `fn` as a reader, checked to the last column.
template <class F>
void each_row(soci::session& s, const char* columns, const std::string& rest, F&& fn) {
  soci::rowset<soci::row> rows = s.prepare << std::string("SELECT ") + columns + " " + rest;
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(columns));
    fn(r);
    r.done();
  }
}

void load_accounts(soci::session& s, LedgerSnapshot& snap) {
  each_row(s, kAccountColumns, "FROM accounts ORDER BY id", [&](db::RowReader& r) {
    LedgerSnapshot::Account a;
    a.id = r.str();
    a.allow_negative = r.flag();
    a.balance_fen = r.i64();
    snap.accounts.push_back(std::move(a));
  });
  soci::rowset<soci::row> rebuilt = s.prepare << account_sums_sql("", "");
  snap.recomputed_fen = account_sums(rebuilt);
  each_row(s, "COUNT(*)", "FROM transfers", [&](db::RowReader& r) { snap.transfers = r.i64(); });
  each_row(s, "id", "FROM transfers WHERE amount_fen <= 0 OR debit_account = credit_account ORDER BY id LIMIT 50",
           [&](db::RowReader& r) { snap.malformed_transfers.push_back(r.str()); });
}

void load_escrows_and_settlements(soci::session& s, LedgerSnapshot& snap) {
  each_row(s, kEscrowColumns, "FROM escrows ORDER BY task_id", [&](db::RowReader& r) {
    LedgerSnapshot::Escrow e;
    e.task_id = r.str();
    e.account_id = r.str();
    e.held_fen = r.i64();
    e.settled_fen = r.i64();
    e.released_fen = r.i64();
    snap.escrows.push_back(std::move(e));
  });
  each_row(s, kSettlementColumns, "FROM settlements s ORDER BY s.id", [&](db::RowReader& r) {
    LedgerSnapshot::Settlement x;
    x.id = r.str();
    x.amount_fen = r.i64();
    x.fee_fen = r.i64();
    x.worker_gross_fen = r.i64();
    x.iit_fen = r.i64();
    x.net_fen = r.i64();
    x.legs_fen = r.i64();
    snap.settlements.push_back(std::move(x));
  });
  each_row(s, kReservationColumns, "FROM reservations ORDER BY assignment_id", [&](db::RowReader& r) {
    LedgerSnapshot::Reservation x;
    x.assignment_id = r.str();
    x.task_id = r.str();
    x.account_id = r.str();
    x.status = r.str();
    x.amount_fen = r.i64();
    snap.reservations.push_back(std::move(x));
  });
}

void load_open_payouts(soci::session& s, LedgerSnapshot& snap) {
  each_row(s, kOpenPayoutColumns,
           "FROM payouts WHERE status IN ('pending', 'submitting', 'submitted', 'parked') GROUP BY party_kind, "
           "party_id",
           [&](db::RowReader& r) {
             const std::string kind = r.str(), party = r.str();
             const std::string account =
                 kind == "worker" ? worker_payout_pending(party) : enterprise_refund_pending(party);
             snap.open_payouts_fen[account] = r.i64();
           });
}

}  // namespace

LedgerSnapshot load_ledger_snapshot(soci::session& s) {
  LedgerSnapshot out;
  load_accounts(s, out);
  load_escrows_and_settlements(s, out);
  load_open_payouts(s, out);
  return out;
}

}  // namespace crowd::settlement
