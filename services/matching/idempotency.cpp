#include "services/matching/idempotency.hpp"

#include <soci/soci.h>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/db.hpp"
#include "services/matching/store.hpp"

namespace crowd::matching {

namespace {

constexpr std::size_t kKeyMaxLen = 200;

Outcome replay_or_refuse(const store::StoredResponse& prior, const std::string& fingerprint) {
  if (prior.request_hash != fingerprint) {
    throw http::Problem(422, "idempotency-key-reuse", "Idempotency-Key reused for another request",
                        "This Idempotency-Key was first used with a different request.");
  }
  Outcome out = Outcome::ok(prior.status, nlohmann::json::parse(prior.body));
  out.replayed = true;
  return out;
}

}  // namespace

std::string request_fingerprint(const std::string& method, const std::string& path, const std::string& body) {
  auto parsed = nlohmann::json::parse(body, nullptr, false);
  const std::string canonical = parsed.is_discarded() ? body : parsed.dump();
  return crypto::sha256_hex(method + " " + path + "\n" + canonical);
}

http::Response run_idempotent(db::Database& db, const http::Request& req, const std::string& party_id,
                              const std::function<Outcome(soci::session&)>& fn) {
  const std::string key = req.header("idempotency-key");
  if (key.size() > kKeyMaxLen) throw http::bad_request("Idempotency-Key is longer than 200 characters.");
  const std::string fingerprint = key.empty() ? std::string() : request_fingerprint(req.method, req.path, req.body);

  auto attempt = [&]() {
    return db.tx([&](soci::session& s) {
      if (!key.empty()) {
        if (auto prior = store::find_idempotency_key(s, party_id, key)) return replay_or_refuse(*prior, fingerprint);
      }
      Outcome out = fn(s);
      if (!key.empty() && !out.problem) {
        store::insert_idempotency_key(s, party_id, key, {fingerprint, out.status, out.body.dump()}, clock::now_ms());
      }
      return out;
    });
  };

  Outcome out;
  try {
    out = attempt();
  } catch (const http::Problem&) {
    throw;
  } catch (const std::exception& e) {
    // A concurrent request with the same key committed first (PostgreSQL): answer as it did.
    if (key.empty() || !db::is_unique_violation(e)) throw;
    out = attempt();
  }
  if (out.problem) throw *out.problem;
  auto resp = http::Response::json_of(out.status, out.body);
  if (out.replayed) resp.headers.emplace_back("Idempotent-Replayed", "true");
  return resp;
}

}  // namespace crowd::matching
