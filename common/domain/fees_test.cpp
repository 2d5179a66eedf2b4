#include "common/domain/fees.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <stdexcept>

using namespace crowd::domain;

TEST_CASE("one rule per category") {
  const auto& rules = fee_rules();
  REQUIRE(rules.size() == 4);
  for (const char* c : {"rd_design", "manufacturing", "knowledge", "life_service"}) {
    CAPTURE(c);
    CHECK(std::count_if(rules.begin(), rules.end(), [&](const FeeRule& r) { return r.category == c; }) == 1);
  }
  for (const auto& r : rules) {
    CHECK(r.rate_bp > 0);
    CHECK(r.rate_bp < 10'000);
    CHECK(r.min_fen >= 0);
  }
}

TEST_CASE("fee by rate, rounded half up") {
  CHECK(platform_fee("rd_design", 1'000'000) == 50'000);        // 5% of 10,000.00
  CHECK(platform_fee("life_service", 1'000'000) == 30'000);     // 3%
  CHECK(platform_fee("knowledge", 10'010) == 501);              // 500.5 → 501
  CHECK(platform_fee("knowledge", 10'009) == 500);              // 500.45 → 500
  CHECK(platform_fee("manufacturing", 12'345'678) == 617'284);  // 617,283.9 → 617,284
}

TEST_CASE("the minimum applies, but the fee never exceeds the amount") {
  CHECK(platform_fee("rd_design", 1'000) == 100);  // 5% of 10.00 = 0.50 → minimum 1.00
  CHECK(platform_fee("rd_design", 2'000) == 100);
  CHECK(platform_fee("rd_design", 2'010) == 101);
  CHECK(platform_fee("life_service", 50) == 50);  // 0.50 task: the fee is capped at the amount
  CHECK(platform_fee("life_service", 0) == 0);
}

TEST_CASE("unknown categories and negative amounts are refused") {
  CHECK_THROWS_AS(platform_fee("gambling", 1'000), std::invalid_argument);
  CHECK_THROWS_AS(platform_fee("rd_design", -1), std::invalid_argument);
}
