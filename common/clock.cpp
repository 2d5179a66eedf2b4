#include "common/clock.hpp"

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "common/config.hpp"

namespace crowd::clock {
namespace {

std::int64_t system_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Test clock: offset read from CROWD_CLOCK_FILE, re-read when the file's mtime changes (checked at most
// every 20 ms so a hot path does not stat on every call).
struct TestClock {
  std::string path;
  std::atomic<std::int64_t> offset_ms{0};
  std::atomic<std::int64_t> checked_at_ms{0};
  std::mutex mu;
  struct timespec mtime {};

  void refresh(std::int64_t now) {
    if (now - checked_at_ms.load(std::memory_order_relaxed) < 20) return;
    std::lock_guard lock(mu);
    checked_at_ms = now;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return;
    if (st.st_mtim.tv_sec == mtime.tv_sec && st.st_mtim.tv_nsec == mtime.tv_nsec) return;
    std::ifstream in(path);
    long long v = 0;
    if (in >> v) {
      offset_ms = v;
      mtime = st.st_mtim;
    }
  }
};
TestClock* g_test = nullptr;

std::int64_t days_from_civil(int y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return static_cast<std::int64_t>(era) * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

void civil_from_days(std::int64_t z, int& y, unsigned& m, unsigned& d) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = doy - (153 * mp + 2) / 5 + 1;
  m = mp < 10 ? mp + 3 : mp - 9;
  y = static_cast<int>(yoe + era * 400) + (m <= 2);
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

constexpr std::int64_t kDayMs = 86400000;
constexpr std::int64_t kCstOffsetMs = 8 * 3600000;

}  // namespace

void init_from_env() {
  std::string path = config::env_str("CROWD_CLOCK_FILE", "");
  if (path.empty() || g_test != nullptr) return;
  g_test = new TestClock();  // lives for the process
  g_test->path = path;
  g_test->refresh(system_ms() + 1000);
}

std::int64_t now_ms() {
  std::int64_t now = system_ms();
  if (g_test == nullptr) return now;
  g_test->refresh(now);
  return now + g_test->offset_ms.load(std::memory_order_relaxed);
}

std::string rfc3339(std::int64_t ms) {
  std::int64_t days = floor_div(ms, kDayMs);
  std::int64_t rem = ms - days * kDayMs;
  int y;
  unsigned m, d;
  civil_from_days(days, y, m, d);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", y, m, d, static_cast<int>(rem / 3600000),
                static_cast<int>(rem / 60000 % 60), static_cast<int>(rem / 1000 % 60), static_cast<int>(rem % 1000));
  return buf;
}

std::optional<std::int64_t> parse_rfc3339(const std::string& s) {
  int y, mo, d, h, mi, sec, consumed = 0;
  if (std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &consumed) != 6 || consumed != 19)
    return std::nullopt;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > mdays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return std::nullopt;
  std::size_t i = 19;
  std::int64_t frac_ms = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    int digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[i] - '0');
      ++digits;
      ++i;
    }
    if (digits == 0) return std::nullopt;
    for (int k = digits; k < 3; ++k) frac_ms *= 10;
  }
  std::int64_t offset_ms = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
    int oh = 0, om = 0;
    if (std::sscanf(s.c_str() + i + 1, "%2d:%2d", &oh, &om) != 2 || oh > 23 || om > 59) return std::nullopt;
    offset_ms = (oh * 3600000LL + om * 60000LL) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  return days * kDayMs + h * 3600000LL + mi * 60000LL + sec * 1000LL + frac_ms - offset_ms;
}

YearMonth cst_year_month(std::int64_t ms) {
  int y;
  unsigned m, d;
  civil_from_days(floor_div(ms + kCstOffsetMs, kDayMs), y, m, d);
  return {y, static_cast<int>(m)};
}

std::string cst_date(std::int64_t ms) {
  int y;
  unsigned m, d;
  civil_from_days(floor_div(ms + kCstOffsetMs, kDayMs), y, m, d);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02u-%02u", y, m, d);
  return buf;
}

}  // namespace crowd::clock
