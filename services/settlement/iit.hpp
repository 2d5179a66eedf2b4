// Individual income tax withheld on workers' 劳务报酬 (shared TAX.md §1). Pure: the caller keeps the per worker
// per year state and stores every computation (audit evidence, declaration export).
//
// Platform cumulative method (国家税务总局公告2025年第16号, §1.1):
//   本期应预扣预缴税额 = (累计收入 − 累计费用 − 累计减除费用) × 预扣率 − 速算扣除数 − 累计已预扣预缴税额
//   累计费用 = 累计收入 × 20%; 累计减除费用 = 5,000 元 × consecutive months (see consecutive_months_after).
// Tax-free income, other deductions and tax reliefs are zero on this platform.
// Rounding: every figure is rounded half-up to the fen where it is computed (累计费用, tax), so the stored
// computation is internally consistent: cum_taxable = income − expense − deduction, cum_tax = taxable × rate − qd.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>

namespace crowd::domain {

// A row of a withholding rate table: taxable amounts up to and including upper_fen use this row.
struct IitBracket {
  std::int64_t upper_fen;
  int rate_percent;
  std::int64_t quick_deduction_fen;
};

inline constexpr std::int64_t kIitNoUpper = std::numeric_limits<std::int64_t>::max();

// 预扣率表一 (cumulative withholding of 劳务报酬 / 工资薪金), amounts in fen.
inline constexpr std::array<IitBracket, 7> kIitCumulativeRates = {{
    {3'600'000, 3, 0},
    {14'400'000, 10, 252'000},
    {30'000'000, 20, 1'692'000},
    {42'000'000, 25, 3'192'000},
    {66'000'000, 30, 5'292'000},
    {96'000'000, 35, 8'592'000},
    {kIitNoUpper, 45, 18'192'000},
}};

// 预扣率表二 (per-payment withholding of 劳务报酬, 国家税务总局公告2018年第61号), amounts in fen.
inline constexpr std::array<IitBracket, 3> kIitPerPaymentRates = {{
    {2'000'000, 20, 0},
    {5'000'000, 30, 200'000},
    {kIitNoUpper, 40, 700'000},
}};

inline constexpr std::int64_t kIitMonthlyDeductionFen = 500'000;  // 减除费用 5,000 元 per month
inline constexpr int kIitExpensePercent = 20;                     // 费用 20% of income

// What the platform knows of one worker in one tax year. A default state (year 0) means "nothing yet".
struct IitYearState {
  int year = 0;
  std::int64_t cum_income_fen = 0;
  std::int64_t cum_withheld_fen = 0;
  int consecutive_months = 0;
  int last_month = 0;  // 0 = no income yet this year
};

// One payment's withholding computation, every intermediate figure kept for the audit trail.
struct IitComputation {
  int year = 0, month = 0;
  std::int64_t income_fen = 0;         // this payment
  std::int64_t cum_income_fen = 0;     // this year, this payment included
  std::int64_t cum_expense_fen = 0;    // 20% of cum_income
  std::int64_t cum_deduction_fen = 0;  // 5,000 yuan × consecutive_months
  std::int64_t cum_taxable_fen = 0;    // never negative
  int rate_percent = 0;
  std::int64_t quick_deduction_fen = 0;
  std::int64_t cum_tax_fen = 0;              // tax on cum_taxable, never negative
  std::int64_t previously_withheld_fen = 0;  // withheld earlier this year
  std::int64_t withheld_fen = 0;             // this payment: cum_tax − previously withheld, never negative
  int consecutive_months = 0;

  nlohmann::json to_json() const;
};
void to_json(nlohmann::json& j, const IitComputation& c);

// The meaning of "连续取得劳务报酬的月份数" (TAX.md marks it "verify"): the one place that decides it.
// Returns the consecutive-month count for a payment in `month`, given the state of the same year before it.
int consecutive_months_after(const IitYearState& same_year_before, int month);

// Withholds on one payment of income_fen (> 0) to the worker in year/month (China time of the payment).
// `before` is the worker's state (any earlier year resets the cumulation); `after` receives the new state.
// Several payments in one month count the month once. Payments must arrive in month order within a year:
// an earlier month or year than `before` throws std::invalid_argument, as does a month outside 1..12 or a
// non-positive income.
IitComputation withhold_cumulative(const IitYearState& before, int year, int month, std::int64_t income_fen,
                                   IitYearState& after);

// Per-payment method (§1.2), for payers that are not the platform and for comparison: ≤ 4,000 yuan minus
// 800, above × 80%, then 预扣率表二. Payments of one project within a month must be summed by the caller.
std::int64_t withhold_per_payment(std::int64_t income_fen);

// The row of `table` whose range holds taxable_fen (≥ 0).
template <std::size_t N>
constexpr const IitBracket& iit_bracket(const std::array<IitBracket, N>& table, std::int64_t taxable_fen) {
  for (const auto& row : table) {
    if (taxable_fen <= row.upper_fen) return row;
  }
  return table.back();
}

}  // namespace crowd::domain
