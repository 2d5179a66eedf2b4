// 数电票 numbers and the tax classification of invoice lines (shared TAX.md §4). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace crowd::invoicing {

inline constexpr std::int64_t kInvoiceSequenceMax = 999'999'999'999'999;  // 15 digits

// 20 digits: yy (year 2000..2099), the 2-digit province code, the 1-digit issuing channel, the 15-digit
// zero-padded sequence (1..kInvoiceSequenceMax). Throws std::invalid_argument when a part is out of range.
std::string invoice_number(int year, std::string_view province2, char channel, std::int64_t sequence);

// 20 ASCII digits with a non-zero sequence (there is no check digit to verify).
bool valid_invoice_number(std::string_view number);

// How an invoice line of a task category is classified and named.
struct TaxClass {
  std::string category;    // task category
  std::string code19;      // 税收分类编码, 19 digits
  std::string short_name;  // 简称: the line reads *short_name*item_name
  std::string item_name;
  int vat_rate_bp;  // 600 = 6%
};

// One row per task category. Throws std::invalid_argument for an unknown category.
const TaxClass& tax_class_for(const std::string& task_category);
const std::vector<TaxClass>& tax_classes();

// The line's 项目名称: "*简称*名称".
std::string invoice_item_name(const TaxClass& tc);

}  // namespace crowd::invoicing
