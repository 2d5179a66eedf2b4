// Idempotency-Key for the service's retryable writes: the same key (per party) with the same request gets
// the first response again; with a different request, 422 "idempotency-key-reuse". The record is written
// in the transaction of the effect, so a key is never kept for a write that did not happen.
#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <optional>
#include <string>

#include "common/http.hpp"

namespace crowd::tasks::idem {

inline constexpr std::int64_t kRetentionMs = 24LL * 3600 * 1000;

struct Stored {
  std::string request_hash;
  int status = 0;
  std::string response;
};

// The Idempotency-Key header ("" when absent); 400 when longer than 255 or not printable ASCII.
std::string key_of(const http::Request& req);
// SHA-256 over method, path and the canonical body (the caller passes parsed JSON dumped, so key order and
// whitespace do not make two requests differ).
std::string request_hash(const std::string& method, const std::string& path, const std::string& canonical_body);

std::optional<Stored> find(soci::session& s, const std::string& party_id, const std::string& key);
void save(soci::session& s, const std::string& party_id, const std::string& key, const std::string& request_hash,
          int status, const std::string& response, std::int64_t now_ms);
// The stored response when the request matches; throws the 422 reuse problem when it does not.
http::Response replay(const Stored& stored, const std::string& request_hash);
// Deletes records older than the retention; returns how many.
std::int64_t purge(soci::session& s, std::int64_t now_ms);

}  // namespace crowd::tasks::idem
