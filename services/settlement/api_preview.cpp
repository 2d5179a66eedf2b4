// What a worker will be paid for an offer (the net pay preview) and what the platform fee is before a task
// is posted (fee quote, fee rules). Nothing here writes: the preview runs the settlement's own computation
// (payout_at) on a copy of the worker's tax state.
#include <soci/soci.h>

#include <algorithm>
#include <stdexcept>

#include "common/clock.hpp"
#include "common/money.hpp"
#include "services/settlement/api.hpp"
#include "services/settlement/fees.hpp"
#include "services/settlement/pay.hpp"

namespace crowd::settlement {

namespace {

using auth::Role;
using nlohmann::json;

constexpr std::int64_t kQuoteMaxFen = 100'000'000'000;  // 10^9 yuan: task pay per unit is bounded the same
constexpr std::int64_t kQuoteMaxUnits = 100'000;

json money(std::int64_t fen) {
  return crowd::money::to_json(fen);
}

// Same answer for an offer of another worker and an offer settlement has not learnt of yet, so offer ids
// cannot be probed; the detail says what the usual cause is.
http::Problem offer_not_known(const std::string& offer_id) {
  http::Problem p(404, "offer-not-known", "Offer not known yet",
                  "Offer " + offer_id +
                      " is not known to settlement yet: a new offer reaches it within seconds of being made; try "
                      "again shortly.");
  p.extra["offer_id"] = offer_id;
  p.extra["retry_after_s"] = 2;
  return p;
}

json fee_cap_json(const domain::FeeQuote& q) {
  return {{"max_share_bp", q.max_share_bp}, {"cap", money(q.cap_fen)}, {"applied", q.cap_applied}};
}

// The rule behind a fee: rate and minimum of the category, the cap on the fee's share, which of them applied.
json fee_rule_json(const std::string& category, const domain::FeeQuote& q) {
  const domain::FeeRule* rule = domain::fee_rule_of(category);
  return {{"rate_bp", rule != nullptr ? rule->rate_bp : 0},
          {"min_fen", rule != nullptr ? rule->min_fen : 0},
          {"by_rate", money(q.by_rate_fen)},
          {"minimum_applied", q.minimum_applied},
          {"cap", fee_cap_json(q)}};
}

json preview_json(const OfferRecord& o, const std::string& category, const Payout& pay) {
  return {{"offer_id", o.offer_id},
          {"task_id", o.task_id},
          {"category", category},
          {"units", o.units},
          {"expires_at", clock::rfc3339(o.expires_at_ms)},
          {"amount", money(pay.split.amount_fen)},
          {"fee", money(pay.split.fee_fen)},
          {"worker_gross", money(pay.split.worker_gross_fen)},
          {"iit", money(pay.split.iit_fen)},
          {"net", money(pay.split.net_fen)},
          {"tax_year", pay.tax_year},
          {"tax_month", pay.tax_month},
          {"tax_computation", pay.computation_json()},
          {"fee_rule", fee_rule_json(category, pay.fee)},
          {"basis", kPreviewBasis}};
}

}  // namespace

// GET /v1/offers/{id}/net-pay-preview — workers only (403 otherwise), for their own offer only.
// The offer's amount split by compute_payout exactly as on_delivery_accepted will split it: the escrow's
// category (the offer's own before the escrow is known), the worker's IIT row of the current CST year on the
// crowd clock, withholding for the current CST month. Reads one snapshot; writes nothing (the tax state is
// copied). 404 offer-not-known for an offer of another worker or one whose offer.created has not arrived
// yet (try again shortly); 409 preview-unavailable when the computation refuses (e.g. the worker's tax state
// is ahead of the clock). → 200 {offer_id, task_id, category, units, expires_at, amount, fee, worker_gross,
// iit, net, tax_year, tax_month, tax_computation, fee_rule: {rate_bp, min_fen, by_rate, minimum_applied,
// cap: {max_share_bp, cap, applied}}, basis}.
http::Response get_net_pay_preview(db::Database& db, http::Request& req) {
  const auto& who = http::require_role(req, {Role::worker});
  const std::string offer_id = req.param("id");
  const json out = read_consistent(db, [&](soci::session& s) {
    const auto offer = find_offer(s, offer_id);
    if (!offer || offer->worker_id != who.party_id) throw offer_not_known(offer_id);
    const auto escrow = load_escrow(s, offer->task_id);
    const std::string category = escrow ? escrow->category : offer->category;
    try {
      const PayoutAt at = payout_at(s, who.party_id, category, offer->amount_fen, clock::now_ms());
      return preview_json(*offer, category, at.payout);
    } catch (const std::invalid_argument& e) {
      throw http::Problem(409, "preview-unavailable", "Preview unavailable", e.what());
    }
  });
  return http::Response::json_of(200, out);
}

namespace {

// A query parameter holding a whole number in [min, max]; records a field error otherwise.
std::optional<std::int64_t> int_param(const http::Request& req, const std::string& name, std::int64_t min,
                                      std::int64_t max, bool required, std::vector<http::FieldError>& errors) {
  const auto text = req.query_param(name);
  if (!text) {
    if (required) errors.push_back({name, "required"});
    return std::nullopt;
  }
  const bool digits = !text->empty() && text->size() <= 18 &&
                      std::all_of(text->begin(), text->end(), [](char c) { return c >= '0' && c <= '9'; });
  const std::int64_t value = digits ? std::stoll(*text) : -1;
  if (!digits || value < min || value > max) {
    errors.push_back({name, "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max)});
    return std::nullopt;
  }
  return value;
}

const domain::FeeRule* rule_of(const std::string& category) {
  return domain::fee_rule_of(category);
}

std::string categories() {
  std::string out;
  for (const auto& r : domain::fee_rules()) out += (out.empty() ? "" : ", ") + r.category;
  return out;
}

json rule_json(const domain::FeeRule& r) {
  return {{"rate_bp", r.rate_bp}, {"min_fen", r.min_fen}};
}

}  // namespace

// GET /v1/fees/quote?category=&amount_fen=[&units=] — enterprises and operators (403 otherwise).
// The platform fee of one settled amount (a task's pay per unit: each unit settles, and is charged, on its
// own) by domain::platform_fee, and for `units` such settlements (default 1). 422 naming each bad field
// (category not in the fee table, amount_fen not 1..10^11, units not 1..100000). → 200 {category, amount,
// fee, worker_gross, rule: {rate_bp, min_fen}, minimum_applied, cap: {max_share_bp, cap, applied} (the fee
// never exceeds max_share_bp of the amount: CROWD_FEE_MAX_SHARE_BP), units, total: {amount, fee, worker_gross},
// fee_borne_by, explanation}.
http::Response get_fee_quote(http::Request& req) {
  http::require_role(req, {Role::enterprise, Role::operator_});
  std::vector<http::FieldError> errors;
  const std::string category = req.query_param("category").value_or("");
  const domain::FeeRule* rule = rule_of(category);
  if (rule == nullptr) {
    errors.push_back({"category", category.empty() ? "required" : "must be one of " + categories()});
  }
  const auto amount = int_param(req, "amount_fen", 1, kQuoteMaxFen, true, errors);
  const auto units = int_param(req, "units", 1, kQuoteMaxUnits, false, errors).value_or(1);
  if (!errors.empty()) throw http::invalid(std::move(errors));

  const domain::FeeQuote quote = domain::quote_fee(category, *amount);
  const std::int64_t fee = quote.fee_fen;
  const json out{{"category", category},
                 {"amount", money(*amount)},
                 {"fee", money(fee)},
                 {"worker_gross", money(*amount - fee)},
                 {"rule", rule_json(*rule)},
                 {"minimum_applied", quote.minimum_applied},
                 {"cap", fee_cap_json(quote)},
                 {"units", units},
                 {"total",
                  {{"amount", money(*amount * units)},
                   {"fee", money(fee * units)},
                   {"worker_gross", money((*amount - fee) * units)}}},
                 {"fee_borne_by", "worker"},
                 {"explanation", kFeeExplanation}};
  return http::Response::json_of(200, out);
}

// GET /v1/fees/rules — any authenticated role. The fee table as platform_fee applies it.
// → 200 {items: [{category, rate_bp, min_fen}], max_share_bp (the cap on every fee's share of its amount),
// currency, fee_borne_by, explanation}.
http::Response get_fee_rules(http::Request& req) {
  http::require_role(req, {Role::enterprise, Role::worker, Role::operator_, Role::integration});
  json items = json::array();
  for (const auto& r : domain::fee_rules()) {
    json item = rule_json(r);
    item["category"] = r.category;
    items.push_back(std::move(item));
  }
  return http::Response::json_of(200, {{"items", items},
                                       {"max_share_bp", domain::fee_max_share_bp()},
                                       {"currency", crowd::money::kCurrency},
                                       {"fee_borne_by", "worker"},
                                       {"explanation", kFeeExplanation}});
}

}  // namespace crowd::settlement
