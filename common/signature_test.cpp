#include "common/signature.hpp"

#include <doctest/doctest.h>

using namespace crowd::signature;

TEST_CASE("a signed message verifies, any change to it, the time or the key does not") {
  const std::string secret = "s3cret";
  const auto p = payload("POST", "/v1/provider/callbacks", R"({"event_id":"e1","amount_fen":100})");
  const std::int64_t now = 1'800'000'000'000;
  const auto h = headers(secret, now, p);
  const auto ts = h.at(kTimestampHeader);
  const auto sig = h.at(kSignatureHeader);
  CHECK(sig.size() == 64);
  CHECK(verify(secret, ts, sig, p, now) == Verdict::ok);
  CHECK(verify(secret, ts, sig, p, now + kWindowMs) == Verdict::ok);
  CHECK(verify(secret, ts, sig, p, now + kWindowMs + 1) == Verdict::stale);
  CHECK(verify(secret, ts, sig, p, now - kWindowMs - 1) == Verdict::stale);
  CHECK(verify("other", ts, sig, p, now) == Verdict::bad_signature);
  const auto tampered = payload("POST", "/v1/provider/callbacks", R"({"event_id":"e1","amount_fen":1000})");
  CHECK(verify(secret, ts, sig, tampered, now) == Verdict::bad_signature);
  CHECK(verify(secret, std::to_string(now + 1), sig, p, now) == Verdict::bad_signature);
  CHECK(verify(secret, std::nullopt, sig, p, now) == Verdict::missing);
  CHECK(verify(secret, ts, std::nullopt, p, now) == Verdict::missing);
  CHECK(verify(secret, "12x", sig, p, now) == Verdict::malformed);
  CHECK(verify(secret, "1234567890123456789", sig, p, now) == Verdict::malformed);
}
