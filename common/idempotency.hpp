// Idempotency-Key for writes a client may retry (one mechanism for every service).
//
// A client sends `Idempotency-Key: K` with a write. Within a scope (normally the caller's party id):
//   - first use of K: the write runs; its 2xx response is remembered with K in the write's own transaction,
//     so a key is never kept for a write that did not commit, and an error answer is never replayed (a
//     failed or refused write may be retried with the same key);
//   - K again with the same request (method, path and body compared as canonical JSON: key order and
//     whitespace do not matter): the remembered response, with header `Idempotent-Replayed: true`, and
//     nothing runs;
//   - K again with another request: 422 problem "idempotency-key-reuse".
// Keys are forgotten after the service's idempotency retention (CROWD_IDEMPOTENCY_RETENTION_S, default
// kKeepMs; 0 keeps them for ever): the kit's housekeeping prunes them (common/housekeeping.hpp).
//
// Concurrency: the key is claimed (a placeholder row) as the first statement of the write transaction,
// before any effect. SQLite serialises writers (BEGIN IMMEDIATE); on PostgreSQL a second transaction with
// the same key waits on the first one's claim and, once that commits, replays its response (READ COMMITTED:
// the next statement sees the committed row). So two concurrent first uses never both apply their effect.
//
// Table (the kit's, schemas/sql/kit/001_tables.sql; schemas/sql/README.md):
//   idempotency_keys(scope TEXT NOT NULL, idem_key TEXT NOT NULL, request_hash TEXT NOT NULL,
//                    status INTEGER NOT NULL, response TEXT NOT NULL, created_at_ms BIGINT NOT NULL,
//                    PRIMARY KEY (scope, idem_key))   + an index on created_at_ms
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "common/fwd.hpp"
#include "common/http.hpp"

namespace crowd::idempotency {

inline constexpr std::size_t kKeyLenMax = 255;               // header value: 1..255 visible ASCII characters
inline constexpr std::int64_t kKeepMs = 24LL * 3600 * 1000;  // how long a key is remembered
inline constexpr int kAttemptsMax = 4;                       // tries of a write that met a unique violation

struct Options {
  bool required = false;  // 400 when the header is absent (e.g. deposits)
  // 32 raw bytes: remembered responses are sealed (crypto::seal) because they may hold a secret shown once
  // (an API key). Empty: stored in clear.
  std::string seal_key;
  // Raw key bytes: the request hash is an HMAC under it, so a body with personal data or a password cannot
  // be guessed from its stored hash. Empty: plain SHA-256.
  std::string hash_key;
  int attempts_max = kAttemptsMax;
};

// One request's key, ready for claim()/run().
struct Key {
  std::string scope;         // whose key it is: a party id, or what the service chose (see scope_of)
  std::string key;           // the header's value
  std::string request_hash;  // request_hash() of this request
};

// The Idempotency-Key header: nullopt when absent (400 "... required" when `required`); throws Problem 400
// naming the header when the value is not 1..kKeyLenMax visible ASCII characters.
std::optional<std::string> header_of(const http::Request& req, bool required = false);

// The body as canonical JSON (compact, object keys sorted) when it parses; otherwise the body itself.
std::string canonical_body(std::string_view body);

// Hex SHA-256 (or HMAC-SHA256 under hash_key) over method, path and the canonical body.
std::string request_hash(std::string_view method, std::string_view path, std::string_view body,
                         std::string_view hash_key = {});

// The usual scope: the caller's party id, or "public:" + the route for unauthenticated calls.
std::string scope_of(const http::Request& req);

// header_of() + request_hash() of req in `scope`: nullopt when the request carries no key.
std::optional<Key> key_of(const http::Request& req, std::string scope, const Options& opt = {});

// Read-only look-up, e.g. to answer a retry before costly validation: the remembered response (replayed),
// 422 "idempotency-key-reuse" for another request, nullopt when the key is not (yet) remembered. run()
// checks again inside its transaction, so this is only a shortcut.
std::optional<http::Response> lookup(soci::session& s, const Key& k, const Options& opt = {});

// ---- Inside the caller's write transaction (run() does all of this) ----

// Must be the transaction's first statement on the table. Returns the remembered response to answer with
// (replayed) when the key is known; throws Problem 422 "idempotency-key-reuse" when it is known with
// another request hash; nullopt when this transaction now holds the key: then call remember() before commit.
std::optional<http::Response> claim(soci::session& s, const Key& k, const Options& opt = {});

// Completes a claim with the write's response: a 2xx response is remembered; any other releases the key.
void remember(soci::session& s, const Key& k, const http::Response& resp, const Options& opt = {});

using Effect = std::function<http::Response(soci::session&)>;

// Runs effect in one write transaction with the key's claim and record (without a key: just the write).
// A throw from effect rolls everything back. A unique violation (a concurrent writer took the same slot)
// runs the whole transaction again on a fresh snapshot, up to opt.attempts_max times; Problems are never
// retried.
http::Response run(db::Database& db, const std::optional<Key>& key, const Effect& effect, const Options& opt = {});

// Deletes keys created before now_ms - keep_ms in one statement; returns how many. The kit's housekeeping
// (housekeeping::prune_idempotency, in bounded batches) replaces the services' own jobs calling this.
std::int64_t purge(soci::session& s, std::int64_t now_ms, std::int64_t keep_ms = kKeepMs);
std::int64_t purge(db::Database& db, std::int64_t now_ms, std::int64_t keep_ms = kKeepMs);

}  // namespace crowd::idempotency
