#include "services/invoicing/capitals.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

using namespace crowd::invoicing;

namespace {

// The same amount with every optional 零 left out: before a digit at a 仟 position and between 元 and 角.
std::string without_optional_zeros(std::string s) {
  static constexpr std::array<const char*, 9> digits = {"壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"};
  for (const char* d : digits) {
    for (const auto& [from, to] : {std::pair{std::string("零") + d + "仟", std::string(d) + "仟"},
                                   std::pair{std::string("元零") + d + "角", std::string("元") + d + "角"},
                                   std::pair{std::string("圆零") + d + "角", std::string("圆") + d + "角"}}) {
      for (auto at = s.find(from); at != std::string::npos; at = s.find(from)) s.replace(at, from.size(), to);
    }
  }
  return s;
}

// Deterministic pseudo-random amounts (64-bit LCG) with many zero digits, as real amounts have.
std::int64_t next_amount(std::uint64_t& state) {
  std::int64_t v = 0;
  state = state * 6364136223846793005ULL + 1442695040888963407ULL;
  const int digits = static_cast<int>((state >> 33) % 18) + 1;  // up to 18 digits of fen
  for (int i = 0; i < digits; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const int r = static_cast<int>((state >> 33) % 20);
    v = v * 10 + (r < 10 ? 0 : r - 10);
  }
  return v;
}

}  // namespace

TEST_CASE("the official examples of 支付结算办法 in canonical form") {
  CHECK(to_capitals(140950, false) == "壹仟肆佰零玖元伍角");
  CHECK(to_capitals(600714, false) == "陆仟零柒元壹角肆分");
  CHECK(to_capitals(168032, false) == "壹仟陆佰捌拾元零叁角贰分");
  CHECK(to_capitals(10700053, false) == "壹拾万柒仟元零伍角叁分");
  CHECK(to_capitals(1640902, false) == "壹万陆仟肆佰零玖元零贰分");
  CHECK(to_capitals(32504, false) == "叁佰贰拾伍元零肆分");
}

TEST_CASE("one optional 零 at most: at the 元 position when it has one, else at the lowest 万/亿 place") {
  CHECK(to_capitals(10700053, true) == "壹拾万柒仟圆零伍角叁分");  // invoice style: only the unit differs
  CHECK(to_capitals(10700050, false) == "壹拾万柒仟元零伍角");
  CHECK(to_capitals(10700000, false) == "壹拾万零柒仟元整");
  CHECK(to_capitals(10700003, false) == "壹拾万零柒仟元零叁分");  // 角 zero before 分: required, not optional
  CHECK(to_capitals(10'000'700'000, false) == "壹亿零柒仟元整");
  CHECK(to_capitals(107'000'700'000, false) == "壹拾亿柒仟万零柒仟元整");
  CHECK(to_capitals(107'000'000'000, false) == "壹拾亿零柒仟万元整");
  CHECK(to_capitals(107'000'700'050, false) == "壹拾亿柒仟万柒仟元零伍角");
  // Required 零s are never dropped: a run of zeros ending below a 仟 position.
  CHECK(to_capitals(10'070'000, false) == "壹拾万零柒佰元整");
  CHECK(to_capitals(10'000'700, false) == "壹拾万零柒元整");
}

TEST_CASE("the official examples parse in every form given") {
  CHECK(parse_capitals("壹仟肆佰零玖元伍角") == 140950);
  CHECK(parse_capitals("壹仟肆佰零玖元伍角整") == 140950);
  CHECK(parse_capitals("陆仟零柒元壹角肆分") == 600714);
  CHECK(parse_capitals("壹仟陆佰捌拾元零叁角贰分") == 168032);
  CHECK(parse_capitals("壹仟陆佰捌拾元叁角贰分") == 168032);
  CHECK(parse_capitals("壹拾万柒仟元零伍角叁分") == 10700053);
  CHECK(parse_capitals("壹拾万零柒仟元伍角叁分") == 10700053);
  CHECK(parse_capitals("壹拾万零柒仟元零伍角叁分") == 10700053);
  CHECK(parse_capitals("壹拾万柒仟元伍角叁分") == 10700053);
  CHECK(parse_capitals("壹万陆仟肆佰零玖元零贰分") == 1640902);
  CHECK(parse_capitals("叁佰贰拾伍元零肆分") == 32504);
}

TEST_CASE("zero, whole yuan, 亿 and long runs of zeros") {
  CHECK(to_capitals(0, false) == "零元整");
  CHECK(to_capitals(0, true) == "零圆整");
  CHECK(parse_capitals("零元整") == 0);
  CHECK(parse_capitals("零圆") == 0);
  CHECK(to_capitals(10000, true) == "壹佰圆整");
  CHECK(to_capitals(10'000'000'000, false) == "壹亿元整");
  CHECK(to_capitals(100'000'000'005, false) == "壹拾亿元零伍分");
  CHECK(parse_capitals("壹拾亿元零伍分") == 100'000'000'005);
  CHECK(to_capitals(10'000'000'100, false) == "壹亿零壹元整");
  CHECK(to_capitals(10'001'000'000, false) == "壹亿零壹万元整");
  CHECK(to_capitals(10'010'000'000, false) == "壹亿零壹拾万元整");
  CHECK(to_capitals(1'000'010'000, false) == "壹仟万零壹佰元整");
  CHECK(to_capitals(100'000'000'000'000, false) == "壹万亿元整");
  CHECK(to_capitals(100'010'000'000'000, false) == "壹万零壹亿元整");
  CHECK(to_capitals(100'000'001'000'000, false) == "壹万亿零壹万元整");
  CHECK(to_capitals(120'000'000'000'000, false) == "壹万贰仟亿元整");
  CHECK(to_capitals(101'000, false) == "壹仟零壹拾元整");
  CHECK(to_capitals(1'000, false) == "壹拾元整");
  CHECK(to_capitals(50, false) == "伍角");
  CHECK(to_capitals(5, false) == "伍分");
  CHECK(to_capitals(55, false) == "伍角伍分");
  CHECK(to_capitals(100'050, false) == "壹仟元零伍角");
  CHECK(to_capitals(100'005, false) == "壹仟元零伍分");
  CHECK(parse_capitals("零元伍角") == 50);
  CHECK(parse_capitals("伍角") == 50);
  CHECK(parse_capitals("伍分") == 5);
}

TEST_CASE("invoice style: 圆, and （负数） for red invoices") {
  CHECK(to_capitals(12'345'600, true) == "壹拾贰万叁仟肆佰伍拾陆圆整");
  CHECK(to_capitals(-10'000, true) == "（负数）壹佰圆整");
  CHECK(parse_capitals("（负数）壹佰圆整") == -10'000);
  CHECK_THROWS_AS(to_capitals(-1, false), std::invalid_argument);
  CHECK_THROWS_AS(to_capitals(1'000'000'000'000'000'000, false), std::invalid_argument);
  CHECK(to_capitals(999'999'999'999'999'999, false) ==
        "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分");
}

TEST_CASE("parse accepts prefixes and 整 variants, rejects malformed text") {
  CHECK(parse_capitals("人民币壹佰元整") == 10'000);
  CHECK(parse_capitals("壹佰元正") == 10'000);
  CHECK(parse_capitals("壹佰元") == 10'000);
  CHECK(parse_capitals("拾元整") == 1'000);
  for (const char* bad : {"",           "整",           "元整",       "壹仟伍元",     "壹佰伍元",
                          "壹元零伍角", "叁分整",       "壹拾壹佰元", "壹贰元",       "零壹元",
                          "壹亿亿元",   "壹亿万元",     "壹仟仟元",   "壹万壹仟万元", "壹佰元元",
                          "壹佰圆整整", "伍",           "壹佰美元",   "壹佰元伍",     "壹佰元零",
                          "壹佰零元",   "壹佰零零伍元", "壹元伍分整", "壹万壹亿元",   "壹万亿零壹亿元"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_capitals(bad).has_value());
  }
}

TEST_CASE("round trip over a deterministic pseudo-random set") {
  std::uint64_t state = 20261122;
  for (int i = 0; i < 20000; ++i) {
    const std::int64_t fen = next_amount(state);
    const std::string text = to_capitals(fen, i % 2 == 0);
    CAPTURE(fen);
    CAPTURE(text);
    REQUIRE(parse_capitals(text) == fen);
    const std::string bare = without_optional_zeros(text);
    REQUIRE(parse_capitals(bare) == fen);
    REQUIRE(text.size() - bare.size() <= std::string("零").size());  // one optional 零 at most
  }
  for (std::int64_t fen = 0; fen < 200'000; fen += 7) REQUIRE(parse_capitals(to_capitals(fen, false)) == fen);
}
