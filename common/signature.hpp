// Signed messages between the platform and its payment provider (both directions): the sender puts the
// time in X-Signature-Timestamp (ms since the epoch) and hex HMAC-SHA256(secret, timestamp "." payload) in
// X-Signature, where payload is the request's method, a space, its target, a newline and its body. The
// receiver recomputes it (constant-time compare) and refuses a timestamp outside the window, so an old
// message cannot be replayed once the window passes; within the window, replays are refused by the
// receiver's own record of the message ids it has seen.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace crowd::signature {

inline constexpr const char* kTimestampHeader = "x-signature-timestamp";
inline constexpr const char* kSignatureHeader = "x-signature";
inline constexpr std::int64_t kWindowMs = 5 * 60 * 1000;

std::string payload(std::string_view method, std::string_view target, std::string_view body);
std::string sign(std::string_view secret, std::int64_t timestamp_ms, std::string_view payload);
// The two headers for a message sent now.
std::map<std::string, std::string> headers(std::string_view secret, std::int64_t now_ms, std::string_view payload);

enum class Verdict { ok, missing, malformed, stale, bad_signature };
const char* describe(Verdict v);
// timestamp/signature are the header values (nullopt when absent).
Verdict verify(std::string_view secret, const std::optional<std::string>& timestamp,
               const std::optional<std::string>& signature, std::string_view payload, std::int64_t now_ms,
               std::int64_t window_ms = kWindowMs);

// verify() with the two headers looked up in a request's lower-case header map.
Verdict verify_headers(std::string_view secret, const std::map<std::string, std::string>& headers,
                       std::string_view payload, std::int64_t now_ms, std::int64_t window_ms = kWindowMs);

}  // namespace crowd::signature
