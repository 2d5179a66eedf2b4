#include "common/signature.hpp"

#include <cctype>
#include <cstdlib>

#include "common/crypto.hpp"

namespace crowd::signature {

std::string payload(std::string_view method, std::string_view target, std::string_view body) {
  std::string p;
  p.reserve(method.size() + target.size() + body.size() + 2);
  p.append(method).append(" ").append(target).append("\n").append(body);
  return p;
}

std::string sign(std::string_view secret, std::int64_t timestamp_ms, std::string_view payload) {
  std::string msg = std::to_string(timestamp_ms);
  msg += '.';
  msg.append(payload);
  return crypto::hmac_sha256_hex(secret, msg);
}

std::map<std::string, std::string> headers(std::string_view secret, std::int64_t now_ms, std::string_view p) {
  return {{kTimestampHeader, std::to_string(now_ms)}, {kSignatureHeader, sign(secret, now_ms, p)}};
}

const char* describe(Verdict v) {
  switch (v) {
    case Verdict::ok:
      return "ok";
    case Verdict::missing:
      return "X-Signature and X-Signature-Timestamp are required";
    case Verdict::malformed:
      return "X-Signature-Timestamp must be milliseconds since the epoch";
    case Verdict::stale:
      return "X-Signature-Timestamp is outside the accepted window";
    case Verdict::bad_signature:
      return "X-Signature does not match the message";
  }
  return "unknown";
}

Verdict verify(std::string_view secret, const std::optional<std::string>& timestamp,
               const std::optional<std::string>& sig, std::string_view p, std::int64_t now_ms, std::int64_t window_ms) {
  if (!timestamp || !sig || timestamp->empty() || sig->empty()) return Verdict::missing;
  if (timestamp->size() > 15) return Verdict::malformed;
  for (char c : *timestamp) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return Verdict::malformed;
  }
  const std::int64_t ts = std::strtoll(timestamp->c_str(), nullptr, 10);
  // The signature first: a stale but forged message is reported as forged.
  if (!crypto::equal_constant_time(sign(secret, ts, p), *sig)) return Verdict::bad_signature;
  if (ts < now_ms - window_ms || ts > now_ms + window_ms) return Verdict::stale;
  return Verdict::ok;
}

Verdict verify_headers(std::string_view secret, const std::map<std::string, std::string>& headers, std::string_view p,
                       std::int64_t now_ms, std::int64_t window_ms) {
  auto get = [&](const char* name) -> std::optional<std::string> {
    const auto it = headers.find(name);
    if (it == headers.end()) return std::nullopt;
    return it->second;
  };
  return verify(secret, get(kTimestampHeader), get(kSignatureHeader), p, now_ms, window_ms);
}

}  // namespace crowd::signature
