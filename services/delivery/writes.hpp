// Write transactions of delivery's jobs: retried when two writers raced for the same unique slot (the next
// evidence-log seq). Client writes run through the kit's idempotency::run, which retries the same way and
// also handles their Idempotency-Key (common/idempotency.hpp).
#pragma once

#include "common/db.hpp"
#include "common/http.hpp"

namespace crowd::delivery {

inline constexpr int kTxAttemptsMax = 4;  // as idempotency::kAttemptsMax

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

}  // namespace crowd::delivery
