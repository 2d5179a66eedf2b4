#include "services/invoicing/invoice.hpp"

#include <stdexcept>

#include "common/clock.hpp"
#include "common/domain/identity.hpp"
#include "common/money.hpp"
#include "services/invoicing/capitals.hpp"
#include "services/invoicing/invoice_number.hpp"
#include "services/invoicing/vat.hpp"

namespace crowd::invoicing {
namespace {

using nlohmann::json;

constexpr std::size_t kRemarkTitleChars = 60;
constexpr const char* kLineUnit = "项";

// The title as it goes into 备注: control characters (newlines, tabs) dropped, at most kRemarkTitleChars
// UTF-8 characters.
std::string remark_title(const std::string& title) {
  std::string out;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < title.size() && chars < kRemarkTitleChars;) {
    const auto c = static_cast<unsigned char>(title[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    if (!(c < 0x20 || c == 0x7F)) {
      out += title.substr(i, len);
      ++chars;
    }
    i += len;
  }
  return out;
}

json money_json(std::int64_t fen, const std::string& currency) {
  return money::to_json(fen, currency);
}

// "6%", "1.5%": the rate as printed on the invoice.
std::string rate_text(int bp) {
  std::string frac = bp % 100 == 0 ? "" : std::to_string(bp % 100 + 100).substr(1);
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  return std::to_string(bp / 100) + (frac.empty() ? "" : "." + frac) + "%";
}

// Pair assertions where money is written down: the line is the whole invoice and the capitals say the total.
void check_sums(const Invoice& inv) {
  const bool line_is_total = inv.line.amount_fen == inv.amount_fen && inv.line.tax_fen == inv.tax_fen;
  const bool adds_up = inv.amount_fen + inv.tax_fen == inv.total_fen && inv.amount_fen >= 0 && inv.tax_fen >= 0;
  const bool capitals_say_total = parse_capitals(inv.total_in_capitals) == inv.total_fen;
  if (!line_is_total || !adds_up || !capitals_say_total || !valid_invoice_number(inv.number)) {
    throw std::logic_error("invoice " + inv.id + ": figures do not add up");
  }
}

}  // namespace

std::optional<std::string> seller_problem(const Seller& s) {
  if (s.name.empty()) return "the seller name is empty";
  if (!domain::check_credit_code(s.tax_id).ok) return "the seller tax id is not a valid unified social credit code";
  if (s.province.size() != 2 || s.province.find_first_not_of("0123456789") != std::string::npos || s.province == "00") {
    return "the invoice province must be a two-digit code";
  }
  if (s.channel < '0' || s.channel > '9') return "the invoice channel must be one digit";
  return std::nullopt;
}

std::string unit_price_yuan(std::int64_t amount_fen, std::int64_t quantity) {
  if (amount_fen < 0 || quantity < 1) throw std::invalid_argument("unit price: bad amount or quantity");
  // In units of 10^-8 yuan: fen × 10^6 / quantity, rounded half up.
  const __int128 scaled = (static_cast<__int128>(amount_fen) * 1'000'000 * 2 + quantity) / (2 * quantity);
  const auto whole = static_cast<std::int64_t>(scaled / 100'000'000);
  std::string frac = std::to_string(static_cast<std::int64_t>(scaled % 100'000'000));
  frac.insert(0, 8 - frac.size(), '0');
  while (frac.size() > 2 && frac.back() == '0') frac.pop_back();
  return std::to_string(whole) + "." + frac;
}

std::string invoice_remarks(const SettlementFacts& s) {
  return "任务 " + s.task_id + "《" + remark_title(s.title) + "》；结算 " + s.settlement_id;
}

Invoice build_invoice(const SettlementFacts& s, const Buyer& buyer, const Seller& seller, const IssueStamp& stamp) {
  const TaxClass& tc = tax_class_for(s.category);
  const VatSplit vat = split_inclusive(s.amount_fen, tc.vat_rate_bp);
  const domain::CreditCodeCheck code = domain::check_credit_code(buyer.credit_code);

  Invoice inv;
  inv.id = stamp.invoice_id;
  inv.number = stamp.number;
  inv.issued_at_ms = stamp.issued_at_ms;
  inv.issue_date = stamp.issue_date;
  inv.seller = seller;
  inv.buyer = buyer;
  inv.buyer_needs_review = !code.ok;
  inv.buyer_tax_id = code.ok ? code.normalized : buyer.credit_code;
  inv.line = InvoiceLine{
      invoice_item_name(tc), tc.code19,      "",         kLineUnit, s.units, unit_price_yuan(vat.excl_fen, s.units),
      vat.excl_fen,          tc.vat_rate_bp, vat.tax_fen};
  inv.amount_fen = vat.excl_fen;
  inv.tax_fen = vat.tax_fen;
  inv.total_fen = s.amount_fen;
  inv.total_in_capitals = to_capitals(inv.total_fen, true);
  inv.remarks = invoice_remarks(s);
  inv.settlement_id = s.settlement_id;
  inv.task_id = s.task_id;
  inv.assignment_id = s.assignment_id;
  inv.currency = s.currency;
  check_sums(inv);
  return inv;
}

json invoice_json(const Invoice& inv) {
  const std::string& cur = inv.currency;
  const json line = {{"item_name", inv.line.item_name},
                     {"tax_code", inv.line.tax_code},
                     {"spec", inv.line.spec},
                     {"unit", inv.line.unit},
                     {"quantity", inv.line.quantity},
                     {"unit_price", inv.line.unit_price},
                     {"amount", money_json(inv.line.amount_fen, cur)},
                     {"vat_rate_bp", inv.line.vat_rate_bp},
                     {"vat_rate", rate_text(inv.line.vat_rate_bp)},
                     {"tax", money_json(inv.line.tax_fen, cur)}};
  return {{"id", inv.id},
          {"number", inv.number},
          {"kind", inv.kind},
          {"title", inv.title},
          {"issued_at", clock::rfc3339(inv.issued_at_ms)},
          {"issue_date", inv.issue_date},
          {"seller", {{"name", inv.seller.name}, {"tax_id", inv.seller.tax_id}}},
          {"buyer",
           {{"enterprise_id", inv.buyer.enterprise_id},
            {"name", inv.buyer.name},
            {"tax_id", inv.buyer_tax_id},
            {"needs_review", inv.buyer_needs_review}}},
          {"lines", json::array({line})},
          {"amount", money_json(inv.amount_fen, cur)},
          {"tax", money_json(inv.tax_fen, cur)},
          {"total", money_json(inv.total_fen, cur)},
          {"total_in_capitals", inv.total_in_capitals},
          {"remarks", inv.remarks},
          {"issuer", inv.issuer},
          {"settlement_id", inv.settlement_id},
          {"task_id", inv.task_id},
          {"assignment_id", inv.assignment_id}};
}

json invoice_issued_data(const Invoice& inv) {
  return {{"invoice_id", inv.id},
          {"number", inv.number},
          {"enterprise_id", inv.buyer.enterprise_id},
          {"settlement_id", inv.settlement_id},
          {"total_fen", inv.total_fen}};
}

}  // namespace crowd::invoicing
