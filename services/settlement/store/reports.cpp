#include "services/settlement/store/reports.hpp"

#include <soci/soci.h>

#include <initializer_list>

#include "common/db.hpp"

namespace crowd::settlement {

// --- Reconciliation ---

namespace {

constexpr const char* kDepositOutcomeColumns = "amount_fen, status, provider";
constexpr const char* kProviderMovementColumns = "t.ref, t.kind, t.amount_fen";

}  // namespace

std::optional<DepositOutcome> find_deposit_outcome(soci::session& s, const std::string& deposit_id) {
  soci::rowset<soci::row> rows =
      (s.prepare << std::string("SELECT ") + kDepositOutcomeColumns + " FROM deposits WHERE id = :id",
       soci::use(deposit_id));
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kDepositOutcomeColumns));
    DepositOutcome d;
    d.amount_fen = r.i64();
    d.status = r.str();
    d.provider = r.str();
    r.done();
    return d;
  }
  return std::nullopt;
}

std::string payout_of_attempt(soci::session& s, const std::string& merchant_ref) {
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT payout_id FROM payout_attempts WHERE merchant_ref = :m", soci::use(merchant_ref));
  for (const auto& row : rows) {
    db::RowReader r(row, 1);
    std::string id = r.str();
    r.done();
    return id;
  }
  return "";
}

std::vector<ProviderMovement> provider_movements(soci::session& s, std::int64_t from_ms, std::int64_t to_ms) {
  const long long from = from_ms, to = to_ms;
  soci::rowset<soci::row> rows =
      (s.prepare << std::string("SELECT ") + kProviderMovementColumns +
                        " FROM transfers t WHERE t.kind IN ('payout_sent', 'payout_returned', 'deposit') AND "
                        "t.created_at_ms >= :f AND t.created_at_ms < :t",
       soci::use(from), soci::use(to));
  std::vector<ProviderMovement> out;
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kProviderMovementColumns));
    ProviderMovement m;
    m.ref = r.str();
    m.kind = r.str();
    m.amount_fen = r.i64();
    r.done();
    out.push_back(std::move(m));
  }
  return out;
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
  soci::rowset<soci::row> rows = (s.prepare << "SELECT " + select + " FROM settlements WHERE " + party_column +
                                                   " = :p AND settled_at_ms >= :f AND settled_at_ms < :t",
                                  soci::use(party), soci::use(from), soci::use(to));
  std::vector<std::int64_t> out(columns.size() + 1, 0);  // an aggregate without GROUP BY: one row
  for (const auto& row : rows) {
    db::RowReader r(row, out.size());
    for (auto& v : out) v = r.i64();
    r.done();
  }
  return out;
}

constexpr const char* kInvoiceSeenColumns = "invoice_id, number, settlement_id, total_fen, issued_at_ms";

}  // namespace

std::int64_t transfers_total(soci::session& s, const std::string& kind, TransferSide side, const std::string& account,
                             const Period& p) {
  const char* column = side == TransferSide::debit ? "debit_account" : "credit_account";
  const long long from = p.start_ms, to = p.end_ms;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM transfers WHERE kind = :k AND " << column
                 << " = :a AND created_at_ms >= :f AND created_at_ms < :t",
       soci::use(kind), soci::use(account), soci::use(from), soci::use(to));
  std::int64_t sum = 0;
  for (const auto& row : rows) {
    db::RowReader r(row, 1);
    sum = r.i64();
    r.done();
  }
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
  soci::rowset<soci::row> rows =
      (s.prepare << std::string("SELECT ") + kInvoiceSeenColumns +
                        " FROM invoices_seen WHERE enterprise_id = :e AND issued_at_ms >= :f AND issued_at_ms < :t "
                        "ORDER BY issued_at_ms, invoice_id",
       soci::use(enterprise_id), soci::use(from), soci::use(to));
  std::vector<InvoiceSeen> out;
  for (const auto& row : rows) {
    db::RowReader r(row, db::column_count(kInvoiceSeenColumns));
    InvoiceSeen i;
    i.invoice_id = r.str();
    i.number = r.str();
    i.enterprise_id = enterprise_id;
    i.settlement_id = r.str();
    i.total_fen = r.i64();
    i.issued_at_ms = r.i64();
    r.done();
    out.push_back(std::move(i));
  }
  return out;
}

}  // namespace crowd::settlement
