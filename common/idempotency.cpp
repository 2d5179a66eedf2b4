#include "common/idempotency.hpp"

#include <soci/soci.h>

#include <stdexcept>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/db.hpp"

namespace crowd::idempotency {

namespace {

// The status of a claimed key whose write has not finished; never committed (remember() replaces or
// deletes it in the same transaction).
constexpr int kClaimedStatus = 0;

struct Stored {
  std::string request_hash;
  int status = kClaimedStatus;
  std::string response;
};

std::optional<Stored> find(soci::session& s, const Key& k) {
  soci::rowset<soci::row> rows = (s.prepare << "SELECT request_hash, status, response FROM idempotency_keys "
                                               "WHERE scope = :scope AND idem_key = :k",
                                  soci::use(k.scope), soci::use(k.key));
  for (const soci::row& r : rows) {
    return Stored{db::get_str(r, 0), static_cast<int>(db::get_i64(r, 1)), db::get_str(r, 2)};
  }
  return std::nullopt;
}

// The answer to a key already remembered: its response for the same request, 422 for another.
http::Response replay(const Stored& stored, const Key& k, const Options& opt) {
  if (stored.request_hash != k.request_hash) {
    throw http::Problem(422, "idempotency-key-reuse", "Idempotency-Key reused",
                        "this Idempotency-Key was first used with a different request; use a new key for a new "
                        "request");
  }
  if (stored.status == kClaimedStatus) {
    throw std::logic_error("idempotency key " + k.key + " was committed without its response");
  }
  http::Response r;
  r.status = stored.status;
  r.body = opt.seal_key.empty() ? stored.response : crypto::open(opt.seal_key, stored.response);
  r.headers.emplace_back("Idempotent-Replayed", "true");
  return r;
}

std::int64_t execute_counting(soci::statement& st) {
  st.execute(true);
  return static_cast<std::int64_t>(st.get_affected_rows());
}

}  // namespace

std::optional<std::string> header_of(const http::Request& req, bool required) {
  std::string key = req.header("idempotency-key");
  if (key.empty()) {
    if (required) throw http::bad_request("the Idempotency-Key header is required");
    return std::nullopt;
  }
  bool visible = key.size() <= kKeyLenMax;
  for (const unsigned char c : key) visible = visible && c > 0x20 && c < 0x7f;
  if (!visible) {
    throw http::bad_request("Idempotency-Key must be 1.." + std::to_string(kKeyLenMax) +
                            " visible ASCII characters (no spaces)");
  }
  return key;
}

std::string canonical_body(std::string_view body) {
  // Too deep to re-serialise safely: the handler refuses such a body anyway; hash its bytes.
  if (!http::json_nesting_within(body, http::kMaxJsonDepth)) return std::string(body);
  const auto parsed = nlohmann::json::parse(body, nullptr, false);
  return parsed.is_discarded() ? std::string(body) : parsed.dump();  // dump(): compact, keys sorted
}

std::string request_hash(std::string_view method, std::string_view path, std::string_view body,
                         std::string_view hash_key) {
  std::string material(method);
  material.append(" ").append(path).append("\n").append(canonical_body(body));
  if (hash_key.empty()) return crypto::sha256_hex(material);
  // The domain prefix keeps these HMACs apart from any other use of the same key.
  return crypto::hmac_sha256_hex(hash_key, std::string("idempotency") + '\0' + material);
}

std::string scope_of(const http::Request& req) {
  return req.principal ? req.principal->party_id : "public:" + req.route;
}

std::optional<Key> key_of(const http::Request& req, std::string scope, const Options& opt) {
  auto key = header_of(req, opt.required);
  if (!key) return std::nullopt;
  return Key{std::move(scope), std::move(*key), request_hash(req.method, req.path, req.body, opt.hash_key)};
}

std::optional<http::Response> lookup(soci::session& s, const Key& k, const Options& opt) {
  const auto stored = find(s, k);
  if (!stored) return std::nullopt;
  return replay(*stored, k, opt);
}

// Contract: inside the caller's write transaction. ON CONFLICT DO NOTHING makes a concurrent claimant of
// the same key wait for this transaction (PostgreSQL) and then find the committed row instead of failing.
std::optional<http::Response> claim(soci::session& s, const Key& k, const Options& opt) {
  const long long now = clock::now_ms();
  const int claimed = kClaimedStatus;
  soci::statement st =
      (s.prepare << "INSERT INTO idempotency_keys (scope, idem_key, request_hash, status, response, created_at_ms) "
                    "VALUES (:scope, :k, :h, :st, '', :now) ON CONFLICT (scope, idem_key) DO NOTHING",
       soci::use(k.scope), soci::use(k.key), soci::use(k.request_hash), soci::use(claimed), soci::use(now));
  if (execute_counting(st) == 1) return std::nullopt;
  const auto stored = find(s, k);
  if (!stored) throw std::logic_error("idempotency key " + k.key + " neither claimed nor found");
  return replay(*stored, k, opt);
}

// Contract: in the transaction that claimed k. A non-2xx answer (e.g. a refusal whose state change still
// commits) releases the key, so a retry runs the write again.
void remember(soci::session& s, const Key& k, const http::Response& resp, const Options& opt) {
  const int claimed = kClaimedStatus;
  std::int64_t changed = 0;
  if (resp.status < 200 || resp.status > 299) {
    soci::statement st =
        (s.prepare << "DELETE FROM idempotency_keys WHERE scope = :scope AND idem_key = :k AND status = :claimed",
         soci::use(k.scope), soci::use(k.key), soci::use(claimed));
    changed = execute_counting(st);
  } else {
    const std::string stored = opt.seal_key.empty() ? resp.body : crypto::seal(opt.seal_key, resp.body);
    soci::statement st =
        (s.prepare << "UPDATE idempotency_keys SET status = :st, response = :r "
                      "WHERE scope = :scope AND idem_key = :k AND status = :claimed",
         soci::use(resp.status), soci::use(stored), soci::use(k.scope), soci::use(k.key), soci::use(claimed));
    changed = execute_counting(st);
  }
  if (changed != 1) throw std::logic_error("idempotency key " + k.key + " was not claimed by this transaction");
}

http::Response run(db::Database& db, const std::optional<Key>& key, const Effect& effect, const Options& opt) {
  for (int attempt = 1;; ++attempt) {
    try {
      return db.tx([&](soci::session& s) {
        if (key) {
          if (auto earlier = claim(s, *key, opt)) return std::move(*earlier);
        }
        http::Response resp = effect(s);
        if (key) remember(s, *key, resp, opt);
        return resp;
      });
    } catch (const http::Problem&) {
      throw;
    } catch (const std::exception& e) {
      if (attempt >= opt.attempts_max || !db::is_unique_violation(e)) throw;
    }
  }
}

std::int64_t purge(soci::session& s, std::int64_t now_ms, std::int64_t keep_ms) {
  const long long before = now_ms - keep_ms;
  soci::statement st = (s.prepare << "DELETE FROM idempotency_keys WHERE created_at_ms < :before", soci::use(before));
  return execute_counting(st);
}

std::int64_t purge(db::Database& db, std::int64_t now_ms, std::int64_t keep_ms) {
  return db.tx([&](soci::session& s) { return purge(s, now_ms, keep_ms); });
}

}  // namespace crowd::idempotency
