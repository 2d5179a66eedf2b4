#include "services/settlement/iit.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <vector>

using namespace crowd::domain;

namespace {

constexpr std::int64_t yuan(std::int64_t y) {
  return y * 100;
}

// Pays the amounts (yuan) in months 1, 2, ... of 2026 and returns what was withheld each time.
std::vector<std::int64_t> withheld_monthly(const std::vector<std::int64_t>& yuan_per_month) {
  IitYearState state;
  std::vector<std::int64_t> out;
  int month = 1;
  for (auto y : yuan_per_month) {
    IitYearState next;
    out.push_back(withhold_cumulative(state, 2026, month++, yuan(y), next).withheld_fen);
    state = next;
  }
  return out;
}

}  // namespace

TEST_CASE("the rate tables are ordered") {
  for (std::size_t i = 1; i < kIitCumulativeRates.size(); ++i) {
    CHECK(kIitCumulativeRates[i - 1].upper_fen < kIitCumulativeRates[i].upper_fen);
    // The quick deduction makes the tax continuous at each bracket's lower bound.
    const auto& lo = kIitCumulativeRates[i - 1];
    const auto& hi = kIitCumulativeRates[i];
    CHECK(lo.upper_fen * lo.rate_percent / 100 - lo.quick_deduction_fen ==
          lo.upper_fen * hi.rate_percent / 100 - hi.quick_deduction_fen);
  }
  CHECK(iit_bracket(kIitCumulativeRates, yuan(36'000)).rate_percent == 3);
  CHECK(iit_bracket(kIitCumulativeRates, yuan(36'000) + 1).rate_percent == 10);
  CHECK(iit_bracket(kIitCumulativeRates, yuan(2'000'000)).rate_percent == 45);
}

TEST_CASE("6,250 yuan a month for a year: nothing withheld (the tax bureau's own statement)") {
  for (auto w : withheld_monthly(std::vector<std::int64_t>(12, 6'250))) CHECK(w == 0);
}

TEST_CASE("a worker earning 10,000 a month: 90 withheld every month of the 3% bracket") {
  IitYearState s0, s1, s2;
  const auto m1 = withhold_cumulative(s0, 2026, 1, yuan(10'000), s1);
  CHECK(m1.cum_expense_fen == yuan(2'000));
  CHECK(m1.cum_deduction_fen == yuan(5'000));
  CHECK(m1.cum_taxable_fen == yuan(3'000));
  CHECK(m1.rate_percent == 3);
  CHECK(m1.withheld_fen == yuan(90));
  const auto m2 = withhold_cumulative(s1, 2026, 2, yuan(10'000), s2);
  CHECK(m2.cum_income_fen == yuan(20'000));
  CHECK(m2.cum_taxable_fen == yuan(6'000));
  CHECK(m2.cum_tax_fen == yuan(180));
  CHECK(m2.previously_withheld_fen == yuan(90));
  CHECK(m2.withheld_fen == yuan(90));
  CHECK(m2.consecutive_months == 2);
  CHECK(s2.cum_withheld_fen == yuan(180));
  for (auto w : withheld_monthly(std::vector<std::int64_t>(12, 10'000))) CHECK(w == yuan(90));
}

TEST_CASE("crossing the 36,000 bracket") {
  // 20,000 a month: 11,000 taxable added each month; the 4th month crosses 36,000 into 10% − 2,520.
  const auto w = withheld_monthly({20'000, 20'000, 20'000, 20'000, 20'000});
  CHECK(w[0] == yuan(330));
  CHECK(w[1] == yuan(330));
  CHECK(w[2] == yuan(330));
  CHECK(w[3] == yuan(890));    // 44,000 × 10% − 2,520 = 1,880 − 990
  CHECK(w[4] == yuan(1'100));  // 55,000 × 10% − 2,520 = 2,980 − 1,880
}

TEST_CASE("per-payment method: the official examples") {
  CHECK(withhold_per_payment(yuan(2'000)) == yuan(240));  // (2,000 − 800) × 20%
  CHECK(withhold_per_payment(yuan(3'000)) == yuan(440));
  CHECK(withhold_per_payment(yuan(800)) == 0);
  CHECK(withhold_per_payment(yuan(500)) == 0);
  CHECK(withhold_per_payment(yuan(4'000)) == yuan(640));
  CHECK(withhold_per_payment(yuan(5'000)) == yuan(800));
  CHECK(withhold_per_payment(yuan(25'000)) == yuan(4'000));    // 20,000 taxable: still 20%
  CHECK(withhold_per_payment(yuan(30'000)) == yuan(5'200));    // 24,000 × 30% − 2,000
  CHECK(withhold_per_payment(yuan(100'000)) == yuan(25'000));  // 80,000 × 40% − 7,000
}

TEST_CASE("a student's 3,000 in July: 0 with the cumulative method instead of 440") {
  IitYearState after;
  const auto c = withhold_cumulative(IitYearState{}, 2026, 7, yuan(3'000), after);
  CHECK(c.withheld_fen == 0);
  CHECK(c.consecutive_months == 1);
  CHECK(withhold_per_payment(yuan(3'000)) == yuan(440));
}

TEST_CASE("a new year resets the cumulation") {
  IitYearState dec{2026, yuan(120'000), yuan(1'080), 12, 12};
  IitYearState after;
  const auto c = withhold_cumulative(dec, 2027, 1, yuan(10'000), after);
  CHECK(c.cum_income_fen == yuan(10'000));
  CHECK(c.previously_withheld_fen == 0);
  CHECK(c.consecutive_months == 1);
  CHECK(c.withheld_fen == yuan(90));
  CHECK(after.year == 2027);
  CHECK(after.last_month == 1);
  // A new year starting in March still counts one month.
  const auto march = withhold_cumulative(dec, 2027, 3, yuan(10'000), after);
  CHECK(march.consecutive_months == 1);
}

TEST_CASE("a month without income breaks the consecutive count") {
  IitYearState jan, mar;
  withhold_cumulative(IitYearState{}, 2026, 1, yuan(10'000), jan);
  const auto c = withhold_cumulative(jan, 2026, 3, yuan(10'000), mar);
  CHECK(c.consecutive_months == 1);
  CHECK(c.cum_income_fen == yuan(20'000));
  CHECK(c.cum_deduction_fen == yuan(5'000));
  CHECK(c.cum_taxable_fen == yuan(11'000));
  CHECK(c.withheld_fen == yuan(240));  // 330 − 90
  CHECK(consecutive_months_after(IitYearState{2026, 1, 0, 4, 5}, 6) == 5);
  CHECK(consecutive_months_after(IitYearState{2026, 1, 0, 4, 5}, 5) == 4);
  CHECK(consecutive_months_after(IitYearState{2026, 1, 0, 4, 5}, 7) == 1);
  CHECK(consecutive_months_after(IitYearState{}, 9) == 1);
}

TEST_CASE("several payments in one month count the month once") {
  IitYearState a, b, c;
  const auto p1 = withhold_cumulative(IitYearState{}, 2026, 1, yuan(5'000), a);
  CHECK(p1.withheld_fen == 0);  // 4,000 < 5,000
  const auto p2 = withhold_cumulative(a, 2026, 1, yuan(5'000), b);
  CHECK(p2.consecutive_months == 1);
  CHECK(p2.cum_deduction_fen == yuan(5'000));
  CHECK(p2.withheld_fen == yuan(90));  // the month's cumulative tax minus what this year already withheld
  const auto p3 = withhold_cumulative(b, 2026, 2, yuan(10'000), c);
  CHECK(p3.consecutive_months == 2);
  CHECK(p3.withheld_fen == yuan(90));
  CHECK(c.cum_withheld_fen == yuan(180));
}

TEST_CASE("the withholding is never negative") {
  IitYearState a, b;
  const auto big = withhold_cumulative(IitYearState{}, 2026, 1, yuan(50'000), a);
  CHECK(big.withheld_fen == yuan(1'050));  // 35,000 × 3%
  const auto small = withhold_cumulative(a, 2026, 2, yuan(100), b);
  CHECK(small.cum_tax_fen == 90'240);  // 30,080 × 3% = 902.40 < 1,050 already withheld
  CHECK(small.withheld_fen == 0);
  CHECK(b.cum_withheld_fen == yuan(1'050));
}

TEST_CASE("tax is rounded half up to the fen") {
  IitYearState after;
  // 6,250.63: expense 1,250.13 (1,250.126 rounded), taxable 0.50, tax 0.015 → 0.02.
  const auto c = withhold_cumulative(IitYearState{}, 2026, 1, 625'063, after);
  CHECK(c.cum_expense_fen == 125'013);
  CHECK(c.cum_taxable_fen == 50);
  CHECK(c.withheld_fen == 2);
}

TEST_CASE("bad input is refused") {
  IitYearState after;
  const IitYearState may{2026, yuan(1'000), 0, 1, 5};
  CHECK_THROWS_AS(withhold_cumulative(may, 2026, 4, 100, after), std::invalid_argument);
  CHECK_THROWS_AS(withhold_cumulative(may, 2025, 12, 100, after), std::invalid_argument);
  CHECK_THROWS_AS(withhold_cumulative(may, 2026, 13, 100, after), std::invalid_argument);
  CHECK_THROWS_AS(withhold_cumulative(may, 2026, 6, 0, after), std::invalid_argument);
  CHECK_THROWS_AS(withhold_per_payment(-1), std::invalid_argument);
}

TEST_CASE("the computation serialises every figure") {
  IitYearState after;
  const auto c = withhold_cumulative(IitYearState{}, 2026, 1, yuan(10'000), after);
  const nlohmann::json j = c;
  CHECK(j["withheld_fen"] == yuan(90));
  CHECK(j["cum_deduction_fen"] == yuan(5'000));
  CHECK(j["rate_percent"] == 3);
  CHECK(j["consecutive_months"] == 1);
  CHECK(j.size() == 13);
  CHECK(c.to_json() == j);
}
