#include "services/invoicing/vat.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace crowd::invoicing;

TEST_CASE("the TAX.md example: 10,600.00 at 6% is 10,000.00 + 600.00") {
  const auto s = split_inclusive(1'060'000, 600);
  CHECK(s.excl_fen == 1'000'000);
  CHECK(s.tax_fen == 60'000);
}

TEST_CASE("rounding half up to the fen") {
  // 1.00 / 1.06 = 0.9433… → 0.94, tax 0.06.
  CHECK(split_inclusive(100, 600).excl_fen == 94);
  CHECK(split_inclusive(100, 600).tax_fen == 6);
  // 0.53 / 1.06 = 0.50 exactly.
  CHECK(split_inclusive(53, 600).excl_fen == 50);
  // 1.59 / 1.06 = 1.50; 0.01 / 1.06 = 0.0094 → 0.01, tax 0.
  CHECK(split_inclusive(159, 600).excl_fen == 150);
  CHECK(split_inclusive(1, 600).excl_fen == 1);
  CHECK(split_inclusive(1, 600).tax_fen == 0);
  // 2.65 at 6% = 2.50 exactly; 0.03 at 1% = 0.0297 → 0.03.
  CHECK(split_inclusive(265, 600).excl_fen == 250);
  CHECK(split_inclusive(3, 100).excl_fen == 3);
  // An exact half fen: 1.5 fen excl at 100% rate → 2 fen (half up), tax 1.
  CHECK(split_inclusive(3, 10'000).excl_fen == 2);
  CHECK(split_inclusive(3, 10'000).tax_fen == 1);
}

TEST_CASE("the parts always add up, and other rates") {
  for (std::int64_t incl = 0; incl < 100'000; incl += 37) {
    for (int bp : {0, 100, 300, 600, 900, 1300}) {
      const auto s = split_inclusive(incl, bp);
      CHECK(s.excl_fen + s.tax_fen == incl);
      CHECK(s.tax_fen >= 0);
    }
  }
  CHECK(split_inclusive(10'100, 100).excl_fen == 10'000);  // 101.00 at 1%
  CHECK(split_inclusive(10'300, 300).tax_fen == 300);      // 103.00 at 3%
  CHECK(split_inclusive(5'000, 0).tax_fen == 0);
}

TEST_CASE("a negative amount mirrors its positive, bad rates throw") {
  const auto s = split_inclusive(-1'060'000, 600);
  CHECK(s.excl_fen == -1'000'000);
  CHECK(s.tax_fen == -60'000);
  CHECK(split_inclusive(-100, 600).excl_fen == -94);
  CHECK_THROWS_AS(split_inclusive(100, -1), std::invalid_argument);
  CHECK_THROWS_AS(split_inclusive(100, 10'001), std::invalid_argument);
}
