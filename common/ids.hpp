// Unique, time-ordered identifiers: PREFIX "_" + 26 Crockford base32 characters (48-bit milliseconds,
// 80 random bits, monotonic within a process), so ids sort by creation time as strings.
#pragma once

#include <string>
#include <string_view>

namespace crowd::ids {

std::string make(std::string_view prefix);
bool looks_like(std::string_view id, std::string_view prefix);

}  // namespace crowd::ids
