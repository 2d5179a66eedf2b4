// Write transactions of the delivery API: retried when two writers raced for the same unique slot (the
// next evidence-log seq, an idempotency key), and replayed when the client repeats an Idempotency-Key.
// The kit has no idempotency helper yet, so this one lives here (table idempotency_keys).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "common/db.hpp"
#include "common/http.hpp"

namespace crowd::delivery {

inline constexpr int kTxAttemptsMax = 4;

// Runs fn in a write transaction; when it fails on a unique violation (a concurrent writer took the same
// key first: on PostgreSQL two appends can read the same chain head), runs it again on a fresh snapshot,
// up to kTxAttemptsMax times. Problems (4xx) are never retried.
template <class F>
auto retrying_tx(db::Database& db, F&& fn) {
  for (int attempt = 1;; ++attempt) {
    try {
      return db.tx(fn);
    } catch (const http::Problem&) {
      throw;
    } catch (const std::exception& e) {
      if (attempt >= kTxAttemptsMax || !db::is_unique_violation(e)) throw;
    }
  }
}

using Effect = std::function<http::Response(soci::session&)>;

// Runs a client write. Without an Idempotency-Key header: retrying_tx(effect). With one (1..255 visible
// ASCII characters, else 400), scoped to party_id:
//   - first use: the effect runs and its 2xx response is stored with the key, in the same transaction;
//   - same key, same method + path + body (compared as canonical JSON): the stored response, with the
//     header "Idempotent-Replayed: true", and nothing runs;
//   - same key, anything else: 422 problem "idempotency-key-reuse".
// Error responses are not stored: a failed write changed nothing, so repeating it is safe.
http::Response idempotent_tx(db::Database& db, const http::Request& req, const std::string& party_id,
                             const nlohmann::json& body, const Effect& effect);

}  // namespace crowd::delivery
