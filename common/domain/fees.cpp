#include "common/domain/fees.hpp"

#include <algorithm>
#include <stdexcept>

namespace crowd::domain {

const std::vector<FeeRule>& fee_rules() {
  // Life services (delivery, repair, housekeeping) carry small amounts and thin margins: a lower rate.
  static const std::vector<FeeRule> rules = {
      {"rd_design", 500, 100},
      {"manufacturing", 500, 100},
      {"knowledge", 500, 100},
      {"life_service", 300, 100},
  };
  return rules;
}

std::int64_t platform_fee(const std::string& category, std::int64_t amount_fen) {
  if (amount_fen < 0) throw std::invalid_argument("amount must not be negative");
  const auto& rules = fee_rules();
  const auto it = std::find_if(rules.begin(), rules.end(), [&](const FeeRule& r) { return r.category == category; });
  if (it == rules.end()) throw std::invalid_argument("unknown task category: " + category);
  const __int128 product = static_cast<__int128>(amount_fen) * it->rate_bp;
  const auto by_rate = static_cast<std::int64_t>((product + 5'000) / 10'000);
  return std::min(amount_fen, std::max(by_rate, it->min_fen));
}

}  // namespace crowd::domain
