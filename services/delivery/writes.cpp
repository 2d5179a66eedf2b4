#include "services/delivery/writes.hpp"

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "services/delivery/store.hpp"

namespace crowd::delivery {

namespace {

constexpr std::size_t kKeyLenMax = 255;

void check_key(const std::string& key) {
  bool ok = !key.empty() && key.size() <= kKeyLenMax;
  for (unsigned char c : key) ok = ok && c > 0x20 && c < 0x7f;
  if (!ok) throw http::bad_request("Idempotency-Key must be 1..255 visible ASCII characters");
}

std::string request_hash(const http::Request& req, const nlohmann::json& body) {
  return crypto::sha256_hex(req.method + " " + req.path + "\n" + body.dump());
}

http::Response replay(const store::StoredResponse& stored, const std::string& hash) {
  if (stored.request_hash != hash) {
    throw http::Problem(422, "idempotency-key-reuse", "Idempotency-Key reused",
                        "this Idempotency-Key was first used with a different request");
  }
  http::Response r;
  r.status = stored.status;
  r.body = stored.body;
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

}  // namespace

http::Response idempotent_tx(db::Database& db, const http::Request& req, const std::string& party_id,
                             const nlohmann::json& body, const Effect& effect) {
  const std::string key = req.header("idempotency-key");
  if (key.empty()) return retrying_tx(db, effect);
  check_key(key);
  const std::string hash = request_hash(req, body);

  auto replay_or_run = [&](soci::session& s) -> http::Response {
    if (auto stored = store::find_idempotent(s, party_id, key)) return replay(*stored, hash);
    http::Response r = effect(s);
    if (r.status >= 200 && r.status < 300) {
      store::save_idempotent(s, party_id, key, {hash, r.status, r.body}, clock::now_ms());
    }
    return r;
  };
  try {
    // A concurrent first use of the key makes our save fail (unique violation): the retry replays it.
    return retrying_tx(db, replay_or_run);
  } catch (const http::Problem& p) {
    // On PostgreSQL the winner of that race can commit its effect before ours runs, so ours meets a
    // conflict (409) instead of the key: the client still deserves the winner's response.
    if (p.status != 409) throw;
    auto stored = db.with([&](soci::session& s) { return store::find_idempotent(s, party_id, key); });
    if (!stored) throw;
    return replay(*stored, hash);
  }
}

}  // namespace crowd::delivery
