// Idempotency-Key for matching's writes (the kit has no helper for it yet). The key is scoped to the
// caller (principal's party id). Same key + same request → the first successful response again (with
// header Idempotent-Replayed: true); same key + another request (method, path or body) → 422 problem
// "idempotency-key-reuse". Error responses are not remembered: a retry runs again.
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
  bool replayed = false;

  static Outcome ok(int status, nlohmann::json body) { return Outcome{status, std::move(body), std::nullopt, false}; }
  static Outcome fail(http::Problem p) { return Outcome{0, nullptr, std::move(p), false}; }
};

// Runs fn in one write transaction together with the key's check and record.
http::Response run_idempotent(db::Database& db, const http::Request& req, const std::string& party_id,
                              const std::function<Outcome(soci::session&)>& fn);

// The fingerprint of a request for key reuse: method, path and the body (canonical JSON when it parses).
std::string request_fingerprint(const std::string& method, const std::string& path, const std::string& body);

}  // namespace crowd::matching
