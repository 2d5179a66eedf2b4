#include "common/domain/identity.hpp"

#include <doctest/doctest.h>

using namespace crowd::domain;

namespace {
// An ID number with the given 17 first digits and its correct check character.
std::string with_check(const std::string& first17) {
  return first17 + id_check_char(first17);
}
IdCheck check_today(std::string_view id) {
  return check_id_number(id, 2026, 11, 22);
}
}  // namespace

TEST_CASE("the standard's ID number example is valid") {
  const auto r = check_today("11010519491231002X");
  CHECK(r.ok);
  CHECK(r.reason.empty());
  CHECK(r.normalized == "11010519491231002X");
  CHECK(r.birth_year == 1949);
  CHECK(r.birth_month == 12);
  CHECK(r.birth_day == 31);
  CHECK_FALSE(r.male);  // sequence 002: even
  CHECK(id_check_char("11010519491231002") == 'X');
}

TEST_CASE("a wrong check character is rejected") {
  for (char c : std::string("0123456789")) {
    const auto r = check_today(std::string("11010519491231002") + c);
    CHECK_FALSE(r.ok);
    CHECK(r.reason.find("check character") != std::string::npos);
  }
  CHECK_FALSE(check_today("110105194912310021").ok);
}

TEST_CASE("the male flag follows the sequence code") {
  const auto r = check_today(with_check("11010519491231003"));
  CHECK(r.ok);
  CHECK(r.male);
}

TEST_CASE("birth dates must exist on the calendar") {
  SUBCASE("February 30 and 31 never exist, even with a matching check character") {
    for (const char* day : {"30", "31"}) {
      const auto r = check_today(with_check(std::string("11010520000") + "2" + day + "123"));
      CHECK_FALSE(r.ok);
      CHECK(r.reason.find("does not exist") != std::string::npos);
    }
  }
  SUBCASE("February 29 only in leap years") {
    CHECK(check_today(with_check("11010520000229123")).ok);        // 2000: divisible by 400
    CHECK(check_today(with_check("11010519960229123")).ok);        // 1996: divisible by 4
    CHECK_FALSE(check_today(with_check("11010519000229123")).ok);  // 1900: century, not by 400
    CHECK_FALSE(check_today(with_check("11010520230229123")).ok);  // 2023
    CHECK_FALSE(check_today(with_check("11010520241329123")).ok);  // month 13
    CHECK_FALSE(check_today(with_check("11010520240400123")).ok);  // day 0
    CHECK_FALSE(check_today(with_check("11010520240431123")).ok);  // April 31
  }
  SUBCASE("a birth date in the future is rejected; before 1900 passes the standard (plausibility is the caller's)") {
    CHECK(check_today(with_check("11010520261122123")).ok);  // born today
    const auto tomorrow = check_today(with_check("11010520261123123"));
    CHECK_FALSE(tomorrow.ok);
    CHECK(tomorrow.reason.find("future") != std::string::npos);
    const auto old = check_today(with_check("11010518991231123"));
    CHECK(old.ok);
    CHECK(old.birth_year == 1899);
  }
}

TEST_CASE("ID numbers are normalised before checking") {
  SUBCASE("lower-case x") {
    CHECK(check_today("11010519491231002x").ok);
  }
  SUBCASE("full-width digits and X, surrounding spaces") {
    const auto r = check_today("  １１０１０５１９４９１２３１００２Ｘ\u3000");
    CHECK(r.ok);
    CHECK(r.normalized == "11010519491231002X");
  }
  SUBCASE("full-width lower-case x") {
    CHECK(check_today("11010519491231002ｘ").ok);
  }
  CHECK(normalize_id_number(" 1234x ") == std::optional<std::string>("1234X"));
  CHECK_FALSE(normalize_id_number("1101-05").has_value());
  CHECK_FALSE(normalize_id_number("11010519491231002Y").has_value());
}

TEST_CASE("ID numbers of the wrong shape are rejected with a reason") {
  CHECK(check_today("1101051949123100").reason.find("18") != std::string::npos);
  CHECK_FALSE(check_today("").ok);
  CHECK(check_today("X1010519491231002X").reason.find("first 17") != std::string::npos);
  CHECK(check_today("abc").reason.find("only digits") != std::string::npos);
}

TEST_CASE("unified social credit codes") {
  SUBCASE("the standard example is valid") {
    const auto r = check_credit_code("91350100M000100Y43");
    CHECK(r.ok);
    CHECK(r.normalized == "91350100M000100Y43");
  }
  SUBCASE("lower case and spaces are normalised") {
    const auto r = check_credit_code(" 91350100m000100y43 ");
    CHECK(r.ok);
    CHECK(r.normalized == "91350100M000100Y43");
  }
  SUBCASE("a wrong check character fails") {
    const auto r = check_credit_code("91350100M000100Y44");
    CHECK_FALSE(r.ok);
    CHECK(r.reason.find("check character") != std::string::npos);
  }
  SUBCASE("letters outside the character set fail") {
    CHECK(check_credit_code("91350100M000100I43").reason.find("letters") != std::string::npos);
    CHECK_FALSE(check_credit_code("91350100O000100Y43").ok);
  }
  SUBCASE("wrong length fails") {
    CHECK(check_credit_code("91350100M000100Y4").reason.find("18") != std::string::npos);
  }
}

TEST_CASE("masks") {
  CHECK(mask_id_number("11010519491231002X") == "110***********002X");
  CHECK(mask_phone("13812345678") == "138****5678");
  CHECK(mask_phone("123") == "***");
  CHECK(mask_name("张三丰") == "张**");
  CHECK(mask_name("李") == "李");
  CHECK(mask_name("Alice") == "A****");
  CHECK(mask_name("") == "");
  CHECK(mask_account_number("6222020200112233445") == "***************3445");
  CHECK(mask_account_number("1234") == "****");
}

TEST_CASE("mainland mobile numbers") {
  CHECK(valid_cn_mobile("13812345678"));
  CHECK(valid_cn_mobile("19912345678"));
  CHECK_FALSE(valid_cn_mobile("12812345678"));
  CHECK_FALSE(valid_cn_mobile("1381234567"));
  CHECK_FALSE(valid_cn_mobile("138123456789"));
  CHECK_FALSE(valid_cn_mobile("1381234567a"));
  CHECK_FALSE(valid_cn_mobile("23812345678"));
}
