#include "common/domain/identity.hpp"

#include <array>
#include <vector>

namespace crowd::domain {
namespace {

// Splits UTF-8 text into its characters (each as its bytes). A stray continuation byte or a truncated
// sequence becomes a character of its own, so the split never fails and never loses bytes.
std::vector<std::string_view> utf8_chars(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + len > s.size()) len = 1;
    for (std::size_t k = 1; k < len; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) {
        len = 1;
        break;
      }
    }
    out.push_back(s.substr(i, len));
    i += len;
  }
  return out;
}

bool is_space(std::string_view ch) {
  return ch == " " || ch == "\t" || ch == "\u3000";
}

// Full-width forms U+FF01..U+FF5E map to ASCII 0x21..0x7E; everything else is returned unchanged.
std::string fold_full_width(std::string_view ch) {
  if (ch.size() == 3 && static_cast<unsigned char>(ch[0]) == 0xEF) {
    const auto b1 = static_cast<unsigned char>(ch[1]);
    const auto b2 = static_cast<unsigned char>(ch[2]);
    const unsigned cp = 0xF000u | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
    if (cp >= 0xFF01 && cp <= 0xFF5E) return std::string(1, static_cast<char>(cp - 0xFF01 + 0x21));
  }
  return std::string(ch);
}

// Trimmed characters of s with full-width forms folded to ASCII.
std::vector<std::string> folded_trimmed(std::string_view s) {
  auto chars = utf8_chars(s);
  std::size_t b = 0, e = chars.size();
  while (b < e && is_space(chars[b])) ++b;
  while (e > b && is_space(chars[e - 1])) --e;
  std::vector<std::string> out;
  for (std::size_t i = b; i < e; ++i) out.push_back(fold_full_width(chars[i]));
  return out;
}

std::string mask_keep(std::string_view s, std::size_t head, std::size_t tail) {
  const auto chars = utf8_chars(s);
  std::string out;
  for (std::size_t i = 0; i < chars.size(); ++i) {
    const bool visible = chars.size() > head + tail && (i < head || i >= chars.size() - tail);
    out += visible ? std::string(chars[i]) : std::string("*");
  }
  return out;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// GB 32100 character set: the value of a character is its index.
constexpr std::string_view kCreditChars = "0123456789ABCDEFGHJKLMNPQRTUWXY";
constexpr std::array<int, 17> kCreditWeights = {1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28};
constexpr std::array<int, 17> kIdWeights = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
constexpr std::string_view kIdCheckChars = "10X98765432";

}  // namespace

bool valid_date(int y, int m, int d) {
  if (m < 1 || m > 12 || d < 1) return false;
  static constexpr std::array<int, 12> days = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  const int max_day = (m == 2 && leap) ? 29 : days[static_cast<std::size_t>(m - 1)];
  return d <= max_day;
}

std::optional<std::string> normalize_id_number(std::string_view raw) {
  std::string out;
  for (const auto& ch : folded_trimmed(raw)) {
    if (ch.size() != 1) return std::nullopt;
    const char c = ch[0];
    if (is_digit(c) || c == 'X') {
      out += c;
    } else if (c == 'x') {
      out += 'X';
    } else {
      return std::nullopt;
    }
  }
  return out;
}

char id_check_char(std::string_view first17) {
  int sum = 0;
  for (std::size_t i = 0; i < 17 && i < first17.size(); ++i) sum += (first17[i] - '0') * kIdWeights[i];
  return kIdCheckChars[static_cast<std::size_t>(sum % 11)];
}

IdCheck check_id_number(std::string_view raw, int today_y, int today_m, int today_d) {
  IdCheck r;
  auto fail = [&r](std::string reason) {
    r.reason = std::move(reason);
    return r;
  };
  const auto norm = normalize_id_number(raw);
  if (!norm) return fail("ID number may contain only digits and a final X");
  r.normalized = *norm;
  const std::string& n = r.normalized;
  if (n.size() != 18) return fail("ID number must be 18 characters long");
  for (std::size_t i = 0; i < 17; ++i) {
    if (!is_digit(n[i])) return fail("ID number must have digits in its first 17 characters");
  }
  const int y = std::stoi(n.substr(6, 4)), m = std::stoi(n.substr(10, 2)), d = std::stoi(n.substr(12, 2));
  if (!valid_date(y, m, d)) return fail("ID number holds a birth date that does not exist");
  r.birth_year = y, r.birth_month = m, r.birth_day = d;
  if (y * 10000 + m * 100 + d > today_y * 10000 + today_m * 100 + today_d) {
    return fail("ID number holds a birth date in the future");
  }
  r.male = (n[16] - '0') % 2 == 1;
  if (id_check_char(n) != n[17]) return fail("ID number check character does not match");
  r.ok = true;
  return r;
}

CreditCodeCheck check_credit_code(std::string_view raw) {
  CreditCodeCheck r;
  for (const auto& ch : folded_trimmed(raw)) {
    for (char c : ch) r.normalized += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  }
  const std::string& n = r.normalized;
  if (n.size() != 18) {
    r.reason = "credit code must be 18 characters long";
    return r;
  }
  int sum = 0;
  for (std::size_t i = 0; i < 18; ++i) {
    const auto pos = kCreditChars.find(n[i]);
    if (pos == std::string_view::npos) {
      r.reason = "credit code may contain only digits and the letters ABCDEFGHJKLMNPQRTUWXY";
      return r;
    }
    if (i < 17) sum += static_cast<int>(pos) * kCreditWeights[i];
  }
  const int check = (31 - sum % 31) % 31;
  if (n[17] != kCreditChars[static_cast<std::size_t>(check)]) {
    r.reason = "credit code check character does not match";
    return r;
  }
  r.ok = true;
  return r;
}

std::string mask_id_number(std::string_view id) {
  return mask_keep(id, 3, 4);
}
std::string mask_phone(std::string_view phone) {
  return mask_keep(phone, 3, 4);
}

std::string mask_account_number(std::string_view digits) {
  if (digits.size() <= 4) return std::string(digits.size(), '*');
  return std::string(digits.size() - 4, '*') + std::string(digits.substr(digits.size() - 4));
}

std::string mask_name(std::string_view utf8) {
  const auto chars = utf8_chars(utf8);
  if (chars.empty()) return {};
  std::string out(chars[0]);
  for (std::size_t i = 1; i < chars.size(); ++i) out += '*';
  return out;
}

bool valid_cn_mobile(std::string_view phone) {
  if (phone.size() != 11 || phone[0] != '1' || phone[1] < '3' || phone[1] > '9') return false;
  for (char c : phone) {
    if (!is_digit(c)) return false;
  }
  return true;
}

}  // namespace crowd::domain
