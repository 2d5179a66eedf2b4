#include "services/invoicing/capitals.hpp"

#include <array>
#include <stdexcept>
#include <vector>

namespace crowd::invoicing {
namespace {

constexpr std::array<std::string_view, 10> kDigits = {"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"};
constexpr std::array<std::string_view, 4> kSmallUnits = {"", "拾", "佰", "仟"};
constexpr std::int64_t kMaxYuanExclusive = 10'000'000'000'000'000;  // 10^16: up to 万亿 groups

// The integer yuan part, canonical: one 零 for every run of zeros followed by a non-zero digit, except where
// the 零 is optional (the run ends at a 仟 position: the 万/亿 position above it is zero). There the 零 is written
// at most once, at the lowest such place, and only when `optional_zero` (the 元 position takes precedence).
std::string yuan_capitals(std::int64_t yuan, bool optional_zero) {
  std::array<int, 16> d{};
  for (std::size_t p = 0; p < d.size(); ++p, yuan /= 10) d[p] = static_cast<int>(yuan % 10);
  auto any_from = [&d](int lo, int hi) {
    for (int p = lo; p <= hi; ++p) {
      if (d[static_cast<std::size_t>(p)] != 0) return true;
    }
    return false;
  };
  // The lowest 仟 position that ends a run of zeros (-1: none, or no optional 零 wanted).
  int optional_at = -1;
  if (optional_zero) {
    bool started = false, run = false;
    for (int p = 15; p >= 0; --p) {
      if (d[static_cast<std::size_t>(p)] != 0) {
        if (run && p % 4 == 3) optional_at = p;
        started = true;
        run = false;
      } else if (started) {
        run = true;
      }
    }
  }
  std::string out;
  bool zero_pending = false;
  for (int p = 15; p >= 0; --p) {
    const int digit = d[static_cast<std::size_t>(p)];
    if (digit != 0) {
      if (zero_pending && (p % 4 != 3 || p == optional_at)) out += "零";
      zero_pending = false;
      out += kDigits[static_cast<std::size_t>(digit)];
      out += kSmallUnits[static_cast<std::size_t>(p % 4)];
    } else if (!out.empty()) {
      zero_pending = true;
    }
    if (p == 12 && any_from(12, 15)) out += "万";
    if (p == 8 && any_from(8, 15)) out += "亿";
    if (p == 4 && any_from(4, 7)) out += "万";
  }
  return out;
}

// ---- parsing ----

// One written digit: its value (1..9), its power of ten relative to the yuan (−2 = 分), and whether a 零 was
// written right before it.
struct Term {
  int digit;
  int exp;
  bool zero_before;
};

std::vector<std::string_view> chars_of(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : 4;
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

int digit_of(std::string_view ch) {
  for (std::size_t i = 1; i < kDigits.size(); ++i) {
    if (kDigits[i] == ch) return static_cast<int>(i);
  }
  return 0;
}

int small_unit_of(std::string_view ch) {
  for (std::size_t i = 1; i < kSmallUnits.size(); ++i) {
    if (kSmallUnits[i] == ch) return static_cast<int>(i);
  }
  return 0;
}

// Reads the part before 元 into terms (exponents ≥ 0). False on a malformed part.
bool parse_yuan_terms(const std::vector<std::string_view>& cs, std::vector<Term>& terms) {
  std::size_t since_wan = 0, since_yi = 0;
  bool zero = false;
  int pending = 0;
  auto flush = [&] {
    if (pending != 0) terms.push_back({pending, 0, zero}), zero = false, pending = 0;
  };
  for (auto ch : cs) {
    if (const int d = digit_of(ch); d != 0) {
      if (pending != 0) return false;
      pending = d;
    } else if (ch == "零") {
      if (pending != 0 || zero || terms.empty()) return false;
      zero = true;
    } else if (const int u = small_unit_of(ch); u != 0) {
      int d = pending;
      if (d == 0 && u == 1 && terms.empty() && !zero) d = 1;  // a leading bare 拾 ("拾元") means 壹拾
      if (d == 0) return false;
      terms.push_back({d, u, zero}), zero = false, pending = 0;
    } else if (ch == "万" || ch == "亿") {
      flush();
      if (zero) return false;
      std::size_t& from = ch == "万" ? since_wan : since_yi;
      if (from >= terms.size() || (ch == "亿" && since_yi != 0)) return false;  // 亿 once: amounts < 10^16
      for (std::size_t i = from; i < terms.size(); ++i) terms[i].exp += ch == "万" ? 4 : 8;
      since_wan = terms.size();
      if (ch == "亿") since_yi = terms.size();
    } else {
      return false;
    }
  }
  flush();
  return !zero;
}

// Reads the part after 元 (角, 分, 整) into terms (exponents −1 and −2). False on a malformed part.
bool parse_fraction_terms(const std::vector<std::string_view>& cs, std::vector<Term>& terms) {
  bool zero = false;
  int pending = 0;
  for (std::size_t i = 0; i < cs.size(); ++i) {
    const auto ch = cs[i];
    if (const int d = digit_of(ch); d != 0) {
      if (pending != 0) return false;
      pending = d;
    } else if (ch == "零") {
      if (pending != 0 || zero) return false;
      zero = true;
    } else if (ch == "角" || ch == "分") {
      if (pending == 0) return false;
      terms.push_back({pending, ch == "角" ? -1 : -2, zero}), zero = false, pending = 0;
    } else if (ch == "整" || ch == "正") {
      const bool after_fen = !terms.empty() && terms.back().exp == -2;
      if (i + 1 != cs.size() || pending != 0 || zero || after_fen) return false;
    } else {
      return false;
    }
  }
  return pending == 0 && !zero;
}

// Where a 零 may be left out: before a digit at the top of a four-digit group (千位: the 万/亿/元 position
// above it is zero) or before 角 (元位 zero). Everywhere else a gap needs its 零 and no gap forbids one.
bool zero_optional_at(int exp) {
  return (exp >= 0 && exp % 4 == 3) || exp == -1;
}

bool terms_well_formed(const std::vector<Term>& terms) {
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const Term& t = terms[i];
    if (t.exp > 15) return false;
    if (i == 0) {
      if (t.zero_before) return false;
      continue;
    }
    const int gap = terms[i - 1].exp - t.exp;
    if (gap < 1) return false;
    if (gap == 1 && t.zero_before) return false;
    if (gap > 1 && !t.zero_before && !zero_optional_at(t.exp)) return false;
  }
  return true;
}

// Removes a prefix when text starts with it.
bool strip(std::string_view& text, std::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return false;
  text.remove_prefix(prefix.size());
  return true;
}

}  // namespace

std::string to_capitals(std::int64_t fen, bool invoice_style) {
  if (fen < 0) {
    if (!invoice_style) throw std::invalid_argument("a negative amount has capitals only in invoice style");
    if (fen <= -kMaxYuanExclusive * 100) throw std::invalid_argument("amount too large for capitals");
    return "（负数）" + to_capitals(-fen, true);
  }
  const std::int64_t yuan = fen / 100;
  if (yuan >= kMaxYuanExclusive) throw std::invalid_argument("amount too large for capitals");
  const int jiao = static_cast<int>(fen / 10 % 10), fen_digit = static_cast<int>(fen % 10);
  const std::string_view yuan_unit = invoice_style ? "圆" : "元";
  if (fen == 0) return std::string("零") + std::string(yuan_unit) + "整";
  // 元位 zero before a 角: the optional 零 is written there, and then nowhere else (one optional 零 at most).
  const bool zero_before_jiao = yuan > 0 && yuan % 10 == 0 && jiao != 0;
  std::string out;
  if (yuan > 0) out = yuan_capitals(yuan, !zero_before_jiao) + std::string(yuan_unit);
  if (jiao != 0) {
    if (zero_before_jiao) out += "零";
    out += std::string(kDigits[static_cast<std::size_t>(jiao)]) + "角";
  }
  if (fen_digit != 0) {
    if (jiao == 0 && yuan > 0) out += "零";  // required 零 (角位 zero)
    out += std::string(kDigits[static_cast<std::size_t>(fen_digit)]) + "分";
  }
  if (jiao == 0 && fen_digit == 0) out += "整";
  return out;
}

std::optional<std::int64_t> parse_capitals(std::string_view text) {
  const bool negative = strip(text, "（负数）") || strip(text, "(负数)");
  strip(text, "人民币");
  const auto cs = chars_of(text);
  std::size_t yuan_at = cs.size();
  for (std::size_t i = 0; i < cs.size(); ++i) {
    if (cs[i] == "元" || cs[i] == "圆") {
      if (yuan_at != cs.size()) return std::nullopt;
      yuan_at = i;
    }
  }
  const bool has_yuan = yuan_at != cs.size();
  const std::vector<std::string_view> int_part(cs.begin(),
                                               cs.begin() + static_cast<std::ptrdiff_t>(has_yuan ? yuan_at : 0));
  const std::vector<std::string_view> frac_part(cs.begin() + static_cast<std::ptrdiff_t>(has_yuan ? yuan_at + 1 : 0),
                                                cs.end());
  std::vector<Term> terms;
  const bool yuan_is_zero = int_part.size() == 1 && int_part[0] == "零";
  if (has_yuan && int_part.empty()) return std::nullopt;
  if (!yuan_is_zero && !parse_yuan_terms(int_part, terms)) return std::nullopt;
  if (!parse_fraction_terms(frac_part, terms)) return std::nullopt;
  if (terms.empty() && !yuan_is_zero) return std::nullopt;
  if (!terms_well_formed(terms)) return std::nullopt;
  std::int64_t fen = 0;
  for (const Term& t : terms) {
    std::int64_t v = t.digit;
    for (int e = -2; e < t.exp; ++e) v *= 10;
    fen += v;
  }
  return negative ? -fen : fen;
}

}  // namespace crowd::invoicing
