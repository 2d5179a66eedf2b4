// crowd::idempotency against real databases: a SQLite file in a temp folder, and PostgreSQL when
// CROWD_TEST_PG_URL (a SOCI "postgresql://..." string) names a database the tests may fill and empty.
#include "common/idempotency.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "common/crypto.hpp"
#include "common/db.hpp"
#include "common/ids.hpp"
#include "common/testing/service_db.hpp"

namespace {

using crowd::http::Problem;
using crowd::http::Request;
using crowd::http::Response;
namespace idem = crowd::idempotency;

// The kit's tables come with the fixture; this one is where the test writes record their effect.
const std::vector<crowd::db::Migration> kMigrations = {
    {"001_effects", "CREATE TABLE effects (id TEXT PRIMARY KEY, note TEXT NOT NULL);\n"}};

// One migrated database per test case and backend (emptied first on PostgreSQL).
struct World : crowd::testing::ServiceDb {
  explicit World(const std::string& url) : ServiceDb(kMigrations, 8, url) {}

  std::string stored_response() {
    return (*this)->with([](soci::session& s) {
      soci::rowset<soci::row> rs = s.prepare << "SELECT response FROM idempotency_keys";
      return crowd::db::get_str(*rs.begin(), 0);
    });
  }
};

using crowd::testing::backends;

Request post(const std::string& body, const std::string& key, const std::string& party = "ent_1") {
  Request r;
  r.method = "POST";
  r.path = "/v1/things";
  r.route = "/v1/things";
  r.body = body;
  if (!key.empty()) r.headers["idempotency-key"] = key;
  r.principal = crowd::auth::Principal{party, crowd::auth::Role::enterprise, 0, 0};
  return r;
}

// A write that records one effect row and answers 201 with its id.
Response make_thing(soci::session& s, const std::string& note) {
  const std::string id = crowd::ids::make("thg");
  s << "INSERT INTO effects (id, note) VALUES (:id, :n)", soci::use(id), soci::use(note);
  return Response::json_of(201, {{"id", id}, {"note", note}});
}

Response run(World& w, const Request& req, const std::string& note, const idem::Options& opt = {}) {
  const auto key = idem::key_of(req, idem::scope_of(req), opt);
  return idem::run(
      *w, key, [&](soci::session& s) { return make_thing(s, note); }, opt);
}

std::string replayed_header(const Response& r) {
  for (const auto& [name, value] : r.headers) {
    if (name == "Idempotent-Replayed") return value;
  }
  return "";
}

template <class F>
Problem problem_of(F&& f) {
  try {
    f();
  } catch (const Problem& p) {
    return p;
  }
  FAIL("no problem thrown");
  return Problem(0, "", "");
}

}  // namespace

TEST_CASE("header_of: absent, required, malformed and well-formed keys") {
  CHECK_FALSE(idem::header_of(post("{}", "")).has_value());
  Problem missing = problem_of([] { idem::header_of(post("{}", ""), true); });
  CHECK(missing.status == 400);
  CHECK(missing.detail.find("Idempotency-Key") != std::string::npos);
  for (const std::string& bad :
       {std::string("has space"), std::string(256, 'k'), std::string("caf\xc3\xa9"), std::string("tab\t")}) {
    Problem p = problem_of([&] { idem::header_of(post("{}", bad)); });
    CHECK(p.status == 400);
    CHECK(p.type == "bad-request");
    CHECK(p.detail.find("Idempotency-Key") != std::string::npos);
  }
  CHECK(idem::header_of(post("{}", std::string(255, 'k'))) == std::string(255, 'k'));
  CHECK(idem::header_of(post("{}", "a-b_c.1~!"), true) == "a-b_c.1~!");
}

TEST_CASE("request_hash: canonical JSON body, method and path count, keyed variant") {
  const std::string a = idem::request_hash("POST", "/v1/x", R"({"b": 1, "a": {"d": [1, 2], "c": "x"}})");
  CHECK(a == idem::request_hash("POST", "/v1/x", "{\n  \"a\":{\"c\":\"x\",\"d\":[1,2]},\"b\":1}\n"));
  CHECK(a != idem::request_hash("POST", "/v1/x", R"({"b": 2, "a": {"d": [1, 2], "c": "x"}})"));
  CHECK(a != idem::request_hash("POST", "/v1/y", R"({"b": 1, "a": {"d": [1, 2], "c": "x"}})"));
  CHECK(a != idem::request_hash("PUT", "/v1/x", R"({"b": 1, "a": {"d": [1, 2], "c": "x"}})"));
  CHECK(idem::canonical_body("not json {") == "not json {");
  CHECK(idem::canonical_body("") == "");
  const std::string keyed = idem::request_hash("POST", "/v1/x", "{}", "secret");
  CHECK(keyed != idem::request_hash("POST", "/v1/x", "{}"));
  CHECK(keyed != idem::request_hash("POST", "/v1/x", "{}", "other secret"));
  CHECK(keyed == idem::request_hash("POST", "/v1/x", " { } ", "secret"));
}

TEST_CASE("run: the first response is replayed, another request is refused, scopes are apart") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    const Response first = run(w, post(R"({"n": 1, "m": 2})", "k1"), "first");
    CHECK(first.status == 201);
    CHECK(replayed_header(first).empty());

    const Response again = run(w, post("{ \"m\": 2,\n \"n\": 1 }", "k1"), "second");
    CHECK(again.status == 201);
    CHECK(again.body == first.body);
    CHECK(replayed_header(again) == "true");
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);

    const Problem reuse = problem_of([&] { run(w, post(R"({"n": 2})", "k1"), "third"); });
    CHECK(reuse.status == 422);
    CHECK(reuse.type == "idempotency-key-reuse");

    // The same key of another party is another key; no key at all always runs.
    CHECK(run(w, post(R"({"n": 2})", "k1", "ent_2"), "other party").body != first.body);
    run(w, post(R"({"n": 1, "m": 2})", ""), "no key");
    run(w, post(R"({"n": 1, "m": 2})", ""), "no key");
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 4);
    CHECK(w.count("SELECT COUNT(*) FROM idempotency_keys") == 2);
  }
}

TEST_CASE("run: failures and non-2xx answers are not remembered, the key stays usable") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    const Request req = post(R"({"n": 1})", "k1");
    const auto key = idem::key_of(req, "ent_1");
    // A thrown problem rolls back the effect and the claim.
    CHECK_THROWS_AS(idem::run(*w, key,
                              [&](soci::session& s) -> Response {
                                make_thing(s, "rolled back");
                                throw crowd::http::conflict("not now");
                              }),
                    Problem);
    // A returned refusal commits its own change but does not keep the key.
    const Response refused = idem::run(*w, key, [&](soci::session& s) {
      make_thing(s, "refusal's change");
      return Response::json_of(409, {{"refused", true}});
    });
    CHECK(refused.status == 409);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
    CHECK(w.count("SELECT COUNT(*) FROM idempotency_keys") == 0);
    // The retry runs and is remembered.
    const Response ok = idem::run(*w, key, [&](soci::session& s) { return make_thing(s, "done"); });
    CHECK(ok.status == 201);
    CHECK(idem::run(*w, key, [&](soci::session& s) { return make_thing(s, "never"); }).body == ok.body);
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 2);
  }
}

TEST_CASE("run: a unique violation in the write is retried on a fresh transaction") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    w->tx([](soci::session& s) { s << "INSERT INTO effects (id, note) VALUES ('taken', 'x')"; });
    int attempts = 0;
    const Request req = post("{}", "k1");
    const Response r = idem::run(*w, idem::key_of(req, "ent_1"), [&](soci::session& s) {
      const std::string id = ++attempts < 3 ? "taken" : "free";
      s << "INSERT INTO effects (id, note) VALUES (:id, 'y')", soci::use(id);
      return Response::json_of(201, {{"id", id}});
    });
    CHECK(r.status == 201);
    CHECK(attempts == 3);
    // Past attempts_max the violation reaches the caller.
    idem::Options once;
    once.attempts_max = 1;
    CHECK_THROWS(idem::run(
        *w, std::nullopt,
        [](soci::session& s) {
          s << "INSERT INTO effects (id, note) VALUES ('taken', 'z')";
          return Response::json_of(201, {});
        },
        once));
  }
}

TEST_CASE("run: sealed responses are stored opaque and replayed clear, keyed hashes") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    idem::Options opt;
    opt.seal_key = std::string(32, 's');
    opt.hash_key = std::string(32, 'h');
    const Response first = run(w, post(R"({"secret": "shown once"})", "k1"), "api key sk_123", opt);
    const std::string stored = w.stored_response();
    CHECK(stored.find("sk_123") == std::string::npos);
    CHECK(crowd::crypto::open(opt.seal_key, stored) == first.body);
    const Response again = run(w, post(R"({"secret": "shown once"})", "k1"), "another", opt);
    CHECK(again.body == first.body);
    CHECK(replayed_header(again) == "true");
  }
}

TEST_CASE("purge forgets keys older than the retention only") {
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    run(w, post("{}", "k1"), "x");
    const std::int64_t now = crowd::clock::now_ms();
    CHECK(idem::purge(*w, now) == 0);
    CHECK(idem::purge(*w, now + idem::kKeepMs - 60'000) == 0);
    CHECK(idem::purge(*w, now + idem::kKeepMs + 60'000) == 1);
    CHECK(w.count("SELECT COUNT(*) FROM idempotency_keys") == 0);
  }
}

TEST_CASE("one key sent by many threads at once applies its write once") {
  constexpr int kThreads = 8;
  for (const auto& url : backends()) {
    CAPTURE(url);
    World w(url);
    std::vector<std::string> bodies(kThreads);
    std::atomic<int> refusals{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        try {
          // Threads 0..5 send one body; 6 and 7 the same key with another body.
          bodies[i] = run(w, post(i < 6 ? R"({"n": 1})" : R"({"n": 2})", "same"), "thread " + std::to_string(i)).body;
        } catch (const Problem& p) {
          if (p.type == "idempotency-key-reuse") ++refusals;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(w.count("SELECT COUNT(*) FROM effects") == 1);
    std::set<std::string> distinct;
    int answered = 0;
    for (const auto& b : bodies) {
      if (b.empty()) continue;
      distinct.insert(b);
      ++answered;
    }
    CHECK(distinct.size() == 1);  // every success is the first response
    CHECK(answered + refusals == kThreads);
    CHECK((refusals == 2 || refusals == 6));  // the bodies that lost to the winner's body
  }
}
