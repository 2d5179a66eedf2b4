#include "services/settlement/iit.hpp"

#include <algorithm>
#include <stdexcept>

namespace crowd::domain {
namespace {

// amount × num / den rounded half up; amount, num ≥ 0, den > 0. 128-bit intermediate: no overflow.
std::int64_t mul_div_half_up(std::int64_t amount, std::int64_t num, std::int64_t den) {
  const __int128 p = static_cast<__int128>(amount) * num;
  return static_cast<std::int64_t>((p + den / 2) / den);
}

// Tax on a taxable amount by a rate table, rounded half up to the fen, never negative.
template <std::size_t N>
std::int64_t tax_by_table(const std::array<IitBracket, N>& table, std::int64_t taxable_fen, const IitBracket*& row) {
  row = &iit_bracket(table, taxable_fen);
  return std::max<std::int64_t>(0, mul_div_half_up(taxable_fen, row->rate_percent, 100) - row->quick_deduction_fen);
}

}  // namespace

// Decision (TAX.md §1.1 "verify"). The rule text (国家税务总局公告2025年第16号 一(一)) reads: 累计减除费用，按照
// 5000元/月乘以纳税人当年截至本月在本互联网平台企业连续取得劳务报酬的月份数计算. We read it literally: the length
// of the unbroken run of calendar months with income from this platform that ends with the current month,
// within the current year. So:
//   - several payments in one month count that month once;
//   - a month without income breaks the run: the next month with income starts again at 1 (cumulative
//     income and tax withheld still run over the whole year; only the deduction count restarts);
//   - 1 January starts a new year at 1 (the caller resets the state, see withhold_cumulative).
// Other readings (counting every month with income this year; restarting the whole cumulation after a gap)
// withhold less. The literal one is what the text says and the safe side for the platform: under-withholding
// is the withholding agent's liability, over-withholding is refunded in the worker's annual reconciliation
// (汇算清缴). A tax adviser's different answer changes this function only.
int consecutive_months_after(const IitYearState& same_year_before, int month) {
  if (same_year_before.last_month == 0) return 1;
  if (month == same_year_before.last_month) return same_year_before.consecutive_months;
  if (month == same_year_before.last_month + 1) return same_year_before.consecutive_months + 1;
  return 1;
}

IitComputation withhold_cumulative(const IitYearState& before, int year, int month, std::int64_t income_fen,
                                   IitYearState& after) {
  if (month < 1 || month > 12) throw std::invalid_argument("month must be 1..12");
  if (income_fen <= 0) throw std::invalid_argument("income must be positive");
  if (before.year > year) throw std::invalid_argument("payment year precedes the worker's tax state");
  const IitYearState base = before.year == year ? before : IitYearState{year, 0, 0, 0, 0};
  if (month < base.last_month) throw std::invalid_argument("payment month precedes the worker's last payment");

  IitComputation c;
  c.year = year;
  c.month = month;
  c.income_fen = income_fen;
  c.consecutive_months = consecutive_months_after(base, month);
  c.cum_income_fen = base.cum_income_fen + income_fen;
  c.cum_expense_fen = mul_div_half_up(c.cum_income_fen, kIitExpensePercent, 100);
  c.cum_deduction_fen = kIitMonthlyDeductionFen * c.consecutive_months;
  c.cum_taxable_fen = std::max<std::int64_t>(0, c.cum_income_fen - c.cum_expense_fen - c.cum_deduction_fen);
  const IitBracket* row = nullptr;
  c.cum_tax_fen = tax_by_table(kIitCumulativeRates, c.cum_taxable_fen, row);
  c.rate_percent = row->rate_percent;
  c.quick_deduction_fen = row->quick_deduction_fen;
  c.previously_withheld_fen = base.cum_withheld_fen;
  // A negative current-period amount is not refunded (TAX.md §1.1): withhold 0.
  c.withheld_fen = std::max<std::int64_t>(0, c.cum_tax_fen - c.previously_withheld_fen);

  after = IitYearState{year, c.cum_income_fen, c.previously_withheld_fen + c.withheld_fen, c.consecutive_months, month};
  return c;
}

std::int64_t withhold_per_payment(std::int64_t income_fen) {
  if (income_fen < 0) throw std::invalid_argument("income must not be negative");
  const std::int64_t taxable_fen = income_fen <= 400'000 ? std::max<std::int64_t>(0, income_fen - 80'000)
                                                         : mul_div_half_up(income_fen, 100 - kIitExpensePercent, 100);
  const IitBracket* row = nullptr;
  return tax_by_table(kIitPerPaymentRates, taxable_fen, row);
}

nlohmann::json IitComputation::to_json() const {
  return {{"year", year},
          {"month", month},
          {"income_fen", income_fen},
          {"cum_income_fen", cum_income_fen},
          {"cum_expense_fen", cum_expense_fen},
          {"cum_deduction_fen", cum_deduction_fen},
          {"cum_taxable_fen", cum_taxable_fen},
          {"rate_percent", rate_percent},
          {"quick_deduction_fen", quick_deduction_fen},
          {"cum_tax_fen", cum_tax_fen},
          {"previously_withheld_fen", previously_withheld_fen},
          {"withheld_fen", withheld_fen},
          {"consecutive_months", consecutive_months}};
}

void to_json(nlohmann::json& j, const IitComputation& c) {
  j = c.to_json();
}

}  // namespace crowd::domain
