// Money is an integer number of fen with a currency. Never floating point.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace crowd::money {

inline constexpr const char* kCurrency = "CNY";

inline nlohmann::json to_json(std::int64_t amount_fen, const std::string& currency = kCurrency) {
  return {{"amount_fen", amount_fen}, {"currency", currency}};
}

// amount × numerator / denominator rounded half up (amount ≥ 0); used for rates in basis points.
std::int64_t mul_div_round(std::int64_t amount, std::int64_t numerator, std::int64_t denominator);

// "1234.50" for 123450 fen.
std::string yuan_string(std::int64_t fen);

}  // namespace crowd::money
