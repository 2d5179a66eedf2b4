// The one clock of a process. In test configurations (CROWD_CLOCK_FILE set) the file holds an offset
// in milliseconds added to the system clock, so tests move time forward from outside every process at
// once (review windows, offer expiry, month boundaries) without waiting.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace crowd::clock {

std::int64_t now_ms();
void init_from_env();                                             // reads CROWD_CLOCK_FILE; called by Service at start
std::string rfc3339(std::int64_t ms);                             // "2026-11-22T08:00:00.123Z"
std::optional<std::int64_t> parse_rfc3339(const std::string& s);  // accepts Z or +hh:mm offsets
// Calendar parts in China Standard Time (UTC+8), which decides tax months and invoice dates.
struct YearMonth {
  int year;
  int month;
};
YearMonth cst_year_month(std::int64_t ms);
std::string cst_date(std::int64_t ms);  // "2026-11-22"

}  // namespace crowd::clock
