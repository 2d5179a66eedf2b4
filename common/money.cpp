#include "common/money.hpp"

#include <cstdio>
#include <stdexcept>

namespace crowd::money {

std::int64_t mul_div_round(std::int64_t amount, std::int64_t numerator, std::int64_t denominator) {
  if (amount < 0 || numerator < 0 || denominator <= 0) throw std::invalid_argument("mul_div_round: negative input");
  __int128 product = static_cast<__int128>(amount) * numerator;
  __int128 q = (product * 2 + denominator) / (static_cast<__int128>(denominator) * 2);
  if (q > INT64_MAX) throw std::overflow_error("mul_div_round: overflow");
  return static_cast<std::int64_t>(q);
}

std::string yuan_string(std::int64_t fen) {
  bool neg = fen < 0;
  unsigned long long a = neg ? 0ULL - static_cast<unsigned long long>(fen) : static_cast<unsigned long long>(fen);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%s%llu.%02llu", neg ? "-" : "", a / 100, a % 100);
  return buf;
}

}  // namespace crowd::money
