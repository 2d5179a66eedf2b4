#include "services/matching/outcome.hpp"

#include "common/idempotency.hpp"

namespace crowd::matching {

http::Response run_idempotent(db::Database& db, const http::Request& req, const std::string& party_id,
                              const std::function<Outcome(soci::session&)>& fn) {
  const auto key = idempotency::key_of(req, party_id);
  std::optional<http::Problem> refusal;
  http::Response resp = idempotency::run(db, key, [&](soci::session& s) {
    refusal.reset();  // an attempt retried after a unique violation starts afresh
    Outcome out = fn(s);
    if (!out.problem) return http::Response::json_of(out.status, out.body);
    // A non-2xx answer: the kit commits the change but releases the key; the problem is thrown below.
    http::Response refused;
    refused.status = out.problem->status;
    refusal = std::move(out.problem);
    return refused;
  });
  if (refusal) throw *refusal;
  return resp;
}

}  // namespace crowd::matching
