#include "services/settlement/store/reports.hpp"

#include <soci/soci.h>

#include <initializer_list>

#include "services/settlement/store/rows.hpp"

namespace crowd::settlement {

// --- Reconciliation ---

std::optional<DepositOutcome> find_deposit_outcome(soci::session& s, const std::string& deposit_id) {
  std::optional<DepositOutcome> out;
  rows::each(
      s, "amount_fen, status, provider", "FROM deposits WHERE id = :id",
      [&](db::RowReader& r) {
        out = DepositOutcome{r.i64(), r.str(), r.str()};
      },
      deposit_id);
  return out;
}

std::vector<ProviderMovement> provider_movements(soci::session& s, std::int64_t from_ms, std::int64_t to_ms) {
  const long long from = from_ms, to = to_ms;
  return rows::all(
      s, "t.ref, t.kind, t.amount_fen",
      "FROM transfers t WHERE t.kind IN ('payout_sent', 'payout_returned', 'deposit') AND t.created_at_ms >= :f AND "
      "t.created_at_ms < :t",
      [](db::RowReader& r) {
        return ProviderMovement{r.str(), r.str(), r.i64()};
      },
      from, to);
}

void save_reconciliation(soci::session& s, const ReconciliationRow& r) {
  const long long ran = r.ran_at_ms;
  s << "INSERT INTO reconciliations (day, ran_at_ms, statement_sha256, lines, matched, mismatches) VALUES "
       "(:d, :r, :h, :l, :m, :x) ON CONFLICT (day) DO UPDATE SET ran_at_ms = excluded.ran_at_ms, "
       "statement_sha256 = excluded.statement_sha256, lines = excluded.lines, matched = excluded.matched, "
       "mismatches = excluded.mismatches",
      soci::use(r.day), soci::use(ran), soci::use(r.statement_sha256), soci::use(r.lines), soci::use(r.matched),
      soci::use(r.mismatches);
}

// --- A statement's period figures ---

namespace {

// COUNT(*) then Σ of each of `columns` over the settlements of `party_column` = party settled in the period.
std::vector<std::int64_t> settled_sums(soci::session& s, const char* party_column, const std::string& party,
                                       std::initializer_list<const char*> columns, const Period& p) {
  std::string select = "COUNT(*)";
  for (const char* c : columns) select += std::string(", CAST(COALESCE(SUM(") + c + "), 0) AS BIGINT)";
  const long long from = p.start_ms, to = p.end_ms;
  std::vector<std::int64_t> out(columns.size() + 1, 0);  // an aggregate without GROUP BY: one row
  rows::each(
      s, select,
      std::string("FROM settlements WHERE ") + party_column + " = :p AND settled_at_ms >= :f AND settled_at_ms < :t",
      [&](db::RowReader& r) {
        for (auto& v : out) v = r.i64();
      },
      party, from, to);
  return out;
}

}  // namespace

std::int64_t transfers_total(soci::session& s, const std::string& kind, TransferSide side, const std::string& account,
                             const Period& p) {
  const std::string column = side == TransferSide::debit ? "debit_account" : "credit_account";
  const long long from = p.start_ms, to = p.end_ms;
  std::int64_t sum = 0;
  rows::each(
      s, "CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT)",
      "FROM transfers WHERE kind = :k AND " + column + " = :a AND created_at_ms >= :f AND created_at_ms < :t",
      [&](db::RowReader& r) { sum = r.i64(); }, kind, account, from, to);
  return sum;
}

SettledTotals enterprise_settled(soci::session& s, const std::string& enterprise_id, const Period& p) {
  const auto v = settled_sums(s, "enterprise_id", enterprise_id, {"amount_fen", "fee_fen"}, p);
  return SettledTotals{v[0], v[1], v[2]};
}

EarnedTotals worker_earned(soci::session& s, const std::string& worker_id, const Period& p) {
  const auto v = settled_sums(s, "worker_id", worker_id, {"worker_gross_fen", "iit_fen", "net_fen"}, p);
  return EarnedTotals{v[0], v[1], v[2], v[3]};
}

std::vector<InvoiceSeen> invoices_seen_in(soci::session& s, const std::string& enterprise_id, const Period& p) {
  const long long from = p.start_ms, to = p.end_ms;
  return rows::all(
      s, "invoice_id, number, enterprise_id, settlement_id, total_fen, issued_at_ms",
      "FROM invoices_seen WHERE enterprise_id = :e AND issued_at_ms >= :f AND issued_at_ms < :t ORDER BY "
      "issued_at_ms, invoice_id",
      [](db::RowReader& r) { return InvoiceSeen{r.str(), r.str(), r.str(), r.str(), r.i64(), r.i64()}; }, enterprise_id,
      from, to);
}

}  // namespace crowd::settlement
