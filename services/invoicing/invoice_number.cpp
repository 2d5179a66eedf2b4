#include "services/invoicing/invoice_number.hpp"

#include <algorithm>
#include <stdexcept>

namespace crowd::invoicing {
namespace {
bool all_digits(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}
}  // namespace

std::string invoice_number(int year, std::string_view province2, char channel, std::int64_t sequence) {
  if (year < 2000 || year > 2099) throw std::invalid_argument("invoice year must be 2000..2099");
  if (province2.size() != 2 || !all_digits(province2) || province2 == "00") {
    throw std::invalid_argument("province code must be two digits");
  }
  if (channel < '0' || channel > '9') throw std::invalid_argument("issuing channel must be one digit");
  if (sequence < 1 || sequence > kInvoiceSequenceMax) throw std::invalid_argument("invoice sequence out of range");
  std::string seq = std::to_string(sequence);
  std::string out = std::to_string(year % 100 + 100).substr(1);  // two digits, leading zero kept
  out += province2;
  out += channel;
  out += std::string(15 - seq.size(), '0') + seq;
  return out;
}

bool valid_invoice_number(std::string_view number) {
  return number.size() == 20 && all_digits(number) && number.substr(5) != std::string(15, '0');
}

const std::vector<TaxClass>& tax_classes() {
  // PLACEHOLDER codes chosen from publicly circulated parts of the 商品和服务税收分类编码表 (branch 304 现代服务,
  // 307 生活服务): to be replaced by the official code list (and its version number) before production use.
  // All four are services the platform sells to enterprises at the modern-services rate of 6%.
  static const std::vector<TaxClass> classes = {
      {"rd_design", "3040201010000000000", "信息技术服务", "软件开发服务", 600},
      {"manufacturing", "3040105000000000000", "研发和技术服务", "专业技术服务", 600},
      {"knowledge", "3040204000000000000", "信息技术服务", "业务流程管理服务", 600},
      {"life_service", "3079900000000000000", "生活服务", "其他生活服务", 600},
  };
  return classes;
}

const TaxClass& tax_class_for(const std::string& task_category) {
  const auto& classes = tax_classes();
  const auto it =
      std::find_if(classes.begin(), classes.end(), [&](const TaxClass& tc) { return tc.category == task_category; });
  if (it == classes.end()) throw std::invalid_argument("no tax classification for category: " + task_category);
  return *it;
}

std::string invoice_item_name(const TaxClass& tc) {
  return "*" + tc.short_name + "*" + tc.item_name;
}

}  // namespace crowd::invoicing
