// Identity numbers of real-name verification (实名认证): the resident ID number (GB 11643-1999), the unified
// social credit code (GB 32100-2015), masking for display, and mainland mobile numbers. Pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace crowd::domain {

// Trims ASCII and ideographic spaces, turns full-width digits into ASCII ones and a lower-case or full-width
// X into 'X'. nullopt when anything else than digits and X remains (the length is checked by the caller).
std::optional<std::string> normalize_id_number(std::string_view raw);

struct IdCheck {
  bool ok = false;
  std::string reason;      // empty when ok; a short English message naming the problem otherwise
  std::string normalized;  // the normalised number (as far as normalisation succeeded)
  int birth_year = 0, birth_month = 0, birth_day = 0;  // filled once the date parsed as a real date
  bool male = false;                                   // the sequence code (17th character) is odd
};

// GB 11643: 18 characters, 17 digits and a check character ('0'-'9' or 'X'), birth date a real calendar date
// not after today. today_* is the caller's date (China time), so tests control it. Whether the holder is
// plausible for a purpose (an age limit, a birth year before 1900) is the caller's rule, not the standard's.
IdCheck check_id_number(std::string_view raw, int today_y, int today_m, int today_d);

// The GB 11643 check character of the first 17 digits (no validation of its argument beyond size 17).
char id_check_char(std::string_view first17);

struct CreditCodeCheck {
  bool ok = false;
  std::string reason;
  std::string normalized;  // trimmed, full-width folded, upper case
};

// GB 32100: 18 characters from 0123456789ABCDEFGHJKLMNPQRTUWXY, the last one the check character.
CreditCodeCheck check_credit_code(std::string_view raw);

// Masks for display. They count UTF-8 characters, so a malformed value never cuts a character in two.
std::string mask_id_number(std::string_view id);           // first 3 and last 4 visible: "110***********002X"
std::string mask_phone(std::string_view phone);            // first 3 and last 4 visible: "138****5678"
std::string mask_name(std::string_view utf8);              // first character visible: "张**"
std::string mask_account_number(std::string_view digits);  // last 4 visible: "***************3445"

// A mainland mobile number: 11 ASCII digits starting 13..19.
bool valid_cn_mobile(std::string_view phone);

// True when y-m-d is a real Gregorian calendar date.
bool valid_date(int y, int m, int d);

}  // namespace crowd::domain
