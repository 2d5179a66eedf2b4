#include "services/invoicing/store.hpp"

#include <stdexcept>

#include "common/db.hpp"

namespace crowd::invoicing::store {
namespace {

constexpr const char* kBuyerCols = "enterprise_id, name, credit_code";
constexpr const char* kInvoiceCols = "id, enterprise_id, document";
constexpr const char* kPendingCols = "settlement_id, data, trace_id";

Buyer buyer_of(const soci::row& row) {
  Buyer b;
  db::RowReader(row, db::column_count(kBuyerCols)).into(b.enterprise_id, b.name, b.credit_code);
  return b;
}

StoredInvoice invoice_of(const soci::row& row) {
  StoredInvoice i;
  db::RowReader(row, db::column_count(kInvoiceCols)).into(i.id, i.enterprise_id, i.document);
  return i;
}

Pending pending_row_of(const soci::row& row) {
  Pending p;
  db::RowReader(row, db::column_count(kPendingCols)).into(p.settlement_id, p.data, p.trace_id);
  return p;
}

}  // namespace

// Contract: inside the enterprise.registered transaction. Idempotent (an upsert).
void upsert_buyer(soci::session& s, const Buyer& b, bool credit_code_ok, std::int64_t now_ms) {
  const int ok = credit_code_ok ? 1 : 0;
  s << "INSERT INTO buyers (enterprise_id, name, credit_code, credit_code_ok, registered_at_ms) "
       "VALUES (:id, :name, :code, :ok, :at) "
       "ON CONFLICT (enterprise_id) DO UPDATE SET name = excluded.name, credit_code = excluded.credit_code, "
       "credit_code_ok = excluded.credit_code_ok",
      soci::use(b.enterprise_id), soci::use(b.name), soci::use(b.credit_code), soci::use(ok), soci::use(now_ms);
}

std::optional<Buyer> find_buyer(soci::session& s, const std::string& enterprise_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kBuyerCols << " FROM buyers WHERE enterprise_id = :id", soci::use(enterprise_id));
  for (const soci::row& r : rs) return buyer_of(r);
  return std::nullopt;
}

// Contract: inside the issuing transaction. The UPDATE takes the row's write lock (PostgreSQL) or the
// database's (SQLite BEGIN IMMEDIATE), so concurrent issuers queue and each reads its own increment.
std::int64_t next_sequence(soci::session& s, int year) {
  s << "INSERT INTO invoice_counters (year, last_seq) VALUES (:y, 0) ON CONFLICT (year) DO NOTHING", soci::use(year);
  s << "UPDATE invoice_counters SET last_seq = last_seq + 1 WHERE year = :y", soci::use(year);
  soci::rowset<soci::row> rs = (s.prepare << "SELECT last_seq FROM invoice_counters WHERE year = :y", soci::use(year));
  for (const soci::row& r : rs) return db::get_i64(r, 0);
  throw std::logic_error("invoice_counters: no row for the year just created");
}

// Contract: inside the issuing transaction, after next_sequence. The unique keys (settlement_id, number,
// year + sequence) turn any double issue into an error that rolls the whole transaction back.
void insert_invoice(soci::session& s, const Invoice& inv, int year, std::int64_t sequence,
                    const std::string& document) {
  const int review = inv.buyer_needs_review ? 1 : 0;
  s << "INSERT INTO invoices (id, number, year, sequence, kind, settlement_id, enterprise_id, task_id, "
       "buyer_needs_review, amount_fen, tax_fen, total_fen, currency, issued_at_ms, issue_date, document) "
       "VALUES (:id, :number, :year, :seq, :kind, :stl, :ent, :task, :review, :amount, :tax, :total, :cur, :at, "
       ":date, :doc)",
      soci::use(inv.id), soci::use(inv.number), soci::use(year), soci::use(sequence), soci::use(inv.kind),
      soci::use(inv.settlement_id), soci::use(inv.buyer.enterprise_id), soci::use(inv.task_id), soci::use(review),
      soci::use(inv.amount_fen), soci::use(inv.tax_fen), soci::use(inv.total_fen), soci::use(inv.currency),
      soci::use(inv.issued_at_ms), soci::use(inv.issue_date), soci::use(document);
}

bool invoice_exists_for_settlement(soci::session& s, const std::string& settlement_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT id FROM invoices WHERE settlement_id = :stl", soci::use(settlement_id));
  return rs.begin() != rs.end();
}

std::optional<StoredInvoice> find_invoice(soci::session& s, const std::string& id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT " << kInvoiceCols << " FROM invoices WHERE id = :id", soci::use(id));
  for (const soci::row& r : rs) return invoice_of(r);
  return std::nullopt;
}

// No sentinel cursor ("~"): under a PostgreSQL locale other than C, punctuation sorts before letters, so the
// first page takes its own statement instead.
std::vector<StoredInvoice> list_invoices(soci::session& s, const ListQuery& q) {
  static const std::string select = std::string("SELECT ") + kInvoiceCols + " FROM invoices ";
  static const std::string tail = " ORDER BY id DESC LIMIT :n";
  std::vector<StoredInvoice> out;
  auto collect = [&out](soci::rowset<soci::row> rs) {
    for (const soci::row& r : rs) out.push_back(invoice_of(r));
  };
  const bool one = !q.enterprise_id.empty();
  if (one && q.before_id) {
    collect((s.prepare << select + "WHERE enterprise_id = :ent AND id < :before" + tail, soci::use(q.enterprise_id),
             soci::use(*q.before_id), soci::use(q.limit)));
  } else if (one) {
    collect(
        (s.prepare << select + "WHERE enterprise_id = :ent" + tail, soci::use(q.enterprise_id), soci::use(q.limit)));
  } else if (q.before_id) {
    collect((s.prepare << select + "WHERE id < :before" + tail, soci::use(*q.before_id), soci::use(q.limit)));
  } else {
    collect((s.prepare << select + tail, soci::use(q.limit)));
  }
  return out;
}

bool insert_pending(soci::session& s, const std::string& settlement_id, const std::string& enterprise_id,
                    const std::string& data, const std::string& trace_id, std::int64_t now_ms) {
  soci::statement st =
      (s.prepare << "INSERT INTO pending_invoices (settlement_id, enterprise_id, data, trace_id, "
                    "received_at_ms) VALUES (:stl, :ent, :data, :trace, :at) "
                    "ON CONFLICT (settlement_id) DO NOTHING",
       soci::use(settlement_id), soci::use(enterprise_id), soci::use(data), soci::use(trace_id), soci::use(now_ms));
  st.execute(true);
  return st.get_affected_rows() > 0;
}

bool pending_exists(soci::session& s, const std::string& settlement_id) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT settlement_id FROM pending_invoices WHERE settlement_id = :stl", soci::use(settlement_id));
  return rs.begin() != rs.end();
}

std::vector<Pending> pending_of(soci::session& s, const std::string& enterprise_id) {
  std::vector<Pending> out;
  soci::rowset<soci::row> rs = (s.prepare << "SELECT " << kPendingCols
                                          << " FROM pending_invoices WHERE enterprise_id = :ent "
                                             "ORDER BY received_at_ms, settlement_id",
                                soci::use(enterprise_id));
  for (const soci::row& r : rs) out.push_back(pending_row_of(r));
  return out;
}

void delete_pending(soci::session& s, const std::string& settlement_id) {
  s << "DELETE FROM pending_invoices WHERE settlement_id = :stl", soci::use(settlement_id);
}

}  // namespace crowd::invoicing::store
