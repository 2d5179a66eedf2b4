#include "services/settlement/statements.hpp"

#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/db.hpp"
#include "common/money.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/payouts.hpp"

namespace crowd::settlement {

using nlohmann::json;

namespace {

json money(std::int64_t fen) {
  return crowd::money::to_json(fen);
}

// Σ amount of the transfers of `kind` in the period whose `column` (debit_account/credit_account) is `account`.
std::int64_t sum_transfers(soci::session& s, const std::string& kind, const std::string& column,
                           const std::string& account, const Period& p) {
  long long sum = 0;
  const long long from = p.start_ms, to = p.end_ms;
  soci::rowset<soci::row> rows =
      (s.prepare << "SELECT CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT) FROM transfers WHERE kind = :k AND " << column
                 << " = :a AND created_at_ms >= :f AND created_at_ms < :t",
       soci::use(kind), soci::use(account), soci::use(from), soci::use(to));
  for (const auto& r : rows) sum = db::get_i64(r, 0);
  return sum;
}

}  // namespace

json enterprise_period_summary(soci::session& s, const std::string& ent, const Period& p) {
  const std::string available = enterprise_available(ent), refund = enterprise_refund_pending(ent);
  const long long from = p.start_ms, to = p.end_ms;
  json out{{"deposits", money(sum_transfers(s, "deposit", "credit_account", available, p))},
           {"escrow_held", money(sum_transfers(s, "escrow_hold", "debit_account", available, p))},
           {"escrow_released", money(sum_transfers(s, "escrow_release", "credit_account", available, p))},
           {"refunded", money(sum_transfers(s, "payout_sent", "debit_account", refund, p))}};
  soci::rowset<soci::row> settled =
      (s.prepare << "SELECT COUNT(*), CAST(COALESCE(SUM(amount_fen), 0) AS BIGINT), "
                    "CAST(COALESCE(SUM(fee_fen), 0) AS BIGINT) FROM settlements WHERE enterprise_id = :e AND "
                    "settled_at_ms >= :f AND settled_at_ms < :t",
       soci::use(ent), soci::use(from), soci::use(to));
  for (const auto& r : settled) {
    out["settlements"] = db::get_i64(r, 0);
    out["work_paid"] = money(db::get_i64(r, 1));      // price of the work settled (out of escrow)
    out["platform_fees"] = money(db::get_i64(r, 2));  // deducted from that price
  }
  json invoices = json::array();
  std::int64_t invoiced = 0;
  soci::rowset<soci::row> inv =
      (s.prepare << "SELECT invoice_id, number, settlement_id, total_fen, issued_at_ms FROM invoices_seen WHERE "
                    "enterprise_id = :e AND issued_at_ms >= :f AND issued_at_ms < :t ORDER BY issued_at_ms, invoice_id",
       soci::use(ent), soci::use(from), soci::use(to));
  for (const auto& r : inv) {
    invoiced += db::get_i64(r, 3);
    invoices.push_back({{"invoice_id", db::get_str(r, 0)},
                        {"number", db::get_str(r, 1)},
                        {"settlement_id", db::get_str(r, 2)},
                        {"total", money(db::get_i64(r, 3))},
                        {"issued_at", clock::rfc3339(db::get_i64(r, 4))}});
  }
  out["invoiced"] = money(invoiced);
  return {{"summary", out}, {"invoices", invoices}};
}

json worker_period_summary(soci::session& s, const std::string& w, const Period& p) {
  const long long from = p.start_ms, to = p.end_ms;
  json out;
  soci::rowset<soci::row> earned =
      (s.prepare << "SELECT COUNT(*), CAST(COALESCE(SUM(worker_gross_fen), 0) AS BIGINT), "
                    "CAST(COALESCE(SUM(iit_fen), 0) AS BIGINT), CAST(COALESCE(SUM(net_fen), 0) AS BIGINT) "
                    "FROM settlements WHERE worker_id = :w AND settled_at_ms >= :f AND settled_at_ms < :t",
       soci::use(w), soci::use(from), soci::use(to));
  for (const auto& r : earned) {
    out["payments"] = db::get_i64(r, 0);
    out["earned_gross"] = money(db::get_i64(r, 1));
    out["iit_withheld"] = money(db::get_i64(r, 2));
    out["earned_net"] = money(db::get_i64(r, 3));
  }
  const std::string pending = worker_payout_pending(w);
  out["paid_out"] = money(sum_transfers(s, "payout_sent", "debit_account", pending, p));
  out["returned"] = money(sum_transfers(s, "payout_returned", "credit_account", worker_payable(w), p));
  PayoutQuery q;
  q.party_id = w;
  q.from_ms = p.start_ms;
  q.to_ms = p.end_ms;
  q.limit = 1000;
  json payouts = json::array();
  for (const auto& row : list_payouts(s, q)) payouts.push_back(payout_json(row));
  return {{"summary", out}, {"payouts", payouts}};
}

}  // namespace crowd::settlement
