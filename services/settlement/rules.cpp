#include "services/settlement/rules.hpp"

#include <cctype>
#include <map>
#include <stdexcept>
#include <string_view>

#include "common/json_text.hpp"
#include "services/settlement/fees.hpp"

namespace crowd::settlement {

EscrowStatus status_after(const EscrowState& e) {
  return e.units_open() == 0 ? EscrowStatus::closed : EscrowStatus::held;
}

std::optional<std::string> hold_request_problem(const HoldRequest& h) {
  if (h.task_id.empty() || h.task_id.find(':') != std::string::npos) return "bad task_id";
  if (h.enterprise_id.empty() || h.enterprise_id.find(':') != std::string::npos) return "bad enterprise_id";
  if (h.currency != "CNY") return "currency must be CNY, got " + h.currency;
  if (h.units <= 0) return "units must be > 0";
  if (h.pay_per_unit_fen <= 0) return "pay_per_unit_fen must be > 0";
  const auto product = checked_mul(h.units, h.pay_per_unit_fen);
  if (!product) return "units × pay_per_unit_fen overflows";
  if (*product != h.budget_fen) {
    return "budget_fen " + std::to_string(h.budget_fen) + " != units × pay_per_unit_fen " + std::to_string(*product);
  }
  return std::nullopt;
}

std::optional<std::string> release_problem(const EscrowState& e, std::int64_t units) {
  if (e.status != EscrowStatus::held) return "escrow of " + e.task_id + " is " + to_string(e.status) + ", not held";
  if (units <= 0) return "units_released must be > 0";
  if (units > e.units_open()) {
    return "units_released " + std::to_string(units) + " > units still open " + std::to_string(e.units_open());
  }
  const auto amount = checked_mul(units, e.pay_per_unit_fen);
  if (!amount || *amount > e.remaining_fen()) return "escrow of " + e.task_id + " has too little left";
  return std::nullopt;
}

namespace {
constexpr std::string_view kAssignmentReleasePrefix = "asg:";
}  // namespace

std::optional<std::string> release_id_problem(const std::string& release_id) {
  if (release_id == kCancelReleaseId) return std::nullopt;
  if (release_id.rfind(kAssignmentReleasePrefix, 0) != 0) {
    return "release_id must be \"cancel\" or \"asg:{assignment_id}\", got \"" + release_id.substr(0, 40) + "\"";
  }
  const std::string id = release_id.substr(kAssignmentReleasePrefix.size());
  if (id.empty() || id.size() > 100) return "release_id: assignment id must be 1..100 characters";
  for (const char c : id) {
    if (c == ':' || std::isspace(static_cast<unsigned char>(c)) || std::iscntrl(static_cast<unsigned char>(c))) {
      return "release_id: assignment id holds ':', a space or a control character";
    }
  }
  return std::nullopt;
}

std::string release_transfer_id(const std::string& task_id, const std::string& release_id) {
  return "release:" + task_id + ":" + release_id;
}

std::optional<std::string> released_assignment(const std::string& release_id) {
  if (release_id.rfind(kAssignmentReleasePrefix, 0) != 0) return std::nullopt;
  return release_id.substr(kAssignmentReleasePrefix.size());
}

std::optional<std::string> offer_problem(const OfferTerms& o) {
  for (const auto* id : {&o.offer_id, &o.task_id, &o.enterprise_id, &o.worker_id}) {
    if (id->empty() || id->size() > 100 || id->find(':') != std::string::npos) return "bad id: \"" + *id + "\"";
  }
  if (o.currency != "CNY") return "currency must be CNY, got " + o.currency;
  if (o.units <= 0) return "units must be > 0";
  if (o.pay_per_unit_fen <= 0) return "pay_per_unit_fen must be > 0";
  const auto product = checked_mul(o.units, o.pay_per_unit_fen);
  if (!product || *product != o.amount_fen) {
    return "amount_fen " + std::to_string(o.amount_fen) + " != units × pay_per_unit_fen";
  }
  return std::nullopt;
}

std::optional<std::string> settlement_problem(const EscrowState& e, const Acceptance& a) {
  if (e.status != EscrowStatus::held) return "escrow of " + e.task_id + " is " + to_string(e.status) + ", not held";
  if (a.task_id != e.task_id) return "task mismatch";
  if (a.enterprise_id != e.enterprise_id) return "enterprise_id differs from the escrow's";
  if (a.currency != "CNY") return "currency must be CNY, got " + a.currency;
  if (a.worker_id.empty() || a.worker_id.find(':') != std::string::npos) return "bad worker_id";
  if (a.units <= 0) return "units must be > 0";
  const auto expected = checked_mul(a.units, e.pay_per_unit_fen);
  if (!expected || *expected != a.amount_fen) {
    return "amount_fen " + std::to_string(a.amount_fen) + " != units × pay_per_unit_fen of the escrow " +
           (expected ? std::to_string(*expected) : std::string("(overflow)"));
  }
  if (a.units > e.units_open()) {
    return "units " + std::to_string(a.units) + " > units still open " + std::to_string(e.units_open());
  }
  if (a.amount_fen > e.remaining_fen()) {
    return "escrow has " + std::to_string(e.remaining_fen()) + " fen left, needs " + std::to_string(a.amount_fen);
  }
  return std::nullopt;
}

Split split_amount(std::int64_t amount_fen, std::int64_t fee_fen, std::int64_t iit_fen) {
  if (amount_fen <= 0) throw std::logic_error("settled amount must be > 0");
  if (fee_fen < 0 || fee_fen > amount_fen) throw std::logic_error("fee outside [0, amount]");
  Split s;
  s.amount_fen = amount_fen;
  s.fee_fen = fee_fen;
  s.worker_gross_fen = amount_fen - fee_fen;
  if (iit_fen < 0 || iit_fen > s.worker_gross_fen) throw std::logic_error("IIT outside [0, worker gross]");
  s.iit_fen = iit_fen;
  s.net_fen = s.worker_gross_fen - iit_fen;
  return s;
}

Payout compute_payout(const std::string& category, std::int64_t amount_fen, const domain::IitYearState& tax_before,
                      int tax_year, int tax_month) {
  return compute_payout(category, amount_fen, tax_before, tax_year, tax_month, domain::fee_max_share_bp());
}

Payout compute_payout(const std::string& category, std::int64_t amount_fen, const domain::IitYearState& tax_before,
                      int tax_year, int tax_month, int fee_max_share_bp) {
  if (amount_fen <= 0) throw std::invalid_argument("settled amount must be > 0");
  Payout p;
  p.fee = domain::quote_fee(category, amount_fen, fee_max_share_bp);
  const std::int64_t fee = p.fee.fee_fen;
  p.tax_year = tax_year;
  p.tax_month = tax_month;
  p.tax_after = tax_before;
  const std::int64_t gross = amount_fen - fee;
  std::int64_t iit = 0;
  if (gross > 0) {
    // withhold_cumulative reads `tax_before` and writes the new state into tax_after only.
    const domain::IitComputation c = domain::withhold_cumulative(tax_before, tax_year, tax_month, gross, p.tax_after);
    iit = c.withheld_fen;
    p.withholds = true;
    p.iit = c;
  }
  p.split = split_amount(amount_fen, fee, iit);
  return p;
}

nlohmann::json Payout::computation_json() const {
  if (!iit) return nullptr;
  nlohmann::json j = iit->to_json();
  j["method"] = "cumulative";
  return j;
}

std::string Payout::computation_text() const {
  if (!iit) return "null";
  const domain::IitComputation& c = *iit;
  return JsonObjectWriter()
      .field("consecutive_months", c.consecutive_months)
      .field("cum_deduction_fen", c.cum_deduction_fen)
      .field("cum_expense_fen", c.cum_expense_fen)
      .field("cum_income_fen", c.cum_income_fen)
      .field("cum_tax_fen", c.cum_tax_fen)
      .field("cum_taxable_fen", c.cum_taxable_fen)
      .field("income_fen", c.income_fen)
      .field("method", "cumulative")
      .field("month", c.month)
      .field("previously_withheld_fen", c.previously_withheld_fen)
      .field("quick_deduction_fen", c.quick_deduction_fen)
      .field("rate_percent", c.rate_percent)
      .field("withheld_fen", c.withheld_fen)
      .field("year", c.year)
      .done();
}

std::vector<TransferSpec> settlement_legs(const std::string& assignment_id, const std::string& settlement_id,
                                          const std::string& task_id, const std::string& worker_id,
                                          const Split& split) {
  return settlement_legs_from(task_escrow(task_id), assignment_id, settlement_id, worker_id, split);
}

std::vector<TransferSpec> settlement_legs_from(const std::string& from, const std::string& assignment_id,
                                               const std::string& settlement_id, const std::string& worker_id,
                                               const Split& split) {
  std::vector<TransferSpec> legs;
  auto add = [&](const char* part, const std::string& to, std::int64_t amount, const char* kind) {
    if (amount == 0) return;
    TransferSpec t;
    t.id = "stl:" + assignment_id + ":" + part;
    t.debit_account = from;
    t.credit_account = to;
    t.amount_fen = amount;
    t.kind = kind;
    t.ref = settlement_id;
    legs.push_back(std::move(t));
  };
  add("fee", kFeeRevenue, split.fee_fen, "settlement_fee");
  add("iit", kIitPayable, split.iit_fen, "settlement_iit");
  add("net", worker_payable(worker_id), split.net_fen, "settlement_net");
  return legs;
}

std::string reserve_transfer_id(const std::string& assignment_id) {
  return "rsv:" + assignment_id;
}
std::string void_transfer_id(const std::string& assignment_id) {
  return "void:" + assignment_id;
}
std::string refund_transfer_id(const std::string& assignment_id) {
  return "dsp:" + assignment_id + ":refund";
}

namespace {

bool bad_id(const std::string& id) {
  return id.empty() || id.size() > 100 || id.find(':') != std::string::npos;
}

}  // namespace

std::optional<std::string> assignment_figures_problem(const EscrowState& e, const ReserveRequest& r) {
  if (bad_id(r.assignment_id)) return "bad assignment_id";
  // A release names no worker (""): the void it writes compares the rest.
  if (!r.worker_id.empty() && bad_id(r.worker_id)) return "bad worker_id";
  if (r.task_id != e.task_id) return "task mismatch";
  if (r.enterprise_id != e.enterprise_id) return "enterprise_id differs from the escrow's";
  if (r.units <= 0) return "units must be > 0";
  const auto expected = checked_mul(r.units, e.pay_per_unit_fen);
  if (!expected || *expected != r.amount_fen) {
    return "amount_fen " + std::to_string(r.amount_fen) + " != units × pay_per_unit_fen of the escrow " +
           (expected ? std::to_string(*expected) : std::string("(overflow)"));
  }
  return std::nullopt;
}

std::optional<std::string> reserve_problem(const EscrowState& e, const ReserveRequest& r, std::int64_t unreserved_fen) {
  if (auto p = assignment_figures_problem(e, r)) return p;
  if (r.worker_id.empty()) return "bad worker_id";
  if (e.status != EscrowStatus::held) return "escrow of " + e.task_id + " is " + to_string(e.status) + ", not held";
  if (r.units > e.units_open()) {
    return "units " + std::to_string(r.units) + " > units still open " + std::to_string(e.units_open());
  }
  if (r.amount_fen > unreserved_fen) {
    return "reservation of " + std::to_string(r.amount_fen) + " fen > the escrow's unreserved " +
           std::to_string(unreserved_fen) + " fen";
  }
  return std::nullopt;
}

std::optional<std::string> reservation_mismatch(const Reservation& known, const ReserveRequest& r) {
  if (known.task_id != r.task_id) return "assignment " + r.assignment_id + " belongs to task " + known.task_id;
  if (known.enterprise_id != r.enterprise_id) return "assignment " + r.assignment_id + " belongs to another enterprise";
  if (known.worker_id != r.worker_id) return "assignment " + r.assignment_id + " belongs to another worker";
  if (known.units != r.units || known.amount_fen != r.amount_fen) {
    return "assignment " + r.assignment_id + " reserved " + std::to_string(known.units) + " units / " +
           std::to_string(known.amount_fen) + " fen, the event says " + std::to_string(r.units) + " / " +
           std::to_string(r.amount_fen);
  }
  return std::nullopt;
}

std::optional<std::string> ruling_problem(const Ruling& r) {
  for (const auto* id : {&r.dispute_id, &r.assignment_id, &r.task_id, &r.enterprise_id, &r.worker_id}) {
    if (bad_id(*id)) return "bad id: \"" + id->substr(0, 40) + "\"";
  }
  if (r.units <= 0) return "units must be > 0";
  if (r.amount_fen <= 0) return "amount_fen must be > 0";
  if (r.worker_share_fen < 0 || r.worker_share_fen > r.amount_fen) {
    return "worker_share_fen " + std::to_string(r.worker_share_fen) + " outside 0.." + std::to_string(r.amount_fen);
  }
  return std::nullopt;
}

namespace {

// Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm, proleptic Gregorian).
std::int64_t days_from_civil(int y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + doe - 719468;
}

}  // namespace

std::int64_t cst_month_start_ms(int year, int month) {
  constexpr std::int64_t kDayMs = 86'400'000;
  constexpr std::int64_t kCstOffsetMs = 8 * 3'600'000;
  return days_from_civil(year, month, 1) * kDayMs - kCstOffsetMs;
}

std::optional<Period> parse_period(const std::string& text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (i != 4 && !std::isdigit(static_cast<unsigned char>(text[i]))) return std::nullopt;
  }
  Period p;
  p.year = std::stoi(text.substr(0, 4));
  p.month = std::stoi(text.substr(5, 2));
  if (p.year < 2000 || p.year > 2199 || p.month < 1 || p.month > 12) return std::nullopt;
  p.start_ms = cst_month_start_ms(p.year, p.month);
  p.end_ms = p.month == 12 ? cst_month_start_ms(p.year + 1, 1) : cst_month_start_ms(p.year, p.month + 1);
  p.label = text;
  return p;
}

void apply_to_movements(std::vector<AccountMovement>& movements, const TransferSpec& t) {
  for (auto& m : movements) {
    if (m.account == t.credit_account) m.credits_fen += t.amount_fen;
    if (m.account == t.debit_account) m.debits_fen += t.amount_fen;
  }
}

std::vector<TransferSpec> merge_settlement_legs(const std::vector<TransferSpec>& transfers) {
  std::vector<TransferSpec> out;
  std::map<std::string, std::size_t> merged;  // settlement id → index in out
  for (const auto& t : transfers) {
    if (t.kind.rfind("settlement_", 0) != 0) {
      out.push_back(t);
      continue;
    }
    const auto [it, fresh] = merged.try_emplace(t.ref, out.size());
    if (fresh) {
      TransferSpec line = t;
      line.id = t.ref;
      line.kind = "settlement";
      line.credit_account.clear();
      out.push_back(std::move(line));
    } else {
      out[it->second].amount_fen += t.amount_fen;
    }
  }
  return out;
}

ReserveRequest reserve_request_of(const AssignmentFigures& f, const std::optional<EscrowState>& escrow) {
  ReserveRequest r;
  r.assignment_id = f.assignment_id;
  r.task_id = f.task_id;
  r.enterprise_id = f.enterprise_id;
  r.worker_id = f.worker_id;
  r.units = f.units;
  if (f.amount_fen) {
    r.amount_fen = *f.amount_fen;
  } else if (escrow) {
    r.amount_fen = checked_mul(f.units, escrow->pay_per_unit_fen).value_or(-1);
  }
  return r;
}

Reservation reservation_of(const ReserveRequest& r, ReservationStatus status) {
  Reservation x;
  x.assignment_id = r.assignment_id;
  x.task_id = r.task_id;
  x.enterprise_id = r.enterprise_id;
  x.worker_id = r.worker_id;
  x.units = r.units;
  x.amount_fen = r.amount_fen;
  x.status = status;
  return x;
}

domain::IitYearState iit_state_of(const std::optional<IitYearRow>& row) {
  if (!row) return {};
  return domain::IitYearState{row->year, row->cum_income_fen, row->cum_withheld_fen, row->consecutive_months,
                              row->last_month};
}

IitYearRow iit_row_of(const domain::IitYearState& state) {
  return IitYearRow{state.year, state.cum_income_fen, state.cum_withheld_fen, state.consecutive_months,
                    state.last_month};
}

}  // namespace crowd::settlement
