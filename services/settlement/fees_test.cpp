#include "services/settlement/fees.hpp"

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

TEST_CASE("the minimum applies, but the fee never exceeds its share of the amount") {
  CHECK(platform_fee("rd_design", 1'000) == 100);  // 5% of 10.00 = 0.50 → minimum 1.00 (10 % of the price)
  CHECK(platform_fee("rd_design", 2'000) == 100);
  CHECK(platform_fee("rd_design", 2'010) == 101);
  // Issue 9 §6: the 1.00 minimum used to take a 0.50 unit whole (the fee was capped at the amount only, the
  // worker paid 0.00). Now the fee is at most 20 % (CROWD_FEE_MAX_SHARE_BP's default) of the amount.
  CHECK(platform_fee("life_service", 50) == 10);
  CHECK(platform_fee("life_service", 0) == 0);
}

TEST_CASE("micro-piecework: the cap keeps the minimum from eating the price") {
  // 0.10 a unit: by rate 0.005 → 0.01, minimum 1.00, cap 20 % = 0.02 → the worker's gross is 0.08.
  FeeQuote q = quote_fee("rd_design", 10, 2000);
  CHECK(q.fee_fen == 2);
  CHECK(q.by_rate_fen == 1);
  CHECK(q.cap_fen == 2);
  CHECK(q.minimum_applied);
  CHECK(q.cap_applied);
  // 0.50: cap 0.10.
  q = quote_fee("life_service", 50, 2000);
  CHECK(q.fee_fen == 10);
  CHECK(q.cap_applied);
  // 1.00: cap 0.20 (the minimum would take it all).
  q = quote_fee("knowledge", 100, 2000);
  CHECK(q.fee_fen == 20);
  CHECK(q.cap_applied);
  CHECK(platform_fee("knowledge", 100) == 20);
  // 5.00: the cap equals the minimum: the minimum stands, no cap applied.
  q = quote_fee("rd_design", 500, 2000);
  CHECK(q.fee_fen == 100);
  CHECK(q.minimum_applied);
  CHECK_FALSE(q.cap_applied);
  // Large amounts: the rate is far below the cap.
  q = quote_fee("rd_design", 1'000'000, 2000);
  CHECK(q.fee_fen == 50'000);
  CHECK_FALSE(q.minimum_applied);
  CHECK_FALSE(q.cap_applied);
  CHECK(quote_fee("manufacturing", 12'345'678, 2000).fee_fen == 617'284);
  CHECK(quote_fee("rd_design", 100'000'000'000, 2000).fee_fen == 5'000'000'000);
  // The cap rounds down: 20 % of 0.07 is 0.014 → 0.01.
  CHECK(quote_fee("rd_design", 7, 2000).fee_fen == 1);
  // Another share: 0 charges nothing; 10000 is the old rule (never more than the amount).
  CHECK(quote_fee("rd_design", 50, 0).fee_fen == 0);
  CHECK(quote_fee("life_service", 50, 10'000).fee_fen == 50);
  // The configured share is the default in the tests.
  CHECK(fee_max_share_bp() == kDefaultFeeMaxShareBp);
}

TEST_CASE("unknown categories and negative amounts are refused") {
  CHECK_THROWS_AS(platform_fee("gambling", 1'000), std::invalid_argument);
  CHECK_THROWS_AS(platform_fee("rd_design", -1), std::invalid_argument);
  CHECK_THROWS_AS(quote_fee("rd_design", 100, -1), std::invalid_argument);
  CHECK_THROWS_AS(quote_fee("rd_design", 100, 10'001), std::invalid_argument);
}
