#include "services/settlement/fees.hpp"

#include <algorithm>
#include <stdexcept>

#include "common/config.hpp"

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

const FeeRule* fee_rule_of(const std::string& category) {
  const auto& rules = fee_rules();
  const auto it = std::find_if(rules.begin(), rules.end(), [&](const FeeRule& r) { return r.category == category; });
  return it == rules.end() ? nullptr : &*it;
}

namespace {

int checked_share(std::int64_t bp) {
  if (bp < 0 || bp > 10'000) throw std::invalid_argument("CROWD_FEE_MAX_SHARE_BP must be 0..10000");
  return static_cast<int>(bp);
}

}  // namespace

int fee_max_share_bp() {
  static const int bp = checked_share(config::env_int("CROWD_FEE_MAX_SHARE_BP", kDefaultFeeMaxShareBp));
  return bp;
}

FeeQuote quote_fee(const std::string& category, std::int64_t amount_fen, int max_share_bp) {
  if (amount_fen < 0) throw std::invalid_argument("amount must not be negative");
  checked_share(max_share_bp);
  const FeeRule* rule = fee_rule_of(category);
  if (rule == nullptr) throw std::invalid_argument("unknown task category: " + category);
  FeeQuote q;
  q.max_share_bp = max_share_bp;
  const __int128 product = static_cast<__int128>(amount_fen) * rule->rate_bp;
  q.by_rate_fen = static_cast<std::int64_t>((product + 5'000) / 10'000);
  q.cap_fen = static_cast<std::int64_t>(static_cast<__int128>(amount_fen) * max_share_bp / 10'000);
  const std::int64_t floored = std::max(q.by_rate_fen, rule->min_fen);
  q.minimum_applied = floored > q.by_rate_fen;
  q.fee_fen = std::min(floored, q.cap_fen);
  q.cap_applied = q.fee_fen < floored;
  return q;
}

FeeQuote quote_fee(const std::string& category, std::int64_t amount_fen) {
  return quote_fee(category, amount_fen, fee_max_share_bp());
}

std::int64_t platform_fee(const std::string& category, std::int64_t amount_fen) {
  return quote_fee(category, amount_fen).fee_fen;
}

}  // namespace crowd::domain
