// The answer of a matching write, and how a write runs: in one transaction with the kit's Idempotency-Key
// handling (common/idempotency.hpp), scoped to the caller (the principal's party id).
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "common/http.hpp"

namespace soci {
class session;
}
namespace crowd::db {
class Database;
}

namespace crowd::matching {

// The result of a write, decided inside its transaction. A problem here is an answer whose state
// change must still commit (e.g. an offer marked expired before answering 410): it is thrown after the
// commit. A Problem thrown from inside the transaction rolls everything back instead.
struct Outcome {
  int status = 200;
  nlohmann::json body;
  std::optional<http::Problem> problem;

  static Outcome ok(int status, nlohmann::json body) { return Outcome{status, std::move(body), std::nullopt}; }
  static Outcome fail(http::Problem p) { return Outcome{0, nullptr, std::move(p)}; }
};

// Runs fn in one write transaction together with the key's check and record. Same key + same request →
// the first successful response again (Idempotent-Replayed: true); same key + another request → 422
// "idempotency-key-reuse". A failed outcome is not remembered: its change commits, its problem is thrown,
// and a retry runs again.
http::Response run_idempotent(db::Database& db, const http::Request& req, const std::string& party_id,
                              const std::function<Outcome(soci::session&)>& fn);

}  // namespace crowd::matching
