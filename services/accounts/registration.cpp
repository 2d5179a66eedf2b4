#include "services/accounts/registration.hpp"

#include <cmath>
#include <cstdio>
#include <unordered_set>

#include "common/clock.hpp"
#include "common/domain/identity.hpp"
#include "common/http.hpp"

namespace crowd::accounts {
namespace {

using http::Fields;

// Reads a required text field, trims it and checks its length in characters after trimming. An error of
// the read itself (missing, not a string, too long) is reported once, by Fields.
std::string trimmed_text(Fields& f, const std::string& name, std::size_t min_chars, std::size_t max_chars) {
  const std::size_t errors_before = f.errors().size();
  std::string v = trim(f.str(name, 1, max_chars));
  if (f.errors().size() == errors_before && utf8_length(v) < min_chars)
    f.fail(name, "must have " + std::to_string(min_chars) + " to " + std::to_string(max_chars) + " characters");
  return v;
}

// Passwords are taken as sent (no trimming: a blank is a legitimate character of a passphrase).
std::string password(Fields& f) {
  const std::size_t errors_before = f.errors().size();
  std::string v = f.str("password", 1, 128);
  if (f.errors().size() == errors_before && utf8_length(v) < 10) f.fail("password", "must have 10 to 128 characters");
  return v;
}

bool has_control_char(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return true;
  return false;
}

// A deliberately loose address check (one '@', a dotted domain, no blanks): the mailbox is proven only by
// mail, which is outside this service.
bool plausible_email(const std::string& e) {
  const auto at = e.find('@');
  if (at == std::string::npos || at == 0 || e.find('@', at + 1) != std::string::npos) return false;
  const std::string domain = e.substr(at + 1);
  const auto dot = domain.find('.');
  if (dot == std::string::npos || dot == 0 || domain.back() == '.') return false;
  for (unsigned char c : e)
    if (c <= 0x20 || c == 0x7f) return false;
  return true;
}

std::string ascii_lower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

// Fields::str_list reports the shape (array, 1..30 items, strings of 1..40 characters); the items are then
// read again from the body so an error names the item's index as sent.
std::vector<std::string> skills(Fields& f, const json& body) {
  const std::size_t items = f.str_list("skills", 1, 30, 40).size();
  std::vector<std::string> out;
  const auto it = body.find("skills");
  if (items == 0 || it == body.end() || !it->is_array()) return out;
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    if (!item.is_string() || item.get<std::string>().empty() || utf8_length(item.get<std::string>()) > 40)
      continue;  // reported by str_list
    std::string s = ascii_lower(trim(item.get<std::string>()));
    if (s.empty() || has_control_char(s)) {
      f.fail("skills[" + std::to_string(i) + "]", "must have 1 to 40 visible characters");
      continue;
    }
    if (seen.insert(s).second) out.push_back(std::move(s));
  }
  return out;
}

std::optional<GeoPoint> home(Fields& f) {
  auto obj = f.opt_object("home");  // absent or null → no home
  if (!obj) return std::nullopt;
  Fields h(*obj, "home");
  const double lat = h.num("lat", -90, 90);
  const double lng = h.num("lng", -180, 180);
  const bool ok = h.ok();
  f.merge(h);
  if (!ok) return std::nullopt;
  return GeoPoint{std::llround(lat * 1e6), std::llround(lng * 1e6)};
}

std::string id_number(Fields& f, const Date& today) {
  const std::size_t errors_before = f.errors().size();
  const std::string raw = f.str("id_number", 1, 40);
  if (f.errors().size() != errors_before) return {};
  const domain::IdCheck c = domain::check_id_number(raw, today.year, today.month, today.day);
  if (!c.ok) {
    f.fail("id_number", "is not a valid resident ID number (GB 11643): " + c.reason);
    return {};
  }
  // Plausibility beside the age limit: the number passed GB 11643, these rules are about the worker.
  if (c.birth_year < kMinPlausibleBirthYear) {
    f.fail("id_number",
           "birth year before " + std::to_string(kMinPlausibleBirthYear) + " is not plausible for a worker");
  } else if (age_on({c.birth_year, c.birth_month, c.birth_day}, today) < kMinWorkerAge) {
    f.fail("id_number", "the holder must be at least " + std::to_string(kMinWorkerAge) + " years old");
  }
  return c.normalized;
}

std::string phone(Fields& f) {
  const std::size_t errors_before = f.errors().size();
  const std::string raw = f.str("phone", 1, 32);
  if (f.errors().size() != errors_before) return {};
  std::string p = normalize_phone(raw);
  if (!domain::valid_cn_mobile(p)) f.fail("phone", "must be a mainland China mobile number (11 digits, 13x-19x)");
  return p;
}

}  // namespace

Date cst_today(std::int64_t now_ms) {
  Date d;
  std::sscanf(clock::cst_date(now_ms).c_str(), "%d-%d-%d", &d.year, &d.month, &d.day);
  return d;
}

int age_on(const Date& birth, const Date& today) {
  int age = today.year - birth.year;
  if (today.month < birth.month || (today.month == birth.month && today.day < birth.day)) --age;
  return age;
}

std::size_t utf8_length(const std::string& s) {
  std::size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::string trim(const std::string& s) {
  static const std::string ideographic_space = "\xE3\x80\x80";  // U+3000
  std::size_t b = 0, e = s.size();
  for (;;) {
    if (b < e && (s[b] == ' ' || s[b] == '\t' || s[b] == '\n' || s[b] == '\r')) {
      ++b;
    } else if (e - b >= 3 && s.compare(b, 3, ideographic_space) == 0) {
      b += 3;
    } else {
      break;
    }
  }
  for (;;) {
    if (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\n' || s[e - 1] == '\r')) {
      --e;
    } else if (e - b >= 3 && s.compare(e - 3, 3, ideographic_space) == 0) {
      e -= 3;
    } else {
      break;
    }
  }
  return s.substr(b, e - b);
}

std::string normalize_phone(const std::string& raw) {
  std::string digits;
  for (char c : trim(raw))
    if (c != ' ' && c != '-') digits.push_back(c);
  if (digits.rfind("+86", 0) == 0) return digits.substr(3);
  if (digits.size() == 13 && digits.rfind("86", 0) == 0) return digits.substr(2);
  return digits;
}

EnterpriseDraft parse_enterprise_registration(const json& body) {
  Fields f(body);
  EnterpriseDraft d;
  d.name = trimmed_text(f, "name", 2, 100);
  if (has_control_char(d.name)) f.fail("name", "must not contain control characters");
  const std::size_t errors_before = f.errors().size();
  const std::string raw_code = f.str("credit_code", 1, 40);
  if (f.errors().size() == errors_before) {
    const domain::CreditCodeCheck c = domain::check_credit_code(raw_code);
    if (c.ok) {
      d.credit_code = c.normalized;
    } else {
      f.fail("credit_code", "is not a valid unified social credit code (统一社会信用代码, GB 32100): " + c.reason);
    }
  }
  d.password = password(f);
  if (auto email = f.opt_str("contact_email", 254)) {
    std::string e = trim(*email);
    if (plausible_email(e)) {
      d.contact_email = e;
    } else {
      f.fail("contact_email", "must be an e-mail address");
    }
  }
  f.done();
  return d;
}

WorkerDraft parse_worker_registration(const json& body, const Date& today) {
  Fields f(body);
  WorkerDraft d;
  d.real_name = trimmed_text(f, "real_name", 1, 50);
  if (has_control_char(d.real_name)) f.fail("real_name", "must not contain control characters");
  d.id_number = id_number(f, today);
  d.phone = phone(f);
  d.password = password(f);
  d.skills = skills(f, body);
  d.home = home(f);
  f.done();
  return d;
}

json geo_json(const std::optional<GeoPoint>& p) {
  if (!p) return nullptr;
  return {{"lat", static_cast<double>(p->lat_e6) / 1e6}, {"lng", static_cast<double>(p->lng_e6) / 1e6}};
}

json worker_json(const WorkerView& w) {
  return {{"id", w.id},
          {"real_name_masked", w.real_name_masked},
          {"id_number_masked", w.id_number_masked},
          {"phone_masked", w.phone_masked},
          {"skills", w.skills},
          {"home", geo_json(w.home)},
          {"verification", {{"status", w.verification.status}, {"method", w.verification.method}}},
          {"credit_score", w.credit_score},
          {"created_at", clock::rfc3339(w.created_at_ms)}};
}

json enterprise_json(const EnterpriseView& e) {
  json j = {{"id", e.id},
            {"name", e.name},
            {"credit_code", e.credit_code},
            {"verification", {{"status", e.verification.status}, {"method", e.verification.method}}},
            {"created_at", clock::rfc3339(e.created_at_ms)}};
  if (e.contact_email) j["contact_email"] = *e.contact_email;
  return j;
}

json worker_registered_data(const WorkerView& w) {
  return {{"worker_id", w.id},
          {"skills", w.skills},
          {"home", geo_json(w.home)},
          {"verified", w.verification.status == "verified"},
          {"credit_score", w.credit_score}};
}

json enterprise_registered_data(const EnterpriseView& e) {
  return {{"enterprise_id", e.id}, {"name", e.name}, {"credit_code", e.credit_code}};
}

}  // namespace crowd::accounts
