#include "services/settlement/statements.hpp"

#include "common/clock.hpp"
#include "common/money.hpp"
#include "services/settlement/ledger.hpp"
#include "services/settlement/payouts.hpp"
#include "services/settlement/store/reports.hpp"

namespace crowd::settlement {

using nlohmann::json;

namespace {

json money(std::int64_t fen) {
  return crowd::money::to_json(fen);
}

json money_moved(soci::session& s, const std::string& kind, TransferSide side, const std::string& account,
                 const Period& p) {
  return money(transfers_total(s, kind, side, account, p));
}

}  // namespace

json enterprise_period_summary(soci::session& s, const std::string& ent, const Period& p) {
  const std::string available = enterprise_available(ent), refund = enterprise_refund_pending(ent);
  json out{{"deposits", money_moved(s, "deposit", TransferSide::credit, available, p)},
           {"escrow_held", money_moved(s, "escrow_hold", TransferSide::debit, available, p)},
           {"escrow_released", money_moved(s, "escrow_release", TransferSide::credit, available, p)},
           {"refunded", money_moved(s, "payout_sent", TransferSide::debit, refund, p)}};
  const SettledTotals settled = enterprise_settled(s, ent, p);
  out["settlements"] = settled.count;
  out["work_paid"] = money(settled.amount_fen);   // price of the work settled (out of escrow)
  out["platform_fees"] = money(settled.fee_fen);  // deducted from that price
  json invoices = json::array();
  std::int64_t invoiced = 0;
  for (const auto& i : invoices_seen_in(s, ent, p)) {
    invoiced += i.total_fen;
    invoices.push_back({{"invoice_id", i.invoice_id},
                        {"number", i.number},
                        {"settlement_id", i.settlement_id},
                        {"total", money(i.total_fen)},
                        {"issued_at", clock::rfc3339(i.issued_at_ms)}});
  }
  out["invoiced"] = money(invoiced);
  return {{"summary", out}, {"invoices", invoices}};
}

json worker_period_summary(soci::session& s, const std::string& w, const Period& p) {
  const EarnedTotals earned = worker_earned(s, w, p);
  json out{{"payments", earned.count},
           {"earned_gross", money(earned.gross_fen)},
           {"iit_withheld", money(earned.iit_fen)},
           {"earned_net", money(earned.net_fen)}};
  out["paid_out"] = money_moved(s, "payout_sent", TransferSide::debit, worker_payout_pending(w), p);
  out["returned"] = money_moved(s, "payout_returned", TransferSide::credit, worker_payable(w), p);
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
