#include "services/invoicing/invoice_number.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

using namespace crowd::invoicing;

TEST_CASE("a 数电票 number is yy + province + channel + 15-digit sequence") {
  const auto n = invoice_number(2026, "44", '1', 1);
  CHECK(n == "26441000000000000001");
  CHECK(n.size() == 20);
  CHECK(valid_invoice_number(n));
  CHECK(invoice_number(2005, "11", '0', 123'456'789'012'345) == "05110123456789012345");
  CHECK(invoice_number(2099, "65", '9', kInvoiceSequenceMax) == "99659999999999999999");
}

TEST_CASE("out-of-range parts throw") {
  CHECK_THROWS_AS(invoice_number(1999, "44", '1', 1), std::invalid_argument);
  CHECK_THROWS_AS(invoice_number(2100, "44", '1', 1), std::invalid_argument);
  CHECK_THROWS_AS(invoice_number(2026, "4", '1', 1), std::invalid_argument);
  CHECK_THROWS_AS(invoice_number(2026, "4a", '1', 1), std::invalid_argument);
  CHECK_THROWS_AS(invoice_number(2026, "00", '1', 1), std::invalid_argument);
  CHECK_THROWS_AS(invoice_number(2026, "44", 'a', 1), std::invalid_argument);
  CHECK_THROWS_AS(invoice_number(2026, "44", '1', 0), std::invalid_argument);
  CHECK_THROWS_AS(invoice_number(2026, "44", '1', kInvoiceSequenceMax + 1), std::invalid_argument);
}

TEST_CASE("validating numbers") {
  CHECK(valid_invoice_number("26441000000000000001"));
  CHECK_FALSE(valid_invoice_number("2644100000000000001"));
  CHECK_FALSE(valid_invoice_number("264410000000000000011"));
  CHECK_FALSE(valid_invoice_number("2644100000000000000a"));
  CHECK_FALSE(valid_invoice_number("26441000000000000000"));
  CHECK_FALSE(valid_invoice_number(""));
}

TEST_CASE("every task category has a tax class with a 19-digit code") {
  for (const char* c : {"rd_design", "manufacturing", "knowledge", "life_service"}) {
    const auto& tc = tax_class_for(c);
    CHECK(tc.category == c);
    CHECK(tc.code19.size() == 19);
    CHECK(tc.code19.find_first_not_of("0123456789") == std::string::npos);
    CHECK(tc.vat_rate_bp == 600);
    CHECK_FALSE(tc.short_name.empty());
  }
  const auto& rd = tax_class_for("rd_design");
  CHECK(rd.code19 == "3040201010000000000");
  CHECK(invoice_item_name(rd) == "*信息技术服务*软件开发服务");
  CHECK_THROWS_AS(tax_class_for("unknown"), std::invalid_argument);
}
