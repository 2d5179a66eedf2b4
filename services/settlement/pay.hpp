// What a payment to a worker comes to now: the worker's IIT row of that CST year read from the store, and
// compute_payout (rules.hpp) on it. The one path by which both the settlement of a delivery (consumers_pay.cpp)
// and the net pay preview of an offer (api_preview.cpp) get their figures. The store only reads and writes rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "services/settlement/rules.hpp"
#include "services/settlement/store.hpp"

namespace crowd::settlement {

struct PayoutAt {
  std::optional<IitYearRow> tax_row;  // the row read (the `before` of save_iit_year)
  Payout payout;
};
// What a payment of amount_fen to the worker at at_ms comes to: the worker's IIT row of that CST year as it
// stands now, and compute_payout on it for that CST month. Only reads.
PayoutAt payout_at(soci::session& s, const std::string& worker_id, const std::string& category, std::int64_t amount_fen,
                   std::int64_t at_ms);

}  // namespace crowd::settlement
