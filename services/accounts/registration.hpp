// The pure core of registration: reads a registration request into a validated draft (every field error at
// once, as crowd::http::invalid), and renders the views of stored parties. No I/O, no clock: "today" is a
// parameter, so tests choose it.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace crowd::accounts {

using json = nlohmann::json;

inline constexpr int kDefaultCreditScore = 80;
inline constexpr int kMinWorkerAge = 16;             // the minimum working age under PRC labour law
inline constexpr int kMinPlausibleBirthYear = 1900;  // an older birth date is a typing error, not a worker

// A calendar date in China time (the calendar of the birth dates in ID numbers).
struct Date {
  int year = 0;
  int month = 0;
  int day = 0;
};
Date cst_today(std::int64_t now_ms);
// Whole years from birth to today (a 29 February birthday counts from 1 March in common years).
int age_on(const Date& birth, const Date& today);

struct EnterpriseDraft {
  std::string name;         // trimmed, 2..100 characters
  std::string credit_code;  // normalised, GB 32100 check passed
  std::string password;     // 10..128 characters
  std::optional<std::string> contact_email;
};
// Throws crowd::http::Problem 422 listing every bad field.
EnterpriseDraft parse_enterprise_registration(const json& body);

// Micro-degrees: exact integers in storage, degrees in JSON.
struct GeoPoint {
  std::int64_t lat_e6 = 0;
  std::int64_t lng_e6 = 0;
};
json geo_json(const std::optional<GeoPoint>& p);  // {"lat", "lng"} or null

struct WorkerDraft {
  std::string real_name;  // trimmed, 1..50 characters
  std::string
      id_number;  // normalised (ASCII, upper-case X), GB 11643 check passed, born 1900 or later, holder aged 16 or more
  std::string phone;  // 11 digits, "+86"/"86" prefix and separators removed
  std::string password;
  std::vector<std::string> skills;  // trimmed, lower-cased, deduplicated in the order given
  std::optional<GeoPoint> home;
};
// Throws crowd::http::Problem 422 listing every bad field. today decides the birth-date and age checks.
WorkerDraft parse_worker_registration(const json& body, const Date& today);

// "+86 138-0013-8000" → "13800138000"; returns the input without separators when it has no such prefix.
std::string normalize_phone(const std::string& raw);

// A stored party's verification outcome, shown as {"status", "method"}.
struct VerificationView {
  std::string status;
  std::string method;
};

// What responses may show of a worker: masked personal data only.
struct WorkerView {
  std::string id;
  std::string real_name_masked;
  std::string id_number_masked;
  std::string phone_masked;
  std::vector<std::string> skills;
  std::optional<GeoPoint> home;
  VerificationView verification;
  int credit_score = kDefaultCreditScore;
  std::int64_t created_at_ms = 0;
};
json worker_json(const WorkerView& w);

struct EnterpriseView {
  std::string id;
  std::string name;
  std::string credit_code;
  std::optional<std::string> contact_email;
  VerificationView verification;
  std::int64_t created_at_ms = 0;
};
json enterprise_json(const EnterpriseView& e);

// The data of the registration events (schemas/events/*.schema.json): no personal data.
json worker_registered_data(const WorkerView& w);
json enterprise_registered_data(const EnterpriseView& e);

// Text helpers shared by the parsers.
std::size_t utf8_length(const std::string& s);  // code points; invalid bytes count one each
std::string trim(const std::string& s);         // ASCII blanks and U+3000 at both ends

}  // namespace crowd::accounts
