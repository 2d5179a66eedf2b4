#include "services/tasks/idempotency.hpp"

#include "common/crypto.hpp"
#include "common/db.hpp"

namespace crowd::tasks::idem {

std::string key_of(const http::Request& req) {
  std::string key = req.header("idempotency-key");
  if (key.size() > 255) throw http::bad_request("Idempotency-Key must have at most 255 characters");
  for (unsigned char c : key) {
    if (c < 0x21 || c > 0x7E) throw http::bad_request("Idempotency-Key must be printable ASCII without spaces");
  }
  return key;
}

std::string request_hash(const std::string& method, const std::string& path, const std::string& canonical_body) {
  return crypto::sha256_hex(method + " " + path + "\n" + canonical_body);
}

std::optional<Stored> find(soci::session& s, const std::string& party_id, const std::string& key) {
  soci::rowset<soci::row> rs =
      (s.prepare << "SELECT request_hash, status, response FROM idempotency_keys WHERE party_id = :p AND idem_key = :k",
       soci::use(party_id), soci::use(key));
  for (const soci::row& r : rs) {
    return Stored{db::get_str(r, 0), static_cast<int>(db::get_i64(r, 1)), db::get_str(r, 2)};
  }
  return std::nullopt;
}

// Contract: inside the transaction of the effect. A concurrent request with the same key makes this insert
// fail on the primary key: the caller rolls back and replays the winner's record.
void save(soci::session& s, const std::string& party_id, const std::string& key, const std::string& request_hash,
          int status, const std::string& response, std::int64_t now_ms) {
  s << "INSERT INTO idempotency_keys (party_id, idem_key, request_hash, status, response, created_at_ms) "
       "VALUES (:p, :k, :h, :s, :r, :now)",
      soci::use(party_id), soci::use(key), soci::use(request_hash), soci::use(status), soci::use(response),
      soci::use(now_ms);
}

http::Response replay(const Stored& stored, const std::string& request_hash) {
  if (stored.request_hash != request_hash) {
    throw http::Problem(422, "idempotency-key-reuse", "Idempotency-Key reused",
                        "this Idempotency-Key was used with a different request");
  }
  http::Response r;
  r.status = stored.status;
  r.body = stored.response;
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

std::int64_t purge(soci::session& s, std::int64_t now_ms) {
  const std::int64_t before = now_ms - kRetentionMs;
  soci::statement st = (s.prepare << "DELETE FROM idempotency_keys WHERE created_at_ms < :before", soci::use(before));
  st.execute(true);
  return st.get_affected_rows();
}

}  // namespace crowd::tasks::idem
