// Idempotency-Key for the creating POSTs of accounts: the same key with the same request replays the first
// response; with a different request it is refused (422 "idempotency-key-reuse"). Only a committed success
// is remembered, so a failed request may be retried with the same key. Keys are kept 24 hours.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "common/db.hpp"
#include "common/http.hpp"
#include "services/accounts/pii.hpp"

namespace crowd::accounts {

inline constexpr std::int64_t kIdempotencyKeepMs = 24LL * 3600 * 1000;

struct IdempotencyKey {
  std::string scope;         // the caller's party id, or "public:" + route for unauthenticated calls
  std::string key;           // the header's value
  std::string request_hmac;  // keyed hash of method, path and body (the body may hold personal data)
};

// nullopt without the header; throws Problem 400 when the value is not 1..200 visible ASCII characters.
std::optional<IdempotencyKey> idempotency_of(const http::Request& req, const PiiKeys& keys);

// Runs fn in one transaction with the key's check and record. fn's response is recorded only when it
// returns (a throw rolls everything back).
http::Response with_idempotency(db::Database& db, const std::optional<IdempotencyKey>& idem, const PiiKeys& keys,
                                const std::function<http::Response(soci::session&)>& fn);

// Forgets keys older than kIdempotencyKeepMs; returns nothing, run as a periodic job.
void purge_idempotency_keys(db::Database& db, std::int64_t now_ms);

}  // namespace crowd::accounts
