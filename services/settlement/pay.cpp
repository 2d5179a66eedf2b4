#include "services/settlement/pay.hpp"

#include "common/clock.hpp"

namespace crowd::settlement {

PayoutAt payout_at(soci::session& s, const std::string& worker_id, const std::string& category, std::int64_t amount_fen,
                   std::int64_t at_ms) {
  const auto ym = clock::cst_year_month(at_ms);
  PayoutAt out;
  out.tax_row = load_iit_year(s, worker_id, ym.year);
  out.payout = compute_payout(category, amount_fen, iit_state_of(out.tax_row), ym.year, ym.month);
  return out;
}

}  // namespace crowd::settlement
