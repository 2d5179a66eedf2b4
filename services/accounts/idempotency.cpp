#include "services/accounts/idempotency.hpp"

#include "common/clock.hpp"

namespace crowd::accounts {
namespace {

std::optional<http::Response> replay(soci::session& s, const IdempotencyKey& k, const PiiKeys& keys) {
  soci::rowset<soci::row> rs = (s.prepare << "SELECT request_hmac, status, response_sealed FROM idempotency_keys "
                                             "WHERE scope = :scope AND idem_key = :k",
                                soci::use(k.scope), soci::use(k.key));
  for (const soci::row& r : rs) {
    if (db::get_str(r, 0) != k.request_hmac)
      throw http::Problem(422, "idempotency-key-reuse", "Idempotency key reused",
                          "this Idempotency-Key was already used with a different request");
    http::Response resp;
    resp.status = static_cast<int>(db::get_i64(r, 1));
    resp.body = open_pii(keys, db::get_str(r, 2));
    resp.headers.emplace_back("Idempotent-Replayed", "true");
    return resp;
  }
  return std::nullopt;
}

void record(soci::session& s, const IdempotencyKey& k, const PiiKeys& keys, const http::Response& resp) {
  const std::string sealed = seal_pii(keys, resp.body);
  const std::int64_t now = clock::now_ms();
  s << "INSERT INTO idempotency_keys (scope, idem_key, request_hmac, status, response_sealed, created_at_ms) "
       "VALUES (:scope, :k, :h, :status, :body, :at)",
      soci::use(k.scope), soci::use(k.key), soci::use(k.request_hmac), soci::use(resp.status), soci::use(sealed),
      soci::use(now);
}

}  // namespace

std::optional<IdempotencyKey> idempotency_of(const http::Request& req, const PiiKeys& keys) {
  const std::string key = req.header("idempotency-key");
  if (key.empty()) return std::nullopt;
  if (key.size() > 200) throw http::bad_request("Idempotency-Key must have at most 200 characters");
  for (unsigned char c : key)
    if (c < 0x21 || c > 0x7e) throw http::bad_request("Idempotency-Key must be visible ASCII characters");
  IdempotencyKey k;
  k.scope = req.principal ? req.principal->party_id : "public:" + req.route;
  k.key = key;
  k.request_hmac = lookup_hmac(keys, "idempotency", req.method + " " + req.path + "\n" + req.body);
  return k;
}

http::Response with_idempotency(db::Database& db, const std::optional<IdempotencyKey>& idem, const PiiKeys& keys,
                                const std::function<http::Response(soci::session&)>& fn) {
  try {
    return db.tx([&](soci::session& s) {
      if (idem) {
        if (auto earlier = replay(s, *idem, keys)) return *earlier;
      }
      http::Response resp = fn(s);
      if (idem) record(s, *idem, keys, resp);
      return resp;
    });
  } catch (const http::Problem& p) {
    // Two requests with one key at once (PostgreSQL lets both start): the loser meets the winner's rows as
    // a conflict and replays the winner's response instead.
    if (!idem || p.status != 409) throw;
    auto earlier = db.with([&](soci::session& s) { return replay(s, *idem, keys); });
    if (!earlier) throw;
    return *earlier;
  } catch (const std::exception& e) {
    if (!idem || !db::is_unique_violation(e)) throw;  // the same race, met on idempotency_keys itself
    auto earlier = db.with([&](soci::session& s) { return replay(s, *idem, keys); });
    if (!earlier) throw;
    return *earlier;
  }
}

void purge_idempotency_keys(db::Database& db, std::int64_t now_ms) {
  const std::int64_t before = now_ms - kIdempotencyKeepMs;
  db.tx(
      [&](soci::session& s) { s << "DELETE FROM idempotency_keys WHERE created_at_ms < :before", soci::use(before); });
}

}  // namespace crowd::accounts
