// The platform's service fee on a settled amount, by task category. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crowd::domain {

struct FeeRule {
  std::string category;  // task category: rd_design, manufacturing, knowledge, life_service
  int rate_bp;           // basis points of the settled amount
  std::int64_t min_fen;  // floor of the fee (never above the amount itself)
};

// The fee table, one row per category (the commercial terms live here and nowhere else).
const std::vector<FeeRule>& fee_rules();

// The category's fee on amount_fen (≥ 0): amount × rate rounded half up, at least the minimum, never more than
// the amount. Throws std::invalid_argument for an unknown category or a negative amount.
std::int64_t platform_fee(const std::string& category, std::int64_t amount_fen);

}  // namespace crowd::domain
