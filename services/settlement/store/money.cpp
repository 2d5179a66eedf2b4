#include "services/settlement/store/money.hpp"

#include <soci/soci.h>

#include "services/settlement/store/rows.hpp"

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

// Σ credits − Σ debits per account over the transfers that credit_where and debit_where keep ("" keeps them
// all), with params bound in order.
template <class... P>
std::map<std::string, std::int64_t> account_sums(soci::session& s, const std::string& credit_where,
                                                 const std::string& debit_where, const P&... params) {
  auto where = [](const std::string& w) { return w.empty() ? std::string() : " WHERE " + w; };
  const std::string from = "FROM (SELECT credit_account AS account, amount_fen AS delta FROM transfers" +
                           where(credit_where) +
                           " UNION ALL SELECT debit_account AS account, -amount_fen AS delta FROM transfers" +
                           where(debit_where) + ") legs GROUP BY account";
  std::map<std::string, std::int64_t> out;
  rows::each(
      s, "account, SUM(delta)", from,
      [&](db::RowReader& r) {
        const std::string account = r.str();
        out[account] = r.i64();
      },
      params...);
  return out;
}

}  // namespace

std::map<std::string, std::int64_t> owned_balances_at(soci::session& s, const std::string& account,
                                                      const std::string& party, std::int64_t before_ms) {
  const long long before = before_ms;
  return account_sums(s, "created_at_ms < :t1 AND " + owned("credit_account", "1"),
                      "created_at_ms < :t2 AND " + owned("debit_account", "2"), before, account, party, before, account,
                      party);
}

std::vector<TransferSpec> owned_transfers_in(soci::session& s, const std::string& account, const std::string& party,
                                             const Period& p, int limit) {
  const long long from = p.start_ms, to = p.end_ms;
  return rows::all(
      s, "id, debit_account, credit_account, amount_fen, currency, kind, ref, created_at_ms",
      "FROM transfers WHERE created_at_ms >= :f AND created_at_ms < :t AND (" + owned("debit_account", "1") + " OR " +
          owned("credit_account", "2") + ") ORDER BY created_at_ms, id LIMIT :lim",
      [](db::RowReader& r) {
        return TransferSpec{r.str(), r.str(), r.str(), r.i64(), r.str(), r.str(), r.str(), r.i64()};
      },
      from, to, account, party, account, party, limit);
}

// --- The ledger check's snapshot ---

namespace {

void load_accounts(soci::session& s, LedgerSnapshot& snap) {
  rows::each(s, "id, allow_negative, balance_fen", "FROM accounts ORDER BY id", [&](db::RowReader& r) {
    snap.accounts.push_back(LedgerSnapshot::Account{r.str(), r.flag(), r.i64()});
  });
  snap.recomputed_fen = account_sums(s, "", "");
  rows::each(s, "COUNT(*)", "FROM transfers", [&](db::RowReader& r) { snap.transfers = r.i64(); });
  rows::each(s, "id", "FROM transfers WHERE amount_fen <= 0 OR debit_account = credit_account ORDER BY id LIMIT 50",
             [&](db::RowReader& r) { snap.malformed_transfers.push_back(r.str()); });
}

void load_escrows_and_settlements(soci::session& s, LedgerSnapshot& snap) {
  rows::each(s, "task_id, account_id, held_fen, settled_fen, released_fen", "FROM escrows ORDER BY task_id",
             [&](db::RowReader& r) {
               snap.escrows.push_back(LedgerSnapshot::Escrow{r.str(), r.str(), r.i64(), r.i64(), r.i64()});
             });
  rows::each(s,
             "s.id, s.amount_fen, s.fee_fen, s.worker_gross_fen, s.iit_fen, s.net_fen, "
             "COALESCE((SELECT SUM(t.amount_fen) FROM transfers t WHERE t.ref = s.id), 0)",
             "FROM settlements s ORDER BY s.id", [&](db::RowReader& r) {
               snap.settlements.push_back(
                   LedgerSnapshot::Settlement{r.str(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64(), r.i64()});
             });
  rows::each(s, "assignment_id, task_id, account_id, status, amount_fen", "FROM reservations ORDER BY assignment_id",
             [&](db::RowReader& r) {
               snap.reservations.push_back(LedgerSnapshot::Reservation{r.str(), r.str(), r.str(), r.str(), r.i64()});
             });
}

void load_open_payouts(soci::session& s, LedgerSnapshot& snap) {
  rows::each(s, "party_kind, party_id, CAST(SUM(amount_fen) AS BIGINT)",
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
