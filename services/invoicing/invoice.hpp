// The domain core of invoicing: an e-invoice (数电票 model, shared TAX.md §4) built from a settlement, the
// buyer and the seller. Pure: no clock, no ids, no database; the caller supplies the number and the time.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace crowd::invoicing {

// The platform entity that issues the invoices (from configuration).
struct Seller {
  std::string name;
  std::string tax_id;    // 统一社会信用代码
  std::string province;  // 2-digit code in the invoice number (44 = 广东)
  char channel = '1';    // issuing channel digit in the invoice number
};

// What is wrong with a seller configuration (name, a valid credit code, province, channel), or nullopt.
std::optional<std::string> seller_problem(const Seller& s);

// An enterprise as accounts registered it (consumers.hpp reads it from enterprise.registered).
struct Buyer {
  std::string enterprise_id;
  std::string name;
  std::string credit_code;
};

// The facts of settlement.completed that an invoice needs (consumers.hpp reads them from the event).
struct SettlementFacts {
  std::string settlement_id;
  std::string assignment_id;
  std::string task_id;
  std::string enterprise_id;
  std::string category;
  std::string title;
  std::int64_t units = 0;
  std::int64_t amount_fen = 0;  // what the enterprise paid for the work (tax-inclusive)
  std::string currency;
};

// The number and time an issue gets from the caller.
struct IssueStamp {
  std::string invoice_id;
  std::string number;  // 20 digits
  std::int64_t issued_at_ms = 0;
  std::string issue_date;  // YYYY-MM-DD, China time
};

struct InvoiceLine {
  std::string item_name;  // *简称*名称
  std::string tax_code;   // 19-digit 税收分类编码
  std::string spec;       // 规格型号 (empty)
  std::string unit;       // 单位
  std::int64_t quantity = 0;
  std::string unit_price;       // excluding VAT, yuan, up to 8 decimals ("33.33333333")
  std::int64_t amount_fen = 0;  // excluding VAT
  int vat_rate_bp = 0;
  std::int64_t tax_fen = 0;
};

inline constexpr const char* kInvoiceTitle = "电子发票（普通发票）";
inline constexpr const char* kIssuer = "system";

struct Invoice {
  std::string id;
  std::string number;
  std::string kind = "blue";
  std::string title = kInvoiceTitle;
  std::int64_t issued_at_ms = 0;
  std::string issue_date;
  Seller seller;
  Buyer buyer;
  std::string buyer_tax_id;  // the credit code, normalised when it passes the check
  bool buyer_needs_review = false;
  InvoiceLine line;
  std::int64_t amount_fen = 0;  // 合计金额 (excl. VAT)
  std::int64_t tax_fen = 0;     // 合计税额
  std::int64_t total_fen = 0;   // 价税合计
  std::string total_in_capitals;
  std::string remarks;
  std::string issuer = kIssuer;
  std::string settlement_id, task_id, assignment_id, currency;
};

// One invoice for one settlement: one line classified by the task category, VAT split out of amount_fen,
// the total in capitals (invoice style, 圆). Checks its own sums (line = totals, capitals parse back to the
// total) and throws std::logic_error if they do not hold. Throws std::invalid_argument on an unknown category.
Invoice build_invoice(const SettlementFacts& s, const Buyer& buyer, const Seller& seller, const IssueStamp& stamp);

// fen / quantity in yuan, rounded half up at 8 decimals, trailing zeros dropped down to 2 decimals.
std::string unit_price_yuan(std::int64_t amount_fen, std::int64_t quantity);

// 备注: the task id and title (title cut to 60 characters, control characters dropped) and the settlement id.
std::string invoice_remarks(const SettlementFacts& s);

// The invoice document as stored and served: amounts as {"amount_fen", "currency"}, times RFC 3339 UTC.
nlohmann::json invoice_json(const Invoice& inv);

// data of invoice.issued (schemas/events/invoice.issued.schema.json).
nlohmann::json invoice_issued_data(const Invoice& inv);

}  // namespace crowd::invoicing
