// The platform's service fee on a settled amount, by task category. Pure (but for the one setting below,
// read once).
//
// Settings (environment):
//   CROWD_FEE_MAX_SHARE_BP  the most the fee may take of any settled amount, in basis points of that amount
//                           (0..10000, default 2000 = 20 %). It keeps the minimum from eating a small price:
//                           a 0.50 unit pays a fee of at most 0.10, a 0.10 unit at most 0.02.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace crowd::domain {

struct FeeRule {
  std::string category;  // task category: rd_design, manufacturing, knowledge, life_service
  int rate_bp;           // basis points of the settled amount
  std::int64_t min_fen;  // floor of the fee (never above the cap below)
};

// The fee table, one row per category (the commercial terms live here and nowhere else).
const std::vector<FeeRule>& fee_rules();
// The rule of a category; nullptr for an unknown one.
const FeeRule* fee_rule_of(const std::string& category);

inline constexpr int kDefaultFeeMaxShareBp = 2000;
// CROWD_FEE_MAX_SHARE_BP (read on first use; std::invalid_argument outside 0..10000, which the service's
// settings check at start).
int fee_max_share_bp();

// How the fee of one amount came about, as the quote and the net pay preview show it.
struct FeeQuote {
  std::int64_t fee_fen = 0;
  std::int64_t by_rate_fen = 0;  // amount × rate_bp / 10000, rounded half up
  std::int64_t cap_fen = 0;      // amount × max_share_bp / 10000, rounded down: the fee never exceeds it
  int max_share_bp = 0;
  bool minimum_applied = false;  // the rule's minimum raised the fee above by_rate
  bool cap_applied = false;      // the cap lowered the fee (below the minimum, or below by_rate)
};

// The category's fee on amount_fen: max(by rate, the minimum), at most the cap (amount × max_share_bp / 10000,
// rounded down). Throws std::invalid_argument for an unknown category, a negative amount or a share outside
// 0..10000.
FeeQuote quote_fee(const std::string& category, std::int64_t amount_fen, int max_share_bp);
// The same with the configured share (fee_max_share_bp()).
FeeQuote quote_fee(const std::string& category, std::int64_t amount_fen);
// quote_fee(category, amount_fen).fee_fen: the fee settlement charges.
std::int64_t platform_fee(const std::string& category, std::int64_t amount_fen);

}  // namespace crowd::domain
